// kestrel build MODEL.onnx -o ENGINE [--device cpu] [--workspace BYTES] [--fp16] [--shapes ...]
//               [--int8 --calib-data PATH | --calib-cache FILE ...]
#include <chrono>

#include <fmt/format.h>

#include "calib_options.h"
#include "cli_common.h"
#include "subcommand.h"

namespace kestrel::cli {
namespace {

struct BuildCommandOptions {
  std::string model;
  std::string output;
  BuildOptions build;
  CalibOptions calib;
};

int run(const BuildCommandOptions& opt) {
  CliLogger logger(opt.build.verbose);
  RunnerOptions runner_options;
  try {
    runner_options = make_runner_options(opt.build);
  } catch (const std::invalid_argument& e) {
    return report_error(e.what());
  }
  const auto start = std::chrono::steady_clock::now();
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  if (opt.build.int8 && wants_calibration(opt.calib)) {
    // Calibrated INT8 is the QDQ model built as any other (docs/int8.md).
    std::vector<uint8_t> qdq;
    try {
      const CalibrationTable table = run_calibration(opt.model, opt.calib, logger);
      auto bytes = quantize_to_qdq(opt.model, table, make_quantize_options(opt.calib), logger);
      if (!bytes) return report_error(bytes.status().message());
      qdq = std::move(bytes.value());
    } catch (const std::exception& e) {
      return report_error(e.what());
    }
    if (Status parsed = parser.parse(qdq.data(), qdq.size(), opt.model); !parsed) return report_error(parsed.message());
  } else if (wants_calibration(opt.calib)) {
    return report_error("--calib-data and --calib-cache need --int8");
  } else if (Status parsed = parser.parse_from_file(opt.model); !parsed) {
    return report_error(parsed.message());
  }
  auto engine = builder.build_serialized_network(*network, runner_options.config);
  if (!engine) return report_error(engine.status().message());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (Status saved = save_file(opt.output, *engine); !saved) return report_error(saved.message());
  fmt::print("built {} -> {} ({} bytes, {} device, {:.2f} s)\n", opt.model, opt.output, engine->size(),
             opt.build.device, seconds);
  return kExitOk;
}

std::function<int()> setup(CLI::App& app) {
  auto opt = std::make_shared<BuildCommandOptions>();
  app.add_option("model", opt->model, "ONNX model")->required();
  app.add_option("-o,--output", opt->output, "Engine file to write")->required();
  add_build_options(app, opt->build);
  add_calib_options(app, opt->calib);
  return [opt] { return run(*opt); };
}

KESTREL_REGISTER_SUBCOMMAND(Subcommand{"build", "Build an engine file from an ONNX model", setup});

}  // namespace
}  // namespace kestrel::cli
