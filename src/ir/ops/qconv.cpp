// kestrel.QConv: one quantized convolution layer, the fusion of a QDQ chain (docs/int8.md,
// "The QDQ contract for backends") that the INT8 kernels run on integer data.
//
// kestrel.QConv(X, W, w_scale, B?, R?) -> Y
//   X        int8 or uint8, zero point 0, one scale: attribute x_scale
//   W        int8 constant [M, C/group, kH, kW], zero point 0
//   w_scale  float32 constant, [M] (per output channel) or one value
//   B        float32 [M] (optional)
//   R        float32 residual of Y's shape (optional)
//   With the Conv attributes and kestrel.FusedConv's activation, it is exactly
//     F = act(Conv(X * x_scale, W * w_scale, B) + R)
//   and Y = F (float32) when y_scale is absent, else Y = QuantizeLinear(F, y_scale, 0) as int8
//   (uint8 with y_uint8 = 1). A kernel may compute the convolution in integers and scale once:
//   it then differs from that definition only by float rounding (at most one step of y_scale).
#include "core/error.h"
#include "ir/op_registry.h"

namespace kestrel::ir {
namespace {

void infer_qconv(InferContext& ctx) {
  const DataType x = ctx.input_dtype(0);
  KESTREL_CHECK(x == DataType::kINT8 || x == DataType::kUINT8, "X must be int8 or uint8, got {}", dtype_name(x));
  KESTREL_CHECK(ctx.input_dtype(1) == DataType::kINT8, "W must be int8, got {}", dtype_name(ctx.input_dtype(1)));
  KESTREL_CHECK(ctx.input_dtype(2) == DataType::kFLOAT, "w_scale must be float32");
  const Shape& w = ctx.input_shape(1);
  KESTREL_CHECK(!w.empty(), "W must have a rank");
  const int64_t n_scales = shape_numel(ctx.input_shape(2));
  KESTREL_CHECK(n_scales == 1 || n_scales == w[0], "w_scale has {} values for {} output channels", n_scales, w[0]);
  for (size_t i = 3; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i))
      KESTREL_CHECK(ctx.input_dtype(i) == DataType::kFLOAT, "input {} must be float32, got {}", i,
                    dtype_name(ctx.input_dtype(i)));
  const float x_scale = ctx.attrs().get_float("x_scale", 0.0f);
  KESTREL_CHECK(x_scale > 0, "x_scale must be positive, got {}", x_scale);
  const float y_scale = ctx.attrs().get_float("y_scale", 0.0f);
  KESTREL_CHECK(y_scale >= 0, "y_scale must be positive or absent, got {}", y_scale);

  // Conv's own shape inference on shapes alone (the dtypes are checked above).
  const OpSchema* conv = find_op_schema("Conv");
  KESTREL_CHECK(conv != nullptr, "the Conv schema is not registered");
  Value x_f, w_f, b_f, out;
  x_f.dtype = w_f.dtype = b_f.dtype = DataType::kFLOAT;
  x_f.shape = ctx.input_shape(0);
  w_f.shape = w;
  std::vector<const Value*> conv_inputs{&x_f, &w_f};
  if (ctx.has_input(3)) {
    b_f.shape = ctx.input_shape(3);
    conv_inputs.push_back(&b_f);
  }
  InferContext conv_ctx(ctx.node(), std::move(conv_inputs), {&out});
  conv->infer(conv_ctx);
  if (ctx.has_input(4))
    KESTREL_CHECK(ctx.input_shape(4) == out.shape, "the residual R {} must have the output's shape {}",
                  shape_str(ctx.input_shape(4)), shape_str(out.shape));
  const std::string activation = ctx.attrs().get_string("activation", "");
  KESTREL_CHECK(activation.empty() || activation == "Relu" || activation == "Clip",
                "unknown activation '{}' (expected Relu or Clip)", activation);
  const DataType y = y_scale == 0 ? DataType::kFLOAT
                                  : (ctx.attrs().get_int("y_uint8", 0) ? DataType::kUINT8 : DataType::kINT8);
  ctx.set_output(0, y, out.shape);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"kestrel.QConv", 3, 5, 1, 1, infer_qconv});

}  // namespace kestrel::ir
