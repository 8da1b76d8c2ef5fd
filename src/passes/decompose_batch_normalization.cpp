// BatchNormalization (inference, constant statistics) that no convolution absorbed
// (fold_batchnorm_into_conv) becomes, on CUDA, one per-channel multiply-add:
//   y = x * s + t,  s = scale / sqrt(var + epsilon),  t = bias - mean * s
// with s and t constants shaped [C, 1, ..] so that they broadcast along axis 1 (DenseNet's
// pre-activation norms, for example). CUDA only: the CPU runs BatchNormalization as it is.
#include <cmath>

#include "passes/decompose_for_cuda.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

const Tensor* constant_channels(const ir::Graph& graph, int value, int64_t channels) {
  if (value == ir::kNoValue) return nullptr;
  const ir::Value& v = graph.values[size_t(value)];
  if (!v.constant || v.dtype != DataType::kFLOAT || v.constant->numel() != channels) return nullptr;
  return &*v.constant;
}

bool decompose_batch_normalization(ir::Graph& graph) {
  std::vector<std::vector<ir::Node>> replacements(graph.nodes.size());
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& bn = graph.nodes[n];
    if (!bn.domain.empty() || bn.op_type != "BatchNormalization" || bn.inputs.size() != 5) continue;
    bool extra_outputs = false;
    for (size_t o = 1; o < bn.outputs.size(); ++o) extra_outputs |= bn.outputs[o] != ir::kNoValue;
    if (extra_outputs || bn.outputs.empty() || bn.attrs.get_int("training_mode", 0) != 0) continue;
    const ir::Value& x = graph.values[size_t(bn.inputs[0])];
    if (x.dtype != DataType::kFLOAT || x.shape.size() < 2) continue;
    const int64_t channels = x.shape[1];
    const size_t rank = x.shape.size();
    const Tensor* scale = constant_channels(graph, bn.inputs[1], channels);
    const Tensor* bias = constant_channels(graph, bn.inputs[2], channels);
    const Tensor* mean = constant_channels(graph, bn.inputs[3], channels);
    const Tensor* var = constant_channels(graph, bn.inputs[4], channels);
    if (!scale || !bias || !mean || !var) continue;
    Shape broadcast(rank - 1, 1);
    broadcast[0] = channels;
    Tensor s(DataType::kFLOAT, broadcast), t(DataType::kFLOAT, broadcast);
    const double epsilon = bn.attrs.get_float("epsilon", 1e-5f);
    for (int64_t c = 0; c < channels; ++c) {
      const double factor = double(scale->data<float>()[c]) / std::sqrt(double(var->data<float>()[c]) + epsilon);
      s.data<float>()[c] = float(factor);
      t.data<float>()[c] = float(double(bias->data<float>()[c]) - double(mean->data<float>()[c]) * factor);
    }
    const int x_value = bn.inputs[0], out = bn.outputs[0];
    Decomposition d(graph, bn);
    const int scaled = d.add("Mul", {x_value, d.constant("scale", std::move(s))}, "");
    d.add("Add", {scaled, d.constant("shift", std::move(t))}, "shift", {}, out);
    replacements[n] = d.take();
    changed = true;
  }
  if (changed) splice(graph, replacements);
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"decompose_batch_normalization", 31, decompose_batch_normalization,
                           device_bit(DeviceType::kCUDA)});

}  // namespace kestrel::passes
