// Reference kernel of kestrel.QConv (src/ir/ops/qconv.cpp): written as the QDQ chain it
// replaces, so that it is the oracle the INT8 kernels are tested against: dequantize X and W,
// the reference FusedConv (bias, residual, activation), then QuantizeLinear when y_scale is set.
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "quant/int8_math.h"

namespace kestrel::cpu {
namespace {

template <typename Q>
void dequantize_into(const Tensor& q, float scale, Tensor& out) {
  const Q* in = q.data<Q>();
  float* f = out.data<float>();
  for (int64_t i = 0, n = q.numel(); i < n; ++i) f[i] = quant::dequantize_value<Q>(in[i], scale, 0);
}

void qconv_kernel(const KernelContext& ctx) {
  static const ReferenceKernel fused_conv = find_reference_kernel("kestrel.FusedConv");
  KESTREL_CHECK(fused_conv != nullptr, "no reference kestrel.FusedConv kernel");
  const Tensor& xq = ctx.input(0);
  const Tensor& wq = ctx.input(1);
  const Tensor& w_scale = ctx.input(2);
  const float x_scale = ctx.attrs().get_float("x_scale");

  Tensor x(DataType::kFLOAT, xq.shape());
  if (xq.dtype() == DataType::kINT8)
    dequantize_into<int8_t>(xq, x_scale, x);
  else
    dequantize_into<uint8_t>(xq, x_scale, x);

  // W per output channel (axis 0), or one scale.
  Tensor w(DataType::kFLOAT, wq.shape());
  const int64_t channels = wq.dim(0), per_channel = channels == 0 ? 0 : wq.numel() / channels;
  const bool per_axis = w_scale.numel() > 1;
  for (int64_t c = 0; c < channels; ++c) {
    const float s = w_scale.data<float>()[per_axis ? c : 0];
    for (int64_t i = c * per_channel; i < (c + 1) * per_channel; ++i)
      w.data<float>()[i] = quant::dequantize_value<int8_t>(wq.data<int8_t>()[i], s, 0);
  }

  const Tensor* bias = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  const Tensor* residual = ctx.has_input(4) ? &ctx.input(4) : nullptr;
  Tensor& y = ctx.output(0);
  if (y.dtype() == DataType::kFLOAT) {
    fused_conv(KernelContext(ctx.node(), {&x, &w, bias, residual}, {&y}));
    return;
  }
  Tensor f(DataType::kFLOAT, y.shape());
  fused_conv(KernelContext(ctx.node(), {&x, &w, bias, residual}, {&f}));
  const float y_scale = ctx.attrs().get_float("y_scale");
  const float* in = f.data<float>();
  for (int64_t i = 0, n = f.numel(); i < n; ++i) {
    if (y.dtype() == DataType::kINT8)
      y.data<int8_t>()[i] = quant::quantize_value<int8_t>(in[i], y_scale, 0);
    else
      y.data<uint8_t>()[i] = quant::quantize_value<uint8_t>(in[i], y_scale, 0);
  }
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("kestrel.QConv", qconv_kernel);

}  // namespace kestrel::cpu
