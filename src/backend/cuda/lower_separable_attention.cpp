// The separable-attention lowering (lowering.h): reuses the CPU backend's graph rewrite, so that
// both backends fuse exactly the same chains into the same kestrel.SeparableAttention op.
#include <map>

#include "backend/cuda/lowering.h"
#include "ir/op_registry.h"
#include "passes/pass.h"

namespace kestrel::cuda {

int fuse_separable_attention(ir::Graph& graph) {
  const passes::Pass* rewrite = nullptr;
  for (const passes::Pass* pass : passes::registered_passes())
    if (pass->name == "fuse_separable_attention") rewrite = pass;
  if (rewrite == nullptr) return 0;
  std::map<std::string, ir::Precision> precision;  // of the layers before the rewrite, by name
  for (const ir::Node& node : graph.nodes) precision[node.name] = node.precision;
  if (!rewrite->run(graph)) return 0;
  int fused = 0;
  for (ir::Node& node : graph.nodes) {
    if (node.domain != ir::kKestrelDomain || node.op_type != "SeparableAttention" || node.fused_from.empty() ||
        precision.count(node.name))
      continue;
    // The chain's layers share one precision (all have FP16 kernels); the Split's stands for all.
    auto it = precision.find(node.fused_from.front());
    if (it != precision.end()) node.precision = it->second;
    // The engine's last Mul of the chain then carries the fused layer's kernel in `inspect`.
    node.name = node.fused_from.back();
    ++fused;
  }
  return fused;
}

}  // namespace kestrel::cuda
