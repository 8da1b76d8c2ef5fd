// The FP32 GEMM of a 1x1 convolution on plain values, one image:
//   Y[m, j] = act(sum_k W[m, k] X[k, j] + bias[m] + residual[m, j])
// with W [M, K], X [K, N], Y and the residual [M, N], all row-major. The AVX-512 implementation
// (avx512/pointwise_gemm_avx512.cpp) keeps a 6 x 64 block of Y in 24 registers while it runs over
// K, broadcasting one weight against four 16-float vectors of X per multiply-add row; bias,
// residual and activation are applied to the registers before the single store.
#pragma once
#include <cstdint>

// No other Kestrel or standard-library headers: the AVX-512 file includes this one.
namespace kestrel::cpu::fast {

enum class GemmActivation : int { kNone = 0, kRelu = 1, kClip = 2 };

struct PointwiseGemm {
  const float* w = nullptr;
  const float* x = nullptr;
  const float* bias = nullptr;      // [M] or null
  const float* residual = nullptr;  // [M, N] or null
  float* y = nullptr;
  int64_t m = 0, n = 0, k = 0;
  GemmActivation activation = GemmActivation::kNone;
  float lo = 0, hi = 0;  // Clip bounds
};

// Columns of Y one block covers: callers split N between threads in multiples of it.
constexpr int64_t kPointwiseGemmColumns = 64;

// Rows [m_begin, m_end) and columns [n_begin, n_end) of Y.
void pointwise_gemm_avx512(const PointwiseGemm& p, int64_t m_begin, int64_t m_end, int64_t n_begin, int64_t n_end);

}  // namespace kestrel::cpu::fast
