// Runtime::deserialize and the Engine's read-only views.
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
  for (const ir::Node& node : graph.nodes) {
    LayerInfo info{node.name, node.op_type, precision_name(graph, node), {}, {}, node.fused_from, node.kernel};
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
