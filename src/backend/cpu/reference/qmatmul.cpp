// Reference kernel of kestrel.QMatMul (src/ir/ops/qmatmul.cpp), written as the QDQ chain it
// replaces: dequantize X and W (per column), the reference MatMul, QuantizeLinear when y_scale
// is set. The oracle of the INT8 matmul kernel.
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "quant/int8_math.h"

namespace kestrel::cpu {
namespace {

void qmatmul_kernel(const KernelContext& ctx) {
  static const ReferenceKernel matmul = find_reference_kernel("MatMul");
  KESTREL_CHECK(matmul != nullptr, "no reference MatMul kernel");
  const Tensor& xq = ctx.input(0);
  const Tensor& wq = ctx.input(1);
  const Tensor& w_scale = ctx.input(2);
  const float x_scale = ctx.attrs().get_float("x_scale");
  Tensor x(DataType::kFLOAT, xq.shape());
  for (int64_t i = 0, n = xq.numel(); i < n; ++i)
    x.data<float>()[i] = xq.dtype() == DataType::kINT8 ? quant::dequantize_value<int8_t>(xq.data<int8_t>()[i], x_scale, 0)
                                                        : quant::dequantize_value<uint8_t>(xq.data<uint8_t>()[i], x_scale, 0);
  Tensor w(DataType::kFLOAT, wq.shape());
  const int64_t cols = wq.dim(1);
  for (int64_t i = 0, n = wq.numel(); i < n; ++i) {
    const float s = w_scale.data<float>()[w_scale.numel() > 1 ? i % cols : 0];
    w.data<float>()[i] = quant::dequantize_value<int8_t>(wq.data<int8_t>()[i], s, 0);
  }
  Tensor& y = ctx.output(0);
  if (y.dtype() == DataType::kFLOAT) {
    matmul(KernelContext(ctx.node(), {&x, &w}, {&y}));
    return;
  }
  Tensor f(DataType::kFLOAT, y.shape());
  matmul(KernelContext(ctx.node(), {&x, &w}, {&f}));
  const float y_scale = ctx.attrs().get_float("y_scale");
  for (int64_t i = 0, n = f.numel(); i < n; ++i) {
    if (y.dtype() == DataType::kINT8)
      y.data<int8_t>()[i] = quant::quantize_value<int8_t>(f.data<float>()[i], y_scale, 0);
    else
      y.data<uint8_t>()[i] = quant::quantize_value<uint8_t>(f.data<float>()[i], y_scale, 0);
  }
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("kestrel.QMatMul", qmatmul_kernel);

}  // namespace kestrel::cpu
