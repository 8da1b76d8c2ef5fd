#include "cli_common.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "subcommand.h"

namespace kestrel::cli {
namespace {

Dims parse_dims(const std::string& text, const std::string& spec) {
  Dims dims;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('x', start), text.size());
    const std::string part = text.substr(start, end - start);
    size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || value < 0)
      throw std::invalid_argument(fmt::format("--shapes '{}': '{}' is not a dimension", spec, part));
    dims.push_back(value);
    start = end + 1;
  }
  return dims;
}

}  // namespace

void add_build_options(CLI::App& app, BuildOptions& options) {
  app.add_option("--device", options.device, "Target device")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--workspace", options.workspace, "Activation memory limit in bytes (0: none)");
  app.add_flag("--fp16", options.fp16, "Allow FP16 layers");
  app.add_flag("--int8", options.int8, "Allow INT8 layers");
  app.add_option("--shapes", options.shapes, "Static shapes of dynamic inputs, e.g. x:1x3x256x256")->delimiter(',');
  app.add_option("--threads", options.threads, "CPU threads per inference (0: all hardware threads)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--timing-cache", options.timing_cache,
                 "CUDA: file of build-time kernel timings, read if present and updated (like trtexec --timingCacheFile)");
  app.add_flag("-v,--verbose", options.verbose, "Print the builder's progress");
}

RunnerOptions make_runner_options(const BuildOptions& options) {
  RunnerOptions runner;
  runner.device = options.device == "cuda" ? DeviceType::kCUDA : DeviceType::kCPU;
  runner.config.set_device(runner.device);
  runner.config.set_memory_pool_limit(options.workspace);
  if (options.fp16) runner.config.set_flag(BuilderFlag::kFP16);
  if (options.int8) runner.config.set_flag(BuilderFlag::kINT8);
  runner.config.set_cpu_threads(options.threads);
  runner.config.set_timing_cache_path(options.timing_cache);
  runner.execution.cpu_threads = options.threads;
  for (const std::string& spec : options.shapes) {
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0)
      throw std::invalid_argument(fmt::format("--shapes '{}': expected NAME:DxDxD", spec));
    runner.config.set_input_shape(spec.substr(0, colon), parse_dims(spec.substr(colon + 1), spec));
  }
  return runner;
}

std::string format_target_value(const std::string& value) {
  const size_t lines = size_t(std::count(value.begin(), value.end(), '\n'));
  return lines == 0 ? value : fmt::format("{} layers", lines + 1);
}

void CliLogger::log(Severity severity, const char* message) noexcept {
  if (severity == Severity::kWARNING || (verbose_ && int(severity) >= int(Severity::kINFO)))
    std::fprintf(stderr, "kestrel: %s\n", message);
}

int report_error(const std::string& message) {
  std::fprintf(stderr, "kestrel: %s\n", message.c_str());
  return kExitBadInput;
}

std::string format_shape(const Dims& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

}  // namespace kestrel::cli
