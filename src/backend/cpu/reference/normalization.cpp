// Reference kernels for BatchNormalization (inference), InstanceNormalization,
// LayerNormalization, GroupNormalization (also kestrel.GroupNorm) and LRN (float32). Means and
// variances are computed in double with two passes (mean first, then the mean of squared
// deviations), which keeps them accurate for inputs with a large offset; the normalisation itself
// is also evaluated in double.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/reference/kernel_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

// Product of the dims [from, to) of a shape.
int64_t dims_product(const Shape& shape, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t i = from; i < to; ++i) n *= shape[i];
  return n;
}

struct Moments {
  double mean = 0, variance = 0;
};

Moments moments_of(const float* values, int64_t count) {
  Moments m;
  if (count == 0) return m;
  for (int64_t i = 0; i < count; ++i) m.mean += values[i];
  m.mean /= double(count);
  for (int64_t i = 0; i < count; ++i) {
    const double d = values[i] - m.mean;
    m.variance += d * d;
  }
  m.variance /= double(count);
  return m;
}

void batch_norm_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const float* scale = ctx.input(1).data<float>();
  const float* shift = ctx.input(2).data<float>();
  const float* mean = ctx.input(3).data<float>();
  const float* var = ctx.input(4).data<float>();
  const double epsilon = ctx.attrs().get_float("epsilon", 1e-5f);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t plane = dims_product(x.shape(), 2, x.shape().size());
  for (int64_t c = 0; c < channels; ++c) {
    const double inv_std = 1.0 / std::sqrt(double(var[c]) + epsilon);
    for (int64_t n = 0; n < batch; ++n) {
      const float* in = x.data<float>() + (n * channels + c) * plane;
      float* out = ctx.output(0).data<float>() + (n * channels + c) * plane;
      for (int64_t i = 0; i < plane; ++i) out[i] = float((in[i] - double(mean[c])) * inv_std * scale[c] + shift[c]);
    }
  }
}

void instance_norm_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const float* scale = ctx.input(1).data<float>();
  const float* shift = ctx.input(2).data<float>();
  const double epsilon = ctx.attrs().get_float("epsilon", 1e-5f);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t plane = dims_product(x.shape(), 2, x.shape().size());
  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t c = 0; c < channels; ++c) {
      const float* in = x.data<float>() + (n * channels + c) * plane;
      float* out = ctx.output(0).data<float>() + (n * channels + c) * plane;
      const Moments m = moments_of(in, plane);
      const double inv_std = 1.0 / std::sqrt(m.variance + epsilon);
      for (int64_t i = 0; i < plane; ++i) out[i] = float((in[i] - m.mean) * inv_std * scale[c] + shift[c]);
    }
  }
}

// A tensor that broadcasts to `target` (trailing alignment), expanded into a dense copy.
std::vector<float> expand_to(const Tensor& t, const Shape& target) {
  const std::vector<int64_t> strides = ir::broadcast_strides(t.shape(), target);
  std::vector<float> out(static_cast<size_t>(shape_numel(target)));
  std::vector<int64_t> index(target.size(), 0);
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t offset = 0;
    for (size_t d = 0; d < target.size(); ++d) offset += index[d] * strides[d];
    out[i] = t.data<float>()[offset];
    for (size_t d = target.size(); d-- > 0;) {
      if (++index[d] < target[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

void layer_norm_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int axis = ir::normalize_axis(ctx.attrs().get_int("axis", -1), x.rank());
  const double epsilon = ctx.attrs().get_float("epsilon", 1e-5f);
  const Shape normalized(x.shape().begin() + axis, x.shape().end());
  const int64_t rows = dims_product(x.shape(), 0, size_t(axis));
  const int64_t length = shape_numel(normalized);
  const std::vector<float> scale = expand_to(ctx.input(1), normalized);
  const std::vector<float> shift = ctx.has_input(2) ? expand_to(ctx.input(2), normalized)
                                                    : std::vector<float>(size_t(length), 0.f);
  float* mean_out = ctx.has_output(1) ? ctx.output(1).data<float>() : nullptr;
  float* inv_std_out = ctx.has_output(2) ? ctx.output(2).data<float>() : nullptr;
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x.data<float>() + r * length;
    float* out = ctx.output(0).data<float>() + r * length;
    const Moments m = moments_of(in, length);
    const double inv_std = 1.0 / std::sqrt(m.variance + epsilon);
    for (int64_t i = 0; i < length; ++i)
      out[i] = float((in[i] - m.mean) * inv_std * scale[size_t(i)] + shift[size_t(i)]);
    if (mean_out) mean_out[r] = float(m.mean);
    if (inv_std_out) inv_std_out[r] = float(inv_std);
  }
}

// y = x / (bias + alpha / size * (sum of x^2 over the neighbouring channels)) ^ beta, the
// neighbourhood being [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to the channels.
void lrn_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t size = ctx.attrs().get_int("size");
  const double alpha = ctx.attrs().get_float("alpha", 1e-4f);
  const double beta = ctx.attrs().get_float("beta", 0.75f);
  const double bias = ctx.attrs().get_float("bias", 1.0f);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t plane = dims_product(x.shape(), 2, x.shape().size());
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  for (int64_t n = 0; n < batch; ++n) {
    const float* in = x.data<float>() + n * channels * plane;
    float* out = ctx.output(0).data<float>() + n * channels * plane;
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t first = std::max<int64_t>(0, c - before), last = std::min(channels - 1, c + after);
      for (int64_t i = 0; i < plane; ++i) {
        double square_sum = 0;
        for (int64_t k = first; k <= last; ++k) square_sum += double(in[k * plane + i]) * in[k * plane + i];
        out[c * plane + i] = float(in[c * plane + i] / std::pow(bias + alpha / double(size) * square_sum, beta));
      }
    }
  }
}

// Statistics per (n, group of C/G channels); scale and bias per channel ([C]: opset 21 and
// kestrel.GroupNorm) or per group ([G]: opset 18, whose schema checked the shape).
void group_norm_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const float* scale = ctx.input(1).data<float>();
  const float* bias = ctx.input(2).data<float>();
  const int64_t groups = ctx.attrs().get_int("num_groups");
  const double epsilon = ctx.attrs().get_float("epsilon", 1e-5f);
  const int64_t batch = x.dim(0), channels = x.dim(1);
  const int64_t spatial = dims_product(x.shape(), 2, x.shape().size());
  const int64_t group_channels = channels / groups;
  const bool per_channel = ctx.input(1).numel() == channels;
  const float* in = x.data<float>();
  float* out = ctx.output(0).data<float>();
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t base = (n * channels + g * group_channels) * spatial;
      const Moments m = moments_of(in + base, group_channels * spatial);
      const double inv_std = 1.0 / std::sqrt(m.variance + epsilon);
      for (int64_t c = g * group_channels; c < (g + 1) * group_channels; ++c) {
        const int64_t p = per_channel ? c : g;
        const int64_t offset = (n * channels + c) * spatial;
        for (int64_t i = 0; i < spatial; ++i)
          out[offset + i] = float((in[offset + i] - m.mean) * inv_std * scale[p] + bias[p]);
      }
    }
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("GroupNormalization", group_norm_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("kestrel.GroupNorm", group_norm_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("BatchNormalization", batch_norm_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("InstanceNormalization", instance_norm_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("LayerNormalization", layer_norm_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("LRN", lrn_kernel);

}  // namespace kestrel::cpu
