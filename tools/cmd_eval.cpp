// kestrel eval --dataset ROOT --split val|test [--sequences a,b] --template-engine T --track-engine E
//              -o RESULTS [--runs 3] [--batch N] [--shard K/N] [--resume] [--name NAME] [--device cpu]
// Runs SMAT over a GOT-10k split and writes the toolkit's result files (and, for a whole test
// split, RESULTS.zip for the evaluation server). Exit 0: every sequence tracked; 1: the run
// finished but some sequences were broken and skipped (listed on stderr and in the manifest);
// 2: bad usage, or a dataset, engine or output that cannot be used at all.
#include <filesystem>

#include <fmt/format.h>

#include "cli_common.h"
#include "core/error.h"
#include "eval/eval_runner.h"
#include "eval/submission.h"
#include "subcommand.h"

namespace kestrel::cli {
namespace {
namespace fs = std::filesystem;

struct EvalCommandOptions {
  std::string dataset, split = "val", template_engine, track_engine, output, shard = "0/1", name;
  std::vector<std::string> sequences;
  int runs = 1, batch = 1;
  bool resume = false, quiet = false;
  BuildOptions build;
};

int run(const EvalCommandOptions& opt) {
  CliLogger logger(opt.build.verbose);
  eval::Split split;
  std::vector<std::string> sequences;
  eval::EvalOptions options;
  std::unique_ptr<tracker::SmatNetworks> networks;
  try {
    split = eval::open_split(opt.dataset, opt.split);
    sequences = eval::select_sequences(split, opt.sequences);
    options.manifest.shard = eval::parse_shard(opt.shard);
    tracker::EngineLoadOptions load{make_runner_options(opt.build).config, opt.batch};
    networks = std::make_unique<tracker::SmatNetworks>(opt.template_engine, opt.track_engine, load, logger);
    fs::create_directories(opt.output);
  } catch (const std::exception& e) {
    return report_error(e.what());
  }
  if (networks->batch() > 1)
    fmt::print(stderr, "kestrel: {} has a batch of {}: tracking {} sequences at a time\n", opt.track_engine,
               networks->batch(), networks->batch());
  else if (opt.batch > 1)
    fmt::print(stderr, "kestrel: {} has a fixed batch of 1: sequences are tracked one by one\n", opt.track_engine);
  if (opt.build.verbose) fmt::print(stderr, "kestrel: {}\n", networks->describe());

  options.results = opt.output;
  options.resume = opt.resume;
  options.progress = !opt.quiet;
  eval::Manifest& m = options.manifest;
  m.name = !opt.name.empty() ? opt.name : eval::default_set_name(opt.output);
  m.split = opt.split;
  m.runs = opt.runs;
  m.template_engine = opt.template_engine;
  m.track_engine = opt.track_engine;
  m.device = opt.build.device;
  m.batch = networks->batch();

  tracker::BatchTracker tracker(*networks);
  eval::EvalSummary summary;
  try {
    summary = eval::run_evaluation(split, sequences, tracker, options);
  } catch (const std::exception& e) {
    return report_error(e.what());
  }
  fmt::print(stderr, "kestrel: {} of {} sequences finished ({} tracked now, {} already), {} frames at {:.1f} fps",
             summary.tracked + summary.resumed, summary.sequences, summary.tracked, summary.resumed, summary.frames,
             summary.tracking_fps);
  if (summary.failed.empty()) fmt::print(stderr, "\n");
  else fmt::print(stderr, ", {} skipped:\n", summary.failed.size());
  for (const std::string& f : summary.failed) fmt::print(stderr, "  {}\n", f);
  if (opt.build.verbose) fmt::print(stderr, "kestrel: {}\n", tracker::format_stage_times(tracker.stage_times()));

  // The server takes the whole test split in one zip; a shard's share is zipped by the merge step
  // (`kestrel report --zip`).
  if (opt.split == "test" && options.manifest.shard.count == 1 && summary.failed.empty()) {
    const std::string zip_path = fs::path(opt.output).lexically_normal().string() + ".zip";
    try {
      eval::ResultSet set{m.name, {opt.output}, {}};
      eval::write_submission_zip(zip_path, set, sequences);
      fmt::print(stderr, "kestrel: wrote {} for the GOT-10k server\n", zip_path);
    } catch (const std::exception& e) {
      return report_error(e.what());
    }
  }
  return summary.failed.empty() ? kExitOk : kExitCheckFailed;
}

std::function<int()> setup(CLI::App& app) {
  auto opt = std::make_shared<EvalCommandOptions>();
  app.add_option("--dataset", opt->dataset, "GOT-10k root (holding <split>/list.txt)")->required();
  app.add_option("--split", opt->split, "Split to run (val, test, ...)");
  app.add_option("--sequences", opt->sequences, "Only these sequences, comma-separated")->delimiter(',');
  app.add_option("--template-engine", opt->template_engine, "Template network: engine file or ONNX model")->required();
  app.add_option("--track-engine", opt->track_engine, "Tracking network: engine file or ONNX model")->required();
  app.add_option("-o,--output", opt->output, "Results folder: RESULTS/<seq>/<seq>_001.txt, <seq>_time.txt")
      ->required();
  app.add_option("--runs", opt->runs, "Runs per sequence (<seq>_001.txt, _002, ...)")->check(CLI::Range(1, 999));
  app.add_option("--batch", opt->batch, "Sequences tracked in lock step (an ONNX model with a dynamic batch is built "
                                        "for it; an engine keeps its own)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--shard", opt->shard, "Run shard K of N (0 <= K < N): sequences K, K+N, ... of the list");
  app.add_flag("--resume", opt->resume, "Skip sequences whose results are complete");
  app.add_option("--name", opt->name, "Name of the result set (default: the output folder's name); shards with the "
                                      "same name are merged by `kestrel report`");
  // How ONNX files given in place of engines are built (the shared options of `kestrel build`).
  app.add_option("--device", opt->build.device, "Device to build ONNX models for")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_flag("--fp16", opt->build.fp16, "Allow FP16 layers when building ONNX models");
  app.add_flag("--int8", opt->build.int8, "Allow INT8 layers when building ONNX models");
  app.add_flag("-q,--quiet", opt->quiet, "No progress bar");
  app.add_flag("-v,--verbose", opt->build.verbose, "Print the builder's progress and the networks' shapes");
  return [opt] { return run(*opt); };
}

KESTREL_REGISTER_SUBCOMMAND(Subcommand{"eval", "Run SMAT over a GOT-10k split and write the result files", setup});

}  // namespace
}  // namespace kestrel::cli
