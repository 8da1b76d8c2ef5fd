// The weight-dequantize lowering (lowering.h): DequantizeLinear of a constant (an INT8 weight of a
// QDQ model, kept int8 in the engine file) becomes the float constant it computes, once when the
// context is created, instead of a kernel in every inference. The CPU reference kernel computes
// them, so the float layers read exactly what the CPU reference reads.
#include "backend/cpu/reference/kernel_registry.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/lowering.h"
#include "passes/rewrite_utils.h"

namespace kestrel::cuda {

int fold_weight_dequantize(ir::Graph& graph, bool keep_integer_conv_weights) {
  int folded = 0;
  std::vector<bool> removed(graph.nodes.size(), false);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& dq = graph.nodes[n];
    if (!dq.domain.empty() || dq.op_type != "DequantizeLinear" || dq.inputs.size() < 2 || dq.outputs.size() != 1)
      continue;
    const ir::Value& x = graph.values[size_t(dq.inputs[0])];
    const ir::Value& s = graph.values[size_t(dq.inputs[1])];
    const ir::Value* zp = has_input(dq, 2) ? &graph.values[size_t(dq.inputs[2])] : nullptr;
    if (!x.constant || !s.constant || s.dtype != DataType::kFLOAT || (zp && !zp->constant)) continue;
    if (x.dtype != DataType::kINT8 && x.dtype != DataType::kUINT8) continue;
    if (dq.attrs.get_int("block_size", 0) != 0 || graph.is_graph_output(dq.outputs[0]) ||
        graph.values[size_t(dq.outputs[0])].dtype != DataType::kFLOAT)
      continue;
    const QuantAxis a = quant_axis(graph, dq, dq.inputs[0]);
    if (a.per_channel_scale && a.channels != s.constant->numel()) continue;  // the kernel's check names the layer
    if (keep_integer_conv_weights && feeds_integer_conv(graph, dq)) continue;
    std::vector<Tensor> values = cpu::evaluate_node(dq, {&*x.constant, &*s.constant, zp ? &*zp->constant : nullptr});
    graph.values[size_t(dq.outputs[0])].constant = std::move(values[0]);
    removed[n] = true;
    ++folded;
  }
  if (folded) passes::remove_nodes(graph, removed);
  return folded;
}

}  // namespace kestrel::cuda
