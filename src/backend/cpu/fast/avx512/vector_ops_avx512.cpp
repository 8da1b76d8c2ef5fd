// AVX-512 versions of the row kernels of vector_ops.h. This file alone is compiled with
// -mavx512f/bw/dq/vl (CMakeLists.txt); it uses intrinsics and file-local helpers only, so no
// AVX-512 code can leak into inline functions shared with the rest of the library. Tails are
// handled with masked loads and stores.
// GCC 12 warns about the undefined vectors inside its own _mm512_reduce_* helpers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include "backend/cpu/fast/vector_ops.h"

namespace kestrel::cpu::fast {
namespace {

inline __mmask16 tail_mask(int64_t remaining) {
  return remaining >= 16 ? __mmask16(0xffff) : __mmask16((1u << remaining) - 1u);
}

// exp(x) for float lanes: Cephes' expf polynomial on x - n*ln2, scaled by 2^n (scalef handles
// over- and underflow: +inf above ~88.7, 0 below ~-103).
inline __m512 exp_ps(__m512 x) {
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 c1 = _mm512_set1_ps(0.693359375f);
  const __m512 c2 = _mm512_set1_ps(-2.12194440e-4f);
  x = _mm512_min_ps(x, _mm512_set1_ps(88.7228391f));
  x = _mm512_max_ps(x, _mm512_set1_ps(-103.972084f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, c1, x);
  r = _mm512_fnmadd_ps(n, c2, r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 r2 = _mm512_mul_ps(r, r);
  p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_scalef_ps(p, n);
}

inline __m512 sigmoid_ps(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  return _mm512_div_ps(one, _mm512_add_ps(one, exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

// tanh(x) = 1 - 2 / (exp(2x) + 1), exact at the saturating ends.
inline __m512 tanh_ps(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 e = exp_ps(_mm512_add_ps(x, x));
  return _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
}

template <UnaryOp op>
inline __m512 apply_unary(__m512 x, __m512 lo, __m512 hi) {
  if constexpr (op == UnaryOp::kRelu) return _mm512_max_ps(x, _mm512_setzero_ps());
  if constexpr (op == UnaryOp::kSigmoid) return sigmoid_ps(x);
  if constexpr (op == UnaryOp::kClip) return _mm512_min_ps(_mm512_max_ps(x, lo), hi);
  if constexpr (op == UnaryOp::kExp) return exp_ps(x);
  if constexpr (op == UnaryOp::kTanh) return tanh_ps(x);
  return x;
}

template <UnaryOp op>
void unary_loop(const float* x, float* y, int64_t n, float lo_value, float hi_value) {
  const __m512 lo = _mm512_set1_ps(lo_value), hi = _mm512_set1_ps(hi_value);
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    const __m512 c = _mm512_loadu_ps(x + i + 32), d = _mm512_loadu_ps(x + i + 48);
    _mm512_storeu_ps(y + i, apply_unary<op>(a, lo, hi));
    _mm512_storeu_ps(y + i + 16, apply_unary<op>(b, lo, hi));
    _mm512_storeu_ps(y + i + 32, apply_unary<op>(c, lo, hi));
    _mm512_storeu_ps(y + i + 48, apply_unary<op>(d, lo, hi));
  }
  for (; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m, apply_unary<op>(_mm512_maskz_loadu_ps(m, x + i), lo, hi));
  }
}

void unary(UnaryOp op, const float* x, float* y, int64_t n, float lo, float hi) {
  switch (op) {
    case UnaryOp::kRelu: return unary_loop<UnaryOp::kRelu>(x, y, n, lo, hi);
    case UnaryOp::kSigmoid: return unary_loop<UnaryOp::kSigmoid>(x, y, n, lo, hi);
    case UnaryOp::kClip: return unary_loop<UnaryOp::kClip>(x, y, n, lo, hi);
    case UnaryOp::kExp: return unary_loop<UnaryOp::kExp>(x, y, n, lo, hi);
    case UnaryOp::kTanh: return unary_loop<UnaryOp::kTanh>(x, y, n, lo, hi);
  }
}

template <BinaryOp op>
inline __m512 apply_binary(__m512 a, __m512 b) {
  if constexpr (op == BinaryOp::kAdd) return _mm512_add_ps(a, b);
  if constexpr (op == BinaryOp::kSub) return _mm512_sub_ps(a, b);
  if constexpr (op == BinaryOp::kMul) return _mm512_mul_ps(a, b);
  return _mm512_div_ps(a, b);
}

// sa / sb: 1 for a contiguous operand, 0 for a broadcast scalar.
template <BinaryOp op, int sa, int sb>
void binary_loop(const float* a, const float* b, float* y, int64_t n) {
  const __m512 a_scalar = sa == 0 ? _mm512_set1_ps(a[0]) : _mm512_setzero_ps();
  const __m512 b_scalar = sb == 0 ? _mm512_set1_ps(b[0]) : _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a0 = sa ? _mm512_loadu_ps(a + i) : a_scalar, a1 = sa ? _mm512_loadu_ps(a + i + 16) : a_scalar;
    const __m512 b0 = sb ? _mm512_loadu_ps(b + i) : b_scalar, b1 = sb ? _mm512_loadu_ps(b + i + 16) : b_scalar;
    _mm512_storeu_ps(y + i, apply_binary<op>(a0, b0));
    _mm512_storeu_ps(y + i + 16, apply_binary<op>(a1, b1));
  }
  for (; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    // Masked-off lanes read 1 so that a division there cannot trap or produce denormals.
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 av = sa ? _mm512_mask_loadu_ps(one, m, a + i) : a_scalar;
    const __m512 bv = sb ? _mm512_mask_loadu_ps(one, m, b + i) : b_scalar;
    _mm512_mask_storeu_ps(y + i, m, apply_binary<op>(av, bv));
  }
}

template <BinaryOp op>
void binary_strided(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  if (sa && sb) return binary_loop<op, 1, 1>(a, b, y, n);
  if (sa) return binary_loop<op, 1, 0>(a, b, y, n);
  if (sb) return binary_loop<op, 0, 1>(a, b, y, n);
  return binary_loop<op, 0, 0>(a, b, y, n);
}

void binary(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  switch (op) {
    case BinaryOp::kAdd: return binary_strided<BinaryOp::kAdd>(a, sa, b, sb, y, n);
    case BinaryOp::kSub: return binary_strided<BinaryOp::kSub>(a, sa, b, sb, y, n);
    case BinaryOp::kMul: return binary_strided<BinaryOp::kMul>(a, sa, b, sb, y, n);
    case BinaryOp::kDiv: return binary_strided<BinaryOp::kDiv>(a, sa, b, sb, y, n);
  }
}

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    __m512 vmax = _mm512_set1_ps(-__builtin_inff());
    for (int64_t i = 0; i < cols; i += 16) {
      const __mmask16 m = tail_mask(cols - i);
      vmax = _mm512_mask_max_ps(vmax, m, vmax, _mm512_maskz_loadu_ps(m, in + i));
    }
    const __m512 row_max = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
    __m512 vsum = _mm512_setzero_ps();
    for (int64_t i = 0; i < cols; i += 16) {
      const __mmask16 m = tail_mask(cols - i);
      const __m512 e = exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, in + i), row_max));
      vsum = _mm512_mask_add_ps(vsum, m, vsum, e);
      _mm512_mask_storeu_ps(out + i, m, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
    for (int64_t i = 0; i < cols; i += 16) {
      const __mmask16 m = tail_mask(cols - i);
      _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, out + i), inv));
    }
  }
}

// Sums blocks of up to 4096 floats in float lanes (four accumulators), then adds the blocks in
// double: accurate for the long reductions of normalisation layers.
double sum(const float* x, int64_t n) {
  double total = 0;
  for (int64_t start = 0; start < n; start += 4096) {
    const int64_t end = start + 4096 < n ? start + 4096 : n;
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    int64_t i = start;
    for (; i + 64 <= end; i += 64) {
      s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
      s1 = _mm512_add_ps(s1, _mm512_loadu_ps(x + i + 16));
      s2 = _mm512_add_ps(s2, _mm512_loadu_ps(x + i + 32));
      s3 = _mm512_add_ps(s3, _mm512_loadu_ps(x + i + 48));
    }
    for (; i < end; i += 16) s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(tail_mask(end - i), x + i));
    total += double(_mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3))));
  }
  return total;
}

double sum_squared_deviation(const float* x, int64_t n, float mean_value) {
  const __m512 mean = _mm512_set1_ps(mean_value);
  double total = 0;
  for (int64_t start = 0; start < n; start += 4096) {
    const int64_t end = start + 4096 < n ? start + 4096 : n;
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = start;
    for (; i + 32 <= end; i += 32) {
      const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), mean);
      const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), mean);
      s0 = _mm512_fmadd_ps(d0, d0, s0);
      s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; i < end; i += 16) {
      const __mmask16 m = tail_mask(end - i);
      const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), mean);
      s0 = _mm512_fmadd_ps(d, d, s0);
    }
    total += double(_mm512_reduce_add_ps(_mm512_add_ps(s0, s1)));
  }
  return total;
}

void scale_shift(const float* x, float* y, int64_t n, float a_value, float b_value) {
  const __m512 a = _mm512_set1_ps(a_value), b = _mm512_set1_ps(b_value);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(_mm512_loadu_ps(x + i), a, b));
    _mm512_storeu_ps(y + i + 16, _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), a, b));
  }
  for (; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), a, b));
  }
}

void row_sums(const float* x, float* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= cols; i += 32) {
      s0 = _mm512_add_ps(s0, _mm512_loadu_ps(in + i));
      s1 = _mm512_add_ps(s1, _mm512_loadu_ps(in + i + 16));
    }
    for (; i < cols; i += 16) s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(tail_mask(cols - i), in + i));
    out[r] = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  }
}

float dot(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void relu_scale(const float* x, float* y, int64_t n, float scale) {
  const __m512 s = _mm512_set1_ps(scale), zero = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_max_ps(_mm512_loadu_ps(x + i), zero), s));
    _mm512_storeu_ps(y + i + 16, _mm512_mul_ps(_mm512_max_ps(_mm512_loadu_ps(x + i + 16), zero), s));
  }
  for (; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_max_ps(_mm512_maskz_loadu_ps(m, x + i), zero), s));
  }
}

void axpy(float a_value, const float* x, float* y, int64_t n) {
  const __m512 a = _mm512_set1_ps(a_value);
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    _mm512_storeu_ps(y + i + 16, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16)));
  }
  for (; i < n; i += 16) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

const VectorOps kAvx512Ops{unary, binary, softmax_rows, sum, sum_squared_deviation, scale_shift, row_sums, dot,
                           relu_scale, axpy};

}  // namespace

const VectorOps& avx512_ops() { return kAvx512Ops; }

}  // namespace kestrel::cpu::fast
