// kestrel.QConv on integers (kernels.h, "integer convolution"; docs/int8.md, "INT8 on CUDA").
//
// The GEMM (1x1 convolutions, and the im2col matrix of other one-group convolutions) runs on the
// int8 tensor cores: WMMA m16n16k16 with signed 8-bit operands and int32 accumulators, fed by a
// cp.async pipeline of 64-deep K tiles. Every 16x16 operand fragment is kept as one contiguous
// 256-byte block in shared memory (rows of 16 bytes), so that each fragment load starts on a
// 256-byte boundary whatever its K offset, which a row-major tile of int8 rows cannot give. The
// epilogue scales each int32 sum once, adds bias and residual, applies ReLU and requantizes or
// converts, eight outputs per thread.
#include <mma.h>

#include "backend/cuda/cp_async.cuh"
#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {
namespace {

// What the epilogue needs, on the device.
struct QConvEpilogue {
  const float* w_scale;
  const float* bias;
  const void* residual;
  float x_scale, y_scale;
  bool per_channel_scale, relu;
};

template <typename R>
__device__ __forceinline__ float qconv_value(int32_t acc, const QConvEpilogue& e, int m, int64_t index) {
  float f = float(acc) * (e.x_scale * e.w_scale[e.per_channel_scale ? m : 0]);
  if (e.bias) f += e.bias[m];
  if (e.residual) f += to_float(static_cast<const R*>(e.residual)[index]);
  if (e.relu) f = fmaxf(f, 0.f);
  return f;
}

// ---- direct: one thread per output, any shape

template <typename X, typename R, typename Y>
__global__ void qconv_direct_kernel(Conv2d p, const X* __restrict__ x, const int8_t* __restrict__ w,
                                    QConvEpilogue e, Y* __restrict__ y) {
  await_previous_kernel();
  const int64_t total = int64_t(p.n) * p.k * p.oh * p.ow;
  const int in_per_group = p.c / p.groups, out_per_group = p.k / p.groups;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ox = int(i % p.ow);
    int64_t t = i / p.ow;
    const int oy = int(t % p.oh);
    t /= p.oh;
    const int m = int(t % p.k), b = int(t / p.k);
    const int first_channel = (m / out_per_group) * in_per_group;
    int32_t acc = 0;
    for (int ci = 0; ci < in_per_group; ++ci) {
      const X* plane = x + (int64_t(b) * p.c + first_channel + ci) * p.h * p.w;
      const int8_t* taps = w + (int64_t(m) * in_per_group + ci) * p.kh * p.kw;
      for (int ky = 0; ky < p.kh; ++ky) {
        const int iy = oy * p.sh - p.ph + ky * p.dh;
        if (iy < 0 || iy >= p.h) continue;
        for (int kx = 0; kx < p.kw; ++kx) {
          const int ix = ox * p.sw - p.pw + kx * p.dw;
          if (ix >= 0 && ix < p.w) acc += int32_t(plane[int64_t(iy) * p.w + ix]) * int32_t(taps[ky * p.kw + kx]);
        }
      }
    }
    y[i] = convert_or_quantize<Y>(qconv_value<R>(acc, e, m, i), e.y_scale);
  }
}

// ---- depthwise 3x3: conv.cu's depthwise layout (a 2-D tile of output pixels per block, planes
// along z, 32-bit index arithmetic), on integers

template <typename X, typename R, typename Y>
__global__ void qconv_depthwise3x3_kernel(Conv2d p, const X* __restrict__ x, const int8_t* __restrict__ w,
                                          QConvEpilogue e, Y* __restrict__ y, int64_t planes) {
  await_previous_kernel();
  const int ox = int(blockIdx.x * blockDim.x + threadIdx.x);
  const int oy = int(blockIdx.y * blockDim.y + threadIdx.y);
  if (ox >= p.ow || oy >= p.oh) return;
  const int64_t in_plane = int64_t(p.h) * p.w, out_plane = int64_t(p.oh) * p.ow;
  const int iy0 = oy * p.sh - p.ph, ix0 = ox * p.sw - p.pw;
  for (int64_t plane = blockIdx.z; plane < planes; plane += gridDim.z) {  // plane = n * k + k
    const int k = int(plane % p.k);
    const X* xc = x + plane * in_plane;
    const int8_t* wk = w + k * 9;
    int32_t acc = 0;
#pragma unroll
    for (int ky = 0; ky < 3; ++ky) {
      const int iy = iy0 + ky;
      if (iy < 0 || iy >= p.h) continue;
#pragma unroll
      for (int kx = 0; kx < 3; ++kx) {
        const int ix = ix0 + kx;
        if (ix >= 0 && ix < p.w) acc += int32_t(xc[iy * p.w + ix]) * int32_t(wk[ky * 3 + kx]);
      }
    }
    const int64_t i = plane * out_plane + int64_t(oy) * p.ow + ox;
    y[i] = convert_or_quantize<Y>(qconv_value<R>(acc, e, k, i), e.y_scale);
  }
}

// ---- the tensor-core GEMM: Y_b[m, j] = W[m, k] X_b[k, j], K and N multiples of 16

constexpr int kGemmThreads = 128;  // four warps, 2x2 over the 64x64 output tile, 32x32 each
constexpr int kTile = 64;          // output rows and columns per block
constexpr int kTileK = 64;         // K per pipeline stage (bytes of a W row)
constexpr int kStages = 3;
constexpr int kStageBytes = 2 * kTile * kTileK;  // the W tile, then the X tile
constexpr int kLdc = kTile + 4;                  // int32 accumulators staged for the epilogue
constexpr int kSharedBytes =
    kStages * kStageBytes > kTile * kLdc * 4 ? kStages * kStageBytes : kTile * kLdc * 4;

struct GemmShape {
  int batch = 1, m = 0, n = 0, k = 0;
  int64_t x_batch_stride = 0;
};

// Byte offset of 16-byte row `row` of fragment block `block`: W tiles are stored as [k / 16][m][16]
// (a block per 16 of K, rows along m), X tiles as [n / 16][k][16] (a block per 16 columns of N,
// rows along k).
__device__ __forceinline__ int fragment_row(int block, int rows_per_block, int row) {
  return (block * rows_per_block + row) * 16;
}

template <typename Y>
__device__ __forceinline__ void store8(Y* dst, const Y (&v)[8]) {
  if constexpr (sizeof(Y) == 1) {
    *reinterpret_cast<uint2*>(dst) = *reinterpret_cast<const uint2*>(v);
  } else if constexpr (sizeof(Y) == 2) {
    *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(v);
  } else {
    reinterpret_cast<uint4*>(dst)[0] = reinterpret_cast<const uint4*>(v)[0];
    reinterpret_cast<uint4*>(dst)[1] = reinterpret_cast<const uint4*>(v)[1];
  }
}

// 16 bytes of a row at `src` (its first `valid` bytes; zeros after) into shared memory, with byte
// loads: the path for rows that are not 16-byte aligned (K or the pixel count not a multiple of 16).
__device__ __forceinline__ void copy16_bytes(unsigned char* shared, const int8_t* src, int valid) {
  uint4 chunk = make_uint4(0, 0, 0, 0);
  unsigned char* bytes = reinterpret_cast<unsigned char*>(&chunk);
#pragma unroll
  for (int i = 0; i < 16; ++i) bytes[i] = i < valid ? static_cast<unsigned char>(__ldg(src + i)) : 0;
  *reinterpret_cast<uint4*>(shared) = chunk;
}

// kAligned: K and N multiples of 16, 16-byte aligned pointers (cp.async copies, eight outputs per
// store); otherwise byte loads into the same tiles and one output per store.
template <typename R, typename Y, bool kAligned>
__global__ void __launch_bounds__(kGemmThreads)
    qconv_gemm_kernel(GemmShape p, const int8_t* __restrict__ w, const int8_t* __restrict__ x, QConvEpilogue e,
                      Y* __restrict__ y) {
  await_previous_kernel();
  using namespace nvcuda;
  __shared__ __align__(256) unsigned char smem[kSharedBytes];
  const int b = blockIdx.z, m0 = blockIdx.y * kTile, n0 = blockIdx.x * kTile;
  const int8_t* xb = x + int64_t(b) * p.x_batch_stride;

  auto load_stage = [&](int stage, int k0) {
    unsigned char* sw = smem + stage * kStageBytes;
    unsigned char* sx = sw + kTile * kTileK;
    for (int c = threadIdx.x; c < kTile * kTileK / 16; c += kGemmThreads) {
      const int r = c / (kTileK / 16), s = c % (kTileK / 16);
      const int gm = m0 + r, gk = k0 + 16 * s;
      if constexpr (kAligned) {
        const bool valid = gm < p.m && gk < p.k;  // K % 16 == 0: a chunk is all in or all out
        copy16_async(sw + fragment_row(s, kTile, r), valid ? w + int64_t(gm) * p.k + gk : w, valid);
      } else {
        const int valid = gm < p.m ? min(16, max(0, p.k - gk)) : 0;
        copy16_bytes(sw + fragment_row(s, kTile, r), w + int64_t(gm < p.m ? gm : 0) * p.k + gk, valid);
      }
    }
    for (int c = threadIdx.x; c < kTileK * kTile / 16; c += kGemmThreads) {
      const int r = c / (kTile / 16), s = c % (kTile / 16);
      const int gk = k0 + r, gn = n0 + 16 * s;
      if constexpr (kAligned) {
        const bool valid = gk < p.k && gn < p.n;
        copy16_async(sx + fragment_row(s, kTileK, r), valid ? xb + int64_t(gk) * p.n + gn : xb, valid);
      } else {
        const int valid = gk < p.k ? min(16, max(0, p.n - gn)) : 0;
        copy16_bytes(sx + fragment_row(s, kTileK, r), xb + int64_t(gk < p.k ? gk : 0) * p.n + gn, valid);
      }
    }
  };

  const int warp = threadIdx.x / 32;
  const int wm = (warp / 2) * 32, wn = (warp % 2) * 32;
  wmma::fragment<wmma::accumulator, 16, 16, 16, int> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0);

  const int k_tiles = (p.k + kTileK - 1) / kTileK;
  for (int s = 0; s < kStages - 1; ++s) {  // one commit group per stage, empty past the end
    if (s < k_tiles) load_stage(s, s * kTileK);
    commit_copies();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    wait_copies<kStages - 2>();  // tile kt has landed (for this thread's copies) ...
    __syncthreads();             // ... for every thread's, and tile kt - 1's stage is free again
    const int next = kt + kStages - 1;
    if (next < k_tiles) load_stage(next % kStages, next * kTileK);
    commit_copies();
    const unsigned char* sw = smem + (kt % kStages) * kStageBytes;
    const unsigned char* sx = sw + kTile * kTileK;
#pragma unroll
    for (int s = 0; s < kTileK / 16; ++s) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, signed char, wmma::row_major> fa[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, signed char, wmma::row_major> fb[2];
#pragma unroll
      for (int i = 0; i < 2; ++i)
        wmma::load_matrix_sync(fa[i], reinterpret_cast<const signed char*>(sw + fragment_row(s, kTile, wm + 16 * i)), 16);
#pragma unroll
      for (int j = 0; j < 2; ++j)
        wmma::load_matrix_sync(fb[j],
                               reinterpret_cast<const signed char*>(sx + fragment_row((wn + 16 * j) / 16, kTileK, 16 * s)),
                               16);
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
  }
  wait_copies<0>();
  __syncthreads();  // every warp is done with the tiles: the accumulators may reuse their memory

  int* const sc = reinterpret_cast<int*>(smem);
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(sc + (wm + 16 * i) * kLdc + wn + 16 * j, acc[i][j], kLdc, wmma::mem_row_major);
  __syncthreads();

  // Eight consecutive outputs per thread (aligned: N % 16 == 0, a group of eight is all in or all
  // out, one vector store).
  for (int c = threadIdx.x; c < kTile * kTile / 8; c += kGemmThreads) {
    const int r = c / (kTile / 8), col = (c % (kTile / 8)) * 8;
    const int gm = m0 + r, gn = n0 + col;
    if (gm >= p.m || gn >= p.n) continue;
    const int64_t out = (int64_t(b) * p.m + gm) * p.n + gn;
    if constexpr (kAligned) {
      Y v[8];
#pragma unroll
      for (int i = 0; i < 8; ++i)
        v[i] = convert_or_quantize<Y>(qconv_value<R>(sc[r * kLdc + col + i], e, gm, out + i), e.y_scale);
      store8(y + out, v);
    } else {
      for (int i = 0; i < 8 && gn + i < p.n; ++i)
        y[out + i] = convert_or_quantize<Y>(qconv_value<R>(sc[r * kLdc + col + i], e, gm, out + i), e.y_scale);
    }
  }
}

// ---- dispatch

template <typename F>
void dispatch_output(DType t, F&& f) {
  switch (t) {
    case DType::kI8: return f.template operator()<int8_t>();
    case DType::kU8: return f.template operator()<uint8_t>();
    case DType::kF32: return f.template operator()<float>();
    case DType::kF16: return f.template operator()<__half>();
    default: throw std::invalid_argument("QConv: the output must be int8, uint8, float32 or float16");
  }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

int64_t im2col_rows(const Conv2d& c) { return int64_t(c.c) * c.kh * c.kw; }
int64_t output_plane(const Conv2d& c) { return int64_t(c.oh) * c.ow; }

}  // namespace

QConvKernel choose_qconv_kernel(const QConv& p) {
  const Conv2d& c = p.conv;
  if (c.groups == c.c && c.groups == c.k && c.kh == 3 && c.kw == 3 && c.dh == 1 && c.dw == 1)
    return QConvKernel::kDepthwise3x3;
  // A short reduction (the RGB stem, K = 27) is not worth an im2col launch and a mostly empty K
  // tile, as in the float path (small_reduction_conv).
  if (p.x != DType::kI8 || c.groups != 1 || small_reduction_conv(c)) return QConvKernel::kDirect;
  const bool plain = c.kh == 1 && c.kw == 1 && c.sh == 1 && c.sw == 1 && c.ph == 0 && c.pw == 0 && c.oh == c.h &&
                     c.ow == c.w;
  return plain ? QConvKernel::kGemm : QConvKernel::kIm2colGemm;
}

const char* qconv_kernel_name(QConvKernel kernel) {
  switch (kernel) {
    case QConvKernel::kGemm: return "cuda.qconv_gemm";
    case QConvKernel::kIm2colGemm: return "cuda.im2col+cuda.qconv_gemm";
    case QConvKernel::kDepthwise3x3: return "cuda.qconv_depthwise3x3";
    case QConvKernel::kDirect: return "cuda.qconv_direct";
  }
  return "?";
}

size_t qconv_scratch_bytes(const QConv& p, QConvKernel kernel) {
  return kernel == QConvKernel::kIm2colGemm ? size_t(p.conv.n) * size_t(im2col_rows(p.conv)) * size_t(output_plane(p.conv))
                                            : 0;
}

void launch_qconv(const QConv& p, QConvKernel kernel, const void* x, const void* w, const void* w_scale,
                  const void* bias, const void* residual, void* y, void* scratch, cudaStream_t s) {
  const Conv2d& c = p.conv;
  const int64_t total = int64_t(c.n) * c.k * output_plane(c);
  if (total == 0) return;
  const QConvEpilogue e{static_cast<const float*>(w_scale), static_cast<const float*>(bias), residual, p.x_scale,
                        p.y_scale, p.per_channel_scale, c.act == Activation::kRelu};
  const void* gemm_x = kernel == QConvKernel::kIm2colGemm ? scratch : x;
  // The cp.async tiles and vector stores need 16-byte rows; other shapes and pointers take the
  // byte-load variant of the same GEMM.
  const bool aligned = im2col_rows(c) % 16 == 0 && output_plane(c) % 16 == 0 && aligned16(gemm_x) && aligned16(w) &&
                       aligned16(y) && (residual == nullptr || aligned16(residual));
  dispatch_output(p.y, [&]<typename Y>() {
    dispatch_float(p.residual, [&]<typename R>() {
      if (kernel == QConvKernel::kDepthwise3x3) {
        const int64_t planes = int64_t(c.n) * c.k;
        const PlaneTiles t = plane_tiles(c.oh, c.ow, planes);
        const auto w8 = static_cast<const int8_t*>(w);
        if (p.x == DType::kU8)
          launch(qconv_depthwise3x3_kernel<uint8_t, R, Y>, t.grid, t.block, 0, s, c, static_cast<const uint8_t*>(x), w8, e,
                 static_cast<Y*>(y), planes);
        else
          launch(qconv_depthwise3x3_kernel<int8_t, R, Y>, t.grid, t.block, 0, s, c, static_cast<const int8_t*>(x), w8, e,
                 static_cast<Y*>(y), planes);
        return;
      }
      if (kernel == QConvKernel::kDirect) {
        const auto w8 = static_cast<const int8_t*>(w);
        if (p.x == DType::kU8)
          launch(qconv_direct_kernel<uint8_t, R, Y>, grid_for(total), kThreads, 0, s, c, static_cast<const uint8_t*>(x),
                 w8, e, static_cast<Y*>(y));
        else
          launch(qconv_direct_kernel<int8_t, R, Y>, grid_for(total), kThreads, 0, s, c, static_cast<const int8_t*>(x),
                 w8, e, static_cast<Y*>(y));
        return;
      }
      if (kernel == QConvKernel::kIm2colGemm) launch_im2col(DType::kI8, c, x, scratch, s);
      GemmShape g;
      g.batch = c.n, g.m = c.k, g.n = int(output_plane(c)), g.k = int(im2col_rows(c));
      g.x_batch_stride = int64_t(g.k) * g.n;
      const dim3 grid(unsigned((g.n + kTile - 1) / kTile), unsigned((g.m + kTile - 1) / kTile), unsigned(g.batch));
      if (aligned)
        launch(qconv_gemm_kernel<R, Y, true>, grid, kGemmThreads, 0, s, g, static_cast<const int8_t*>(w),
               static_cast<const int8_t*>(gemm_x), e, static_cast<Y*>(y));
      else
        launch(qconv_gemm_kernel<R, Y, false>, grid, kGemmThreads, 0, s, g, static_cast<const int8_t*>(w),
               static_cast<const int8_t*>(gemm_x), e, static_cast<Y*>(y));
    });
  });
}

}  // namespace kestrel::cuda
