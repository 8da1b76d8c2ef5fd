// kestrel inspect MODEL|ENGINE [--json]: inputs, outputs, layers after the passes, memory.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "subcommand.h"

namespace kestrel::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool json = false;
  BuildOptions build;
};

nlohmann::json describe_tensors(const std::vector<TensorDesc>& tensors) {
  nlohmann::json out = nlohmann::json::array();
  for (const TensorDesc& t : tensors) out.push_back({{"name", t.name}, {"dtype", to_string(t.dtype)}, {"shape", t.shape}});
  return out;
}

nlohmann::json to_json(const Engine& engine) {
  const EngineSummary s = engine.summary();
  nlohmann::json layers = nlohmann::json::array();
  for (const LayerInfo& l : engine.layers())
    layers.push_back({{"name", l.name}, {"op", l.op_type}, {"precision", l.precision}, {"inputs", l.inputs},
                      {"outputs", l.outputs}, {"fused_from", l.fused_from}, {"kernel", l.kernel},
                      {"quantization", l.quantization}});
  return {{"producer", s.producer},
          {"format_version", s.format_version},
          {"device", to_string(s.device)},
          {"source_hash", fmt::format("{:016x}", s.source_hash)},
          {"weight_bytes", s.weight_bytes},
          {"activation_bytes", s.activation_bytes},
          {"batch_profile", {{"min", s.profile.min}, {"opt", s.profile.opt}, {"max", s.profile.max}}},
          {"target", s.target},
          {"inputs", describe_tensors(engine.inputs())},
          {"outputs", describe_tensors(engine.outputs())},
          {"layers", layers}};
}

void print_text(const std::string& model, const Engine& engine) {
  const EngineSummary s = engine.summary();
  fmt::print("{}: {} engine, format {}, built by {}, source hash {:016x}\n", model, to_string(s.device),
             s.format_version, s.producer, s.source_hash);
  for (const auto& [key, value] : s.target) fmt::print("  target {} = {}\n", key, format_target_value(value));
  for (const TensorDesc& t : engine.inputs()) fmt::print("  input  {} {} {}\n", t.name, to_string(t.dtype), format_shape(t.shape));
  for (const TensorDesc& t : engine.outputs()) fmt::print("  output {} {} {}\n", t.name, to_string(t.dtype), format_shape(t.shape));
  const auto layers = engine.layers();
  fmt::print("{} layers, {} weight bytes, {} activation bytes\n", layers.size(), s.weight_bytes, s.activation_bytes);
  for (const LayerInfo& l : layers) {
    fmt::print("  {:<22} {:<7} {:<10} {}", l.op_type, l.precision, l.kernel, l.name);
    if (!l.fused_from.empty()) fmt::print("  (fused: {})", fmt::join(l.fused_from, ", "));
    if (!l.quantization.empty()) fmt::print("  [{}]", l.quantization);
    fmt::print("\n");
  }
}

int run(const InspectOptions& opt) {
  CliLogger logger(opt.build.verbose);
  RunnerOptions runner_options;
  try {
    runner_options = make_runner_options(opt.build);
  } catch (const std::invalid_argument& e) {
    return report_error(e.what());
  }
  auto runner = Runner::load(opt.model, runner_options, logger);
  if (!runner) return report_error(runner.status().message());
  if (opt.json)
    fmt::print("{}\n", to_json(runner.value()->engine()).dump(2));
  else
    print_text(opt.model, runner.value()->engine());
  return kExitOk;
}

std::function<int()> setup(CLI::App& app) {
  auto opt = std::make_shared<InspectOptions>();
  app.add_option("model", opt->model, "ONNX model (built in memory) or engine file")->required();
  app.add_flag("--json", opt->json, "Print JSON");
  add_build_options(app, opt->build);
  return [opt] { return run(*opt); };
}

KESTREL_REGISTER_SUBCOMMAND(Subcommand{"inspect", "Show an engine's inputs, outputs, layers and memory", setup});

}  // namespace
}  // namespace kestrel::cli
