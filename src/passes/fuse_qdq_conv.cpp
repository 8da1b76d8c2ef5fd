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
#include <cmath>

#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool is_conv(const ir::Node& node) {
  return (node.domain.empty() && node.op_type == "Conv") ||
         (node.domain == ir::kKestrelDomain && node.op_type == "FusedConv");
}

bool is_op(const ir::Node& node, const char* op_type) { return node.domain.empty() && node.op_type == op_type; }

const ir::Value& value(const ir::Graph& graph, int id) { return graph.values[size_t(id)]; }

// Constant float scales, all finite and positive.
bool good_scales(const ir::Graph& graph, int id) {
  const ir::Value& v = value(graph, id);
  if (!v.constant || v.dtype != DataType::kFLOAT || v.constant->numel() < 1) return false;
  const float* s = v.constant->data<float>();
  for (int64_t i = 0; i < v.constant->numel(); ++i)
    if (!(std::isfinite(s[i]) && s[i] > 0)) return false;
  return true;
}

// The zero point input of a Q/DQ node: absent, or a constant of zeros.
bool zero_point_is_zero(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() < 3 || node.inputs[2] == ir::kNoValue) return true;
  const ir::Value& zp = value(graph, node.inputs[2]);
  if (!zp.constant) return false;
  for (int64_t i = 0; i < zp.constant->numel(); ++i)
    if (zp.constant->int_at(i) != 0) return false;
  return true;
}

// A per-tensor DequantizeLinear of an int8/uint8 activation with zero point 0.
bool activation_dq(const ir::Graph& graph, const ir::Node& dq) {
  if (!is_op(dq, "DequantizeLinear") || dq.inputs.size() < 2) return false;
  const DataType t = value(graph, dq.inputs[0]).dtype;
  if (t != DataType::kINT8 && t != DataType::kUINT8) return false;
  return good_scales(graph, dq.inputs[1]) && value(graph, dq.inputs[1]).constant->numel() == 1 &&
         zero_point_is_zero(graph, dq);
}

// DequantizeLinear of an int8 constant weight, per output channel (axis 0) or per tensor.
bool weight_dq(const ir::Graph& graph, const ir::Node& dq) {
  if (!is_op(dq, "DequantizeLinear") || dq.inputs.size() < 2) return false;
  const ir::Value& w = value(graph, dq.inputs[0]);
  if (!w.constant || w.dtype != DataType::kINT8 || w.shape.size() != 4) return false;
  if (!good_scales(graph, dq.inputs[1]) || !zero_point_is_zero(graph, dq)) return false;
  const int64_t n = value(graph, dq.inputs[1]).constant->numel();
  if (n == 1) return true;
  const int64_t axis = dq.attrs.get_int("axis", 1);
  return n == w.shape[0] && (axis == 0 || axis == -4);
}

// A per-tensor QuantizeLinear with zero point 0 into int8 or uint8.
bool output_q(const ir::Graph& graph, const ir::Node& q) {
  if (!is_op(q, "QuantizeLinear") || q.inputs.size() < 2 || q.outputs.size() != 1) return false;
  const DataType t = value(graph, q.outputs[0]).dtype;
  if (t != DataType::kINT8 && t != DataType::kUINT8) return false;
  return good_scales(graph, q.inputs[1]) && value(graph, q.inputs[1]).constant->numel() == 1 &&
         zero_point_is_zero(graph, q);
}

// The single reader of value `v`, or -1.
int single_reader(const ir::Graph& graph, int v) {
  int found = -1;
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (int in : graph.nodes[n].inputs)
      if (in == v) {
        if (found >= 0 && found != int(n)) return -1;
        found = int(n);
      }
  return found;
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
    if (!activation_dq(graph, dq_x) || !weight_dq(graph, dq_w)) continue;
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
    const int y = node.outputs[0];
    if (uses[size_t(y)] == 1 && !graph.is_graph_output(y)) {
      const int reader = single_reader(graph, y);
      if (reader >= 0 && !removed[size_t(reader)] && output_q(graph, graph.nodes[size_t(reader)]) &&
          graph.nodes[size_t(reader)].inputs[0] == y) {
        const ir::Node& q = graph.nodes[size_t(reader)];
        node.attrs.set("y_scale", value(graph, q.inputs[1]).constant->data<float>()[0]);
        if (value(graph, q.outputs[0]).dtype == DataType::kUINT8) node.attrs.set("y_uint8", int64_t(1));
        node.outputs[0] = q.outputs[0];
        node.fused_from.push_back(q.name);
        removed[size_t(reader)] = true;
      }
    }
    changed = true;
  }
  // The DequantizeLinear nodes that no longer have readers go with dead-code elimination.
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fuse_qdq_conv", 45, fuse_qdq_conv, device_bit(DeviceType::kCPU)});

}  // namespace
}  // namespace kestrel::passes
