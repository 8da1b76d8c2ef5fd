// Row-level float kernels with two implementations: AVX-512 (src/backend/cpu/fast/avx512/,
// compiled for AVX-512 only) and portable C++ (generic_ops.cpp). Layer kernels call them through
// a VectorOps table chosen by the kernel implementation's instruction set, so the same layer code
// serves "cpu.avx512.*" and "cpu.generic.*". Each function works on one contiguous range; the
// callers split work between threads.
#pragma once
#include <cstdint>

// No other Kestrel or standard-library headers: the AVX-512 file includes this one, and must not
// instantiate inline code that the rest of the library shares.
namespace kestrel::cpu::fast {

enum class Isa : uint8_t;  // kernel.h

enum class UnaryOp : int { kRelu = 0, kSigmoid = 1, kClip = 2, kExp = 3, kTanh = 4 };
enum class BinaryOp : int { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

struct VectorOps {
  // y[i] = op(x[i]); Clip uses lo / hi.
  void (*unary)(UnaryOp op, const float* x, float* y, int64_t n, float lo, float hi);
  // y[i] = a[i * sa] op b[i * sb], with sa, sb in {0, 1} (0: a broadcast scalar).
  void (*binary)(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n);
  // Softmax of each of `rows` contiguous rows of `cols` values.
  void (*softmax_rows)(const float* x, float* y, int64_t rows, int64_t cols);
  // Sum of x and, in the second pass, sum of (x - mean)^2 (both in double).
  double (*sum)(const float* x, int64_t n);
  double (*sum_squared_deviation)(const float* x, int64_t n, float mean);
  // y[i] = x[i] * a + b.
  void (*scale_shift)(const float* x, float* y, int64_t n, float a, float b);
  // out[r] = sum of row r (rows of `cols` contiguous values).
  void (*row_sums)(const float* x, float* out, int64_t rows, int64_t cols);
  // Sum of a[i] * b[i].
  float (*dot)(const float* a, const float* b, int64_t n);
  // y[i] = max(x[i], 0) * s.
  void (*relu_scale)(const float* x, float* y, int64_t n, float s);
  // y[i] += a * x[i].
  void (*axpy)(float a, const float* x, float* y, int64_t n);
};

const VectorOps& generic_ops();
const VectorOps& avx512_ops();  // only call on CPUs with AVX-512 (host_isa() >= kAvx512Core)
const VectorOps& ops_for(Isa isa);

}  // namespace kestrel::cpu::fast
