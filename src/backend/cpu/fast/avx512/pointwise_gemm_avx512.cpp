// pointwise_gemm.h on AVX-512 (this file alone is compiled with -mavx512f/bw/dq/vl). Register
// blocks of up to 6 rows x 4 vectors (64 columns); a last partial vector is loaded and stored
// with a mask, so any N works without padding.
// GCC 12 warns about the undefined vectors inside its own max/min intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "backend/cpu/fast/pointwise_gemm.h"

namespace kestrel::cpu::fast {
namespace {

constexpr int kRows = 6, kVectors = 4;

template <int MR, int NV>
void block(const PointwiseGemm& p, int64_t m0, int64_t n0, __mmask16 last) {
  // Every loop over the block is unrolled completely (the pragmas): a loop left rolled would keep
  // the accumulators in memory, and GCC then stores all of them on every step of K.
  __m512 acc[MR][NV];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    const __m512 start = _mm512_set1_ps(p.bias ? p.bias[m0 + i] : 0.f);
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = start;
  }
  const float* x = p.x + n0;
  const float* w = p.w + m0 * p.k;
  for (int64_t k = 0; k < p.k; ++k, x += p.n) {
    __m512 xv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j)
      xv[j] = j == NV - 1 ? _mm512_maskz_loadu_ps(last, x + 16 * j) : _mm512_loadu_ps(x + 16 * j);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
      const __m512 wv = _mm512_set1_ps(w[i * p.k + k]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = _mm512_fmadd_ps(wv, xv[j], acc[i][j]);
    }
  }
  const __m512 lo = _mm512_set1_ps(p.activation == GemmActivation::kClip ? p.lo : 0.f);
  const __m512 hi = _mm512_set1_ps(p.hi);
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i) {
    float* y = p.y + (m0 + i) * p.n + n0;
    const float* r = p.residual ? p.residual + (m0 + i) * p.n + n0 : nullptr;
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const __mmask16 mask = j == NV - 1 ? last : __mmask16(0xffff);
      __m512 v = acc[i][j];
      if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, r + 16 * j));
      if (p.activation != GemmActivation::kNone) v = _mm512_max_ps(v, lo);
      if (p.activation == GemmActivation::kClip) v = _mm512_min_ps(v, hi);
      _mm512_mask_storeu_ps(y + 16 * j, mask, v);
    }
  }
}

template <int MR>
void rows(const PointwiseGemm& p, int64_t m0, int64_t n0, int vectors, __mmask16 last) {
  switch (vectors) {
    case 1: return block<MR, 1>(p, m0, n0, last);
    case 2: return block<MR, 2>(p, m0, n0, last);
    case 3: return block<MR, 3>(p, m0, n0, last);
    default: return block<MR, 4>(p, m0, n0, last);
  }
}

void any_block(const PointwiseGemm& p, int64_t m0, int mr, int64_t n0, int vectors, __mmask16 last) {
  switch (mr) {
    case 1: return rows<1>(p, m0, n0, vectors, last);
    case 2: return rows<2>(p, m0, n0, vectors, last);
    case 3: return rows<3>(p, m0, n0, vectors, last);
    case 4: return rows<4>(p, m0, n0, vectors, last);
    case 5: return rows<5>(p, m0, n0, vectors, last);
    default: return rows<6>(p, m0, n0, vectors, last);
  }
}

}  // namespace

void pointwise_gemm_avx512(const PointwiseGemm& p, int64_t m_begin, int64_t m_end, int64_t n_begin, int64_t n_end) {
  // Column blocks outside, rows inside: a block's slice of X (K x 64 floats) stays in cache
  // while every row block of W passes over it.
  for (int64_t n0 = n_begin; n0 < n_end; n0 += kPointwiseGemmColumns) {
    const int64_t columns = n_end - n0 < kPointwiseGemmColumns ? n_end - n0 : kPointwiseGemmColumns;
    const int vectors = int((columns + 15) / 16);
    const int64_t tail = columns - 16 * (vectors - 1);
    const __mmask16 last = tail >= 16 ? __mmask16(0xffff) : __mmask16((1u << tail) - 1u);
    for (int64_t m0 = m_begin; m0 < m_end; m0 += kRows) {
      const int mr = int(m_end - m0 < kRows ? m_end - m0 : kRows);
      if (mr == kRows && vectors == kVectors)
        block<kRows, kVectors>(p, m0, n0, last);
      else
        any_block(p, m0, mr, n0, vectors, last);
    }
  }
}

}  // namespace kestrel::cpu::fast
