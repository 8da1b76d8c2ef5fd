// GEMM convolutions as one kernel with their epilogue (bias, residual add, ReLU): the cuBLAS path
// needs a second launch for the epilogue, and in a CUDA graph every launch costs about a
// microsecond, more than the math of SMAT's small 1x1 convolutions. cuBLASLt's bias epilogue
// broadcasts along the wrong axis for NCHW (per row of the column-major product, i.e. per pixel),
// hence an own kernel.
//
// Convolutions other than 1x1 read their im2col matrix on the fly (implicit GEMM), which saves
// the im2col launch and its scratch round trip as well.
//
// Tiles of Y_b[m, n] = W[m, k] X_b[k, n]: FP16 on tensor cores (WMMA 16x16x16, FP32 accumulators,
// four warps in a 2x2 arrangement), FP32 on the CUDA cores (4x4 outputs per thread). Smaller
// tiles are used when the large ones would leave most multiprocessors idle.
#include <mma.h>

#include <type_traits>

#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"
#include "backend/cuda/wmma_accumulators.cuh"

namespace kestrel::cuda {
namespace {

// Element (row gk, column gn) of X_b: the plain matrix, or the im2col matrix computed on the fly
// (zero where a tap falls in the padding).
template <bool kImplicit, typename T>
__device__ __forceinline__ T load_x(const GemmConv& p, const T* __restrict__ xb, int gk, int gn) {
  if constexpr (!kImplicit) {
    return xb[int64_t(gk) * p.n + gn];
  } else {
    const Conv2d& q = p.conv;
    const int taps = q.kh * q.kw;
    const int c = gk / taps, tap = gk % taps;
    const int ky = tap / q.kw, kx = tap % q.kw;
    const int oy = gn / q.ow, ox = gn % q.ow;
    const int iy = oy * q.sh - q.ph + ky * q.dh, ix = ox * q.sw - q.pw + kx * q.dw;
    if (iy < 0 || iy >= q.h || ix < 0 || ix >= q.w) return from_float<T>(0.f);
    return xb[(int64_t(c) * q.h + iy) * q.w + ix];
  }
}

template <typename T>
__device__ __forceinline__ float epilogue(float acc, const GemmConv& p, const T* __restrict__ bias,
                                          const T* __restrict__ residual, int m, int64_t out) {
  if (bias) acc += to_float(bias[m]);
  if (residual) acc += to_float(residual[out]);
  if (p.act == Activation::kRelu) acc = acc > 0.f ? acc : 0.f;
  return acc;
}

// ---- FP16, tensor cores

constexpr int kHalfThreads = 128;  // four warps
constexpr int kHalfTileK = 32;

template <int TM, int TN, bool kImplicit>
__global__ void __launch_bounds__(kHalfThreads)
    gemm_conv_half_kernel(GemmConv p, const __half* __restrict__ w, const __half* __restrict__ x,
                          const __half* __restrict__ bias, const __half* __restrict__ residual, __half* __restrict__ y) {
  await_previous_kernel();
  using namespace nvcuda;
  constexpr int FI = TM / 32, FJ = TN / 32;  // 16x16 fragments per warp along m and n
  // Row strides padded by 8 halves (16 bytes) against bank conflicts; every fragment pointer
  // stays 32-byte aligned as WMMA requires (checked for TM, TN in {32, 64}).
  constexpr int LDA = kHalfTileK + 8, LDB = TN + 8, LDC = TN + 4;
  __shared__ __align__(128) __half sa[TM * LDA];
  __shared__ __align__(128) __half sb[kHalfTileK * LDB];
  __shared__ __align__(128) float sc[TM * LDC];
  const int b = blockIdx.z, m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
  const __half* xb = x + int64_t(b) * p.x_batch_stride;
  const int warp = threadIdx.x / 32;
  const int wm = (warp / 2) * (TM / 2), wn = (warp % 2) * (TN / 2);
  Accumulator acc[FI][FJ];
  zero_accumulators(acc);
  const __half zero = __float2half_rn(0.f);
  for (int k0 = 0; k0 < p.k; k0 += kHalfTileK) {
    // Out-of-range rows and columns load zeros, so partial tiles need no special case below.
    for (int i = threadIdx.x; i < TM * kHalfTileK; i += kHalfThreads) {
      const int r = i / kHalfTileK, c = i % kHalfTileK;
      const int gm = m0 + r, gk = k0 + c;
      sa[r * LDA + c] = gm < p.m && gk < p.k ? w[int64_t(gm) * p.k + gk] : zero;
    }
    for (int i = threadIdx.x; i < kHalfTileK * TN; i += kHalfThreads) {
      const int r = i / TN, c = i % TN;
      const int gk = k0 + r, gn = n0 + c;
      sb[r * LDB + c] = gk < p.k && gn < p.n ? load_x<kImplicit>(p, xb, gk, gn) : zero;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kHalfTileK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[FI];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> fb[FJ];
#pragma unroll
      for (int i = 0; i < FI; ++i) wmma::load_matrix_sync(fa[i], sa + (wm + 16 * i) * LDA + kk, LDA);
#pragma unroll
      for (int j = 0; j < FJ; ++j) wmma::load_matrix_sync(fb[j], sb + kk * LDB + wn + 16 * j, LDB);
#pragma unroll
      for (int i = 0; i < FI; ++i)
#pragma unroll
        for (int j = 0; j < FJ; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    __syncthreads();
  }
  store_accumulators(sc, LDC, wm, wn, acc);
  __syncthreads();
  // Consecutive threads take consecutive pixels: coalesced residual reads and output writes.
  for (int i = threadIdx.x; i < TM * TN; i += kHalfThreads) {
    const int r = i / TN, c = i % TN;
    const int gm = m0 + r, gn = n0 + c;
    if (gm >= p.m || gn >= p.n) continue;
    const int64_t out = (int64_t(b) * p.m + gm) * p.n + gn;
    y[out] = __float2half_rn(epilogue(sc[r * LDC + c], p, bias, residual, gm, out));
  }
}

// ---- FP32, CUDA cores

constexpr int kFloatTileK = 16;

// (TM / 4) x (TN / 4) threads; thread (ty, tx) owns rows ty + i * TM/4 and columns tx + j * TN/4,
// so that a warp's shared-memory reads broadcast or hit distinct banks and its stores coalesce.
template <int TM, int TN, bool kImplicit>
__global__ void __launch_bounds__((TM / 4) * (TN / 4))
    gemm_conv_float_kernel(GemmConv p, const float* __restrict__ w, const float* __restrict__ x,
                           const float* __restrict__ bias, const float* __restrict__ residual, float* __restrict__ y) {
  await_previous_kernel();
  constexpr int threads = (TM / 4) * (TN / 4);
  constexpr int RM = TM / 4, RN = TN / 4;    // row and column step between a thread's outputs
  __shared__ float sa[kFloatTileK][TM + 1];  // W tile transposed: sa[k][m]
  __shared__ float sb[kFloatTileK][TN];
  const int b = blockIdx.z, m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
  const float* xb = x + int64_t(b) * p.x_batch_stride;
  const int tx = threadIdx.x % RN, ty = threadIdx.x / RN;
  float acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) acc[i][j] = 0.f;
  for (int k0 = 0; k0 < p.k; k0 += kFloatTileK) {
    for (int i = threadIdx.x; i < TM * kFloatTileK; i += threads) {
      const int r = i / kFloatTileK, c = i % kFloatTileK;
      const int gm = m0 + r, gk = k0 + c;
      sa[c][r] = gm < p.m && gk < p.k ? w[int64_t(gm) * p.k + gk] : 0.f;
    }
    for (int i = threadIdx.x; i < kFloatTileK * TN; i += threads) {
      const int r = i / TN, c = i % TN;
      const int gk = k0 + r, gn = n0 + c;
      sb[r][c] = gk < p.k && gn < p.n ? load_x<kImplicit>(p, xb, gk, gn) : 0.f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < kFloatTileK; ++kk) {
      float a[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) a[i] = sa[kk][ty + i * RM];
#pragma unroll
      for (int j = 0; j < 4; ++j) bv[j] = sb[kk][tx + j * RN];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const int gm = m0 + ty + i * RM;
    if (gm >= p.m) continue;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int gn = n0 + tx + j * RN;
      if (gn >= p.n) continue;
      const int64_t out = (int64_t(b) * p.m + gm) * p.n + gn;
      y[out] = epilogue(acc[i][j], p, bias, residual, gm, out);
    }
  }
}

int64_t blocks_for(const GemmConv& p, int tm, int tn) {
  return int64_t((p.n + tn - 1) / tn) * ((p.m + tm - 1) / tm) * p.batch;
}

template <int TM, int TN>
dim3 grid_of(const GemmConv& p) {
  return dim3(unsigned((p.n + TN - 1) / TN), unsigned((p.m + TM - 1) / TM), unsigned(p.batch));
}

template <typename T, bool kImplicit>
void launch_typed(const GemmConv& p, const void* w, const void* x, const void* bias, const void* residual, void* y,
                  cudaStream_t s) {
  auto* ww = static_cast<const T*>(w);
  auto* xx = static_cast<const T*>(x);
  auto* bb = static_cast<const T*>(bias);
  auto* rr = static_cast<const T*>(residual);
  auto* yy = static_cast<T*>(y);
  // 64x64 tiles unless that gives fewer blocks than about half of an H100's 132 multiprocessors.
  const bool small = blocks_for(p, 64, 64) < 64;
  if constexpr (std::is_same_v<T, __half>) {
    if (small)
      launch(gemm_conv_half_kernel<32, 32, kImplicit>, grid_of<32, 32>(p), kHalfThreads, 0, s, p, ww, xx, bb, rr, yy);
    else
      launch(gemm_conv_half_kernel<64, 64, kImplicit>, grid_of<64, 64>(p), kHalfThreads, 0, s, p, ww, xx, bb, rr, yy);
  } else {
    if (small)
      launch(gemm_conv_float_kernel<32, 32, kImplicit>, grid_of<32, 32>(p), 8 * 8, 0, s, p, ww, xx, bb, rr, yy);
    else
      launch(gemm_conv_float_kernel<64, 64, kImplicit>, grid_of<64, 64>(p), 16 * 16, 0, s, p, ww, xx, bb, rr, yy);
  }
}

}  // namespace

void launch_gemm_conv(DType dtype, const GemmConv& p, const void* w, const void* x, const void* bias,
                      const void* residual, void* y, cudaStream_t s) {
  if (int64_t(p.batch) * p.m * p.n == 0) return;
  if (gemm_conv_pipelined_applies(dtype, p, w, x, residual, y)) {
    launch_gemm_conv_pipelined(p, w, x, bias, residual, y, s);
    return;
  }
  if (p.norm.partials)  // the planner normalises into a buffer first where this kernel does not apply
    throw std::runtime_error("GEMM convolution: a normalised X needs the pipelined kernel (FP16, aligned rows)");
  dispatch_float(dtype, [&]<typename T>() {
    if (p.implicit)
      launch_typed<T, true>(p, w, x, bias, residual, y, s);
    else
      launch_typed<T, false>(p, w, x, bias, residual, y, s);
  });
}

}  // namespace kestrel::cuda
