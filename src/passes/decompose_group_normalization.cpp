// GroupNormalization (opsets 18 and 21) with constant scale and bias on CUDA as the norm it has a
// kernel for: X [N, C, ..] seen as [N, G, C / G x spatial] is normalised per (image, group) by
// InstanceNormalization (unit scale, zero bias, the same epsilon), reshaped back and scaled and
// shifted per channel (opset 18's per-group values repeated over their channels). The CUDA
// lowering folds the Reshape, Mul and Add into the norm's per-channel affine: one launch. CUDA
// only (the CPU has its own kestrel.GroupNorm, lower_group_normalization.cpp).
#include "ir/shape_utils.h"
#include "passes/decompose_for_cuda.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

// One value per channel, shaped [C, 1, ..] to broadcast along axis 1 of a rank-`rank` value.
Tensor per_channel(const Tensor& values, int64_t channels, size_t rank) {
  Shape shape(rank - 1, 1);
  shape[0] = channels;
  Tensor out(DataType::kFLOAT, shape);
  const int64_t per_value = channels / values.numel();
  for (int64_t c = 0; c < channels; ++c) out.data<float>()[c] = values.data<float>()[c / per_value];
  return out;
}

bool decompose_group_normalization(ir::Graph& graph) {
  std::vector<std::vector<ir::Node>> replacements(graph.nodes.size());
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& norm = graph.nodes[n];
    if (!norm.domain.empty() || norm.op_type != "GroupNormalization" || norm.inputs.size() != 3 ||
        norm.outputs.size() != 1)
      continue;
    const ir::Value& scale = graph.values[size_t(norm.inputs[1])];
    const ir::Value& bias = graph.values[size_t(norm.inputs[2])];
    if (!scale.constant || !bias.constant || scale.dtype != DataType::kFLOAT || bias.dtype != DataType::kFLOAT) continue;
    const Shape x_shape = graph.values[size_t(norm.inputs[0])].shape;  // a copy: values grow below
    if (x_shape.size() < 2 || graph.values[size_t(norm.inputs[0])].dtype != DataType::kFLOAT) continue;
    const int64_t groups = norm.attrs.get_int("num_groups", 0), channels = x_shape[1];
    if (groups < 1 || channels % groups != 0 || channels % scale.constant->numel() != 0 ||
        channels % bias.constant->numel() != 0)
      continue;  // shape inference names the error
    const int64_t batch = x_shape[0], per_group = shape_numel(x_shape) / std::max<int64_t>(1, batch * groups);
    const Tensor scale_c = per_channel(*scale.constant, channels, x_shape.size());
    const Tensor bias_c = per_channel(*bias.constant, channels, x_shape.size());
    ir::Attributes eps;
    eps.set("epsilon", norm.attrs.get_float("epsilon", 1e-5f));
    const int out = norm.outputs[0];
    Decomposition d(graph, norm);
    const int grouped = d.add("Reshape", {norm.inputs[0], d.constant("groups_shape", int64_tensor({batch, groups, per_group}))},
                              "groups");
    const int normalised = d.add("InstanceNormalization",
                                 {grouped, d.constant("unit_scale", filled_floats(groups, 1.f)),
                                  d.constant("zero_bias", filled_floats(groups, 0.f))},
                                 "", eps);
    const int back = d.add("Reshape", {normalised, d.constant("shape", int64_tensor(x_shape))}, "ungroups");
    const int scaled = d.add("Mul", {back, d.constant("channel_scale", scale_c)}, "scale");
    d.add("Add", {scaled, d.constant("channel_bias", bias_c)}, "bias", {}, out);
    replacements[n] = d.take();
    changed = true;
  }
  if (changed) splice(graph, replacements);
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"decompose_group_normalization", 26, decompose_group_normalization,
                           device_bit(DeviceType::kCUDA)});

}  // namespace kestrel::passes
