// MaxPool and AveragePool over 2-D windows (kernels.h, "pooling").
#include <cfloat>

#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {
namespace {

template <typename T>
__device__ __forceinline__ float lowest();
template <>
__device__ __forceinline__ float lowest<float>() {
  return -FLT_MAX;
}
template <>
__device__ __forceinline__ float lowest<__half>() {
  return -65504.f;
}

template <typename T>
__global__ void pool2d_kernel(Pool2d p, const T* __restrict__ x, T* __restrict__ y) {
  await_previous_kernel();
  const int64_t total = int64_t(p.planes) * p.oh * p.ow;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ox = int(i % p.ow), oy = int((i / p.ow) % p.oh);
    const int64_t plane = i / (int64_t(p.ow) * p.oh);
    const T* in = x + plane * p.h * p.w;
    const int y0 = oy * p.sh - p.pad_top, x0 = ox * p.sw - p.pad_left;
    float best = lowest<T>(), sum = 0.f;
    int inside = 0, rows_in_padding = 0, cols_in_padding = 0;
    for (int ky = 0; ky < p.kh; ++ky) {
      const int iy = y0 + ky * p.dh;
      rows_in_padding += iy >= -p.pad_top && iy < p.h + p.pad_bottom;
    }
    for (int kx = 0; kx < p.kw; ++kx) {
      const int ix = x0 + kx * p.dw;
      cols_in_padding += ix >= -p.pad_left && ix < p.w + p.pad_right;
    }
    for (int ky = 0; ky < p.kh; ++ky) {
      const int iy = y0 + ky * p.dh;
      if (iy < 0 || iy >= p.h) continue;
      for (int kx = 0; kx < p.kw; ++kx) {
        const int ix = x0 + kx * p.dw;
        if (ix < 0 || ix >= p.w) continue;
        const float v = to_float(in[int64_t(iy) * p.w + ix]);
        best = fmaxf(best, v);
        sum += v;
        ++inside;
      }
    }
    if (p.max) {
      y[i] = from_float<T>(best);
    } else {
      const int count = p.count_include_pad ? rows_in_padding * cols_in_padding : inside;
      y[i] = from_float<T>(count > 0 ? sum / float(count) : 0.f);
    }
  }
}

}  // namespace

void launch_pool2d(DType dtype, const Pool2d& p, const void* x, void* y, cudaStream_t s) {
  const int64_t total = int64_t(p.planes) * p.oh * p.ow;
  if (total == 0) return;
  dispatch_float(dtype, [&]<typename T>() {
    launch(pool2d_kernel<T>, grid_for(total), kThreads, 0, s, p, static_cast<const T*>(x), static_cast<T*>(y));
  });
}

}  // namespace kestrel::cuda
