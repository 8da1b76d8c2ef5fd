// The single-pass normalisation lowering (lowering.h): a flag on the InstanceNormalization layers
// that the planner (ops_nn.cpp) reads to choose the one-launch cluster kernel over the two-kernel
// statistics + normalisation path.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/lowering.h"

namespace kestrel::cuda {

int mark_single_pass_norms(ir::Graph& graph, const std::set<std::string>& only) {
  int marked = 0;
  for (ir::Node& node : graph.nodes) {
    if (!node.domain.empty() || node.op_type != "InstanceNormalization") continue;
    if (!only.empty() && !only.count(node.name)) continue;
    node.attrs.set(kAttrSinglePassNorm, int64_t(1));
    ++marked;
  }
  return marked;
}

}  // namespace kestrel::cuda
