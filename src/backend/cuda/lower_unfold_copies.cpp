// The patch-unfold lowering (lowering.h): a convolution whose filters each hold a single 1 is a
// pixel gather, not arithmetic. MobileViT exports F.unfold this way (a grouped convolution with
// one-hot kernels, output channel c * kh * kw + t = tap t of channel c), and the direct kernel
// would multiply by zeros; as a kestrel.StridedCopy it is a copy that the copy-chain lowering can
// merge with its neighbours.
#include "backend/cuda/copy_maps.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/lowering.h"
#include "ir/op_registry.h"

namespace kestrel::cuda {
namespace {

bool all_zero(const std::vector<int64_t>& values) {
  for (int64_t v : values)
    if (v != 0) return false;
  return true;
}

// The element map of `conv` when it is the unfold pattern: output [N, C * kh * kw, OH, OW] seen
// as [N, C, kh, kw, OH, OW], element (n, c, ky, kx, oy, ox) = X[n, c, oy * sh + ky * dh,
// ox * sw + kx * dw]. Needs no padding (a tap in the padding would be a zero, not a copy).
std::optional<CopyMap> unfold_map(const ir::Graph& graph, const ir::Node& conv) {
  if (!conv.domain.empty() || conv.op_type != "Conv" || conv.outputs.size() != 1 || has_input(conv, 3)) return std::nullopt;
  if (!conv.attrs.get_string(kAttrActivation, "").empty()) return std::nullopt;
  const ir::Value& x = graph.values[size_t(conv.inputs[0])];
  const ir::Value& w = graph.values[size_t(conv.inputs[1])];
  const ir::Value& y = graph.values[size_t(conv.outputs[0])];
  if (x.shape.size() != 4 || y.shape.size() != 4 || w.shape.size() != 4 || !w.constant || w.dtype != DataType::kFLOAT)
    return std::nullopt;
  if (has_input(conv, 2)) {
    const ir::Value& b = graph.values[size_t(conv.inputs[2])];
    if (!b.constant || b.dtype != DataType::kFLOAT) return std::nullopt;
    for (int64_t i = 0; i < b.constant->numel(); ++i)
      if (b.constant->data<float>()[i] != 0.f) return std::nullopt;
  }
  const std::string auto_pad = conv.attrs.get_string("auto_pad", "NOTSET");
  if ((auto_pad != "NOTSET" && auto_pad != "VALID") || !all_zero(conv.attrs.get_ints("pads", {0, 0, 0, 0})))
    return std::nullopt;
  const Tensor& weights = *w.constant;
  const int64_t m = weights.dim(0), per_group_in = weights.dim(1), kh = weights.dim(2), kw = weights.dim(3);
  const int64_t channels = x.shape[1], groups = conv.attrs.get_int("group", 1), taps = kh * kw;
  if (m != channels * taps || y.shape[1] != m || groups <= 0 || m % groups != 0 || per_group_in * groups != channels)
    return std::nullopt;
  // Output channel o must read input channel o / taps at tap o % taps, with weight exactly 1.
  const float* data = weights.data<float>();
  const int64_t per_group_out = m / groups;
  for (int64_t o = 0; o < m; ++o) {
    const int64_t want_channel = o / taps, want_tap = o % taps;
    const int64_t group = o / per_group_out;
    for (int64_t i = 0; i < per_group_in * taps; ++i) {
      const float v = data[o * per_group_in * taps + i];
      const bool at_tap = group * per_group_in + i / taps == want_channel && i % taps == want_tap;
      if (v != (at_tap ? 1.f : 0.f)) return std::nullopt;
    }
  }
  const std::vector<int64_t> strides = conv.attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> dilations = conv.attrs.get_ints("dilations", {1, 1});
  if (strides.size() != 2 || dilations.size() != 2) return std::nullopt;
  const int64_t h = x.shape[2], wd = x.shape[3];
  CopyMap map;
  map.dims = {x.shape[0], channels, kh, kw, y.shape[2], y.shape[3]};
  map.in_strides = {channels * h * wd, h * wd, dilations[0] * wd, dilations[1], strides[0] * wd, strides[1]};
  return map;
}

}  // namespace

int lower_unfold_copies(ir::Graph& graph) {
  int lowered = 0;
  for (ir::Node& node : graph.nodes) {
    const std::optional<CopyMap> map = unfold_map(graph, node);
    if (!map) continue;
    ir::Node copy;
    copy.name = node.name;
    copy.op_type = "StridedCopy";
    copy.domain = ir::kKestrelDomain;
    copy.opset = 1;
    copy.precision = node.precision;
    copy.inputs = {node.inputs[0]};
    copy.outputs = node.outputs;
    copy.attrs.set(kAttrCopyDims, map->dims);
    copy.attrs.set(kAttrCopyStrides, map->in_strides);
    copy.attrs.set(kAttrCopyBase, map->base);
    copy.fused_from = {node.name};
    node = std::move(copy);
    ++lowered;
  }
  return lowered;
}

}  // namespace kestrel::cuda
