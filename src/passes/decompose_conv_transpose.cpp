// 2-D ConvTranspose with a constant weight on CUDA as the ops it has kernels for: the transposed
// convolution is the convolution of the input spread out by the stride (stride - 1 zeros between
// samples) and bordered, with the filters flipped and their in/out channels swapped per group:
//   Reshape [N, C, H, 1, W, 1] -> Pad (stride - 1 zeros after each sample) -> Reshape [N, C, H*s, W*s]
//   -> Pad (border: (k - 1) * d - pad_begin before, what the output size needs after; negative
//   values crop) -> Conv (stride 1, the same dilation and groups, flipped weights, the bias).
// The zeros cost stride^2 more multiply-adds than a direct kernel, but every step is a tested
// kernel. Pads follow the reference (src/backend/cpu/reference/conv.cpp): `pads`, or with
// output_shape / auto_pad SAME_* the begin half of the total. CUDA only.
#include <string>

#include "passes/decompose_for_cuda.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

int64_t floor_half(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

std::vector<int64_t> ints_or(const ir::Attributes& attrs, const char* name, size_t count, int64_t fill) {
  std::vector<int64_t> v = attrs.get_ints(name, {});
  return v.empty() ? std::vector<int64_t>(count, fill) : v;
}

// Flipped weights with in/out channels swapped per group: [C, M/g, kh, kw] -> [M, C/g, kh, kw].
Tensor conv_weights(const Tensor& w, int64_t group) {
  const int64_t c = w.dim(0), m_per_group = w.dim(1), kh = w.dim(2), kw = w.dim(3), c_per_group = c / group;
  Tensor out(DataType::kFLOAT, {m_per_group * group, c_per_group, kh, kw});
  for (int64_t g = 0; g < group; ++g)
    for (int64_t ci = 0; ci < c_per_group; ++ci)
      for (int64_t mo = 0; mo < m_per_group; ++mo)
        for (int64_t y = 0; y < kh; ++y)
          for (int64_t x = 0; x < kw; ++x)
            out.data<float>()[(((g * m_per_group + mo) * c_per_group + ci) * kh + y) * kw + x] =
                w.data<float>()[(((g * c_per_group + ci) * m_per_group + mo) * kh + (kh - 1 - y)) * kw + (kw - 1 - x)];
  return out;
}

// A Pad node's inputs and attributes at the node's opset (pads as an input from 11).
int add_pad(Decomposition& d, int input, const std::vector<int64_t>& pads, const std::string& tag, int opset,
            int output = ir::kNoValue) {
  ir::Attributes attrs;
  std::vector<int> inputs{input};
  if (opset >= 11)
    inputs.push_back(d.constant(tag + "_pads", int64_tensor(pads)));
  else
    attrs.set("pads", pads);
  return d.add("Pad", inputs, tag, attrs, output);
}

bool decompose_conv_transpose(ir::Graph& graph) {
  std::vector<std::vector<ir::Node>> replacements(graph.nodes.size());
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    if (!node.domain.empty() || node.op_type != "ConvTranspose" || node.inputs.size() < 2 || node.outputs.size() != 1)
      continue;
    const ir::Value& weight = graph.values[size_t(node.inputs[1])];
    if (!weight.constant || weight.dtype != DataType::kFLOAT || weight.shape.size() != 4) continue;
    // Copies: the decomposition adds values, which may move graph.values.
    const Shape x = graph.values[size_t(node.inputs[0])].shape, y = graph.values[size_t(node.outputs[0])].shape;
    const Shape w_shape = weight.shape;
    const Tensor flipped = conv_weights(*weight.constant, node.attrs.get_int("group", 1));
    if (x.size() != 4 || y.size() != 4) continue;
    const int64_t group = node.attrs.get_int("group", 1);
    const std::vector<int64_t> strides = ints_or(node.attrs, "strides", 2, 1);
    const std::vector<int64_t> dilations = ints_or(node.attrs, "dilations", 2, 1);
    const std::vector<int64_t> output_padding = ints_or(node.attrs, "output_padding", 2, 0);
    const std::string auto_pad = node.attrs.get_string("auto_pad", "NOTSET");
    std::vector<int64_t> pads = ints_or(node.attrs, "pads", 4, 0);
    if (auto_pad != "NOTSET") pads.assign(4, 0);
    const bool from_total = !node.attrs.get_ints("output_shape", {}).empty() || auto_pad == "SAME_UPPER" ||
                            auto_pad == "SAME_LOWER";
    int64_t before[2], after[2];
    for (int i = 0; i < 2; ++i) {
      const int64_t in = x[size_t(i) + 2], out = y[size_t(i) + 2], s = strides[size_t(i)];
      const int64_t k_eff = (w_shape[size_t(i) + 2] - 1) * dilations[size_t(i)] + 1;
      int64_t pad_begin = pads[size_t(i)];
      if (from_total) {
        const int64_t total = s * (in - 1) + output_padding[size_t(i)] + k_eff - out;
        pad_begin = auto_pad == "SAME_UPPER" ? floor_half(total) : total - floor_half(total);
      }
      const int64_t spread = s * (in - 1) + 1;
      before[i] = k_eff - 1 - pad_begin;
      after[i] = out + k_eff - 1 - spread - before[i];  // whatever makes the output `out` long
    }

    const int out_value = node.outputs[0];
    Decomposition d(graph, node);
    int value = node.inputs[0];
    const int64_t sh = strides[0], sw = strides[1];
    if (sh > 1 || sw > 1) {
      value = d.add("Reshape", {value, d.constant("samples_shape", int64_tensor({x[0], x[1], x[2], 1, x[3], 1}))}, "samples");
      value = add_pad(d, value, {0, 0, 0, 0, 0, 0, 0, 0, 0, sh - 1, 0, sw - 1}, "spread", node.opset);
      value = d.add("Reshape", {value, d.constant("spread_shape", int64_tensor({x[0], x[1], x[2] * sh, x[3] * sw}))},
                    "spread_image");
      after[0] -= sh - 1;  // the spread image ends with stride - 1 zeros past the last sample
      after[1] -= sw - 1;
    }
    if (before[0] || before[1] || after[0] || after[1])
      value = add_pad(d, value, {0, 0, before[0], before[1], 0, 0, after[0], after[1]}, "border", node.opset);
    ir::Attributes conv;
    conv.set("dilations", dilations);
    conv.set("group", group);
    conv.set("kernel_shape", std::vector<int64_t>{w_shape[2], w_shape[3]});
    std::vector<int> inputs{value, d.constant("weights", flipped)};
    if (node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue) inputs.push_back(node.inputs[2]);
    d.add("Conv", inputs, "", conv, out_value);
    replacements[n] = d.take();
    changed = true;
  }
  if (changed) splice(graph, replacements);
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"decompose_conv_transpose", 29, decompose_conv_transpose, device_bit(DeviceType::kCUDA)});

}  // namespace kestrel::passes
