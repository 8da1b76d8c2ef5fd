// QuantizeLinear and DequantizeLinear, on float32 or float16 values: per tensor, or per axis (element i uses scale and zero point
// (i / inner) % channels). The arithmetic is src/quant/int8_math.h's: division by the scale (not a
// reciprocal), rounding half to even, saturation, NaN to 0; so a QDQ graph on the GPU rounds
// exactly as the CPU reference does.
#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {
namespace {

template <typename Q>
__device__ __forceinline__ int32_t zero_point_at(const Q* zero_points, int64_t channel, bool per_channel_zp) {
  return zero_points ? int32_t(zero_points[per_channel_zp ? channel : 0]) : 0;
}

template <typename F, typename Q>
__global__ void quantize_kernel(const F* __restrict__ x, const float* __restrict__ scales,
                                const Q* __restrict__ zero_points, Q* __restrict__ y, QuantAxis a) {
  await_previous_kernel();
  constexpr float lo = Q(-1) < Q(0) ? -128.f : 0.f, hi = Q(-1) < Q(0) ? 127.f : 255.f;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < a.n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = a.channels > 1 ? (i / a.inner) % a.channels : 0;
    float q =
        rintf(to_float(x[i]) / scales[a.per_channel_scale ? c : 0]) + float(zero_point_at(zero_points, c, a.per_channel_zp));
    if (isnan(q)) q = 0.f;
    y[i] = Q(fminf(fmaxf(q, lo), hi));
  }
}

template <typename Q, typename F>
__global__ void dequantize_kernel(const Q* __restrict__ x, const float* __restrict__ scales,
                                  const Q* __restrict__ zero_points, F* __restrict__ y, QuantAxis a) {
  await_previous_kernel();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < a.n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = a.channels > 1 ? (i / a.inner) % a.channels : 0;
    y[i] = from_float<F>(float(int32_t(x[i]) - zero_point_at(zero_points, c, a.per_channel_zp)) *
                         scales[a.per_channel_scale ? c : 0]);
  }
}

template <typename F>
void dispatch_quantized(DType q, F&& f) {
  switch (q) {
    case DType::kI8: f.template operator()<int8_t>(); break;
    case DType::kU8: f.template operator()<uint8_t>(); break;
    case DType::kI32: f.template operator()<int32_t>(); break;
    default: throw std::invalid_argument("quantized type must be int8, uint8 or int32");
  }
}

}  // namespace

void launch_quantize_linear(DType q, DType f, const QuantAxis& a, const void* x, const void* scales,
                            const void* zero_points, void* y, cudaStream_t s) {
  if (a.n == 0) return;
  dispatch_quantized(q, [&]<typename Q>() {
    dispatch_float(f, [&]<typename F>() {
      if constexpr (sizeof(Q) == 1)
        launch(quantize_kernel<F, Q>, grid_for(a.n), kThreads, 0, s, static_cast<const F*>(x),
               static_cast<const float*>(scales), static_cast<const Q*>(zero_points), static_cast<Q*>(y), a);
      else
        throw std::invalid_argument("QuantizeLinear: int8 or uint8 output expected");
    });
  });
}

void launch_dequantize_linear(DType q, DType f, const QuantAxis& a, const void* x, const void* scales,
                              const void* zero_points, void* y, cudaStream_t s) {
  if (a.n == 0) return;
  dispatch_quantized(q, [&]<typename Q>() {
    dispatch_float(f, [&]<typename F>() {
      launch(dequantize_kernel<Q, F>, grid_for(a.n), kThreads, 0, s, static_cast<const Q*>(x),
             static_cast<const float*>(scales), static_cast<const Q*>(zero_points), static_cast<F*>(y), a);
    });
  });
}

}  // namespace kestrel::cuda
