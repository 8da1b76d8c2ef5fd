// The copy-chain lowering (lowering.h): a data-movement layer whose input comes from another one
// (or through reshapes) reads the first one's input directly, through the composed element map,
// as one kestrel.StridedCopy. SMAT's patch fold is Slice -> Reshape -> DepthToSpace: two copies
// become one. Only compositions that check out element by element are made (copy_maps.cpp).
#include "backend/cuda/copy_maps.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/lowering.h"
#include "ir/op_registry.h"

namespace kestrel::cuda {
namespace {

// Layers that launch a copy of their own (reshape-likes alias their input and launch nothing, so
// folding a reshape into a reshape would add a launch).
bool is_real_copy(const ir::Node& node) {
  const std::string op = ir::qualified_op_type(node);
  return op == "Slice" || op == "Transpose" || op == "Expand" || op == "DepthToSpace" || op == "SpaceToDepth" ||
         op == "kestrel.StridedCopy";
}

// Folds one producer into one consumer; false when none is left.
bool fold_one(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  for (size_t c = 0; c < graph.nodes.size(); ++c) {
    const ir::Node& consumer = graph.nodes[c];
    if (!is_real_copy(consumer) || consumer.inputs.empty() || consumer.outputs.size() != 1) continue;
    const int middle = consumer.inputs[0];
    if (middle == ir::kNoValue || uses[size_t(middle)] != 1 || graph.is_graph_output(middle)) continue;
    const int p = producer[size_t(middle)];
    if (p < 0) continue;
    const ir::Node& source = graph.nodes[size_t(p)];
    if (!(is_real_copy(source) || is_reshape_like(source)) || source.outputs.size() != 1) continue;
    const int in = source.inputs[0];
    if (in == ir::kNoValue || graph.values[size_t(in)].dtype != graph.values[size_t(consumer.outputs[0])].dtype)
      continue;
    const std::optional<CopyMap> outer = copy_map(graph, consumer);
    const std::optional<CopyMap> inner = copy_map(graph, source);
    if (!outer || !inner) continue;
    const std::optional<CopyMap> both = compose(*outer, *inner);
    if (!both) continue;
    ir::Node fused;
    fused.name = consumer.name;  // the engine's last layer of the chain carries the kernel
    fused.op_type = "StridedCopy";
    fused.domain = ir::kKestrelDomain;
    fused.opset = 1;
    fused.precision = consumer.precision;
    fused.inputs = {in};
    fused.outputs = consumer.outputs;
    fused.attrs.set(kAttrCopyDims, both->dims);
    fused.attrs.set(kAttrCopyStrides, both->in_strides);
    fused.attrs.set(kAttrCopyBase, both->base);
    fused.fused_from = source.fused_from.empty() ? std::vector<std::string>{source.name} : source.fused_from;
    if (consumer.fused_from.empty()) fused.fused_from.push_back(consumer.name);
    else fused.fused_from.insert(fused.fused_from.end(), consumer.fused_from.begin(), consumer.fused_from.end());
    graph.nodes[c] = std::move(fused);
    graph.nodes.erase(graph.nodes.begin() + p);
    return true;
  }
  return false;
}

}  // namespace

int fold_copy_chains(ir::Graph& graph) {
  int folded = 0;
  while (fold_one(graph)) ++folded;
  return folded;
}

}  // namespace kestrel::cuda
