// Planners of QuantizeLinear and DequantizeLinear (quantize.cu): what a QDQ model (`kestrel build
// --int8`, or one made by another tool) needs to run on the GPU. The layers between the pairs run
// on the float kernels, on the dequantized values (docs/int8.md, "The QDQ contract for backends").
// Per tensor or per axis; int8 and uint8 (and int32 into DequantizeLinear, as for biases);
// float8, int4, int16 and blocked scales are refused naming the layer.
#include "backend/cuda/cuda_ops.h"
#include "ir/shape_utils.h"

namespace kestrel::cuda {

QuantAxis quant_axis(const ir::Graph& g, const ir::Node& node, int data_value) {
  const Shape& shape = g.values[size_t(data_value)].shape;
  const int64_t scales = shape_numel(g.values[size_t(node.inputs[1])].shape);
  QuantAxis a;
  a.n = shape_numel(shape);
  if (scales > 1) {
    const int axis = ir::normalize_axis(node.attrs.get_int("axis", 1), int(shape.size()));
    a.channels = shape[size_t(axis)];
    for (size_t i = size_t(axis) + 1; i < shape.size(); ++i) a.inner *= shape[i];
    a.per_channel_scale = true;
  }
  a.per_channel_zp = has_input(node, 2) && shape_numel(g.values[size_t(node.inputs[2])].shape) > 1;
  return a;
}

QuantizedOutput quantized_output(const ir::Graph& g, const ir::Node& node) {
  QuantizedOutput out;
  const DataType y = g.values[size_t(node.outputs.at(0))].dtype;
  if (y != DataType::kINT8 && y != DataType::kUINT8) return out;
  out.quantized = true;
  out.is_unsigned = y == DataType::kUINT8;
  out.scale = node.attrs.get_float(kAttrOutputScale, 0.f);
  KESTREL_CHECK(out.scale > 0.f, "{}: an {} output needs its scale", ir::describe(node), dtype_name(y));
  return out;
}

namespace {

void check_common(const ir::Graph& g, const ir::Node& node, int data_value, DataType quantized) {
  KESTREL_CHECK(node.attrs.get_int("block_size", 0) == 0, "{}: blocked quantization is not supported on CUDA",
                ir::describe(node));
  const ir::Value& scale = g.values[size_t(node.inputs.at(1))];
  KESTREL_CHECK(scale.dtype == DataType::kFLOAT, "{}: float32 scales expected on CUDA, got {}", ir::describe(node),
                dtype_name(scale.dtype));
  const int64_t scales = shape_numel(scale.shape);
  const QuantAxis a = quant_axis(g, node, data_value);
  KESTREL_CHECK(!a.per_channel_scale || a.channels == scales, "{}: {} scales for axis {} of {}", ir::describe(node),
                scales, node.attrs.get_int("axis", 1), shape_str(g.values[size_t(data_value)].shape));
  if (has_input(node, 2)) {
    const ir::Value& zp = g.values[size_t(node.inputs[2])];
    KESTREL_CHECK(zp.dtype == quantized, "{}: zero point of type {} for {} data", ir::describe(node),
                  dtype_name(zp.dtype), dtype_name(quantized));
    const int64_t zps = shape_numel(zp.shape);
    KESTREL_CHECK(zps == 1 || zps == scales, "{}: {} zero points for {} scales", ir::describe(node), zps, scales);
  }
}

std::string choose_quantize(const ir::Graph& g, const ir::Node& node) {
  const DataType x = g.values[size_t(node.inputs.at(0))].dtype;
  const DataType y = g.values[size_t(node.outputs.at(0))].dtype;
  KESTREL_CHECK(x == DataType::kFLOAT || x == DataType::kHALF, "{}: float input expected on CUDA, got {}",
                ir::describe(node), dtype_name(x));
  KESTREL_CHECK(y == DataType::kINT8 || y == DataType::kUINT8, "{}: CUDA quantizes to int8 or uint8, not {}",
                ir::describe(node), dtype_name(y));
  check_common(g, node, node.inputs[0], y);
  return "cuda.quantize_linear";
}

std::string choose_dequantize(const ir::Graph& g, const ir::Node& node) {
  const DataType x = g.values[size_t(node.inputs.at(0))].dtype;
  const DataType y = g.values[size_t(node.outputs.at(0))].dtype;
  KESTREL_CHECK(x == DataType::kINT8 || x == DataType::kUINT8 || x == DataType::kINT32,
                "{}: CUDA dequantizes int8, uint8 or int32, not {}", ir::describe(node), dtype_name(x));
  KESTREL_CHECK(y == DataType::kFLOAT || y == DataType::kHALF, "{}: float output expected on CUDA, got {}",
                ir::describe(node), dtype_name(y));
  check_common(g, node, node.inputs[0], x);
  return "cuda.dequantize_linear";
}

// One planner for both: the quantized type is the output's for QuantizeLinear, the input's for
// DequantizeLinear.
Launch plan_quantize_or_dequantize(PlanContext& ctx, const ir::Node& node) {
  const bool quantize = node.op_type == "QuantizeLinear";
  const QuantAxis a = quant_axis(ctx.graph, node, node.inputs[0]);
  const DType q = to_dtype(ctx.value(quantize ? node.outputs[0] : node.inputs[0]).dtype);
  const DType f = to_dtype(ctx.value(quantize ? node.inputs[0] : node.outputs[0]).dtype);
  void* const* x = ctx.slot(node.inputs[0]);
  void* const* scales = ctx.slot(node.inputs[1]);
  void* const* zps = has_input(node, 2) ? ctx.slot(node.inputs[2]) : nullptr;
  void* const* y = ctx.slot(node.outputs[0]);
  const auto launch = quantize ? launch_quantize_linear : launch_dequantize_linear;
  return [=](cudaStream_t s) { launch(q, f, a, *x, *scales, zps ? *zps : nullptr, *y, s); };
}

}  // namespace

KESTREL_REGISTER_CUDA_KERNEL("QuantizeLinear", CudaKernel{choose_quantize, plan_quantize_or_dequantize});
KESTREL_REGISTER_CUDA_KERNEL("DequantizeLinear", CudaKernel{choose_dequantize, plan_quantize_or_dequantize});

}  // namespace kestrel::cuda
