// Reference kernels for MatMul and Gemm (shapes and semantics: src/ir/ops/matmul.cpp).
// Products accumulate in double for float32 and in int64 for the integer types (an int32 result
// keeps the low 32 bits, as a wrapping int32 accumulator would). The loops run i-k-j so that
// the innermost loop walks rows of B and of the accumulator contiguously.
#include <type_traits>
#include <vector>

#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

template <typename T>
using Accumulator = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// out[M, N] = a[M, K] * b[K, N], all row-major and contiguous.
template <typename T>
void multiply(const T* a, const T* b, T* out, int64_t m, int64_t k, int64_t n, std::vector<Accumulator<T>>& row) {
  row.resize(size_t(n));
  for (int64_t i = 0; i < m; ++i) {
    std::fill(row.begin(), row.end(), Accumulator<T>(0));
    for (int64_t p = 0; p < k; ++p) {
      const Accumulator<T> a_ip = a[i * k + p];
      const T* b_row = b + p * n;
      for (int64_t j = 0; j < n; ++j) row[size_t(j)] += a_ip * b_row[j];
    }
    for (int64_t j = 0; j < n; ++j) out[i * n + j] = T(row[size_t(j)]);
  }
}

template <typename T>
void matmul(const Tensor& a, const Tensor& b, Tensor& y) {
  // Promote 1-D operands to matrices; the output already lacks the promoted dims.
  const Shape a_shape = a.rank() == 1 ? Shape{1, a.dim(0)} : a.shape();
  const Shape b_shape = b.rank() == 1 ? Shape{b.dim(0), 1} : b.shape();
  const int64_t m = a_shape[a_shape.size() - 2], k = a_shape.back(), n = b_shape.back();
  const Shape a_batch(a_shape.begin(), a_shape.end() - 2), b_batch(b_shape.begin(), b_shape.end() - 2);
  const Shape out_batch = ir::broadcast_shapes(a_batch, b_batch);
  // Strides in whole matrices: batch index -> which matrix of A and of B.
  const std::vector<int64_t> a_strides = ir::broadcast_strides(a_batch, out_batch);
  const std::vector<int64_t> b_strides = ir::broadcast_strides(b_batch, out_batch);

  std::vector<Accumulator<T>> row;
  const int64_t batches = shape_numel(out_batch);
  for (int64_t batch = 0; batch < batches; ++batch) {
    // Unravel the batch index into its dims, innermost first, and pick the broadcast operands.
    int64_t a_matrix = 0, b_matrix = 0, rest = batch;
    for (size_t d = out_batch.size(); d-- > 0;) {
      const int64_t i = rest % out_batch[d];
      rest /= out_batch[d];
      a_matrix += i * a_strides[d];
      b_matrix += i * b_strides[d];
    }
    multiply(a.data<T>() + a_matrix * m * k, b.data<T>() + b_matrix * k * n, y.data<T>() + batch * m * n, m, k, n,
             row);
  }
}

void matmul_kernel(const KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  switch (a.dtype()) {
    case DataType::kFLOAT: return matmul<float>(a, ctx.input(1), ctx.output(0));
    case DataType::kINT32: return matmul<int32_t>(a, ctx.input(1), ctx.output(0));
    case DataType::kINT64: return matmul<int64_t>(a, ctx.input(1), ctx.output(0));
    default: fail("data type {} is not supported", dtype_name(a.dtype()));
  }
}

void gemm_kernel(const KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Tensor& y = ctx.output(0);
  const bool trans_a = ctx.attrs().get_int("transA", 0) != 0;
  const bool trans_b = ctx.attrs().get_int("transB", 0) != 0;
  const double alpha = ctx.attrs().get_float("alpha", 1.f);
  const double beta = ctx.attrs().get_float("beta", 1.f);
  const int64_t m = y.dim(0), n = y.dim(1), k = trans_a ? a.dim(0) : a.dim(1);
  // Element (i, p) of A' and (p, j) of B'.
  const float* a_data = a.data<float>();
  const float* b_data = b.data<float>();
  auto a_at = [&](int64_t i, int64_t p) { return double(trans_a ? a_data[p * m + i] : a_data[i * k + p]); };
  auto b_at = [&](int64_t p, int64_t j) { return double(trans_b ? b_data[j * k + p] : b_data[p * n + j]); };

  std::vector<int64_t> c_strides;
  if (ctx.has_input(2)) c_strides = ir::broadcast_strides(ctx.input(2).shape(), y.shape());
  std::vector<double> row(static_cast<size_t>(n));
  for (int64_t i = 0; i < m; ++i) {
    std::fill(row.begin(), row.end(), 0.0);
    for (int64_t p = 0; p < k; ++p) {
      const double a_ip = a_at(i, p);
      for (int64_t j = 0; j < n; ++j) row[size_t(j)] += a_ip * b_at(p, j);
    }
    for (int64_t j = 0; j < n; ++j) {
      double value = alpha * row[size_t(j)];
      if (ctx.has_input(2)) value += beta * ctx.input(2).data<float>()[i * c_strides[0] + j * c_strides[1]];
      y.data<float>()[i * n + j] = float(value);
    }
  }
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("MatMul", matmul_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Gemm", gemm_kernel);

}  // namespace kestrel::cpu
