// Matching helpers shared by the QDQ fusions (fuse_qdq_conv, fuse_qdq_matmul): the parts of a
// QDQ chain an integer kernel can take exactly (one constant scale, zero points 0).
#pragma once
#include <vector>

#include "ir/graph.h"

namespace kestrel::passes {

bool is_op(const ir::Node& node, const char* op_type);  // default ONNX domain
const ir::Value& value(const ir::Graph& graph, int id);
// Constant float scales, all finite and positive.
bool good_scales(const ir::Graph& graph, int id);
// The zero point input of a Q/DQ node: absent, or a constant of zeros.
bool zero_point_is_zero(const ir::Graph& graph, const ir::Node& node);
// DequantizeLinear of a constant int8 weight of rank `rank`, zero point 0, per tensor or per
// channel along `channel_axis` (Conv: 0 of 4, the output channels; MatMul: 1 of 2, the columns).
bool int8_weight_dq(const ir::Graph& graph, const ir::Node& dq, size_t rank, int channel_axis);
// A per-tensor DequantizeLinear of an int8/uint8 activation with zero point 0.
bool activation_dq(const ir::Graph& graph, const ir::Node& dq);
// A per-tensor QuantizeLinear with zero point 0 into int8 or uint8.
bool output_q(const ir::Graph& graph, const ir::Node& q);
// The single reader of value `v`, or -1.
int single_reader(const ir::Graph& graph, int v);
// When `node`'s float output has no reader but one per-tensor Q (zero point 0) and is not a
// graph output: the node takes over the Q (attributes y_scale, y_uint8; its output becomes the
// Q's) and the Q is flagged in `removed`. `uses` are the use counts before this pass changed
// anything.
void absorb_output_q(ir::Graph& graph, ir::Node& node, const std::vector<int>& uses, std::vector<bool>& removed);

}  // namespace kestrel::passes
