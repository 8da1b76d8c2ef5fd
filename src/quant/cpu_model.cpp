#include "quant/cpu_model.h"

#include <algorithm>

#include "core/error.h"
#include "core/tensor.h"

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
  for (const TensorDesc& in : engine_->inputs()) {
    auto it = std::find_if(feed.begin(), feed.end(), [&](const auto& kv) { return kv.first == in.name; });
    KESTREL_CHECK(it != feed.end(), "{}: no array for input '{}'", source_, in.name);
    KESTREL_CHECK(it->second.shape == in.shape && it->second.dtype == in.dtype, "{}: input '{}' must be {} {}", source_,
                  in.name, to_string(in.dtype), shape_str(in.shape));
    Status bound = context_->set_tensor_address(in.name, const_cast<uint8_t*>(it->second.bytes.data()));
    KESTREL_CHECK(bound.ok(), "{}", bound.message());
  }
  NamedTensors outputs;
  for (const TensorDesc& out : engine_->outputs()) {
    HostTensor t;
    t.dtype = out.dtype;
    t.shape = out.shape;
    t.bytes.resize(size_t(t.numel()) * element_size(t.dtype));
    outputs.emplace_back(out.name, std::move(t));
  }
  for (auto& [name, t] : outputs) {
    Status bound = context_->set_tensor_address(name, t.bytes.data());
    KESTREL_CHECK(bound.ok(), "{}", bound.message());
  }
  Status ran = context_->infer();
  KESTREL_CHECK(ran.ok(), "{}: {}", source_, ran.message());
  return outputs;
}

}  // namespace kestrel::quant
