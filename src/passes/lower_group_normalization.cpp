// ONNX GroupNormalization with constant scale and bias becomes kestrel.GroupNorm, the op the
// decomposed torch.nn.GroupNorm already fuses into, so that both reach the CPU's fast kernel.
// kestrel.GroupNorm takes scale and bias per channel, as opset 21 does; opset 18's per-group
// values are repeated over the channels of their group. CPU only (a Kestrel-internal op).
#include "ir/op_registry.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

bool is_constant_float(const ir::Graph& graph, int value) {
  if (value == ir::kNoValue) return false;
  const ir::Value& v = graph.values[size_t(value)];
  return v.constant.has_value() && v.dtype == DataType::kFLOAT;
}

// One value per channel: per-channel values as they are, per-group ones repeated.
Tensor per_channel(const Tensor& values, int64_t channels) {
  Tensor out(DataType::kFLOAT, {channels});
  const int64_t channels_per_value = channels / values.numel();
  for (int64_t c = 0; c < channels; ++c) out.data<float>()[c] = values.data<float>()[c / channels_per_value];
  return out;
}

bool lower_group_normalization(ir::Graph& graph) {
  bool changed = false;
  for (ir::Node& node : graph.nodes) {
    if (!node.domain.empty() || node.op_type != "GroupNormalization" || node.inputs.size() != 3) continue;
    if (!is_constant_float(graph, node.inputs[1]) || !is_constant_float(graph, node.inputs[2])) continue;
    const int64_t channels = graph.values[size_t(node.inputs[0])].shape[1];
    for (size_t i = 1; i <= 2; ++i) {
      Tensor values = per_channel(*graph.values[size_t(node.inputs[i])].constant, channels);
      const std::string name = graph.unique_name(node.name + (i == 1 ? "_scale_per_channel" : "_bias_per_channel"));
      node.inputs[i] = graph.add_constant(name, std::move(values));
    }
    node.fused_from = {node.name};
    node.op_type = "GroupNorm";
    node.domain = ir::kKestrelDomain;
    node.opset = 1;
    node.attrs.erase("stash_type");  // the schema accepted only float32 statistics, kestrel.GroupNorm's
    changed = true;
  }
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"lower_group_normalization", 43, lower_group_normalization,
                           device_bit(DeviceType::kCPU)});

}  // namespace kestrel::passes
