// The FP32 accumulators of the WMMA GEMM kernels (gemm_conv.cu, gemm_conv_pipelined.cu): each warp
// holds FI x FJ 16x16 fragments of the block's output tile, starting at row `wm`, column `wn`.
#pragma once
#include <mma.h>

namespace kestrel::cuda {

using Accumulator = nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float>;

template <int FI, int FJ>
__device__ __forceinline__ void zero_accumulators(Accumulator (&acc)[FI][FJ]) {
#pragma unroll
  for (int i = 0; i < FI; ++i)
#pragma unroll
    for (int j = 0; j < FJ; ++j) nvcuda::wmma::fill_fragment(acc[i][j], 0.f);
}

// Into the row-major float tile `tile` (leading dimension ld), for the epilogue to read.
template <int FI, int FJ>
__device__ __forceinline__ void store_accumulators(float* tile, int ld, int wm, int wn, const Accumulator (&acc)[FI][FJ]) {
#pragma unroll
  for (int i = 0; i < FI; ++i)
#pragma unroll
    for (int j = 0; j < FJ; ++j)
      nvcuda::wmma::store_matrix_sync(tile + (wm + 16 * i) * ld + wn + 16 * j, acc[i][j], ld, nvcuda::wmma::mem_row_major);
}

}  // namespace kestrel::cuda
