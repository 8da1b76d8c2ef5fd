// Resize, opsets 11 to 21 (inputs X, roi, scales, sizes; opset 10's two-input form is not
// supported). Of opset 18's attributes only the defaults are supported: antialias=0, no axes,
// keep_aspect_ratio_policy=stretch; other values are refused, not ignored.
//
// Exactly one of `scales` (float, one per dim of X) and `sizes` (int64, one per dim) must be
// given and non-empty (opset 11 graphs pass an empty tensor for the unused one); it must be a
// constant. With sizes the output shape is `sizes`; with scales it is floor(in * scale) per dim
// (the roi does not enter, as in onnxruntime and ONNX's own shape inference). `roi` is read only
// for coordinate_transformation_mode=tf_crop_and_resize, where it must be a constant of 2*rank
// values (all starts, then all ends, normalised to [0, 1]).
//
// Modes: nearest (round_prefer_floor, round_prefer_ceil, floor, ceil), linear (N-linear) and
// cubic (cubic_coeff_a, exclude_outside). Coordinate transformations: half_pixel,
// half_pixel_symmetric (opset 19), pytorch_half_pixel, align_corners, asymmetric,
// tf_half_pixel_for_nn, tf_crop_and_resize (extrapolation_value). The formulas live with the
// kernel (src/backend/cpu/reference/resize.cpp).
// Dtypes: float32 for every mode; nearest also moves int8, uint8, int32 and int64.
#include <cmath>
#include <initializer_list>
#include <string>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

bool is_one_of(const std::string& value, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed)
    if (value == a) return true;
  return false;
}

void check_resize_attributes(const InferContext& ctx) {
  const Attributes& attrs = ctx.attrs();
  KESTREL_CHECK(attrs.get_int("antialias", 0) == 0,
                "attribute 'antialias' = {} is not supported (only 0: no antialiasing filter)",
                attrs.get_int("antialias", 0));
  KESTREL_CHECK(!attrs.has("axes"), "attribute 'axes' {} is not supported (scales, sizes and roi must cover every dim)",
                attrs.get_ints("axes", {}));
  const std::string policy = attrs.get_string("keep_aspect_ratio_policy", "stretch");
  KESTREL_CHECK(policy == "stretch", "attribute 'keep_aspect_ratio_policy' = '{}' is not supported (only 'stretch')",
                policy);
  const std::string mode = attrs.get_string("mode", "nearest");
  KESTREL_CHECK(is_one_of(mode, {"nearest", "linear", "cubic"}), "unknown mode '{}'", mode);
  const std::string nearest_mode = attrs.get_string("nearest_mode", "round_prefer_floor");
  KESTREL_CHECK(is_one_of(nearest_mode, {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}),
                "unknown nearest_mode '{}'", nearest_mode);
  const std::string transform = attrs.get_string("coordinate_transformation_mode", "half_pixel");
  KESTREL_CHECK(is_one_of(transform, {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                                      "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"}),
                "unsupported coordinate_transformation_mode '{}'", transform);
  KESTREL_CHECK(transform != "half_pixel_symmetric" || ctx.opset() >= 19,
                "coordinate_transformation_mode 'half_pixel_symmetric' exists only from opset 19 (opset {})",
                ctx.opset());
  const DataType dtype = ctx.input_dtype(0);
  KESTREL_CHECK(dtype == DataType::kFLOAT || (mode == "nearest" && dtype_is_integer(dtype)),
                "mode '{}' does not support {} inputs", mode, dtype_name(dtype));
}

void infer_resize(InferContext& ctx) {
  KESTREL_CHECK(ctx.opset() >= 11, "Resize before opset 11 is not supported (opset {})", ctx.opset());
  check_resize_attributes(ctx);
  const Shape& x = ctx.input_shape(0);
  const size_t rank = x.size();
  auto given = [&](size_t i) { return ctx.has_input(i) && shape_numel(ctx.input_shape(i)) > 0; };
  KESTREL_CHECK(given(2) != given(3), "exactly one of scales and sizes must be given (non-empty), got {}",
                given(2) ? "both" : "neither");

  Shape out;
  if (given(3)) {
    out = to_int_vector(ctx.require_constant(3, "sizes"));
    KESTREL_CHECK(out.size() == rank, "sizes has {} values for an input of rank {}", out.size(), rank);
    for (int64_t d : out) KESTREL_CHECK(d >= 0, "sizes must be >= 0, got {}", shape_str(out));
  } else {
    const Tensor& scales = ctx.require_constant(2, "scales");
    KESTREL_CHECK(scales.dtype() == DataType::kFLOAT, "scales must be float32, got {}", dtype_name(scales.dtype()));
    KESTREL_CHECK(scales.numel() == int64_t(rank), "scales has {} values for an input of rank {}", scales.numel(),
                  rank);
    for (size_t i = 0; i < rank; ++i) {
      const double scale = scales.data<float>()[i];
      KESTREL_CHECK(scale > 0, "scales must be > 0, got {} for dim {}", scale, i);
      out.push_back(int64_t(std::floor(scale * double(x[i]))));
    }
  }

  if (ctx.attrs().get_string("coordinate_transformation_mode", "half_pixel") == "tf_crop_and_resize") {
    KESTREL_CHECK(ctx.has_input(1), "tf_crop_and_resize needs the roi input");
    const Tensor& roi = ctx.require_constant(1, "roi");
    KESTREL_CHECK(roi.numel() == int64_t(2 * rank), "roi has {} values, expected {} (starts and ends per dim)",
                  roi.numel(), 2 * rank);
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"Resize", 1, 4, 1, 1, infer_resize});

}  // namespace kestrel::ir
