// Definitions of qdq_match.h.
#include "passes/qdq_match.h"

#include <cmath>

namespace kestrel::passes {

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

bool int8_weight_dq(const ir::Graph& graph, const ir::Node& dq, size_t rank, int channel_axis) {
  if (!is_op(dq, "DequantizeLinear") || dq.inputs.size() < 2) return false;
  const ir::Value& w = value(graph, dq.inputs[0]);
  if (!w.constant || w.dtype != DataType::kINT8 || w.shape.size() != rank) return false;
  if (!good_scales(graph, dq.inputs[1]) || !zero_point_is_zero(graph, dq)) return false;
  const int64_t n = value(graph, dq.inputs[1]).constant->numel();
  if (n == 1) return true;
  const int64_t axis = dq.attrs.get_int("axis", 1);
  return n == w.shape[size_t(channel_axis)] && (axis == channel_axis || axis == channel_axis - int64_t(rank));
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

void absorb_output_q(ir::Graph& graph, ir::Node& node, const std::vector<int>& uses, std::vector<bool>& removed) {
  const int y = node.outputs[0];
  if (uses[size_t(y)] != 1 || graph.is_graph_output(y)) return;
  const int reader = single_reader(graph, y);
  if (reader < 0 || removed[size_t(reader)] || !output_q(graph, graph.nodes[size_t(reader)]) ||
      graph.nodes[size_t(reader)].inputs[0] != y)
    return;
  const ir::Node& q = graph.nodes[size_t(reader)];
  node.attrs.set("y_scale", value(graph, q.inputs[1]).constant->data<float>()[0]);
  if (value(graph, q.outputs[0]).dtype == DataType::kUINT8) node.attrs.set("y_uint8", int64_t(1));
  node.outputs[0] = q.outputs[0];
  node.fused_from.push_back(q.name);
  removed[size_t(reader)] = true;
}

}  // namespace kestrel::passes
