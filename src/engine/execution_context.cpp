// ExecutionContext: binds caller memory to the engine's inputs and outputs and hands the work to
// the executor of the engine's backend.
#include "engine/api_guard.h"
#include "engine/backend.h"
#include "engine/engine_impl.h"

namespace kestrel {

struct ExecutionContext::Impl {
  std::shared_ptr<const engine::EngineData> engine;
  std::unique_ptr<engine::Executor> executor;

  int io_value(const std::string& name) const {
    const ir::Graph& g = engine->graph;
    for (const std::vector<int>* ids : {&g.inputs, &g.outputs})
      for (int id : *ids)
        if (g.values[size_t(id)].name == name) return id;
    return ir::kNoValue;
  }
};

ExecutionContext::ExecutionContext() : impl_(std::make_unique<Impl>()) {}
ExecutionContext::~ExecutionContext() = default;

std::unique_ptr<ExecutionContext> Engine::create_execution_context() const {
  return create_execution_context(ExecutionOptions{});
}

std::unique_ptr<ExecutionContext> Engine::create_execution_context(const ExecutionOptions& options) const {
  std::unique_ptr<ExecutionContext> context(new ExecutionContext());
  Status status = guarded(nullptr, [&] {
    KESTREL_CHECK(options.cpu_threads >= 0, "cpu_threads must be >= 0, got {}", options.cpu_threads);
    context->impl_->engine = impl_->data;
    context->impl_->executor = engine::require_backend(impl_->data->device).create_executor(impl_->data);
    context->impl_->executor->configure(options);
  });
  if (!status.ok()) return nullptr;
  return context;
}

Status ExecutionContext::set_tensor_address(const std::string& name, void* data) {
  return guarded(nullptr, [&] {
    const int id = impl_->io_value(name);
    KESTREL_CHECK(id != ir::kNoValue, "'{}' is not an input or output of the engine", name);
    const ir::Value& value = impl_->engine->graph.values[size_t(id)];
    KESTREL_CHECK(data != nullptr || shape_numel(value.shape) == 0, "a null address was given for '{}'", name);
    impl_->executor->bind(id, data);
  });
}

void* ExecutionContext::get_tensor_address(const std::string& name) const {
  const int id = impl_->io_value(name);
  return id == ir::kNoValue ? nullptr : impl_->executor->address(id);
}

Status ExecutionContext::enqueue(void* stream) {
  return guarded(nullptr, [&] { impl_->executor->enqueue(stream); });
}

Status ExecutionContext::infer() {
  return guarded(nullptr, [&] {
    impl_->executor->enqueue(nullptr);
    impl_->executor->synchronize(nullptr);
  });
}

}  // namespace kestrel
