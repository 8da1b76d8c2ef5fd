// kestrel.QMatMul: a quantized MatMul with a constant weight, the fusion of the QDQ chain
// DQ(X) , DQ(W) -> MatMul [-> Q] (docs/int8.md) that the INT8 kernels run on integers.
//
// kestrel.QMatMul(X, W, w_scale) -> Y
//   X        int8 or uint8 [..., M, K] (rank 2 to 4), zero point 0, one scale: attribute x_scale
//   W        int8 constant [K, N], zero point 0
//   w_scale  float32 constant, [N] (per output column) or one value
//   F = MatMul(X * x_scale, W * w_scale); Y = F (float32 [..., M, N]) without y_scale, else
//   QuantizeLinear(F, y_scale, 0) as int8 (uint8 with y_uint8 = 1). An integer kernel differs
//   from this only by float rounding (at most one step of y_scale).
#include "core/error.h"
#include "ir/op_registry.h"

namespace kestrel::ir {
namespace {

void infer_qmatmul(InferContext& ctx) {
  const DataType x = ctx.input_dtype(0);
  KESTREL_CHECK(x == DataType::kINT8 || x == DataType::kUINT8, "X must be int8 or uint8, got {}", dtype_name(x));
  KESTREL_CHECK(ctx.input_dtype(1) == DataType::kINT8, "W must be int8, got {}", dtype_name(ctx.input_dtype(1)));
  KESTREL_CHECK(ctx.input_dtype(2) == DataType::kFLOAT, "w_scale must be float32");
  const Shape& xs = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  KESTREL_CHECK(xs.size() >= 2 && xs.size() <= 4, "X must have rank 2 to 4, got {}", shape_str(xs));
  KESTREL_CHECK(w.size() == 2 && w[0] == xs.back(), "W must be [{}, N], got {}", xs.back(), shape_str(w));
  const int64_t n_scales = shape_numel(ctx.input_shape(2));
  KESTREL_CHECK(n_scales == 1 || n_scales == w[1], "w_scale has {} values for {} columns", n_scales, w[1]);
  const float x_scale = ctx.attrs().get_float("x_scale", 0.0f);
  KESTREL_CHECK(x_scale > 0, "x_scale must be positive, got {}", x_scale);
  const float y_scale = ctx.attrs().get_float("y_scale", 0.0f);
  KESTREL_CHECK(y_scale >= 0, "y_scale must be positive or absent, got {}", y_scale);
  Shape out = xs;
  out.back() = w[1];
  const DataType y = y_scale == 0 ? DataType::kFLOAT
                                  : (ctx.attrs().get_int("y_uint8", 0) ? DataType::kUINT8 : DataType::kINT8);
  ctx.set_output(0, y, out);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"kestrel.QMatMul", 3, 3, 1, 1, infer_qmatmul});

}  // namespace kestrel::ir
