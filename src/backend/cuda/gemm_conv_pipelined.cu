// The FP16 1x1 convolution as one pipelined tensor-core GEMM with its epilogue, for the common case
// where every row is 16-byte aligned (channels and pixels multiples of 8).
//
// SMAT's 1x1 convolutions are small (M, K <= 512, N = 64 to 16384 pixels per image), so at batch 1
// they are bound by the latency of global loads, not by math: the plain kernel of gemm_conv.cu
// loads one half per thread, waits for it, and only then multiplies. Here every thread moves
// 16 bytes per copy with cp.async, STAGES tiles of K are in flight at once, and the epilogue reads
// and writes 8 outputs per thread. Y_b[m, n] = W[m, k] X_b[k, n] + bias[m] (+ residual) (ReLU).
#include <mma.h>

#include <algorithm>

#include "backend/cuda/cp_async.cuh"
#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"
#include "backend/cuda/wmma_accumulators.cuh"
#include "backend/cuda/welford.cuh"

namespace kestrel::cuda {
namespace {

constexpr int kPipeThreads = 128;  // four warps in a 2x2 arrangement over the output tile
constexpr int kTileK = 32;
// K tiles in flight: four where K is long enough to keep them busy; two where K spans at most two
// tiles (SMAT's high-resolution layers, K = 16 to 64), whose smaller shared memory lets more blocks
// share a multiprocessor, which is what a memory-bound GEMM needs.
constexpr int kDeepStages = 4, kShallowStages = 2;

template <int TM, int TN, int kStages>
struct PipelineLayout {
  // Row strides padded by 8 halves against bank conflicts; rows stay 16-byte aligned for cp.async
  // and fragment pointers 32-byte aligned for WMMA (TM, TN in {32, 64}).
  static constexpr int kLda = kTileK + 8, kLdb = TN + 8, kLdc = TN + 4;
  static constexpr int kStageA = TM * kLda, kStageB = kTileK * kLdb;  // halves
  static constexpr int kPipeBytes = kStages * (kStageA + kStageB) * 2;
  static constexpr int kOutBytes = TM * kLdc * 4;  // the FP32 accumulators, staged for the epilogue
  static constexpr int kBytes = kPipeBytes > kOutBytes ? kPipeBytes : kOutBytes;
};

// Per row k of X_b, the factors of the normalisation (GemmNorm): rows[k] = {g, b, channel scale,
// channel bias} of k's instance. The instance statistics are merged from the partials in the
// order norm_apply_kernel merges them, so they have its bits. Ends with the factors written but
// not yet published: the caller's next __syncthreads does that.
__device__ void prepare_norm_rows(const GemmConv& p, int image, float (*rows)[4]) {
  const GemmNorm& norm = p.norm;
  const Moments* partials = static_cast<const Moments*>(norm.partials);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int i = warp; i < norm.groups; i += kPipeThreads / 32) {  // rows[i][2..3]: mean, 1 / deviation
    Moments m{0.f, 0.f, 0.f};
    const Moments* mine = partials + (int64_t(image) * norm.groups + i) * norm.chunks;
    for (int c = lane; c < norm.chunks; c += 32) m = merge(m, mine[c]);
    m = warp_merge(m);
    if (lane == 0) {
      rows[i][2] = m.mean;
      rows[i][3] = rsqrtf(m.m2 / m.count + norm.epsilon);
    }
  }
  __syncthreads();
  constexpr int kPerThread = kMaxGemmNormRows / kPipeThreads;
  const int per_instance = p.k / norm.groups;
  float g[kPerThread], b[kPerThread];
#pragma unroll
  for (int j = 0; j < kPerThread; ++j) {
    const int k = int(threadIdx.x) + j * kPipeThreads;
    if (k >= p.k) break;
    const int i = k / per_instance;
    g[j] = __half2float(static_cast<const __half*>(norm.scale)[i]) * rows[i][3];
    b[j] = __half2float(static_cast<const __half*>(norm.bias)[i]) - rows[i][2] * g[j];
  }
  __syncthreads();  // every instance's statistics are read: the rows may be overwritten
  const __half* cs = static_cast<const __half*>(norm.channel_scale);
  const __half* cb = static_cast<const __half*>(norm.channel_bias);
#pragma unroll
  for (int j = 0; j < kPerThread; ++j) {
    const int k = int(threadIdx.x) + j * kPipeThreads;
    if (k >= p.k) break;
    rows[k][0] = g[j];
    rows[k][1] = b[j];
    rows[k][2] = cs ? __half2float(cs[k]) : 1.f;  // x * 1 + 0 is exact: no affine is the same bits
    rows[k][3] = cb ? __half2float(cb[k]) : 0.f;
  }
}

// Normalises the landed B tile (rows k0 .. k0 + kTileK of X_b) in shared memory, 8 halves at a time.
template <int TN>
__device__ void normalize_tile(__half* sb, int ldb, int k0, int k_end, const float (*rows)[4]) {
  for (int c = threadIdx.x; c < kTileK * TN / 8; c += kPipeThreads) {
    const int r = c / (TN / 8), col = (c % (TN / 8)) * 8, k = k0 + r;
    if (k >= k_end) continue;  // zero padding past K stays zero
    const float g = rows[k][0], b = rows[k][1], cs = rows[k][2], cb = rows[k][3];
    uint4* chunk = reinterpret_cast<uint4*>(sb + r * ldb + col);
    uint4 raw = *chunk;
    __half2* pairs = reinterpret_cast<__half2*>(&raw);
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const float2 f = __half22float2(pairs[e]);
      pairs[e] = __floats2half2_rn((f.x * g + b) * cs + cb, (f.y * g + b) * cs + cb);
    }
    *chunk = raw;
  }
}

template <int TM, int TN, int kStages, bool kNorm>
__global__ void __launch_bounds__(kPipeThreads)
    gemm_conv_pipelined_kernel(GemmConv p, const __half* __restrict__ w, const __half* __restrict__ x,
                               const __half* __restrict__ bias, const __half* __restrict__ residual,
                               __half* __restrict__ y) {
  await_previous_kernel();
  using namespace nvcuda;
  using L = PipelineLayout<TM, TN, kStages>;
  constexpr int FI = TM / 32, FJ = TN / 32;  // 16x16 fragments per warp along m and n
  __shared__ __align__(128) unsigned char smem[L::kBytes];
  __shared__ float norm_rows[kNorm ? kMaxGemmNormRows : 1][4];
  __half* const tiles = reinterpret_cast<__half*>(smem);
  const int b = blockIdx.z, m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
  const __half* xb = x + int64_t(b) * p.x_batch_stride;

  auto load_stage = [&](int stage, int k0) {
    __half* sa = tiles + stage * (L::kStageA + L::kStageB);
    __half* sb = sa + L::kStageA;
    for (int c = threadIdx.x; c < TM * kTileK / 8; c += kPipeThreads) {
      const int r = c / (kTileK / 8), col = (c % (kTileK / 8)) * 8;
      const int gm = m0 + r, gk = k0 + col;
      const bool valid = gm < p.m && gk < p.k;  // k is a multiple of 8: a chunk is all in or all out
      copy16_async(sa + r * L::kLda + col, valid ? w + int64_t(gm) * p.k + gk : w, valid);
    }
    for (int c = threadIdx.x; c < kTileK * TN / 8; c += kPipeThreads) {
      const int r = c / (TN / 8), col = (c % (TN / 8)) * 8;
      const int gk = k0 + r, gn = n0 + col;
      const bool valid = gk < p.k && gn < p.n;
      copy16_async(sb + r * L::kLdb + col, valid ? xb + int64_t(gk) * p.n + gn : xb, valid);
    }
  };

  const int warp = threadIdx.x / 32;
  const int wm = (warp / 2) * (TM / 2), wn = (warp % 2) * (TN / 2);
  Accumulator acc[FI][FJ];
  zero_accumulators(acc);

  const int k_tiles = (p.k + kTileK - 1) / kTileK;
  for (int s = 0; s < kStages - 1; ++s) {  // one commit group per stage, empty past the end
    if (s < k_tiles) load_stage(s, s * kTileK);
    commit_copies();
  }
  if constexpr (kNorm) prepare_norm_rows(p, b, norm_rows);  // while the first tiles land
  for (int kt = 0; kt < k_tiles; ++kt) {
    wait_copies<kStages - 2>();  // tile kt has landed (for this thread's copies) ...
    __syncthreads();             // ... for every thread's, and tile kt - 1's stage is free again
    if constexpr (kNorm) {
      normalize_tile<TN>(tiles + (kt % kStages) * (L::kStageA + L::kStageB) + L::kStageA, L::kLdb, kt * kTileK, p.k,
                         norm_rows);
      __syncthreads();
    }
    const int next = kt + kStages - 1;
    if (next < k_tiles) load_stage(next % kStages, next * kTileK);
    commit_copies();
    const __half* sa = tiles + (kt % kStages) * (L::kStageA + L::kStageB);
    const __half* sb = sa + L::kStageA;
#pragma unroll
    for (int kk = 0; kk < kTileK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> fa[FI];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> fb[FJ];
#pragma unroll
      for (int i = 0; i < FI; ++i) wmma::load_matrix_sync(fa[i], sa + (wm + 16 * i) * L::kLda + kk, L::kLda);
#pragma unroll
      for (int j = 0; j < FJ; ++j) wmma::load_matrix_sync(fb[j], sb + kk * L::kLdb + wn + 16 * j, L::kLdb);
#pragma unroll
      for (int i = 0; i < FI; ++i)
#pragma unroll
        for (int j = 0; j < FJ; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
  }
  wait_copies<0>();
  __syncthreads();  // every warp is done with the tiles: the accumulators may reuse their memory

  float* const sc = reinterpret_cast<float*>(smem);
  store_accumulators(sc, L::kLdc, wm, wn, acc);
  __syncthreads();

  // Eight consecutive pixels per thread: 16-byte residual reads and output writes, coalesced.
  for (int c = threadIdx.x; c < TM * TN / 8; c += kPipeThreads) {
    const int r = c / (TN / 8), col = (c % (TN / 8)) * 8;
    const int gm = m0 + r, gn = n0 + col;
    if (gm >= p.m || gn >= p.n) continue;
    const int64_t out = (int64_t(b) * p.m + gm) * p.n + gn;
    const float shift = bias ? __half2float(bias[gm]) : 0.f;
    float v[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) v[e] = sc[r * L::kLdc + col + e] + shift;
    if (residual) {
      const uint4 raw = *reinterpret_cast<const uint4*>(residual + out);
      const __half2* pairs = reinterpret_cast<const __half2*>(&raw);
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float2 f = __half22float2(pairs[e]);
        v[2 * e] += f.x, v[2 * e + 1] += f.y;
      }
    }
    if (p.act == Activation::kRelu)
#pragma unroll
      for (int e = 0; e < 8; ++e) v[e] = v[e] > 0.f ? v[e] : 0.f;
    uint4 packed;
    __half2* halves = reinterpret_cast<__half2*>(&packed);
#pragma unroll
    for (int e = 0; e < 4; ++e) halves[e] = __floats2half2_rn(v[2 * e], v[2 * e + 1]);
    *reinterpret_cast<uint4*>(y + out) = packed;
  }
}

bool aligned16(const void* ptr) { return ptr == nullptr || reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

int multiprocessors() {
  static const int count = [] {
    int device = 0, sms = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess)
      return 132;  // an H100 SXM
    return sms;
  }();
  return count;
}

template <int TM, int TN>
dim3 tiles_grid(const GemmConv& p) {
  return dim3(unsigned((p.n + TN - 1) / TN), unsigned((p.m + TM - 1) / TM), unsigned(p.batch));
}

}  // namespace

bool gemm_conv_pipelined_applies(DType dtype, const GemmConv& p, const void* w, const void* x, const void* residual,
                                 const void* y) {
  if (p.norm.partials && !gemm_norm_applies(p.k, p.n, p.norm.groups)) return false;
  return dtype == DType::kF16 && !p.implicit && p.k % 8 == 0 && p.n % 8 == 0 && p.x_batch_stride % 8 == 0 &&
         aligned16(w) && aligned16(x) && aligned16(residual) && aligned16(y);
}

bool gemm_norm_applies(int k, int n, int groups) {
  return k % 8 == 0 && n % 8 == 0 && k <= kMaxGemmNormRows && groups > 0 && k % groups == 0;
}

void launch_gemm_conv_pipelined(const GemmConv& p, const void* w, const void* x, const void* bias, const void* residual,
                                void* y, cudaStream_t s) {
  auto* ww = static_cast<const __half*>(w);
  auto* xx = static_cast<const __half*>(x);
  auto* bb = static_cast<const __half*>(bias);
  auto* rr = static_cast<const __half*>(residual);
  auto* yy = static_cast<__half*>(y);
  // 64x64 tiles once they fill the GPU; below that, 32x32 tiles put more multiprocessors to work on
  // the loads, which is what bounds a small GEMM.
  const int64_t big_tiles = int64_t((p.n + 63) / 64) * ((p.m + 63) / 64) * p.batch;
  const bool shallow = p.k <= 2 * kTileK;
  const bool norm = p.norm.partials != nullptr;
  auto go = [&]<int TM, int TN, int kStages>() {
    if (norm)
      launch(gemm_conv_pipelined_kernel<TM, TN, kStages, true>, tiles_grid<TM, TN>(p), kPipeThreads, 0, s, p, ww, xx,
             bb, rr, yy);
    else
      launch(gemm_conv_pipelined_kernel<TM, TN, kStages, false>, tiles_grid<TM, TN>(p), kPipeThreads, 0, s, p, ww, xx,
             bb, rr, yy);
  };
  if (big_tiles >= multiprocessors()) {
    if (shallow)
      go.template operator()<64, 64, kShallowStages>();
    else
      go.template operator()<64, 64, kDeepStages>();
  } else {
    if (shallow)
      go.template operator()<32, 32, kShallowStages>();
    else
      go.template operator()<32, 32, kDeepStages>();
  }
}

}  // namespace kestrel::cuda
