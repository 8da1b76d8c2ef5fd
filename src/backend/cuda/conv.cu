// Direct 2-D convolution (any groups, strides, pads, dilations) with a fused epilogue
// (bias, residual add, ReLU), and the stand-alone epilogue that follows GEMM convolutions.
#include "backend/cuda/device_types.cuh"

namespace kestrel::cuda {
namespace {

// One thread per output element; the loops over input channels and taps accumulate in float.
template <typename T>
__global__ void conv2d_kernel(Conv2d p, const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                              const T* __restrict__ residual, T* __restrict__ y, int64_t total) {
  const int in_per_group = p.c / p.groups, out_per_group = p.k / p.groups;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ox = int(i % p.ow);
    const int oy = int((i / p.ow) % p.oh);
    const int k = int((i / (int64_t(p.ow) * p.oh)) % p.k);
    const int n = int(i / (int64_t(p.ow) * p.oh * p.k));
    const int group = k / out_per_group;
    float acc = bias ? to_float(bias[k]) : 0.f;
    const int iy0 = oy * p.sh - p.ph, ix0 = ox * p.sw - p.pw;
    const T* wk = w + int64_t(k) * in_per_group * p.kh * p.kw;
    const T* xn = x + (int64_t(n) * p.c + int64_t(group) * in_per_group) * p.h * p.w;
    for (int c = 0; c < in_per_group; ++c) {
      const T* xc = xn + int64_t(c) * p.h * p.w;
      const T* wc = wk + c * p.kh * p.kw;
      for (int ky = 0; ky < p.kh; ++ky) {
        const int iy = iy0 + ky * p.dh;
        if (iy < 0 || iy >= p.h) continue;
        for (int kx = 0; kx < p.kw; ++kx) {
          const int ix = ix0 + kx * p.dw;
          if (ix < 0 || ix >= p.w) continue;
          acc += to_float(xc[iy * p.w + ix]) * to_float(wc[ky * p.kw + kx]);
        }
      }
    }
    if (residual) acc += to_float(residual[i]);
    if (p.act == Activation::kRelu) acc = acc > 0.f ? acc : 0.f;
    y[i] = from_float<T>(acc);
  }
}

// Depthwise 3x3 (one input and one output channel per group), the common MobileNet case.
template <typename T>
__global__ void depthwise3x3_kernel(Conv2d p, const T* __restrict__ x, const T* __restrict__ w,
                                    const T* __restrict__ bias, const T* __restrict__ residual, T* __restrict__ y,
                                    int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ox = int(i % p.ow);
    const int oy = int((i / p.ow) % p.oh);
    const int64_t plane = i / (int64_t(p.ow) * p.oh);  // n * k + k
    const int k = int(plane % p.k);
    const T* xc = x + plane * p.h * p.w;
    const T* wk = w + k * 9;
    float acc = bias ? to_float(bias[k]) : 0.f;
    const int iy0 = oy * p.sh - p.ph, ix0 = ox * p.sw - p.pw;
#pragma unroll
    for (int ky = 0; ky < 3; ++ky) {
      const int iy = iy0 + ky;
      if (iy < 0 || iy >= p.h) continue;
#pragma unroll
      for (int kx = 0; kx < 3; ++kx) {
        const int ix = ix0 + kx;
        if (ix < 0 || ix >= p.w) continue;
        acc += to_float(xc[iy * p.w + ix]) * to_float(wk[ky * 3 + kx]);
      }
    }
    if (residual) acc += to_float(residual[i]);
    if (p.act == Activation::kRelu) acc = acc > 0.f ? acc : 0.f;
    y[i] = from_float<T>(acc);
  }
}

template <typename T>
__global__ void bias_act_kernel(T* __restrict__ y, const T* __restrict__ bias, const T* __restrict__ residual, int c,
                                int64_t spatial, Activation act, int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    float v = to_float(y[i]);
    if (bias) v += to_float(bias[(i / spatial) % c]);
    if (residual) v += to_float(residual[i]);
    if (act == Activation::kRelu) v = v > 0.f ? v : 0.f;
    y[i] = from_float<T>(v);
  }
}

template <typename T>
__global__ void im2col_kernel(Conv2d p, const T* __restrict__ x, T* __restrict__ col, int64_t total) {
  const int64_t plane = int64_t(p.oh) * p.ow;
  const int taps = p.kh * p.kw;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ox = int(i % p.ow);
    const int oy = int((i / p.ow) % p.oh);
    const int64_t rest = i / plane;
    const int r = int(rest % (int64_t(p.c) * taps));
    const int64_t n = rest / (int64_t(p.c) * taps);
    const int kx = r % p.kw, ky = (r / p.kw) % p.kh, c = r / taps;
    const int iy = oy * p.sh - p.ph + ky * p.dh, ix = ox * p.sw - p.pw + kx * p.dw;
    col[i] = (iy >= 0 && iy < p.h && ix >= 0 && ix < p.w) ? x[((n * p.c + c) * p.h + iy) * p.w + ix] : from_float<T>(0.f);
  }
}

}  // namespace

void launch_im2col(DType dtype, const Conv2d& p, const void* x, void* col, cudaStream_t s) {
  const int64_t total = int64_t(p.n) * p.c * p.kh * p.kw * p.oh * p.ow;
  if (total == 0) return;
  dispatch_float(dtype, [&]<typename T>() {
    im2col_kernel<T><<<grid_for(total), kThreads, 0, s>>>(p, static_cast<const T*>(x), static_cast<T*>(col), total);
  });
}

void launch_conv2d(DType dtype, const Conv2d& p, const void* x, const void* w, const void* bias, const void* residual,
                   void* y, cudaStream_t s) {
  const int64_t total = int64_t(p.n) * p.k * p.oh * p.ow;
  if (total == 0) return;
  const bool depthwise3x3 = p.groups == p.c && p.groups == p.k && p.kh == 3 && p.kw == 3 && p.dh == 1 && p.dw == 1;
  dispatch_float(dtype, [&]<typename T>() {
    if (depthwise3x3)
      depthwise3x3_kernel<T><<<grid_for(total), kThreads, 0, s>>>(p, static_cast<const T*>(x), static_cast<const T*>(w),
                                                                  static_cast<const T*>(bias),
                                                                  static_cast<const T*>(residual), static_cast<T*>(y), total);
    else
      conv2d_kernel<T><<<grid_for(total), kThreads, 0, s>>>(p, static_cast<const T*>(x), static_cast<const T*>(w),
                                                            static_cast<const T*>(bias), static_cast<const T*>(residual),
                                                            static_cast<T*>(y), total);
  });
}

void launch_bias_act(DType dtype, void* y, const void* bias, const void* residual, int n, int c, int64_t spatial,
                     Activation act, cudaStream_t s) {
  const int64_t total = int64_t(n) * c * spatial;
  if (total == 0) return;
  dispatch_float(dtype, [&]<typename T>() {
    bias_act_kernel<T><<<grid_for(total), kThreads, 0, s>>>(static_cast<T*>(y), static_cast<const T*>(bias),
                                                            static_cast<const T*>(residual), c, spatial, act, total);
  });
}

}  // namespace kestrel::cuda
