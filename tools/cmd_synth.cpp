// kestrel synth -o ROOT [--seed S] [--train N] [--val N] [--test N] [--calib N] [--splits LIST]
//               [--frames F] [--size WxH] [--quality Q] [--threads T]
// Writes a synthetic dataset in the GOT-10k layout (see docs/synth.md).
#include <cstdio>
#include <memory>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "cli_common.h"
#include "core/error.h"
#include "subcommand.h"
#include "synth/generator.h"

namespace kestrel::cli {
namespace {

struct SynthCommandOptions {
  synth::SynthOptions generator;
  int train = 200, val = 50, test = 50, calib = 20;
  std::string splits = "train,val,test,calib";
  std::string size = "1280x720";
};

const char* const kSplitNames[] = {"train", "val", "test", "calib"};

std::string check_size(const std::string& text) {
  static const std::regex pattern(R"((\d{1,5})x(\d{1,5}))");
  return std::regex_match(text, pattern) ? std::string() : "expected WIDTHxHEIGHT, e.g. 1280x720";
}

std::string check_splits(const std::string& text) {
  std::stringstream list(text);
  std::string name;
  while (std::getline(list, name, ',')) {
    bool known = false;
    for (const char* split : kSplitNames) known |= name == split;
    if (!known) return fmt::format("unknown split '{}' (train, val, test, calib)", name);
  }
  return {};
}

int run(SynthCommandOptions opt) {
  std::smatch match;
  static const std::regex pattern(R"((\d+)x(\d+))");
  std::regex_match(opt.size, match, pattern);
  opt.generator.width = std::stoi(match[1]);
  opt.generator.height = std::stoi(match[2]);

  const std::string selected = "," + opt.splits + ",";
  const int counts[] = {opt.train, opt.val, opt.test, opt.calib};
  for (int i = 0; i < 4; ++i) {
    const bool chosen = selected.find(fmt::format(",{},", kSplitNames[i])) != std::string::npos;
    opt.generator.splits.push_back({kSplitNames[i], chosen ? counts[i] : 0});
  }
  try {
    const synth::SynthSummary summary =
        synth::generate_dataset(opt.generator, [](const std::string& line) { fmt::print("{}\n", line); });
    if (summary.sequences == 0) {
      fmt::print("nothing to generate: every selected split has 0 sequences\n");
      return kExitOk;
    }
    fmt::print("wrote {} sequences, {} frames, to {} in {:.1f} s ({:.0f} frames/s on {} threads)\n", summary.sequences,
               summary.frames, opt.generator.root, summary.seconds, double(summary.frames) / summary.seconds,
               summary.threads);
    return kExitOk;
  } catch (const Error& e) {
    return report_error(e.what());
  } catch (const std::exception& e) {  // filesystem errors, out of memory
    return report_error(fmt::format("{}: {}", opt.generator.root, e.what()));
  }
}

std::function<int()> setup(CLI::App& app) {
  auto opt = std::make_shared<SynthCommandOptions>();
  app.add_option("-o,--output", opt->generator.root, "Dataset root folder (created if missing)")->required();
  app.add_option("--seed", opt->generator.seed, "Dataset seed: same seed, same bytes")->capture_default_str();
  app.add_option("--train", opt->train, "Sequences in the train split")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--val", opt->val, "Sequences in the val split")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--test", opt->test, "Sequences in the test split (groundtruth: first frame only)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--calib", opt->calib, "Sequences in the calib split (INT8 calibration)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--splits", opt->splits, "Comma-separated splits to generate; the others are skipped")
      ->check(check_splits)
      ->capture_default_str();
  app.add_option("--frames", opt->generator.frames, "Frames per sequence")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--size", opt->size, "Frame size WIDTHxHEIGHT")->check(check_size)->capture_default_str();
  app.add_option("--quality", opt->generator.quality, "JPEG quality")->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--threads", opt->generator.threads, "Worker threads (0: two per hardware thread)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  return [opt] { return run(*opt); };
}

KESTREL_REGISTER_SUBCOMMAND(Subcommand{"synth", "Generate a synthetic GOT-10k-format tracking dataset", setup});

}  // namespace
}  // namespace kestrel::cli
