// PRelu on CUDA as the element-wise ops it has kernels for:
//   y = Relu(x) + slope * Min(x, 0)
// (for x >= 0 the second term is 0, for x < 0 the first), the slope broadcasting as in PRelu.
// CUDA only.
#include "passes/decompose_for_cuda.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

bool decompose_prelu(ir::Graph& graph) {
  std::vector<std::vector<ir::Node>> replacements(graph.nodes.size());
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& prelu = graph.nodes[n];
    if (!prelu.domain.empty() || prelu.op_type != "PRelu" || prelu.inputs.size() != 2 || prelu.outputs.size() != 1)
      continue;
    if (graph.values[size_t(prelu.inputs[0])].dtype != DataType::kFLOAT) continue;
    const int x = prelu.inputs[0], slope = prelu.inputs[1], out = prelu.outputs[0];
    Decomposition d(graph, prelu);
    const int positive = d.add("Relu", {x}, "positive");
    const int negative = d.add("Min", {x, d.constant("zero", float_scalar(0.f))}, "negative");
    const int scaled = d.add("Mul", {negative, slope}, "slope");
    d.add("Add", {positive, scaled}, "", {}, out);
    replacements[n] = d.take();
    changed = true;
  }
  if (changed) splice(graph, replacements);
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"decompose_prelu", 28, decompose_prelu, device_bit(DeviceType::kCUDA)});

}  // namespace kestrel::passes
