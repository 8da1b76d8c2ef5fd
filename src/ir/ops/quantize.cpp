// QuantizeLinear and DequantizeLinear (opsets 10 to 21): the two ops of explicit (QDQ)
// quantization. Scale and zero point are per tensor (scalars) or, from opset 13, per axis (1-D
// of the axis' length). int8 and uint8 only: that is what post-training quantization produces;
// the zero point's type, or QuantizeLinear's output_dtype (opset 21), picks the quantized type
// (uint8 when neither is given). Opset 19's float8 types and saturate (float8 only), opset 21's
// int4/int16 types and blocked quantization (block_size > 0) are refused.
#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/ops/dtype_rules.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

// Checks scale and zero point against `data` (the float or quantized tensor) and the axis.
void check_quant_params(const InferContext& ctx, const Shape& data) {
  const Shape& scale = ctx.input_shape(1);
  KESTREL_CHECK(ctx.input_dtype(1) == DataType::kFLOAT, "the scale must be float32, got {}",
                dtype_name(ctx.input_dtype(1)));
  KESTREL_CHECK(ctx.attrs().get_int("block_size", 0) == 0,
                "attribute 'block_size' = {} is not supported (blocked quantization; only 0, per tensor or per axis)",
                ctx.attrs().get_int("block_size", 0));
  const bool scalar = scale.empty() || (scale.size() == 1 && scale[0] == 1);
  if (!scalar) {
    KESTREL_CHECK(ctx.opset() >= 13 && scale.size() == 1,
                  "the scale has shape {}; per-axis scales (1-D) need opset 13 or later, earlier opsets a scalar",
                  shape_str(scale));
    const int axis = normalize_axis(ctx.attrs().get_int("axis", 1), int(data.size()));
    KESTREL_CHECK(scale[0] == data[size_t(axis)], "{} per-axis scales for axis {} of length {}", scale[0], axis,
                  data[size_t(axis)]);
  }
  if (ctx.has_input(2)) {
    KESTREL_CHECK(ctx.input_shape(2) == scale || (shape_numel(ctx.input_shape(2)) == 1 && scalar),
                  "the zero point has shape {}, the scale {}", shape_str(ctx.input_shape(2)), shape_str(scale));
    static constexpr DataType kZeroPointTypes[] = {DataType::kINT8, DataType::kUINT8};
    require_dtype(ctx, 2, kZeroPointTypes);
  }
}

// The quantized type: output_dtype when set (opset 21; 0 means unset), else the zero point's,
// else uint8. Both given must agree.
DataType quantized_dtype(const InferContext& ctx) {
  const int64_t output_dtype = ctx.attrs().get_int("output_dtype", 0);
  if (output_dtype == 0) return ctx.has_input(2) ? ctx.input_dtype(2) : DataType::kUINT8;
  const DataType out = dtype_from_onnx_code(output_dtype);
  KESTREL_CHECK(out == DataType::kINT8 || out == DataType::kUINT8,
                "attribute 'output_dtype' = {} ({}) is not supported (int8 or uint8 only)", output_dtype,
                dtype_name(out));
  KESTREL_CHECK(!ctx.has_input(2) || ctx.input_dtype(2) == out, "attribute 'output_dtype' is {} but the zero point {}",
                dtype_name(out), dtype_name(ctx.input_dtype(2)));
  return out;
}

void infer_quantize(InferContext& ctx) {
  static constexpr DataType kFloat[] = {DataType::kFLOAT};
  require_dtype(ctx, 0, kFloat);
  check_quant_params(ctx, ctx.input_shape(0));
  ctx.set_output(0, quantized_dtype(ctx), ctx.input_shape(0));
}

void infer_dequantize(InferContext& ctx) {
  static constexpr DataType kQuantized[] = {DataType::kINT8, DataType::kUINT8};
  require_dtype(ctx, 0, kQuantized);
  check_quant_params(ctx, ctx.input_shape(0));
  if (ctx.has_input(2))
    KESTREL_CHECK(ctx.input_dtype(2) == ctx.input_dtype(0), "the zero point is {}, the input {}",
                  dtype_name(ctx.input_dtype(2)), dtype_name(ctx.input_dtype(0)));
  ctx.set_output(0, DataType::kFLOAT, ctx.input_shape(0));
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"QuantizeLinear", 2, 3, 1, 1, infer_quantize});
KESTREL_REGISTER_OP(OpSchema{"DequantizeLinear", 2, 3, 1, 1, infer_dequantize});

}  // namespace kestrel::ir
