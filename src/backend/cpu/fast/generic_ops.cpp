// Portable versions of the row kernels of vector_ops.h (any x86-64 CPU; the compiler vectorises
// what it can), and the choice between them and the AVX-512 ones.
#include <algorithm>
#include <cmath>

#include "backend/cpu/fast/kernel.h"
#include "backend/cpu/fast/vector_ops.h"

namespace kestrel::cpu::fast {
namespace {

float apply(UnaryOp op, float x, float lo, float hi) {
  switch (op) {
    case UnaryOp::kRelu: return x < 0.0f ? 0.0f : x;
    case UnaryOp::kSigmoid: return 1.0f / (1.0f + std::exp(-x));
    case UnaryOp::kClip: return std::min(std::max(x, lo), hi);
    case UnaryOp::kExp: return std::exp(x);
    case UnaryOp::kTanh: return std::tanh(x);
  }
  return x;
}

void unary(UnaryOp op, const float* x, float* y, int64_t n, float lo, float hi) {
  if (op == UnaryOp::kRelu) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
    return;
  }
  for (int64_t i = 0; i < n; ++i) y[i] = apply(op, x[i], lo, hi);
}

template <typename F>
void binary_loop(const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n, F f) {
  if (sa && sb)
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[i]);
  else if (sa)
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[i], b[0]);
  else if (sb)
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[0], b[i]);
  else
    for (int64_t i = 0; i < n; ++i) y[i] = f(a[0], b[0]);
}

void binary(BinaryOp op, const float* a, int64_t sa, const float* b, int64_t sb, float* y, int64_t n) {
  switch (op) {
    case BinaryOp::kAdd: return binary_loop(a, sa, b, sb, y, n, [](float p, float q) { return p + q; });
    case BinaryOp::kSub: return binary_loop(a, sa, b, sb, y, n, [](float p, float q) { return p - q; });
    case BinaryOp::kMul: return binary_loop(a, sa, b, sb, y, n, [](float p, float q) { return p * q; });
    case BinaryOp::kDiv: return binary_loop(a, sa, b, sb, y, n, [](float p, float q) { return p / q; });
  }
}

void softmax_rows(const float* x, float* y, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* out = y + r * cols;
    float max = -INFINITY;
    for (int64_t i = 0; i < cols; ++i) max = std::max(max, in[i]);
    float total = 0;
    for (int64_t i = 0; i < cols; ++i) total += out[i] = std::exp(in[i] - max);
    const float inv = 1.0f / total;
    for (int64_t i = 0; i < cols; ++i) out[i] *= inv;
  }
}

double sum(const float* x, int64_t n) {
  double total = 0;
  for (int64_t start = 0; start < n; start += 4096) {
    float part = 0;
    for (int64_t i = start; i < std::min(n, start + 4096); ++i) part += x[i];
    total += part;
  }
  return total;
}

double sum_squared_deviation(const float* x, int64_t n, float mean) {
  double total = 0;
  for (int64_t start = 0; start < n; start += 4096) {
    float part = 0;
    for (int64_t i = start; i < std::min(n, start + 4096); ++i) part += (x[i] - mean) * (x[i] - mean);
    total += part;
  }
  return total;
}

void scale_shift(const float* x, float* y, int64_t n, float a, float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * a + b;
}

void row_sums(const float* x, float* out, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float total = 0;
    for (int64_t i = 0; i < cols; ++i) total += x[r * cols + i];
    out[r] = total;
  }
}

float dot(const float* a, const float* b, int64_t n) {
  float total = 0;
  for (int64_t i = 0; i < n; ++i) total += a[i] * b[i];
  return total;
}

void relu_scale(const float* x, float* y, int64_t n, float s) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] < 0.0f ? 0.0f : x[i]) * s;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

const VectorOps kGenericOps{unary, binary, softmax_rows, sum, sum_squared_deviation, scale_shift, row_sums, dot,
                            relu_scale, axpy};

}  // namespace

const VectorOps& generic_ops() { return kGenericOps; }

const VectorOps& ops_for(Isa isa) { return isa >= Isa::kAvx512Core ? avx512_ops() : generic_ops(); }

}  // namespace kestrel::cpu::fast
