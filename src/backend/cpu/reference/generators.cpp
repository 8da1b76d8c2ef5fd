// Reference kernels of ConstantOfShape, Range, EyeLike and CumSum.
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

#include "backend/cpu/reference/dispatch.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "core/fp16.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

void constant_of_shape_kernel(const KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  if (!ctx.attrs().has("value")) {  // the default is float 0
    std::memset(out.raw(), 0, out.nbytes());
    return;
  }
  const Tensor& value = ctx.attrs().get_tensor("value");
  dispatch_any(out.dtype(), [&]<typename T>() {
    const T fill = value.data<T>()[0];
    T* dst = out.data<T>();
    for (int64_t i = 0; i < out.numel(); ++i) dst[i] = fill;
  });
}

void range_kernel(const KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  if (out.dtype() == DataType::kFLOAT) {
    // start + i * delta, each element computed directly so that errors do not accumulate.
    const double start = ctx.input(0).double_at(0), delta = ctx.input(2).double_at(0);
    for (int64_t i = 0; i < out.numel(); ++i) out.data<float>()[i] = float(start + double(i) * delta);
    return;
  }
  const int64_t start = ctx.input(0).int_at(0), delta = ctx.input(2).int_at(0);
  for (int64_t i = 0; i < out.numel(); ++i) {
    const int64_t value = start + i * delta;
    if (out.dtype() == DataType::kINT64)
      out.data<int64_t>()[i] = value;
    else
      out.data<int32_t>()[i] = int32_t(value);
  }
}

// Writes the dtype's 1 into element i.
void store_one(Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFLOAT: t.data<float>()[i] = 1.f; break;
    case DataType::kHALF: t.data<Half>()[i] = float_to_half(1.f); break;
    case DataType::kINT64: t.data<int64_t>()[i] = 1; break;
    case DataType::kINT32: t.data<int32_t>()[i] = 1; break;
    case DataType::kINT8: t.data<int8_t>()[i] = 1; break;
    case DataType::kUINT8:
    case DataType::kBOOL: t.data<uint8_t>()[i] = 1; break;
  }
}

void eye_like_kernel(const KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  const int64_t rows = out.dim(0), cols = out.dim(1);
  const int64_t k = ctx.attrs().get_int("k", 0);  // diagonal j - i == k; positive is above the main one
  std::memset(out.raw(), 0, out.nbytes());
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t j = i + k;
    if (j >= 0 && j < cols) store_one(out, i * cols + j);
  }
}

void cum_sum_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int axis = ir::normalize_axis(ctx.input(1).int_at(0), in.rank());
  const bool exclusive = ctx.attrs().get_int("exclusive", 0) != 0;
  const bool reverse = ctx.attrs().get_int("reverse", 0) != 0;
  const Shape& shape = in.shape();
  const int64_t length = in.rank() == 0 ? 1 : shape[size_t(axis)];
  const auto product = [](auto begin, auto end) { return std::accumulate(begin, end, int64_t{1}, std::multiplies<>()); };
  const int64_t outer = in.rank() == 0 ? 1 : product(shape.begin(), shape.begin() + axis);
  const int64_t inner = in.rank() == 0 ? 1 : product(shape.begin() + axis + 1, shape.end());
  dispatch_numeric(in.dtype(), [&]<typename T>() {
    // Floats accumulate in double for accuracy; integers in their own type (wrapping as ONNX does).
    using Accumulator = std::conditional_t<std::is_floating_point_v<T>, double, T>;
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        Accumulator sum = 0;
        for (int64_t step = 0; step < length; ++step) {
          const int64_t a = reverse ? length - 1 - step : step;
          const int64_t at = (o * length + a) * inner + i;
          if (exclusive) {
            dst[at] = T(sum);
            sum = Accumulator(sum + src[at]);
          } else {
            sum = Accumulator(sum + src[at]);
            dst[at] = T(sum);
          }
        }
      }
    }
  });
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("ConstantOfShape", constant_of_shape_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Range", range_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("EyeLike", eye_like_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("CumSum", cum_sum_kernel);

}  // namespace kestrel::cpu
