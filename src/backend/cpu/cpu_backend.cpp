// The CPU backend: every layer runs its reference kernel, activations live in one planned arena
// and tensor views are prepared once per execution context, so nothing is allocated per
// inference.
#include <cstdlib>

#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "engine/backend.h"

namespace kestrel::cpu {
namespace {

constexpr const char* kReferenceKernel = "reference";

class CpuExecutor : public engine::Executor {
 public:
  explicit CpuExecutor(std::shared_ptr<const engine::EngineData> engine) : engine_(std::move(engine)) {
    const ir::Graph& graph = engine_->graph;
    const engine::MemoryPlan& plan = engine_->plan;
    if (plan.arena_bytes > 0) {
      const size_t bytes = (plan.arena_bytes + engine::kArenaAlignment - 1) / engine::kArenaAlignment *
                           engine::kArenaAlignment;
      arena_.reset(static_cast<std::byte*>(std::aligned_alloc(engine::kArenaAlignment, bytes)));
      KESTREL_CHECK(arena_ != nullptr, "cannot allocate {} bytes of activation memory", bytes);
    }
    values_.resize(graph.values.size());
    for (size_t v = 0; v < graph.values.size(); ++v) {
      const ir::Value& value = graph.values[v];
      if (value.constant)
        values_[v] = Tensor::view(value.dtype, value.shape, const_cast<void*>(value.constant->raw()));
      else if (plan.offsets[v] != engine::kNotInArena)
        values_[v] = Tensor::view(value.dtype, value.shape, arena_.get() + plan.offsets[v]);
    }
    // Inputs and outputs start in buffers of their own until the caller binds its memory.
    io_buffers_.reserve(graph.inputs.size() + graph.outputs.size());
    for (const std::vector<int>* ids : {&graph.inputs, &graph.outputs}) {
      for (int id : *ids) {
        const ir::Value& value = graph.values[size_t(id)];
        io_buffers_.emplace_back(value.dtype, value.shape);
        values_[size_t(id)] = Tensor::view(value.dtype, value.shape, io_buffers_.back().raw());
      }
    }
    layers_.reserve(graph.nodes.size());
    for (const ir::Node& node : graph.nodes) {
      std::vector<const Tensor*> inputs;
      std::vector<Tensor*> outputs;
      for (int in : node.inputs) inputs.push_back(in == ir::kNoValue ? nullptr : &values_[size_t(in)]);
      for (int out : node.outputs) outputs.push_back(out == ir::kNoValue ? nullptr : &values_[size_t(out)]);
      layers_.emplace_back(node, std::move(inputs), std::move(outputs));
      kernels_.push_back(find_reference_kernel(node.op_type));
      KESTREL_CHECK(kernels_.back() != nullptr, "{}: no CPU kernel for {}", ir::describe(node), node.op_type);
    }
  }

  void bind(int value, void* data) override {
    const ir::Value& v = engine_->graph.values[size_t(value)];
    values_[size_t(value)] = Tensor::view(v.dtype, v.shape, data);
  }

  void* address(int value) const override { return const_cast<void*>(values_[size_t(value)].raw()); }

  void enqueue(void*) override {
    for (size_t i = 0; i < layers_.size(); ++i) {
      try {
        kernels_[i](layers_[i]);
      } catch (const Error& e) {
        fail("{}: {}", ir::describe(layers_[i].node()), e.what());
      }
    }
  }

  void synchronize(void*) override {}

 private:
  std::shared_ptr<const engine::EngineData> engine_;
  std::unique_ptr<std::byte, decltype(&std::free)> arena_{nullptr, &std::free};
  std::vector<Tensor> io_buffers_;
  std::vector<Tensor> values_;  // one view per graph value; layers_ point into it, so never resized
  std::vector<KernelContext> layers_;
  std::vector<ReferenceKernel> kernels_;
};

std::string unavailable_reason() { return ""; }

void compile(engine::EngineData& engine, const BuilderConfig&) {
  for (ir::Node& node : engine.graph.nodes) {
    KESTREL_CHECK(find_reference_kernel(node.op_type) != nullptr, "{}: no CPU kernel for {} (opset {})",
                  ir::describe(node), node.op_type, node.opset);
    node.kernel = kReferenceKernel;
    node.precision = ir::Precision::kFP32;
  }
}

void check_compatible(const engine::EngineData& engine) {
  for (const ir::Node& node : engine.graph.nodes)
    KESTREL_CHECK(node.kernel == kReferenceKernel && find_reference_kernel(node.op_type) != nullptr,
                  "{} uses kernel '{}', which this build of Kestrel does not have", ir::describe(node), node.kernel);
}

std::unique_ptr<engine::Executor> create_executor(std::shared_ptr<const engine::EngineData> engine) {
  return std::make_unique<CpuExecutor>(std::move(engine));
}

KESTREL_REGISTER_BACKEND(engine::Backend{DeviceType::kCPU, unavailable_reason, compile, check_compatible, create_executor});

}  // namespace
}  // namespace kestrel::cpu
