#include "backend/cpu/fast/conv_params.h"

#include "backend/cpu/fast/kernel.h"
#include "ir/shape_utils.h"

#include <algorithm>
#include <limits>

namespace kestrel::cpu::fast {

std::optional<ConvParams> read_conv_params(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() < 2 || node.outputs.empty()) return std::nullopt;
  const Shape& x = graph.values[size_t(node.inputs[0])].shape;
  const Shape& w = graph.values[size_t(node.inputs[1])].shape;
  const Shape& y = graph.values[size_t(node.outputs[0])].shape;
  if (x.size() != 4 || w.size() != 4 || y.size() != 4) return std::nullopt;
  const ir::Attributes& attrs = node.attrs;
  ConvParams p;
  p.group = attrs.get_int("group", 1);
  p.kernel = {w[2], w[3]};
  p.strides = attrs.get_ints("strides", {1, 1});
  p.dilations = attrs.get_ints("dilations", {1, 1});
  std::vector<int64_t> pads = attrs.get_ints("pads", {0, 0, 0, 0});
  if (p.strides.empty()) p.strides = {1, 1};
  if (p.dilations.empty()) p.dilations = {1, 1};
  if (pads.empty()) pads = {0, 0, 0, 0};
  if (p.strides.size() != 2 || p.dilations.size() != 2 || pads.size() != 4) return std::nullopt;
  const std::string auto_pad = attrs.get_string("auto_pad", "NOTSET");
  for (size_t i = 0; i < 2; ++i) {
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t k_eff = (p.kernel[i] - 1) * p.dilations[i] + 1;
      const int64_t total = std::max<int64_t>(0, (y[i + 2] - 1) * p.strides[i] + k_eff - x[i + 2]);
      const int64_t begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      p.pad_begin.push_back(begin);
      p.pad_end.push_back(total - begin);
    } else if (auto_pad == "VALID") {
      p.pad_begin.push_back(0);
      p.pad_end.push_back(0);
    } else {
      p.pad_begin.push_back(pads[i]);
      p.pad_end.push_back(pads[i + 2]);
    }
  }
  if (p.group < 1 || x[1] != w[1] * p.group || w[0] % p.group != 0 || y[1] != w[0]) return std::nullopt;
  // The padding must yield exactly the inferred output size (oneDNN checks the same formula).
  for (size_t i = 0; i < 2; ++i) {
    const int64_t k_eff = (p.kernel[i] - 1) * p.dilations[i] + 1;
    const int64_t padded = x[i + 2] + p.pad_begin[i] + p.pad_end[i];
    if (padded < k_eff || (padded - k_eff) / p.strides[i] + 1 != y[i + 2]) return std::nullopt;
  }
  if (node.domain == "kestrel") {
    p.activation = attrs.get_string("activation", "");
    p.activation_min = attrs.get_float("activation_min", -std::numeric_limits<float>::infinity());
    p.activation_max = attrs.get_float("activation_max", std::numeric_limits<float>::infinity());
  }
  return p;
}

namespace {

bool all_equal(const std::vector<int64_t>& values, int64_t expected) {
  for (int64_t v : values)
    if (v != expected) return false;
  return true;
}

}  // namespace

bool plain_pointwise_conv(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() < 2 || node.outputs.size() != 1) return false;
  const int x = node.inputs[0], w = node.inputs[1];
  if (!is_float(graph, x) || !is_float(graph, w) || !is_constant(graph, w)) return false;
  const Shape& xs = value_of(graph, x).shape;
  const Shape& ws = value_of(graph, w).shape;
  if (xs.size() != 4 || ws.size() != 4 || ws[2] != 1 || ws[3] != 1 || shape_numel(xs) == 0) return false;
  if (node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue &&
      (!is_float(graph, node.inputs[2]) || !is_constant(graph, node.inputs[2])))
    return false;
  if (node.inputs.size() > 3 && node.inputs[3] != ir::kNoValue && !is_float(graph, node.inputs[3])) return false;
  const std::optional<ConvParams> p = read_conv_params(graph, node);
  if (!p || p->group != 1 || !all_equal(p->strides, 1) || !all_equal(p->pad_begin, 0) || !all_equal(p->pad_end, 0))
    return false;
  return p->activation.empty() || p->activation == "Relu" || p->activation == "Clip";
}


}  // namespace kestrel::cpu::fast
