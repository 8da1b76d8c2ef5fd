// ExecutionContext on the CPU: one arena for the planned activations, tensor views prepared once,
// and a kernel call per layer. Nothing is allocated per inference.
#include <cstdlib>
#include <cstring>

#include "backend/cpu/reference/kernel_registry.h"
#include "engine/api_guard.h"
#include "engine/engine_impl.h"

namespace kestrel {

struct ExecutionContext::Impl {
  std::shared_ptr<const engine::EngineData> engine;
  std::unique_ptr<std::byte, decltype(&std::free)> arena{nullptr, &std::free};
  std::vector<Tensor> io_buffers;          // default storage for unbound inputs and outputs
  std::vector<Tensor> values;              // one view per graph value; kernels point into this
  std::vector<cpu::KernelContext> layers;  // prepared arguments of each layer
  std::vector<cpu::ReferenceKernel> kernels;

  int io_value(const std::string& name) const {
    const ir::Graph& g = engine->graph;
    for (int id : g.inputs) if (g.values[size_t(id)].name == name) return id;
    for (int id : g.outputs) if (g.values[size_t(id)].name == name) return id;
    return ir::kNoValue;
  }
};

ExecutionContext::ExecutionContext() : impl_(std::make_unique<Impl>()) {}
ExecutionContext::~ExecutionContext() = default;

std::unique_ptr<ExecutionContext> Engine::create_execution_context() const {
  std::unique_ptr<ExecutionContext> context(new ExecutionContext());
  ExecutionContext::Impl& c = *context->impl_;
  c.engine = impl_->data;
  const engine::EngineData& e = *c.engine;
  const ir::Graph& graph = e.graph;
  if (e.plan.arena_bytes > 0) {
    const size_t bytes = (e.plan.arena_bytes + engine::kArenaAlignment - 1) / engine::kArenaAlignment * engine::kArenaAlignment;
    c.arena.reset(static_cast<std::byte*>(std::aligned_alloc(engine::kArenaAlignment, bytes)));
    if (!c.arena) return nullptr;
  }
  c.values.resize(graph.values.size());
  for (size_t v = 0; v < graph.values.size(); ++v) {
    const ir::Value& value = graph.values[v];
    if (value.constant) {
      c.values[v] = Tensor::view(value.dtype, value.shape, const_cast<void*>(value.constant->raw()));
    } else if (e.plan.offsets[v] != engine::kNotInArena) {
      c.values[v] = Tensor::view(value.dtype, value.shape, c.arena.get() + e.plan.offsets[v]);
    }
  }
  auto own_buffer = [&](int id) {
    const ir::Value& value = graph.values[size_t(id)];
    c.io_buffers.emplace_back(value.dtype, value.shape);
    c.values[size_t(id)] = Tensor::view(value.dtype, value.shape, c.io_buffers.back().raw());
  };
  c.io_buffers.reserve(graph.inputs.size() + graph.outputs.size());
  for (int id : graph.inputs) own_buffer(id);
  for (int id : graph.outputs) own_buffer(id);

  c.layers.reserve(graph.nodes.size());
  for (const ir::Node& node : graph.nodes) {
    std::vector<const Tensor*> inputs;
    std::vector<Tensor*> outputs;
    for (int in : node.inputs) inputs.push_back(in == ir::kNoValue ? nullptr : &c.values[size_t(in)]);
    for (int out : node.outputs) outputs.push_back(out == ir::kNoValue ? nullptr : &c.values[size_t(out)]);
    c.layers.emplace_back(node, std::move(inputs), std::move(outputs));
    c.kernels.push_back(cpu::find_reference_kernel(node.op_type));
  }
  return context;
}

Status ExecutionContext::set_tensor_address(const std::string& name, void* data) {
  return guarded(nullptr, [&] {
    const int id = impl_->io_value(name);
    KESTREL_CHECK(id != ir::kNoValue, "'{}' is not an input or output of the engine", name);
    KESTREL_CHECK(data != nullptr, "a null address was given for '{}'", name);
    const ir::Value& value = impl_->engine->graph.values[size_t(id)];
    impl_->values[size_t(id)] = Tensor::view(value.dtype, value.shape, data);
  });
}

void* ExecutionContext::get_tensor_address(const std::string& name) const {
  const int id = impl_->io_value(name);
  return id == ir::kNoValue ? nullptr : impl_->values[size_t(id)].raw();
}

Status ExecutionContext::enqueue(void* /*stream*/) {
  return guarded(nullptr, [&] {
    for (size_t i = 0; i < impl_->layers.size(); ++i) {
      const cpu::KernelContext& layer = impl_->layers[i];
      KESTREL_CHECK(impl_->kernels[i] != nullptr, "{}: no kernel", ir::describe(layer.node()));
      try {
        impl_->kernels[i](layer);
      } catch (const Error& e) {
        fail("{}: {}", ir::describe(layer.node()), e.what());
      }
    }
  });
}

Status ExecutionContext::infer() { return enqueue(nullptr); }

}  // namespace kestrel
