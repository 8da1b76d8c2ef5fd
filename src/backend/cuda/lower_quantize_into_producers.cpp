// The quantizer-into-producer lowering (lowering.h): in INT8 engines most normalisations and
// attention cores feed a quantized convolution through a QuantizeLinear; their kernels quantize
// as they write instead (QuantizedOutput in kernels.h), with QuantizeLinear's arithmetic, so the
// float output is never stored.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/lowering.h"
#include "passes/qdq_match.h"
#include "passes/rewrite_utils.h"

namespace kestrel::cuda {

namespace {

// The layers whose kernels can write a quantized output.
bool can_quantize_output(const ir::Node& node) {
  if (node.outputs.size() != 1) return false;
  if (node.domain.empty() && node.op_type == "InstanceNormalization") return !node.attrs.has(kAttrNormStatistics);
  return node.op_type == "SeparableAttention";
}

}  // namespace

int fuse_quantizers_into_producers(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  int fused = 0;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& q = graph.nodes[n];
    if (!passes::output_q(graph, q)) continue;
    const int x = q.inputs[0];
    const int p = producer[size_t(x)];
    if (p < 0 || uses[size_t(x)] != 1 || graph.is_graph_output(x)) continue;
    ir::Node& layer = graph.nodes[size_t(p)];
    if (!can_quantize_output(layer)) continue;
    layer.attrs.set(kAttrOutputScale, graph.values[size_t(q.inputs[1])].constant->data<float>()[0]);
    if (layer.fused_from.empty()) layer.fused_from.push_back(layer.name);
    layer.fused_from.push_back(q.name);
    layer.outputs[0] = q.outputs[0];
    removed[n] = true;
    ++fused;
  }
  if (fused) passes::remove_nodes(graph, removed);
  return fused;
}

}  // namespace kestrel::cuda
