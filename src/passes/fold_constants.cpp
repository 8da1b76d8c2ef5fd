// Shape inference and constant folding in one sweep, in topological order: a node whose inputs
// are all constant is evaluated with the CPU reference kernel and becomes a constant; Shape and
// Size become constants as soon as their input's shape is known. Because every input shape is
// static at build time, the INT64 shape arithmetic that exporters emit (Shape -> Gather ->
// Concat -> Reshape/Expand chains) disappears entirely, and later nodes see constant shapes.
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

// Folding must not blow up the engine: a constant may grow to this size, or to the size of its
// inputs when they are larger (e.g. a Transpose of a weight).
constexpr size_t kMaxFoldedBytes = size_t(4) << 20;

bool depends_only_on_shape(const ir::Node& node) { return node.op_type == "Shape" || node.op_type == "Size"; }

// DequantizeLinear of a constant (an int8 weight of a QDQ model) stays a node: folding it would
// store the weight as float32 again, four times the bytes, and hide from the backend that the
// layer after it may run in INT8 (docs/int8.md).
bool keeps_quantized_weight(const ir::Node& node) { return node.op_type == "DequantizeLinear" && node.domain.empty(); }

bool all_inputs_constant(const ir::Graph& graph, const ir::Node& node, size_t* input_bytes) {
  *input_bytes = 0;
  for (int in : node.inputs) {
    if (in == ir::kNoValue) continue;
    const ir::Value& v = graph.values[size_t(in)];
    if (!v.constant) return false;
    *input_bytes += v.constant->nbytes();
  }
  return true;
}

bool fold_constants(ir::Graph& graph) {
  graph.sort();
  std::vector<bool> folded(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    ir::infer_node(graph, node);
    size_t input_bytes = 0;
    const bool constant_inputs = all_inputs_constant(graph, node, &input_bytes);
    if (!constant_inputs && !depends_only_on_shape(node)) continue;
    if (keeps_quantized_weight(node)) continue;
    size_t output_bytes = 0;
    for (int out : node.outputs)
      if (out != ir::kNoValue)
        output_bytes += size_t(shape_numel(graph.values[size_t(out)].shape)) * dtype_size(graph.values[size_t(out)].dtype);
    if (output_bytes > std::max(kMaxFoldedBytes, input_bytes)) continue;

    std::vector<Tensor> results;
    if (constant_inputs) {
      std::vector<const Tensor*> inputs;
      for (int in : node.inputs) inputs.push_back(in == ir::kNoValue ? nullptr : &*graph.values[size_t(in)].constant);
      results = cpu::evaluate_node(node, inputs);
    } else {
      // Shape/Size on a non-constant input: run the kernel on a dataless stand-in of that shape.
      const ir::Value& in = graph.values[size_t(node.inputs[0])];
      const Tensor shaped = Tensor::view(in.dtype, in.shape, nullptr);
      results = cpu::evaluate_node(node, {&shaped});
    }
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (node.outputs[i] != ir::kNoValue) graph.values[size_t(node.outputs[i])].constant = std::move(results[i]);
    folded[n] = true;
    changed = true;
  }
  if (changed) remove_nodes(graph, folded);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fold_constants", 10, fold_constants});

}  // namespace
}  // namespace kestrel::passes
