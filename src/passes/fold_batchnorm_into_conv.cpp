// Conv -> BatchNormalization (inference) becomes one Conv with rescaled weights and bias:
//   w' = w * gamma / sqrt(var + eps)   (per output channel)
//   b' = (b - mean) * gamma / sqrt(var + eps) + beta
#include <cmath>

#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

const Tensor* constant_float(const ir::Graph& graph, int value, int64_t expected_numel) {
  if (value == ir::kNoValue) return nullptr;
  const ir::Value& v = graph.values[size_t(value)];
  if (!v.constant || v.dtype != DataType::kFLOAT) return nullptr;
  if (expected_numel >= 0 && v.constant->numel() != expected_numel) return nullptr;
  return &*v.constant;
}

bool fold_one(ir::Graph& graph, size_t conv_index, size_t bn_index) {
  ir::Node& conv = graph.nodes[conv_index];
  const ir::Node& bn = graph.nodes[bn_index];
  const Tensor* weight = constant_float(graph, conv.inputs[1], -1);
  if (!weight || weight->rank() < 3) return false;
  const int64_t channels = weight->dim(0);
  const bool has_bias = conv.inputs.size() > 2 && conv.inputs[2] != ir::kNoValue;
  const Tensor* bias = has_bias ? constant_float(graph, conv.inputs[2], channels) : nullptr;
  if (has_bias && !bias) return false;
  const Tensor* gamma = constant_float(graph, bn.inputs[1], channels);
  const Tensor* beta = constant_float(graph, bn.inputs[2], channels);
  const Tensor* mean = constant_float(graph, bn.inputs[3], channels);
  const Tensor* var = constant_float(graph, bn.inputs[4], channels);
  if (!gamma || !beta || !mean || !var) return false;

  const double epsilon = bn.attrs.get_float("epsilon", 1e-5f);
  Tensor new_weight = weight->clone();
  Tensor new_bias(DataType::kFLOAT, {channels});
  const int64_t per_channel = weight->numel() / channels;
  for (int64_t c = 0; c < channels; ++c) {
    const double scale = double(gamma->data<float>()[c]) / std::sqrt(double(var->data<float>()[c]) + epsilon);
    for (int64_t i = 0; i < per_channel; ++i)
      new_weight.data<float>()[c * per_channel + i] = float(weight->data<float>()[c * per_channel + i] * scale);
    const double b = bias ? bias->data<float>()[c] : 0.0;
    new_bias.data<float>()[c] = float((b - mean->data<float>()[c]) * scale + beta->data<float>()[c]);
  }
  const int weight_id = graph.add_constant(graph.unique_name(conv.name + "_folded_weight"), std::move(new_weight));
  const int bias_id = graph.add_constant(graph.unique_name(conv.name + "_folded_bias"), std::move(new_bias));
  ir::Node& fused = graph.nodes[conv_index];  // add_constant may not move nodes, but re-take the reference anyway
  fused.inputs.resize(3);
  fused.inputs[1] = weight_id;
  fused.inputs[2] = bias_id;
  fused.outputs[0] = graph.nodes[bn_index].outputs[0];
  fused.fused_from.push_back(graph.nodes[bn_index].name);
  return true;
}

bool fold_batchnorm_into_conv(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& bn = graph.nodes[n];
    if (bn.op_type != "BatchNormalization" || bn.inputs.size() != 5 || bn.outputs.size() != 1) continue;
    if (bn.inputs[0] == ir::kNoValue) continue;
    const int p = producer[size_t(bn.inputs[0])];
    if (p < 0 || removed[size_t(p)] || graph.nodes[size_t(p)].op_type != "Conv") continue;
    if (uses[size_t(bn.inputs[0])] != 1 || graph.is_graph_output(bn.inputs[0])) continue;
    if (fold_one(graph, size_t(p), n)) {
      removed[n] = true;
      changed = true;
    }
  }
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fold_batchnorm_into_conv", 30, fold_batchnorm_into_conv});

}  // namespace
}  // namespace kestrel::passes
