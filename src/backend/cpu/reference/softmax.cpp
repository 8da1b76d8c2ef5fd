// Reference kernels for Softmax, LogSoftmax and Hardmax (float32).
//
// Each normalises independent "lines" of the input. Before opset 13 a line is the whole flattened
// block of axes [axis, rank) (the input coerced to 2-D at `axis`, default 1); from opset 13 it is
// the single axis `axis` (default -1). See src/ir/ops/softmax.cpp for a worked example.
// Softmax and LogSoftmax subtract the line's maximum before exponentiating, so large inputs do
// not overflow; the sum of exponentials accumulates in double.
#include <cmath>
#include <limits>

#include "backend/cpu/reference/kernel_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

enum class Normalization { kSoftmax, kLogSoftmax, kHardmax };

// The tensor seen as [outer, length, inner]: outer*inner lines of `length` elements, `inner` apart.
struct Lines {
  int64_t outer = 1, length = 1, inner = 1;
};

Lines lines_of(const Shape& shape, int axis, int opset) {
  Lines lines;
  for (int i = 0; i < axis; ++i) lines.outer *= shape[size_t(i)];
  if (opset < 13) {
    for (size_t i = size_t(axis); i < shape.size(); ++i) lines.length *= shape[i];
  } else {
    lines.length = shape[size_t(axis)];
    for (size_t i = size_t(axis) + 1; i < shape.size(); ++i) lines.inner *= shape[i];
  }
  return lines;
}

// A strided line of elements: in(k) reads element k of the input, out(k) writes it in the output.
struct Line {
  const float* x;
  float* y;
  int64_t length, stride;
  float in(int64_t k) const { return x[k * stride]; }
  float& out(int64_t k) const { return y[k * stride]; }
};

// NaN is ignored here; it still spreads to the whole line through exp() and the sum.
float line_max(const Line& line) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t k = 0; k < line.length; ++k) max = line.in(k) > max ? line.in(k) : max;
  return max;
}

void softmax_line(const Line& line) {
  const float max = line_max(line);
  double sum = 0;
  for (int64_t k = 0; k < line.length; ++k) {
    const float e = std::exp(line.in(k) - max);
    line.out(k) = e;
    sum += e;
  }
  const float scale = float(1.0 / sum);
  for (int64_t k = 0; k < line.length; ++k) line.out(k) *= scale;
}

void log_softmax_line(const Line& line) {
  const float max = line_max(line);
  double sum = 0;
  for (int64_t k = 0; k < line.length; ++k) sum += std::exp(line.in(k) - max);
  const double log_sum = std::log(sum);
  for (int64_t k = 0; k < line.length; ++k) line.out(k) = float(double(line.in(k) - max) - log_sum);
}

// One-hot at the first maximum; as with numpy's argmax, the first NaN counts as the maximum.
void hardmax_line(const Line& line) {
  int64_t best = 0;
  for (int64_t k = 1; k < line.length; ++k) {
    if (std::isnan(line.in(best))) break;
    if (std::isnan(line.in(k)) || line.in(k) > line.in(best)) best = k;
  }
  for (int64_t k = 0; k < line.length; ++k) line.out(k) = k == best ? 1.f : 0.f;
}

template <Normalization N>
void normalization_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const int64_t default_axis = ctx.opset() < 13 ? 1 : -1;
  const int axis = ir::normalize_axis(ctx.attrs().get_int("axis", default_axis), x.rank());
  const Lines lines = lines_of(x.shape(), axis, ctx.opset());
  if (lines.length == 0) return;
  for (int64_t o = 0; o < lines.outer; ++o)
    for (int64_t i = 0; i < lines.inner; ++i) {
      const int64_t start = o * lines.length * lines.inner + i;
      const Line line{x.data<float>() + start, y.data<float>() + start, lines.length, lines.inner};
      if constexpr (N == Normalization::kSoftmax)
        softmax_line(line);
      else if constexpr (N == Normalization::kLogSoftmax)
        log_softmax_line(line);
      else
        hardmax_line(line);
    }
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("Softmax", normalization_kernel<Normalization::kSoftmax>);
KESTREL_REGISTER_REFERENCE_KERNEL("LogSoftmax", normalization_kernel<Normalization::kLogSoftmax>);
KESTREL_REGISTER_REFERENCE_KERNEL("Hardmax", normalization_kernel<Normalization::kHardmax>);

}  // namespace kestrel::cpu
