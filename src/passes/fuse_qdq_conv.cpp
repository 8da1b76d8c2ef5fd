// DequantizeLinear(X) , DequantizeLinear(W) -> Conv / kestrel.FusedConv [-> QuantizeLinear]
// becomes one kestrel.QConv (src/ir/ops/qconv.cpp): the QDQ pattern of docs/int8.md ("The QDQ
// contract for backends") as a layer the INT8 kernels run on integers.
//
// Runs after the float fusions (bias, residual add and Relu/Clip are already inside a FusedConv).
// Matched only where the integer kernel is exact up to float rounding:
//   - X: DequantizeLinear of an int8/uint8 tensor, one constant scale, zero point 0 (or absent);
//   - W: DequantizeLinear of an int8 constant, constant scales per output channel (axis 0) or
//     one, zero points 0;
//   - bias and residual float32 (the residual stays a float input).
// When the layer's float output has no reader but one per-tensor QuantizeLinear (zero point 0)
// and is not a graph output, that Q is absorbed too and the layer writes int8 directly, so
// activations stay int8 from one quantized layer to the next. Anything else keeps its QDQ nodes
// and runs as before (the DQ nodes then make float inputs for the float kernels). CPU only.
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/qdq_match.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool is_conv(const ir::Node& node) {
  return (node.domain.empty() && node.op_type == "Conv") ||
         (node.domain == ir::kKestrelDomain && node.op_type == "FusedConv");
}

bool fuse_qdq_conv(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& conv = graph.nodes[n];
    if (!is_conv(conv) || conv.inputs.size() < 2 || conv.outputs.size() != 1) continue;
    const int x = conv.inputs[0], w = conv.inputs[1];
    if (x == ir::kNoValue || w == ir::kNoValue) continue;
    const int px = producer[size_t(x)], pw = producer[size_t(w)];
    if (px < 0 || pw < 0 || removed[size_t(px)] || removed[size_t(pw)]) continue;
    const ir::Node& dq_x = graph.nodes[size_t(px)];
    const ir::Node& dq_w = graph.nodes[size_t(pw)];
    if (!activation_dq(graph, dq_x) || !int8_weight_dq(graph, dq_w, 4, 0)) continue;
    const int bias = conv.inputs.size() > 2 ? conv.inputs[2] : ir::kNoValue;
    const int residual = conv.inputs.size() > 3 ? conv.inputs[3] : ir::kNoValue;
    if (bias != ir::kNoValue && (!value(graph, bias).constant || value(graph, bias).dtype != DataType::kFLOAT)) continue;
    if (residual != ir::kNoValue && value(graph, residual).dtype != DataType::kFLOAT) continue;

    ir::Node& node = graph.nodes[n];
    const float x_scale = value(graph, dq_x.inputs[1]).constant->data<float>()[0];
    node.inputs = {dq_x.inputs[0], dq_w.inputs[0], dq_w.inputs[1], bias, residual};
    while (node.inputs.size() > 3 && node.inputs.back() == ir::kNoValue) node.inputs.pop_back();
    node.domain = ir::kKestrelDomain;
    node.op_type = "QConv";
    node.attrs.set("x_scale", x_scale);
    node.precision = ir::Precision::kINT8;

    // Absorb the requantization: the float output's only reader is a per-tensor Q.
    absorb_output_q(graph, node, uses, removed);
    changed = true;
  }
  // The DequantizeLinear nodes that no longer have readers go with dead-code elimination.
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fuse_qdq_conv", 45, fuse_qdq_conv, device_bit(DeviceType::kCPU)});

}  // namespace
}  // namespace kestrel::passes
