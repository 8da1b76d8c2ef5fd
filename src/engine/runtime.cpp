// Runtime::deserialize and the Engine's read-only views.
#include <algorithm>

#include "engine/api_guard.h"
#include "engine/backend.h"
#include "engine/engine_impl.h"

namespace kestrel {
namespace {

std::vector<TensorDesc> describe_values(const ir::Graph& graph, const std::vector<int>& ids) {
  std::vector<TensorDesc> out;
  for (int id : ids) out.push_back({graph.values[size_t(id)].name, graph.values[size_t(id)].dtype, graph.values[size_t(id)].shape});
  return out;
}

const char* precision_name(const ir::Graph& graph, const ir::Node& node) {
  if (node.precision == ir::Precision::kINT8) return "int8";  // e.g. kestrel.QConv, whatever its output type
  bool float_output = false;
  for (int out : node.outputs)
    if (out != ir::kNoValue && dtype_is_float(graph.values[size_t(out)].dtype)) float_output = true;
  if (!float_output) return "native";  // integer and bool layers run in their own types
  switch (node.precision) {
    case ir::Precision::kFP16: return "fp16";
    case ir::Precision::kINT8: return "int8";
    default: return "fp32";
  }
}

// A fused quantized layer (kestrel.QConv, kestrel.QMatMul) names its scales itself.
std::string fused_quantization(const ir::Graph& graph, const ir::Node& node) {
  const ir::Value& w_scale = graph.values[size_t(node.inputs.at(2))];
  std::string text = fmt::format("in: {} scale {:.6g}", dtype_name(graph.values[size_t(node.inputs[0])].dtype),
                                 node.attrs.get_float("x_scale", 0.0f));
  if (w_scale.constant && w_scale.constant->dtype() == DataType::kFLOAT && w_scale.constant->numel() > 0) {
    const float* s = w_scale.constant->data<float>();
    const auto [lo, hi] = std::minmax_element(s, s + w_scale.constant->numel());
    text += w_scale.constant->numel() == 1
                ? fmt::format("; weight: scale {:.6g}", *lo)
                : fmt::format("; weight: {} per-channel scales {:.4g}..{:.4g}", w_scale.constant->numel(), *lo, *hi);
  }
  const ir::Value& out = graph.values[size_t(node.outputs.at(0))];
  if (out.dtype == DataType::kFLOAT)
    text += "; out: float32";
  else
    text += fmt::format("; out: {} scale {:.6g}", dtype_name(out.dtype), node.attrs.get_float("y_scale", 0.0f));
  return text;
}

// A layer reads QDQ inputs when its data and weight inputs (the first two) come from
// DequantizeLinear: it has int8 semantics whatever kernel computes it (docs/int8.md).
std::string quantization_of(const ir::Graph& graph, const std::vector<int>& producer, const ir::Node& node) {
  if (node.op_type == "DequantizeLinear" || node.op_type == "QuantizeLinear") return "";
  if (node.domain == "kestrel" && (node.op_type == "QConv" || node.op_type == "QMatMul") && node.inputs.size() >= 3)
    return fused_quantization(graph, node);
  std::string text;
  const size_t checked = std::min<size_t>(node.inputs.size(), 2);
  for (size_t i = 0; i < checked; ++i) {
    const int in = node.inputs[i];
    if (in == ir::kNoValue) continue;
    const int p = producer[size_t(in)];
    if (p < 0 || graph.nodes[size_t(p)].op_type != "DequantizeLinear") return "";
    const ir::Node& dq = graph.nodes[size_t(p)];
    const ir::Value& scale = graph.values[size_t(dq.inputs[1])];
    if (!scale.constant || scale.constant->dtype() != DataType::kFLOAT) return "";
    const float* s = scale.constant->data<float>();
    const int64_t n = scale.constant->numel();
    const auto [lo, hi] = std::minmax_element(s, s + n);
    text += fmt::format("{}{}: ", text.empty() ? "" : "; ", graph.values[size_t(in)].name);
    text += n == 1 ? fmt::format("scale {:.6g}", *lo) : fmt::format("{} per-channel scales {:.4g}..{:.4g}", n, *lo, *hi);
  }
  return text;
}

}  // namespace

Engine::Engine() : impl_(std::make_shared<Impl>()) {}
Engine::~Engine() = default;

std::vector<TensorDesc> Engine::inputs() const { return describe_values(impl_->data->graph, impl_->data->graph.inputs); }
std::vector<TensorDesc> Engine::outputs() const { return describe_values(impl_->data->graph, impl_->data->graph.outputs); }

EngineSummary Engine::summary() const {
  const engine::EngineData& d = *impl_->data;
  EngineSummary s;
  s.producer = d.producer;
  s.format_version = engine::kEngineFormatVersion;
  s.device = d.device;
  s.builder_flags = d.builder_flags;
  s.source_hash = d.source_hash;
  for (const ir::Value& v : d.graph.values)
    if (v.constant) s.weight_bytes += v.constant->nbytes();
  s.activation_bytes = d.plan.arena_bytes;
  s.profile = d.profile;
  s.target = d.target;
  return s;
}

std::vector<LayerInfo> Engine::layers() const {
  const ir::Graph& graph = impl_->data->graph;
  std::vector<LayerInfo> out;
  const std::vector<int> producer = graph.producers();
  for (const ir::Node& node : graph.nodes) {
    LayerInfo info{node.name, node.op_type, precision_name(graph, node), {}, {}, node.fused_from, node.kernel, ""};
    info.quantization = quantization_of(graph, producer, node);
    if (!info.quantization.empty() && node.precision != ir::Precision::kFP16) info.precision = "int8";
    for (int in : node.inputs) info.inputs.push_back(in == ir::kNoValue ? "" : graph.values[size_t(in)].name);
    for (int o : node.outputs) info.outputs.push_back(o == ir::kNoValue ? "" : graph.values[size_t(o)].name);
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<uint8_t>> Engine::serialize() const {
  std::vector<uint8_t> bytes;
  Status status = guarded(nullptr, [&] { bytes = engine::serialize_engine(*impl_->data); });
  if (!status.ok()) return status;
  return bytes;
}

Result<std::unique_ptr<Engine>> Runtime::deserialize(const void* data, size_t size, const std::string& source) const {
  std::unique_ptr<Engine> engine(new Engine());
  Status status = guarded(&logger_, [&] {
    try {
      KESTREL_CHECK(data != nullptr || size == 0, "no data");
      auto parsed = std::make_shared<engine::EngineData>(engine::deserialize_engine(static_cast<const uint8_t*>(data), size));
      const engine::Backend* backend = engine::find_backend(parsed->device);
      KESTREL_CHECK(backend != nullptr, "the engine was built for device {}, which this build of Kestrel cannot run",
                    to_string(parsed->device));
      const std::string unavailable = backend->unavailable_reason();
      KESTREL_CHECK(unavailable.empty(), "the engine was built for device {}, which is not available here: {}",
                    to_string(parsed->device), unavailable);
      backend->check_compatible(*parsed);
      engine->impl_->data = std::move(parsed);
    } catch (const Error& e) {
      fail("{}: {}", source, e.what());
    }
  });
  if (!status.ok()) return status;
  return engine;
}

bool is_engine_file(const void* data, size_t size) {
  return size >= sizeof(engine::kEngineMagic) &&
         std::memcmp(data, engine::kEngineMagic, sizeof(engine::kEngineMagic)) == 0;
}

}  // namespace kestrel
