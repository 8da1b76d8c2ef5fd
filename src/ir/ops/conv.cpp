// Conv and ConvTranspose over any number of spatial dimensions (float32).
//
// Layouts (ONNX): X is [N, C, D1..Dn]. Conv's weight is [M, C/group, k1..kn] and its output
// [N, M, O1..On]; ConvTranspose's weight is [C, M/group, k1..kn] and its output [N, M, O1..On].
// The optional bias B is [M]. With dilation d a kernel of k taps spans (k-1)*d+1 elements.
//
// Conv output size per spatial dim (in, k_eff = (k-1)*d+1, stride s):
//   NOTSET:     floor((in + pad_begin + pad_end - k_eff) / s) + 1
//   SAME_*:     ceil(in / s); total padding max(0, (out-1)*s + k_eff - in), the odd element at the
//               end for SAME_UPPER and at the beginning for SAME_LOWER
//   VALID:      floor((in - k_eff) / s) + 1, no padding
// ConvTranspose output size (output_padding op):
//   s*(in-1) + op + k_eff - pad_begin - pad_end; with auto_pad SAME_* it is in*s and with an
//   `output_shape` attribute it is that shape, the padding then following from the equation
//   (SAME_UPPER puts the odd element at the end, anything else at the beginning, as the spec says;
//   halves round down, so a negative total, an output_shape beyond the natural size, extends the end).
// `pads` is ignored when auto_pad is not NOTSET (exporters often write zeros there).
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

// A per-spatial-dim attribute, or `fill` everywhere when absent or empty.
std::vector<int64_t> spatial_ints(const Attributes& attrs, const char* name, size_t count, int64_t fill) {
  std::vector<int64_t> values = attrs.get_ints(name, {});
  if (values.empty()) return std::vector<int64_t>(count, fill);
  KESTREL_CHECK(values.size() == count, "attribute '{}' has {} values, expected {} (one per spatial dimension)",
                name, values.size(), count);
  return values;
}

// What Conv and ConvTranspose share: the spatial attributes, checked against the weight.
struct SpatialAttributes {
  std::vector<int64_t> kernel, strides, dilations, pads;  // pads: all begins, then all ends
  std::string auto_pad;
  int64_t group = 1;
};

SpatialAttributes read_spatial_attributes(const InferContext& ctx, size_t spatial_rank) {
  const Attributes& attrs = ctx.attrs();
  SpatialAttributes a;
  const Shape& w_shape = ctx.input_shape(1);
  a.kernel.assign(w_shape.begin() + 2, w_shape.end());
  if (attrs.has("kernel_shape"))
    KESTREL_CHECK(attrs.get_ints("kernel_shape") == a.kernel, "kernel_shape {} disagrees with the weight shape {}",
                  shape_str(attrs.get_ints("kernel_shape")), shape_str(w_shape));
  a.strides = spatial_ints(attrs, "strides", spatial_rank, 1);
  a.dilations = spatial_ints(attrs, "dilations", spatial_rank, 1);
  a.pads = spatial_ints(attrs, "pads", 2 * spatial_rank, 0);
  a.auto_pad = attrs.get_string("auto_pad", "NOTSET");
  a.group = attrs.get_int("group", 1);
  KESTREL_CHECK(a.auto_pad == "NOTSET" || a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER" ||
                    a.auto_pad == "VALID",
                "unknown auto_pad '{}'", a.auto_pad);
  KESTREL_CHECK(a.group >= 1, "group must be >= 1, got {}", a.group);
  for (size_t i = 0; i < spatial_rank; ++i) {
    KESTREL_CHECK(a.kernel[i] >= 1, "kernel dimensions must be >= 1, got {}", shape_str(a.kernel));
    KESTREL_CHECK(a.strides[i] >= 1, "strides must be >= 1, got {}", shape_str(a.strides));
    KESTREL_CHECK(a.dilations[i] >= 1, "dilations must be >= 1, got {}", shape_str(a.dilations));
  }
  if (a.auto_pad != "NOTSET") a.pads.assign(2 * spatial_rank, 0);
  for (int64_t p : a.pads) KESTREL_CHECK(p >= 0, "pads must be >= 0, got {}", shape_str(a.pads));
  return a;
}

// Checks X, W and the optional bias; returns the spatial rank.
size_t check_conv_inputs(const InferContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i))
      KESTREL_CHECK(ctx.input_dtype(i) == DataType::kFLOAT, "supports float32 only, input {} is {}", i,
                    dtype_name(ctx.input_dtype(i)));
  const Shape& x = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  KESTREL_CHECK(x.size() >= 3, "X must be [N, C, spatial...] with at least one spatial dim, got {}", shape_str(x));
  KESTREL_CHECK(w.size() == x.size(), "weight {} must have the rank of X {}", shape_str(w), shape_str(x));
  return x.size() - 2;
}

void check_bias(const InferContext& ctx, int64_t out_channels) {
  if (!ctx.has_input(2)) return;
  KESTREL_CHECK(ctx.input_shape(2) == Shape{out_channels}, "bias must be [{}], got {}", out_channels,
                shape_str(ctx.input_shape(2)));
}

void infer_conv(InferContext& ctx) {
  const size_t spatial = check_conv_inputs(ctx);
  const Shape& x = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  const SpatialAttributes a = read_spatial_attributes(ctx, spatial);
  KESTREL_CHECK(w[1] * a.group == x[1], "weight {} with group {} expects {} input channels, X {} has {}", shape_str(w),
                a.group, w[1] * a.group, shape_str(x), x[1]);
  KESTREL_CHECK(w[0] % a.group == 0, "output channels {} are not divisible by group {}", w[0], a.group);
  check_bias(ctx, w[0]);

  Shape out{x[0], w[0]};
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t in = x[i + 2], s = a.strides[i];
    const int64_t k_eff = (a.kernel[i] - 1) * a.dilations[i] + 1;
    if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      out.push_back((in + s - 1) / s);
    } else {
      const int64_t padded = in + a.pads[i] + a.pads[i + spatial];
      KESTREL_CHECK(padded >= k_eff, "spatial dim {} ({} with padding) is smaller than the dilated kernel ({})", i,
                    padded, k_eff);
      out.push_back((padded - k_eff) / s + 1);
    }
  }
  ctx.set_output(0, DataType::kFLOAT, out);
}

void infer_conv_transpose(InferContext& ctx) {
  const size_t spatial = check_conv_inputs(ctx);
  const Shape& x = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  const SpatialAttributes a = read_spatial_attributes(ctx, spatial);
  KESTREL_CHECK(w[0] == x[1], "weight {} expects {} input channels, X {} has {}", shape_str(w), w[0], shape_str(x),
                x[1]);
  KESTREL_CHECK(x[1] % a.group == 0, "input channels {} are not divisible by group {}", x[1], a.group);
  const int64_t out_channels = w[1] * a.group;
  check_bias(ctx, out_channels);

  const std::vector<int64_t> output_padding = spatial_ints(ctx.attrs(), "output_padding", spatial, 0);
  std::vector<int64_t> output_shape = ctx.attrs().get_ints("output_shape", {});
  // output_shape may list only the spatial dims or the whole output shape.
  if (output_shape.size() == spatial + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
  KESTREL_CHECK(output_shape.empty() || output_shape.size() == spatial,
                "output_shape {} must have one value per spatial dimension ({})", shape_str(output_shape), spatial);

  Shape out{x[0], out_channels};
  for (size_t i = 0; i < spatial; ++i) {
    const int64_t in = x[i + 2], s = a.strides[i];
    KESTREL_CHECK(output_padding[i] >= 0 && (output_padding[i] < s || output_padding[i] < a.dilations[i]),
                  "output_padding {} must be >= 0 and smaller than the stride or the dilation",
                  shape_str(output_padding));
    const int64_t k_eff = (a.kernel[i] - 1) * a.dilations[i] + 1;
    const int64_t full = s * (in - 1) + output_padding[i] + k_eff;
    int64_t size = 0;
    if (!output_shape.empty())
      size = output_shape[i];
    else if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER")
      size = in * s;
    else
      size = full - a.pads[i] - a.pads[i + spatial];
    KESTREL_CHECK(size >= 1, "spatial dim {} of the output would be {}", i, size);
    out.push_back(size);
  }
  ctx.set_output(0, DataType::kFLOAT, out);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"Conv", 2, 3, 1, 1, infer_conv});
KESTREL_REGISTER_OP(OpSchema{"ConvTranspose", 2, 3, 1, 1, infer_conv_transpose});

}  // namespace kestrel::ir
