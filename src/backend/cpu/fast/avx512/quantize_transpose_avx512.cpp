// AVX-512 kernels of quantize_transpose.h. Compiled with -mavx512* like the other files here.
// A 16-channel x 16-pixel tile: 16 rows of 16 floats are quantized into 16 rows of 16 bytes
// (channel-major), then transposed with four rounds of byte/word/dword/qword unpacks into 16
// pixel rows of 16 channels, each stored with one 16-byte store. Tails (channels or pixels not a
// multiple of 16) go through the scalar definition.
// GCC 12 warns about the undefined vectors inside its own max/min intrinsics.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "backend/cpu/fast/quantize_transpose.h"
#include "quant/int8_math.h"

namespace kestrel::cpu::fast {
namespace {

// 16 lanes of x / scale, saturated and rounded half to even (the MXCSR default), NaN -> 0.
inline __m128i quantize16(const float* x, __m512 scale, bool is_uint8) {
  const __m512 v = _mm512_loadu_ps(x);
  const __mmask16 ordered = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
  __m512 q = _mm512_maskz_mov_ps(ordered, _mm512_div_ps(v, scale));
  // Clamp first: out-of-range floats would convert to INT_MIN.
  q = _mm512_max_ps(q, _mm512_set1_ps(is_uint8 ? 0.f : -128.f));
  q = _mm512_min_ps(q, _mm512_set1_ps(is_uint8 ? 255.f : 127.f));
  const __m512i i = _mm512_cvtps_epi32(q);
  return is_uint8 ? _mm512_cvtusepi32_epi8(i) : _mm512_cvtsepi32_epi8(i);
}

// r[i] holds channel i of 16 pixels; afterwards out[j] holds pixel j of 16 channels.
inline void transpose16x16(const __m128i r[16], __m128i out[16]) {
  __m128i s1[16], s2[16], s3[16];
  for (int g = 0; g < 8; ++g) {  // channel pairs; [g]: pixels 0-7, [g + 8]: pixels 8-15
    s1[g] = _mm_unpacklo_epi8(r[2 * g], r[2 * g + 1]);
    s1[g + 8] = _mm_unpackhi_epi8(r[2 * g], r[2 * g + 1]);
  }
  for (int h = 0; h < 2; ++h)
    for (int q = 0; q < 4; ++q) {  // channel quads, 4 pixels each
      s2[h * 8 + q] = _mm_unpacklo_epi16(s1[h * 8 + 2 * q], s1[h * 8 + 2 * q + 1]);
      s2[h * 8 + 4 + q] = _mm_unpackhi_epi16(s1[h * 8 + 2 * q], s1[h * 8 + 2 * q + 1]);
    }
  for (int pq = 0; pq < 4; ++pq)
    for (int o = 0; o < 2; ++o) {  // channel octets, 2 pixels each
      s3[pq * 4 + o] = _mm_unpacklo_epi32(s2[pq * 4 + 2 * o], s2[pq * 4 + 2 * o + 1]);
      s3[pq * 4 + 2 + o] = _mm_unpackhi_epi32(s2[pq * 4 + 2 * o], s2[pq * 4 + 2 * o + 1]);
    }
  for (int pp = 0; pp < 8; ++pp) {  // pixel pairs: all 16 channels
    const int base = (pp / 2) * 4 + (pp % 2) * 2;
    out[2 * pp] = _mm_unpacklo_epi64(s3[base], s3[base + 1]);
    out[2 * pp + 1] = _mm_unpackhi_epi64(s3[base], s3[base + 1]);
  }
}

// In-register transpose of 16 rows of 16 floats: four rounds, each swapping the off-diagonal
// d x d blocks (d = 8, 4, 2, 1) of row pairs (i, i + d) with two two-source permutes. The
// permute indices are made once per call (Transpose16), the rounds unrolled so that the rows
// stay in registers.
struct Transpose16 {
  __m512i lo[4], hi[4];  // round k: d = 8 >> k
  Transpose16() {
    for (int k = 0; k < 4; ++k) {
      const int d = 8 >> k;
      alignas(64) int l[16], h[16];
      for (int j = 0; j < 16; ++j) {
        l[j] = (j & d) == 0 ? j : 16 + j - d;
        h[j] = (j & d) == 0 ? j + d : 16 + j;
      }
      lo[k] = _mm512_load_si512(l);
      hi[k] = _mm512_load_si512(h);
    }
  }
  template <int K>
  inline void round(__m512 r[16]) const {
    constexpr int d = 8 >> K;
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      if (i & d) continue;
      const __m512 a = r[i], b = r[i + d];
      r[i] = _mm512_permutex2var_ps(a, lo[K], b);
      r[i + d] = _mm512_permutex2var_ps(a, hi[K], b);
    }
  }
  inline void operator()(__m512 r[16]) const {
    round<0>(r);
    round<1>(r);
    round<2>(r);
    round<3>(r);
  }
};

inline float activate(float v, int activation, float lo, float hi) {
  if (activation == 1) return v < 0 ? 0.f : v;
  if (activation == 2) return v < lo ? lo : (v > hi ? hi : v);
  return v;
}

template <typename Q>
void scalar_tile(const float* x, Q* y, int64_t channels, int64_t pixels, float scale, int64_t c0, int64_t c1,
                 int64_t p0, int64_t p1) {
  for (int64_t p = p0; p < p1; ++p)
    for (int64_t c = c0; c < c1; ++c) y[p * channels + c] = quant::quantize_value<Q>(x[c * pixels + p], scale, 0);
}

}  // namespace

void channels_last_to_plain_avx512(const float* t, const float* r, float* y, int64_t channels, int64_t pixels,
                                   int activation, float lo, float hi, int64_t p_begin, int64_t p_end) {
  const __m512 vlo = _mm512_set1_ps(activation == 1 ? 0.f : lo), vhi = _mm512_set1_ps(hi);
  const Transpose16 transpose16x16;
  const int64_t c_full = channels / 16 * 16;
  auto scalar = [&](int64_t c0, int64_t c1, int64_t p0, int64_t p1) {
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t p = p0; p < p1; ++p) {
        float v = t[p * channels + c];
        if (r) v += r[c * pixels + p];
        y[c * pixels + p] = activate(v, activation, lo, hi);
      }
  };
  // Channel blocks outside, pixels inside: each of the 16 output (and residual) rows is then
  // walked sequentially; with pixels outside, rows 4 KB apart kept evicting each other.
  const int64_t p_full_end = p_begin + (p_end - p_begin) / 16 * 16;
  for (int64_t c = 0; c < c_full; c += 16)
    for (int64_t p = p_begin; p < p_full_end; p += 16) {
      __m512 rows[16];
      for (int i = 0; i < 16; ++i) rows[i] = _mm512_loadu_ps(t + (p + i) * channels + c);
      transpose16x16(rows);
      for (int k = 0; k < 16; ++k) {
        __m512 v = rows[k];
        if (r) v = _mm512_add_ps(v, _mm512_loadu_ps(r + (c + k) * pixels + p));
        if (activation != 0) v = _mm512_max_ps(v, vlo);
        if (activation == 2) v = _mm512_min_ps(v, vhi);
        _mm512_storeu_ps(y + (c + k) * pixels + p, v);
      }
    }
  if (c_full < channels) scalar(c_full, channels, p_begin, p_full_end);
  if (p_full_end < p_end) scalar(0, channels, p_full_end, p_end);
}

void quantize_to_channels_last_avx512(const float* x, void* y, bool is_uint8, int64_t channels, int64_t pixels,
                                      float scale, int64_t p_begin, int64_t p_end) {
  const __m512 vs = _mm512_set1_ps(scale);
  auto* out = static_cast<uint8_t*>(y);
  const int64_t c_full = channels / 16 * 16;
  int64_t p = p_begin;
  for (; p + 16 <= p_end; p += 16) {
    for (int64_t c = 0; c < c_full; c += 16) {
      __m128i rows[16], cols[16];
      for (int i = 0; i < 16; ++i) rows[i] = quantize16(x + (c + i) * pixels + p, vs, is_uint8);
      transpose16x16(rows, cols);
      for (int j = 0; j < 16; ++j) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (p + j) * channels + c), cols[j]);
    }
    // The last channels (all of them for an RGB input): quantized 16 pixels at a time in vector
    // registers, then interleaved byte by byte (the division is the cost, not the bytes).
    for (int64_t c = c_full; c < channels; ++c) {
      alignas(16) uint8_t q[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(q), quantize16(x + c * pixels + p, vs, is_uint8));
      for (int j = 0; j < 16; ++j) out[(p + j) * channels + c] = q[j];
    }
  }
  if (p < p_end) {
    if (is_uint8)
      scalar_tile(x, out, channels, pixels, scale, 0, channels, p, p_end);
    else
      scalar_tile(x, reinterpret_cast<int8_t*>(out), channels, pixels, scale, 0, channels, p, p_end);
  }
}

void quantize_contiguous_avx512(const float* x, void* y, bool is_uint8, float scale, int64_t begin, int64_t end) {
  const __m512 vs = _mm512_set1_ps(scale);
  auto* out = static_cast<uint8_t*>(y);
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), quantize16(x + i, vs, is_uint8));
  for (; i < end; ++i)
    out[i] = is_uint8 ? quant::quantize_value<uint8_t>(x[i], scale, 0) : uint8_t(quant::quantize_value<int8_t>(x[i], scale, 0));
}

void add_activate_quantize_avx512(const float* t, const float* r, void* y, bool is_uint8, float scale, int activation,
                                  float lo, float hi, int64_t begin, int64_t end) {
  const __m512 vs = _mm512_set1_ps(scale);
  const __m512 vlo = _mm512_set1_ps(activation == 1 ? 0.f : lo), vhi = _mm512_set1_ps(hi);
  auto* out = static_cast<uint8_t*>(y);
  alignas(64) float sum[16];
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    __m512 v = _mm512_add_ps(_mm512_loadu_ps(t + i), _mm512_loadu_ps(r + i));
    if (activation != 0) v = _mm512_max_ps(v, vlo);
    if (activation == 2) v = _mm512_min_ps(v, vhi);
    _mm512_store_ps(sum, v);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), quantize16(sum, vs, is_uint8));
  }
  for (; i < end; ++i) {
    const float v = activate(t[i] + r[i], activation, lo, hi);
    out[i] = is_uint8 ? quant::quantize_value<uint8_t>(v, scale, 0) : uint8_t(quant::quantize_value<int8_t>(v, scale, 0));
  }
}

}  // namespace kestrel::cpu::fast
