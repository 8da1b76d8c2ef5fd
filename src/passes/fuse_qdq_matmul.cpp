// DequantizeLinear(X) , DequantizeLinear(int8 constant W) -> MatMul [-> QuantizeLinear] becomes
// one kestrel.QMatMul (src/ir/ops/qmatmul.cpp), which the INT8 matmul kernel runs on integers:
// the MatMul half of the QDQ pattern of docs/int8.md (the Conv half is fuse_qdq_conv).
//
// Matched only where the integer kernel is exact up to float rounding: X int8/uint8 of rank 2 to
// 4 with one constant scale and zero point 0; W a 2-D int8 constant [K, N] with scales per
// column (axis 1 or -1, what the QDQ rewrite writes for MatMul) or one, zero points 0. A MatMul
// of two activations (SMAT's correlation) has no constant weight and stays as it is. The
// requantizing Q is absorbed as in fuse_qdq_conv. CPU only.
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/qdq_match.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool fuse_qdq_matmul(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& mm = graph.nodes[n];
    if (!is_op(mm, "MatMul") || mm.inputs.size() != 2 || mm.outputs.size() != 1) continue;
    const int x = mm.inputs[0], w = mm.inputs[1];
    const int px = producer[size_t(x)], pw = producer[size_t(w)];
    if (px < 0 || pw < 0 || removed[size_t(px)] || removed[size_t(pw)]) continue;
    const ir::Node& dq_x = graph.nodes[size_t(px)];
    const ir::Node& dq_w = graph.nodes[size_t(pw)];
    if (!activation_dq(graph, dq_x) || !int8_weight_dq(graph, dq_w, 2, 1)) continue;
    const size_t rank = value(graph, dq_x.inputs[0]).shape.size();
    if (rank < 2 || rank > 4) continue;

    ir::Node& node = graph.nodes[n];
    const float x_scale = value(graph, dq_x.inputs[1]).constant->data<float>()[0];
    node.inputs = {dq_x.inputs[0], dq_w.inputs[0], dq_w.inputs[1]};
    node.domain = ir::kKestrelDomain;
    node.op_type = "QMatMul";
    node.attrs.set("x_scale", x_scale);
    node.precision = ir::Precision::kINT8;
    absorb_output_q(graph, node, uses, removed);
    changed = true;
  }
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fuse_qdq_matmul", 46, fuse_qdq_matmul, device_bit(DeviceType::kCPU)});

}  // namespace
}  // namespace kestrel::passes
