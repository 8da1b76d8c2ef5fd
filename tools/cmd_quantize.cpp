// kestrel quantize MODEL.onnx --calib-data PATH [calibration options] -o MODEL.qdq.onnx
//                  [--eval-data PATH] [--analyze] [--eval-samples N]
// Calibrates, writes the QDQ model, and optionally measures it against FP32 on held-out data.
#include <fmt/format.h>

#include "calib_options.h"
#include "cli_common.h"
#include "quant/accuracy.h"
#include "subcommand.h"

namespace kestrel::cli {
namespace {

struct QuantizeCommandOptions {
  std::string model;
  std::string output;
  CalibOptions calib;
  std::string eval_data;
  int eval_samples = 32;
  bool analyze = false;
  bool verbose = false;
};

void print_report(const quant::AccuracyReport& r) {
  fmt::print("accuracy vs FP32 on {} held-out samples:\n", r.samples);
  for (const std::string& name : r.outputs)
    fmt::print("  {:<12} cosine mean {:.5f} min {:.5f}, max |error| {:.4g}\n", name, r.mean_cosine.at(name),
               r.min_cosine.at(name), r.max_abs_error.at(name));
  if (r.smat)
    fmt::print("  same arg-max cell {:.1f}%, mean box IoU {:.4f}\n", 100 * r.same_peak_rate, r.mean_box_iou);
}

int run(const QuantizeCommandOptions& opt) {
  CliLogger logger(opt.verbose);
  if (opt.output.empty() && !opt.analyze && opt.eval_data.empty())
    return report_error("nothing to do: give -o for the QDQ model, --eval-data or --analyze");
  try {
    const CalibrationTable table = run_calibration(opt.model, opt.calib, logger);
    const QuantizeOptions qopt = make_quantize_options(opt.calib);
    if (!opt.output.empty()) {
      auto bytes = quantize_to_qdq(opt.model, table, qopt, logger);
      if (!bytes) return report_error(bytes.status().message());
      if (Status saved = save_file(opt.output, *bytes); !saved) return report_error(saved.message());
      auto layers = int8_layers(opt.model, table, qopt);
      fmt::print("wrote {} ({} bytes, {} INT8 layers)\n", opt.output, bytes->size(), layers ? layers->size() : 0);
    }
    if (opt.eval_data.empty() && !opt.analyze) return kExitOk;
    // Held-out samples: --eval-data, else (analysis only) the calibration data itself.
    CalibrationDataOptions data = make_data_options(opt.calib);
    data.data_path = opt.eval_data.empty() ? opt.calib.data : opt.eval_data;
    data.cache_path.clear();
    data.max_batches = opt.eval_samples;
    auto source = make_calibrator(opt.model, data, logger);
    if (!source) return report_error(source.status().message());
    quant::AccuracyProbe probe(opt.model, quant::take_samples(**source, opt.eval_samples), logger);
    const std::map<std::string, bool> int8 = quant::layer_decisions(opt.model, qopt);
    if (!opt.eval_data.empty()) print_report(probe.compare(table, int8));
    if (opt.analyze) {
      const std::vector<quant::LayerImpact> impacts = quant::analyze_layers(probe, table, int8);
      fmt::print("per-layer contribution (only that layer in INT8), worst first:\n");
      fmt::print("  {:>10}  {:>9}  layer\n", "1-cosine", "same peak");
      for (const quant::LayerImpact& i : impacts)
        fmt::print("  {:>10.3e}  {:>8.1f}%  {}\n", i.error, 100 * i.same_peak_rate, i.layer);
    }
  } catch (const std::exception& e) {
    return report_error(e.what());
  }
  return kExitOk;
}

std::function<int()> setup(CLI::App& app) {
  auto opt = std::make_shared<QuantizeCommandOptions>();
  app.add_option("model", opt->model, "ONNX model (FP32)")->required();
  app.add_option("-o,--output", opt->output, "QDQ ONNX model to write");
  add_calib_options(app, opt->calib);
  app.add_option("--eval-data", opt->eval_data, "Held-out data (.npz or GOT-10k folder): print accuracy vs FP32");
  app.add_option("--eval-samples", opt->eval_samples, "Held-out samples to compare on")->check(CLI::PositiveNumber);
  app.add_flag("--analyze", opt->analyze, "Print each INT8 layer's contribution to the output error");
  app.add_flag("-v,--verbose", opt->verbose, "Print progress");
  return [opt] { return run(*opt); };
}

KESTREL_REGISTER_SUBCOMMAND(Subcommand{"quantize", "Calibrate a model and write it as QDQ ONNX (INT8)", setup});

}  // namespace
}  // namespace kestrel::cli
