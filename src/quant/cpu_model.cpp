#include "quant/cpu_model.h"

#include "core/error.h"
#include "engine/host_inference.h"

namespace kestrel::quant {

CpuModel::CpuModel(const std::vector<uint8_t>& onnx_bytes, const std::string& source, const NamedTensors& example,
                   ILogger& logger)
    : source_(source) {
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  Status parsed = parser.parse(onnx_bytes.data(), onnx_bytes.size(), source);
  KESTREL_CHECK(parsed.ok(), "{}", parsed.message());
  BuilderConfig config;
  config.set_device(DeviceType::kCPU);
  for (const TensorDesc& in : network->inputs())
    for (const auto& [name, t] : example)
      if (name == in.name) config.set_input_shape(name, t.shape);
  auto built = builder.build_serialized_network(*network, config);
  KESTREL_CHECK(built.ok(), "{}", built.status().message());
  Runtime runtime(logger);
  auto engine = runtime.deserialize(built->data(), built->size(), source);
  KESTREL_CHECK(engine.ok(), "{}", engine.status().message());
  engine_ = std::move(engine.value());
  context_ = engine_->create_execution_context();
  KESTREL_CHECK(context_ != nullptr, "{}: cannot allocate the execution context", source);
}

NamedTensors CpuModel::run(const NamedTensors& feed) {
  try {
    return engine::infer_on_host(*engine_, *context_, feed);
  } catch (const Error& e) {
    fail("{}: {}", source_, e.what());
  }
}

}  // namespace kestrel::quant
