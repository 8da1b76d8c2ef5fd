// Direct 2-D convolution (any groups, strides, pads, dilations) with a fused epilogue
// (bias, residual add, ReLU), and the stand-alone epilogue that follows GEMM convolutions.
#include <algorithm>

#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {
namespace {

// One thread per output element; the loops over input channels and taps accumulate in float.
template <typename T>
__global__ void conv2d_kernel(Conv2d p, const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                              const T* __restrict__ residual, T* __restrict__ y, int64_t total) {
  await_previous_kernel();
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

// Depthwise 3x3 (one input and one output channel per group), the common MobileNet case. A block
// covers a tile of one output plane (grid z walks the planes), so a thread finds its pixel with
// 32-bit arithmetic and the block's nine weights and bias are the same for every thread; the
// one-thread-per-element form spent most of its time in 64-bit divisions.
template <typename T>
__global__ void depthwise3x3_kernel(Conv2d p, const T* __restrict__ x, const T* __restrict__ w,
                                    const T* __restrict__ bias, const T* __restrict__ residual, T* __restrict__ y,
                                    int64_t planes) {
  await_previous_kernel();
  const int ox = int(blockIdx.x * blockDim.x + threadIdx.x);
  const int oy = int(blockIdx.y * blockDim.y + threadIdx.y);
  if (ox >= p.ow || oy >= p.oh) return;
  const int64_t in_plane = int64_t(p.h) * p.w, out_plane = int64_t(p.oh) * p.ow;
  const int iy0 = oy * p.sh - p.ph, ix0 = ox * p.sw - p.pw;
  for (int64_t plane = blockIdx.z; plane < planes; plane += gridDim.z) {  // plane = n * k + k
    const int k = int(plane % p.k);
    const T* xc = x + plane * in_plane;
    const T* wk = w + k * 9;
    float acc = bias ? to_float(bias[k]) : 0.f;
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
    const int64_t i = plane * out_plane + int64_t(oy) * p.ow + ox;
    if (residual) acc += to_float(residual[i]);
    if (p.act == Activation::kRelu) acc = acc > 0.f ? acc : 0.f;
    y[i] = from_float<T>(acc);
  }
}

// Dense convolutions with a short reduction (C x KH x KW <= kSmallReduction, e.g. an RGB stem):
// a GEMM would pad K to its tile and spend its time on the im2col gather, so a thread computes
// one output pixel for kSmallReductionChannels output channels instead: it reads each of its
// C x KH x KW inputs once and adds it into all its channels' accumulators, taking the block's
// weights from shared memory (every thread reads the same weight at a time: a broadcast). Writes stay coalesced: neighbouring threads hold
// neighbouring pixels of each output plane.
constexpr int kSmallReductionChannels = 32;

template <typename T>
__global__ void __launch_bounds__(kThreads) conv2d_small_reduction_kernel(Conv2d p, const T* __restrict__ x, const T* __restrict__ w,
                                              const T* __restrict__ bias, const T* __restrict__ residual,
                                              T* __restrict__ y) {
  await_previous_kernel();
  constexpr int R = kSmallReduction, KB = kSmallReductionChannels;
  __shared__ float weights[KB][R + 1];
  __shared__ float shift[KB];
  __shared__ int tap_dy[R], tap_dx[R];
  __shared__ int tap_channel[R];  // offsets within an image: C x H x W < 2^31 (checked by the launcher)
  const int taps = p.kh * p.kw, reduction = p.c * taps;
  const int k0 = int(blockIdx.y) * KB;
  for (int i = threadIdx.x; i < KB * reduction; i += blockDim.x) {
    const int kb = i / reduction, r = i % reduction;
    weights[kb][r] = k0 + kb < p.k ? to_float(w[int64_t(k0 + kb) * reduction + r]) : 0.f;
  }
  for (int i = threadIdx.x; i < KB; i += blockDim.x) shift[i] = bias && k0 + i < p.k ? to_float(bias[k0 + i]) : 0.f;
  for (int r = threadIdx.x; r < reduction; r += blockDim.x) {
    tap_channel[r] = r / taps * p.h * p.w;
    tap_dy[r] = (r % taps) / p.kw * p.dh;
    tap_dx[r] = r % p.kw * p.dw;
  }
  __syncthreads();
  const int plane = p.oh * p.ow;
  const int pos = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (pos >= plane) return;
  const int oy = pos / p.ow, ox = pos % p.ow;
  const int iy0 = oy * p.sh - p.ph, ix0 = ox * p.sw - p.pw;
  const int kb_count = min(KB, p.k - k0);
  for (int n = blockIdx.z; n < p.n; n += gridDim.z) {
    const T* xn = x + int64_t(n) * p.c * p.h * p.w;
    float acc[KB];
#pragma unroll
    for (int kb = 0; kb < KB; ++kb) acc[kb] = shift[kb];
    for (int r = 0; r < reduction; ++r) {  // one input at a time into every output channel
      const int iy = iy0 + tap_dy[r], ix = ix0 + tap_dx[r];
      if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w) continue;
      const float v = to_float(xn[tap_channel[r] + iy * p.w + ix]);
#pragma unroll
      for (int kb = 0; kb < KB; ++kb) acc[kb] += v * weights[kb][r];
    }
#pragma unroll
    for (int kb = 0; kb < KB; ++kb) {
      if (kb >= kb_count) break;
      float out = acc[kb];
      const int64_t o = (int64_t(n) * p.k + k0 + kb) * plane + pos;
      if (residual) out += to_float(residual[o]);
      if (p.act == Activation::kRelu) out = out > 0.f ? out : 0.f;
      y[o] = from_float<T>(out);
    }
  }
}

// The epilogue of GEMM convolutions: grid y walks the (image, channel) planes, so the channel of
// the bias is found once per plane rather than with a 64-bit division per element.
template <typename T>
__global__ void bias_act_kernel(T* __restrict__ y, const T* __restrict__ bias, const T* __restrict__ residual, int c,
                                int64_t spatial, Activation act, int64_t planes) {
  await_previous_kernel();
  for (int64_t plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const float b = bias ? to_float(bias[plane % c]) : 0.f;
    T* yp = y + plane * spatial;
    const T* rp = residual ? residual + plane * spatial : nullptr;
    for (int64_t s = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; s < spatial; s += int64_t(gridDim.x) * blockDim.x) {
      float v = to_float(yp[s]) + b;
      if (rp) v += to_float(rp[s]);
      if (act == Activation::kRelu) v = v > 0.f ? v : 0.f;
      yp[s] = from_float<T>(v);
    }
  }
}

// Grid x covers the output positions, y the rows (channel, tap) of the column matrix, z the
// images: each thread's indices come from 32-bit divisions by the kernel and output widths.
template <typename T>
__global__ void im2col_kernel(Conv2d p, const T* __restrict__ x, T* __restrict__ col) {
  await_previous_kernel();
  const int plane = p.oh * p.ow;
  const int pos = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (pos >= plane) return;
  const int ox = pos % p.ow, oy = pos / p.ow;
  const int taps = p.kh * p.kw, rows = p.c * taps;
  for (int n = blockIdx.z; n < p.n; n += gridDim.z) {
    for (int r = blockIdx.y; r < rows; r += gridDim.y) {
      const int kx = r % p.kw, ky = (r / p.kw) % p.kh, c = r / taps;
      const int iy = oy * p.sh - p.ph + ky * p.dh, ix = ox * p.sw - p.pw + kx * p.dw;
      const int64_t out = (int64_t(n) * rows + r) * plane + pos;
      col[out] = (iy >= 0 && iy < p.h && ix >= 0 && ix < p.w) ? x[((int64_t(n) * p.c + c) * p.h + iy) * p.w + ix]
                                                               : from_float<T>(0.f);
    }
  }
}

}  // namespace

void launch_im2col(DType dtype, const Conv2d& p, const void* x, void* col, cudaStream_t s) {
  const int64_t plane = int64_t(p.oh) * p.ow, rows = int64_t(p.c) * p.kh * p.kw;
  if (plane == 0 || rows == 0 || p.n == 0) return;
  const dim3 grid(grid_for(plane), capped(rows), capped(p.n));
  const auto run = [&]<typename T>() {
    launch(im2col_kernel<T>, grid, kThreads, 0, s, p, static_cast<const T*>(x), static_cast<T*>(col));
  };
  if (dtype == DType::kI8 || dtype == DType::kU8)
    run.template operator()<uint8_t>();  // a byte copy: zero padding is 0 in both types
  else
    dispatch_float(dtype, run);
}

bool small_reduction_conv(const Conv2d& p) {
  return p.groups == 1 && p.c * p.kh * p.kw <= kSmallReduction && !(p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1) &&
         int64_t(p.c) * p.h * p.w < (int64_t(1) << 31);
}

void launch_conv2d(DType dtype, const Conv2d& p, const void* x, const void* w, const void* bias, const void* residual,
                   void* y, cudaStream_t s) {
  const int64_t total = int64_t(p.n) * p.k * p.oh * p.ow;
  if (total == 0) return;
  const bool depthwise3x3 = p.groups == p.c && p.groups == p.k && p.kh == 3 && p.kw == 3 && p.dh == 1 && p.dw == 1;
  dispatch_float(dtype, [&]<typename T>() {
    if (depthwise3x3) {
      const int64_t planes = int64_t(p.n) * p.k;
      const PlaneTiles t = plane_tiles(p.oh, p.ow, planes);
      launch(depthwise3x3_kernel<T>, t.grid, t.block, 0, s, p, static_cast<const T*>(x), static_cast<const T*>(w),
             static_cast<const T*>(bias), static_cast<const T*>(residual), static_cast<T*>(y), planes);
    } else if (small_reduction_conv(p)) {
      const dim3 grid(grid_for(int64_t(p.oh) * p.ow), capped((p.k + kSmallReductionChannels - 1) / kSmallReductionChannels),
                      capped(p.n));
      launch(conv2d_small_reduction_kernel<T>, grid, kThreads, 0, s, p, static_cast<const T*>(x),
             static_cast<const T*>(w), static_cast<const T*>(bias), static_cast<const T*>(residual),
             static_cast<T*>(y));
    } else {
      launch(conv2d_kernel<T>, grid_for(total), kThreads, 0, s, p, static_cast<const T*>(x), static_cast<const T*>(w),
             static_cast<const T*>(bias), static_cast<const T*>(residual), static_cast<T*>(y), total);
    }
  });
}

void launch_bias_act(DType dtype, void* y, const void* bias, const void* residual, int n, int c, int64_t spatial,
                     Activation act, cudaStream_t s) {
  const int64_t planes = int64_t(n) * c;
  if (planes == 0 || spatial == 0) return;
  // Enough blocks along a plane to fill the GPU when there are few planes, one when there are many.
  const int64_t per_plane = std::min<int64_t>(grid_for(spatial), std::max<int64_t>(1, 4096 / planes));
  const dim3 grid(unsigned(per_plane), capped(planes));
  dispatch_float(dtype, [&]<typename T>() {
    launch(bias_act_kernel<T>, grid, kThreads, 0, s, static_cast<T*>(y), static_cast<const T*>(bias),
           static_cast<const T*>(residual), c, spatial, act, planes);
  });
}

}  // namespace kestrel::cuda
