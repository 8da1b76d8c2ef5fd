// Reference kernels of QuantizeLinear and DequantizeLinear: the oracle for QDQ graphs. Per
// tensor, or per axis (the tensor seen as [outer, axis length, inner]); the rounding and
// saturation are quant::quantize_value's (round half to even, clamp to the type's range).
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "ir/shape_utils.h"
#include "quant/int8_math.h"

namespace kestrel::cpu {
namespace {

// How scale index follows element index: element i uses scale ((i / inner) % channels).
struct Channels {
  int64_t channels = 1, inner = 1;
};

Channels channels_of(const KernelContext& ctx, const Shape& shape) {
  const int64_t n_scales = ctx.input(1).numel();
  Channels c;
  if (n_scales <= 1) return c;
  const int axis = ir::normalize_axis(ctx.attrs().get_int("axis", 1), int(shape.size()));
  c.channels = shape[size_t(axis)];
  for (size_t i = size_t(axis) + 1; i < shape.size(); ++i) c.inner *= shape[i];
  return c;
}

int32_t zero_point_at(const KernelContext& ctx, int64_t channel) {
  if (!ctx.has_input(2)) return 0;
  const Tensor& zp = ctx.input(2);
  return int32_t(zp.int_at(zp.numel() == 1 ? 0 : channel));
}

template <typename Q>
void quantize(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const float* scales = ctx.input(1).data<float>();
  const Channels c = channels_of(ctx, x.shape());
  const float* in = x.data<float>();
  Q* out = ctx.output(0).data<Q>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    const int64_t ch = (i / c.inner) % c.channels;
    out[i] = quant::quantize_value<Q>(in[i], scales[ch], zero_point_at(ctx, ch));
  }
}

template <typename Q>
void dequantize(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const float* scales = ctx.input(1).data<float>();
  const Channels c = channels_of(ctx, x.shape());
  const Q* in = x.data<Q>();
  float* out = ctx.output(0).data<float>();
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    const int64_t ch = (i / c.inner) % c.channels;
    out[i] = quant::dequantize_value<Q>(in[i], scales[ch], zero_point_at(ctx, ch));
  }
}

void quantize_linear(const KernelContext& ctx) {
  if (ctx.output(0).dtype() == DataType::kINT8)
    quantize<int8_t>(ctx);
  else
    quantize<uint8_t>(ctx);
}

void dequantize_linear(const KernelContext& ctx) {
  if (ctx.input(0).dtype() == DataType::kINT8)
    dequantize<int8_t>(ctx);
  else
    dequantize<uint8_t>(ctx);
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("QuantizeLinear", quantize_linear);
KESTREL_REGISTER_REFERENCE_KERNEL("DequantizeLinear", dequantize_linear);

}  // namespace kestrel::cpu
