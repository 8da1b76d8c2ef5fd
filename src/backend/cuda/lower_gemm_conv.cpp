// The GEMM-with-epilogue lowering (lowering.h): a flag on the Conv layers that the Conv planner
// (ops_nn.cpp) reads to choose gemm_conv.cu over cuBLAS + the separate epilogue kernel.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/lowering.h"

namespace kestrel::cuda {

int mark_fused_gemm_convs(ir::Graph& graph, const std::set<std::string>& only) {
  int marked = 0;
  for (ir::Node& node : graph.nodes) {
    if (!node.domain.empty() || node.op_type != "Conv" || node.inputs.size() < 2) continue;
    if (node.attrs.get_int("group", 1) != 1) continue;
    if (graph.values[size_t(node.inputs[0])].shape.size() != 4) continue;
    if (!only.empty() && !only.count(node.name)) continue;
    node.attrs.set(kAttrFusedGemm, int64_t(1));
    ++marked;
  }
  return marked;
}

}  // namespace kestrel::cuda
