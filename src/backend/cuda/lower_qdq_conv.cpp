// The integer-convolution lowering (lowering.h). A Conv whose input is the DequantizeLinear of an
// int8/uint8 activation (one scale, zero point 0) and whose weight is the DequantizeLinear of an
// int8 constant (one scale or one per output channel, zero points 0) becomes one kestrel.QConv
// (src/ir/ops/qconv.cpp) that qconv.cu runs on integers. Its bias, residual and ReLU are already
// in the Conv (the epilogue fusion runs first); a QuantizeLinear that is its output's only reader
// is absorbed, so activations stay int8 from one quantized layer to the next. The same matching
// as the CPU's fuse_qdq_conv (passes/qdq_match.h), applied to the CUDA lowering's Conv layers.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/lowering.h"
#include "ir/op_registry.h"
#include "passes/qdq_match.h"
#include "passes/rewrite_utils.h"

namespace kestrel::cuda {
namespace {

// Conv input `x` and weight `w` as the integer kernels take them.
bool quantized_operands(const ir::Graph& graph, const std::vector<int>& producer, int x, int w) {
  if (x == ir::kNoValue || w == ir::kNoValue) return false;
  const int px = producer[size_t(x)], pw = producer[size_t(w)];
  return px >= 0 && pw >= 0 && passes::activation_dq(graph, graph.nodes[size_t(px)]) &&
         passes::int8_weight_dq(graph, graph.nodes[size_t(pw)], 4, 0) &&
         graph.values[size_t(x)].shape.size() == 4;
}

bool is_plain_conv(const ir::Node& node) {
  return node.domain.empty() && node.op_type == "Conv" && node.inputs.size() >= 2 && node.outputs.size() == 1;
}

}  // namespace

bool feeds_integer_conv(const ir::Graph& graph, const ir::Node& dq) {
  if (dq.outputs.size() != 1 || graph.is_graph_output(dq.outputs[0])) return false;
  const std::vector<int> producer = graph.producers();
  bool read = false;
  for (const ir::Node& node : graph.nodes) {
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (node.inputs[i] != dq.outputs[0]) continue;
      if (i != 1 || !is_plain_conv(node) || !quantized_operands(graph, producer, node.inputs[0], node.inputs[1]))
        return false;
      read = true;
    }
  }
  return read;
}

int lower_qdq_convs(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  int lowered = 0;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& conv = graph.nodes[n];
    if (!is_plain_conv(conv) || !quantized_operands(graph, producer, conv.inputs[0], conv.inputs[1])) continue;
    const int bias = has_input(conv, 2) ? conv.inputs[2] : ir::kNoValue;
    const int residual = has_input(conv, 3) ? conv.inputs[3] : ir::kNoValue;
    if (bias != ir::kNoValue &&
        (!graph.values[size_t(bias)].constant || graph.values[size_t(bias)].dtype != DataType::kFLOAT))
      continue;
    if (residual != ir::kNoValue && graph.values[size_t(residual)].dtype != DataType::kFLOAT) continue;
    const std::string activation = conv.attrs.get_string(kAttrActivation, "");
    if (!activation.empty() && activation != "Relu") continue;

    const ir::Node& dq_x = graph.nodes[size_t(producer[size_t(conv.inputs[0])])];
    const ir::Node& dq_w = graph.nodes[size_t(producer[size_t(conv.inputs[1])])];
    ir::Node& node = graph.nodes[n];
    if (node.fused_from.empty()) node.fused_from.push_back(node.name);
    node.attrs.set("x_scale", graph.values[size_t(dq_x.inputs[1])].constant->data<float>()[0]);
    node.inputs = {dq_x.inputs[0], dq_w.inputs[0], dq_w.inputs[1], bias, residual};
    while (node.inputs.size() > 3 && node.inputs.back() == ir::kNoValue) node.inputs.pop_back();
    node.domain = ir::kKestrelDomain;
    node.op_type = "QConv";
    node.attrs.erase(kAttrActivation);
    node.attrs.erase(kAttrResidual);
    if (!activation.empty()) node.attrs.set("activation", activation);
    passes::absorb_output_q(graph, node, uses, removed);
    ++lowered;
  }
  if (lowered == 0) return 0;
  // Dequantizers left without readers go; the activation ones are recorded as absorbed by the
  // QConv that read them (the weight ones count as folded at load, like fold_weight_dequantize's).
  const std::vector<int> after = graph.use_counts();
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& dq = graph.nodes[n];
    if (removed[n] || !passes::is_op(dq, "DequantizeLinear") || dq.outputs.size() != 1) continue;
    const int out = dq.outputs[0];
    if (after[size_t(out)] != 0 || graph.is_graph_output(out)) continue;
    removed[n] = true;
    if (graph.values[size_t(dq.inputs[0])].constant) continue;
    for (ir::Node& reader : graph.nodes)
      if (reader.op_type == "QConv" && reader.domain == ir::kKestrelDomain && !reader.inputs.empty() &&
          reader.inputs[0] == dq.inputs[0]) {
        reader.fused_from.push_back(dq.name);
        break;
      }
  }
  passes::remove_nodes(graph, removed);
  return lowered;
}

}  // namespace kestrel::cuda
