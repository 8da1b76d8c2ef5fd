// Sum and Mean of any number of inputs on CUDA as a chain of broadcasting Adds (Mean then
// multiplied by 1 / n): the binary kernel broadcasts like the variadic ops. CUDA only.
#include "passes/decompose_for_cuda.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

bool decompose_sum_and_mean(ir::Graph& graph) {
  std::vector<std::vector<ir::Node>> replacements(graph.nodes.size());
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    const bool mean = node.op_type == "Mean";
    if (!node.domain.empty() || (node.op_type != "Sum" && !mean) || node.inputs.empty() || node.outputs.size() != 1)
      continue;
    if (mean && graph.values[size_t(node.outputs[0])].dtype != DataType::kFLOAT) continue;
    const int out = node.outputs[0];
    const size_t count = node.inputs.size();
    Decomposition d(graph, node);
    int acc = node.inputs[0];
    if (count == 1) {
      d.add("Identity", {acc}, "", {}, mean ? ir::kNoValue : out);
    }
    for (size_t i = 1; i < count; ++i) {
      const bool last = i + 1 == count && !mean;
      acc = d.add("Add", {acc, node.inputs[i]}, i + 1 == count ? "" : "add", {}, last ? out : ir::kNoValue);
    }
    if (mean) {
      d.add("Mul", {acc, d.constant("inverse_count", float_scalar(1.0f / float(count)))}, "mean", {}, out);
    }
    replacements[n] = d.take();
    changed = true;
  }
  if (changed) splice(graph, replacements);
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"decompose_sum_and_mean", 28, decompose_sum_and_mean, device_bit(DeviceType::kCUDA)});

}  // namespace kestrel::passes
