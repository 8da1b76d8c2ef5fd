// cpu.alias: Reshape, Flatten, Squeeze, Unsqueeze and Identity only relabel the shape of the
// same bytes. The executor lets the output share its input's storage (arena_plan.h), and then
// the kernel does nothing; where it cannot (the output is a graph output the caller binds) the
// kernel copies the bytes.
#include <cstring>

#include "backend/cpu/fast/kernel.h"

namespace kestrel::cpu::fast {
namespace {

bool accepts(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.empty() || node.inputs[0] == ir::kNoValue || node.outputs.size() != 1) return false;
  const ir::Value& in = value_of(graph, node.inputs[0]);
  const ir::Value& out = value_of(graph, node.outputs[0]);
  return in.dtype == out.dtype && shape_numel(in.shape) == shape_numel(out.shape);
}

class AliasKernel final : public Kernel {
 public:
  explicit AliasKernel(const PrepareContext& ctx)
      : bytes_(size_t(shape_numel(ctx.output(0).shape)) * dtype_size(ctx.output(0).dtype)) {}
  void run(const RunContext& ctx) override {
    if (ctx.outputs[0] != ctx.inputs[0] && bytes_ > 0) std::memcpy(ctx.outputs[0], ctx.inputs[0], bytes_);
  }

 private:
  size_t bytes_;
};

std::unique_ptr<Kernel> create(const PrepareContext& ctx) { return std::make_unique<AliasKernel>(ctx); }

}  // namespace

KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.alias", "Reshape", Isa::kBaseline, accepts, nullptr, create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.alias", "Flatten", Isa::kBaseline, accepts, nullptr, create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.alias", "Squeeze", Isa::kBaseline, accepts, nullptr, create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.alias", "Unsqueeze", Isa::kBaseline, accepts, nullptr, create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.alias", "Identity", Isa::kBaseline, accepts, nullptr, create});

}  // namespace kestrel::cpu::fast
