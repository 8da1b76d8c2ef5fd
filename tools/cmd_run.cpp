// kestrel run MODEL --inputs IN.npz [--save-outputs OUT.npz] [--compare REF.npz] [--atol] [--rtol]
#include <chrono>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "cli_common.h"
#include "subcommand.h"

namespace kestrel::cli {
namespace {

struct RunOptions {
  std::string model;
  std::string inputs;
  std::string save_outputs;
  std::string compare;
  double atol = 1e-4;
  double rtol = 1e-3;
  BuildOptions build;
};

double element(const HostTensor& t, int64_t i) {
  switch (t.dtype) {
    case DataType::kFLOAT: return t.data<float>()[i];
    case DataType::kINT64: return double(t.data<int64_t>()[i]);
    case DataType::kINT32: return t.data<int32_t>()[i];
    case DataType::kINT8: return t.data<int8_t>()[i];
    case DataType::kUINT8:
    case DataType::kBOOL: return t.data<uint8_t>()[i];
    case DataType::kHALF: {
      // Decode binary16 without pulling in internal headers.
      const uint16_t h = t.data<uint16_t>()[i];
      const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
      const double sign = (h & 0x8000) ? -1.0 : 1.0;
      if (exponent == 0) return sign * std::ldexp(mantissa, -24);
      if (exponent == 31) return mantissa ? NAN : sign * INFINITY;
      return sign * std::ldexp(1024 + mantissa, exponent - 25);
    }
  }
  return NAN;
}

// Compares one output with its reference like numpy.allclose; prints a line; true when within.
bool compare_output(const std::string& name, const HostTensor& actual, const HostTensor& expected, double atol,
                    double rtol) {
  if (actual.shape != expected.shape) {
    fmt::print("{}: shape {} differs from the reference's {}  FAIL\n", name, format_shape(actual.shape),
               format_shape(expected.shape));
    return false;
  }
  double max_abs = 0, max_rel = 0;
  bool within = true;
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = element(actual, i), e = element(expected, i);
    if (std::isnan(a) && std::isnan(e)) continue;
    const double diff = std::fabs(a - e);
    if (std::isnan(diff)) {
      within = false;
      max_abs = max_rel = INFINITY;
      continue;
    }
    max_abs = std::max(max_abs, diff);
    if (e != 0) max_rel = std::max(max_rel, diff / std::fabs(e));
    if (diff > atol + rtol * std::fabs(e)) within = false;
  }
  fmt::print("{}: max abs error {:.3g}, max rel error {:.3g}  {}\n", name, max_abs, max_rel, within ? "OK" : "FAIL");
  return within;
}

int run(const RunOptions& opt) {
  CliLogger logger(opt.build.verbose);
  RunnerOptions runner_options;
  try {
    runner_options = make_runner_options(opt.build);
  } catch (const std::invalid_argument& e) {
    return report_error(e.what());
  }
  auto feed = load_npz(opt.inputs);
  if (!feed) return report_error(feed.status().message());
  Result<NamedTensors> reference = NamedTensors{};
  if (!opt.compare.empty()) {
    reference = load_npz(opt.compare);
    if (!reference) return report_error(reference.status().message());
  }
  auto runner = Runner::load(opt.model, runner_options, logger);
  if (!runner) return report_error(runner.status().message());

  const auto start = std::chrono::steady_clock::now();
  auto outputs = runner.value()->infer(*feed);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!outputs) return report_error(fmt::format("{}: {}", opt.inputs, outputs.status().message()));
  fmt::print("ran {} in {:.2f} ms\n", opt.model, ms);
  for (const auto& [name, t] : *outputs) fmt::print("  {} {} {}\n", name, to_string(t.dtype), format_shape(t.shape));

  if (!opt.save_outputs.empty()) {
    Status saved = save_npz(opt.save_outputs, *outputs);
    if (!saved) return report_error(saved.message());
  }
  if (opt.compare.empty()) return kExitOk;
  int compared = 0;
  bool all_within = true;
  for (const auto& [name, actual] : *outputs) {
    auto it = std::find_if(reference->begin(), reference->end(), [&](const auto& kv) { return kv.first == name; });
    if (it == reference->end()) {
      fmt::print("{}: not in {}, not compared\n", name, opt.compare);
      continue;
    }
    ++compared;
    all_within &= compare_output(name, actual, it->second, opt.atol, opt.rtol);
  }
  if (compared == 0) {
    fmt::print(stderr, "kestrel: {} holds none of the model's outputs\n", opt.compare);
    return kExitCheckFailed;
  }
  return all_within ? kExitOk : kExitCheckFailed;
}

std::function<int()> setup(CLI::App& app) {
  auto opt = std::make_shared<RunOptions>();
  app.add_option("model", opt->model, "ONNX model (built in memory) or engine file")->required();
  app.add_option("--inputs", opt->inputs, ".npz with one array per model input")->required();
  app.add_option("--save-outputs", opt->save_outputs, "Write the outputs to this .npz");
  app.add_option("--compare", opt->compare, ".npz of reference outputs to compare with");
  app.add_option("--atol", opt->atol, "Absolute tolerance of --compare")->check(CLI::NonNegativeNumber);
  app.add_option("--rtol", opt->rtol, "Relative tolerance of --compare")->check(CLI::NonNegativeNumber);
  add_build_options(app, opt->build);
  return [opt] { return run(*opt); };
}

KESTREL_REGISTER_SUBCOMMAND(Subcommand{"run", "Run a model or engine on inputs from an .npz", setup});

}  // namespace
}  // namespace kestrel::cli
