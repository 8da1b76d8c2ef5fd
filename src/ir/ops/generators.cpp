// Schemas of the ops that generate values rather than read them (ConstantOfShape, Range,
// EyeLike) and of CumSum.
#include <cmath>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

void infer_constant_of_shape(InferContext& ctx) {
  const std::vector<int64_t> shape = to_int_vector(ctx.require_constant(0, "output shape"));
  for (int64_t d : shape) KESTREL_CHECK(d >= 0, "shape {} has a negative dimension", shape);
  DataType dtype = DataType::kFLOAT;
  if (ctx.attrs().has("value")) {
    const Tensor& value = ctx.attrs().get_tensor("value");
    KESTREL_CHECK(value.numel() == 1, "attribute 'value' must hold one element, got shape {}",
                  shape_str(value.shape()));
    dtype = value.dtype();
  }
  ctx.set_output(0, dtype, Shape(shape.begin(), shape.end()));
}

// Number of elements of Range(start, limit, delta): ceil((limit - start) / delta), at least 0.
int64_t range_length(const Tensor& start, const Tensor& limit, const Tensor& delta) {
  if (start.dtype() == DataType::kFLOAT) {
    const double s = start.double_at(0), l = limit.double_at(0), d = delta.double_at(0);
    KESTREL_CHECK(d != 0.0, "delta must not be 0");
    const double n = std::ceil((l - s) / d);
    KESTREL_CHECK(std::isfinite(n) && n < 9.0e15, "Range({}, {}, {}) has no reasonable length", s, l, d);
    return n > 0 ? int64_t(n) : 0;
  }
  // Integers: exact arithmetic, no rounding through double.
  const int64_t s = start.int_at(0), l = limit.int_at(0), d = delta.int_at(0);
  KESTREL_CHECK(d != 0, "delta must not be 0");
  if (d > 0) return l > s ? (l - s - 1) / d + 1 : 0;
  return s > l ? (s - l - 1) / -d + 1 : 0;
}

void infer_range(InferContext& ctx) {
  const DataType dtype = ctx.input_dtype(0);
  KESTREL_CHECK(dtype == DataType::kFLOAT || dtype == DataType::kINT32 || dtype == DataType::kINT64,
                "supports float32, int32 and int64, got {}", dtype_name(dtype));
  const char* names[] = {"start", "limit", "delta"};
  for (size_t i = 0; i < 3; ++i) {
    KESTREL_CHECK(ctx.input_dtype(i) == dtype, "{} is {} but start is {}", names[i], dtype_name(ctx.input_dtype(i)),
                  dtype_name(dtype));
    KESTREL_CHECK(shape_numel(ctx.input_shape(i)) == 1, "{} must be a scalar, got shape {}", names[i],
                  shape_str(ctx.input_shape(i)));
  }
  // The output length depends on the values, so they must be known when the engine is built.
  const int64_t n = range_length(ctx.require_constant(0, "start"), ctx.require_constant(1, "limit"),
                                 ctx.require_constant(2, "delta"));
  ctx.set_output(0, dtype, {n});
}

void infer_eye_like(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  KESTREL_CHECK(in.size() == 2, "expects a 2-D input, got shape {}", shape_str(in));
  const DataType dtype =
      ctx.attrs().has("dtype") ? dtype_from_onnx_code(ctx.attrs().get_int("dtype")) : ctx.input_dtype(0);
  ctx.set_output(0, dtype, in);
}

void infer_cum_sum(InferContext& ctx) {
  const DataType dtype = ctx.input_dtype(0);
  KESTREL_CHECK(dtype == DataType::kFLOAT || dtype_is_integer(dtype), "supports float32 and integers, got {}",
                dtype_name(dtype));
  const DataType axis_dtype = ctx.input_dtype(1);
  KESTREL_CHECK(axis_dtype == DataType::kINT64 || axis_dtype == DataType::kINT32, "axis must be int64 or int32, got {}",
                dtype_name(axis_dtype));
  KESTREL_CHECK(shape_numel(ctx.input_shape(1)) == 1 && ctx.input_shape(1).size() <= 1,
                "axis must be a scalar, got shape {}", shape_str(ctx.input_shape(1)));
  // The axis does not change the shape; check it now when it is already known.
  if (const Tensor* axis = ctx.constant(1)) normalize_axis(axis->int_at(0), int(ctx.input_shape(0).size()));
  ctx.set_output(0, dtype, ctx.input_shape(0));
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"ConstantOfShape", 1, 1, 1, 1, infer_constant_of_shape});
KESTREL_REGISTER_OP(OpSchema{"Range", 3, 3, 1, 1, infer_range});
KESTREL_REGISTER_OP(OpSchema{"EyeLike", 1, 1, 1, 1, infer_eye_like});
KESTREL_REGISTER_OP(OpSchema{"CumSum", 2, 2, 1, 1, infer_cum_sum});

}  // namespace kestrel::ir
