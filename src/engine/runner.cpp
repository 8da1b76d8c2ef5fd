// The convenience layer: load or build an engine from a path, run it on named host tensors.
#include <algorithm>
#include <cstring>

#include "core/file_io.h"
#include "core/npz.h"
#include "core/tensor.h"
#include "engine/api_guard.h"
#include "engine/host_inference.h"

namespace kestrel {
namespace {

std::vector<uint8_t> build_from_onnx(const std::string& path, const RunnerOptions& options, ILogger& logger) {
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  Status parsed = parser.parse_from_file(path);
  KESTREL_CHECK(parsed.ok(), "{}", parsed.message());
  BuilderConfig config = options.config;
  config.set_device(options.device);
  auto built = builder.build_serialized_network(*network, config);
  KESTREL_CHECK(built.ok(), "{}", built.status().message());
  return std::move(built.value());
}

}  // namespace

Result<std::unique_ptr<Runner>> Runner::load(const std::string& path, const RunnerOptions& options, ILogger& logger) {
  std::unique_ptr<Runner> runner(new Runner());
  Status status = guarded(nullptr, [&] {
    std::vector<uint8_t> bytes = read_file(path);
    if (!is_engine_file(bytes.data(), bytes.size())) bytes = build_from_onnx(path, options, logger);
    Runtime runtime(logger);
    auto engine = runtime.deserialize(bytes.data(), bytes.size(), path);
    KESTREL_CHECK(engine.ok(), "{}", engine.status().message());
    runner->engine_ = std::move(engine.value());
    runner->context_ = runner->engine_->create_execution_context(options.execution);
    KESTREL_CHECK(runner->context_ != nullptr, "{}: cannot allocate the execution context's memory", path);
  });
  if (!status.ok()) return status;
  return runner;
}

Result<NamedTensors> Runner::infer(const NamedTensors& feed) {
  NamedTensors outputs;
  Status status = guarded(nullptr, [&] { outputs = engine::infer_on_host(*engine_, *context_, feed); });
  if (!status.ok()) return status;
  return outputs;
}

Result<NamedTensors> load_npz(const std::string& path) {
  NamedTensors tensors;
  Status status = guarded(nullptr, [&] { tensors = read_npz(path); });
  if (!status.ok()) return status;
  return tensors;
}

Status save_npz(const std::string& path, const NamedTensors& tensors, bool compressed) {
  return guarded(nullptr, [&] { write_npz(path, tensors, compressed); });
}

Result<std::vector<uint8_t>> load_file(const std::string& path) {
  std::vector<uint8_t> bytes;
  Status status = guarded(nullptr, [&] { bytes = read_file(path); });
  if (!status.ok()) return status;
  return bytes;
}

Status save_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  return guarded(nullptr, [&] { write_file_atomic(path, bytes.data(), bytes.size()); });
}

}  // namespace kestrel
