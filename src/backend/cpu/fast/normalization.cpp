// Normalisation and reduction layers on the row kernels of vector_ops.h (AVX-512 and portable
// registrations, like eltwise.cpp):
//   kestrel.GroupNorm  two-pass statistics per (batch, group), accumulated in double across
//                      blocks, then one fused multiply-add per element with per-channel factors
//   Softmax            over the innermost axis (the axis and every dim after it but the last
//                      being 1 is the same thing)
//   ReduceSum/Mean     over a trailing block of axes (rows of contiguous values)
//   GlobalAveragePool  row means over the spatial dims
#include <cmath>

#include "backend/cpu/fast/kernel.h"
#include "backend/cpu/fast/parallel.h"
#include "backend/cpu/fast/vector_ops.h"
#include "core/error.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu::fast {
namespace {

constexpr int64_t kGrain = kMemoryGrain;

// ------------------------------------------------------------------ GroupNorm

bool group_norm_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() != 3 || node.outputs.size() != 1) return false;
  for (int v : node.inputs)
    if (!is_float(graph, v)) return false;
  return is_constant(graph, node.inputs[1]) && is_constant(graph, node.inputs[2]) &&
         value_of(graph, node.inputs[0]).shape.size() >= 2;
}

class GroupNormKernel final : public Kernel {
 public:
  GroupNormKernel(const PrepareContext& ctx, const VectorOps& ops) : ops_(ops) {
    const Shape& x = ctx.input(0).shape;
    batch_ = x[0];
    channels_ = x[1];
    spatial_ = channels_ == 0 || batch_ == 0 ? 0 : shape_numel(x) / (batch_ * channels_);
    groups_ = ctx.node().attrs.get_int("num_groups");
    epsilon_ = ctx.node().attrs.get_float("epsilon", 1e-5f);
    const float* scale = ctx.input(1).constant->data<float>();
    const float* bias = ctx.input(2).constant->data<float>();
    scale_.assign(scale, scale + channels_);
    bias_.assign(bias, bias + channels_);
    factor_.resize(size_t(channels_));
    shift_.resize(size_t(channels_));
    partial_.resize(size_t(std::max(1, ctx.threads())) * 8);  // one padded slot per thread
  }

  void run(const RunContext& ctx) override {
    const float* x = ctx.in<float>(0);
    float* y = ctx.out<float>(0);
    const int64_t per_group = channels_ / groups_ * spatial_;
    if (per_group == 0) return;
    for (int64_t n = 0; n < batch_; ++n) {
      for (int64_t g = 0; g < groups_; ++g) {
        const float* region = x + (n * groups_ + g) * per_group;
        const double mean = reduce(ctx.threads, per_group, [&](int64_t b, int64_t e) { return ops_.sum(region + b, e - b); }) /
                            double(per_group);
        const double variance = reduce(ctx.threads, per_group, [&](int64_t b, int64_t e) {
                                  return ops_.sum_squared_deviation(region + b, e - b, float(mean));
                                }) / double(per_group);
        const double inv_std = 1.0 / std::sqrt(variance + double(epsilon_));
        for (int64_t c = g * (channels_ / groups_); c < (g + 1) * (channels_ / groups_); ++c) {
          factor_[size_t(c)] = float(inv_std * scale_[size_t(c)]);
          shift_[size_t(c)] = float(bias_[size_t(c)] - mean * inv_std * scale_[size_t(c)]);
        }
      }
      const float* xb = x + n * channels_ * spatial_;
      float* yb = y + n * channels_ * spatial_;
      const int64_t grain_channels = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, spatial_));
      parallel_for(channels_, ctx.threads, grain_channels, [&](int64_t b, int64_t e) {
        for (int64_t c = b; c < e; ++c)
          ops_.scale_shift(xb + c * spatial_, yb + c * spatial_, spatial_, factor_[size_t(c)], shift_[size_t(c)]);
      });
    }
  }

 private:
  // Sum of f over ranges of [0, n), split between threads; partials are added in a fixed order
  // so that results do not depend on timing.
  template <typename F>
  double reduce(int threads, int64_t n, F&& f) {
    const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(std::min<int64_t>(threads, int64_t(partial_.size() / 8)),
                                                                  n / kGrain));
    if (chunks <= 1) return f(0, n);
    const int64_t per = ((n + chunks - 1) / chunks + 15) / 16 * 16;
#pragma omp parallel for num_threads(int(chunks))
    for (int64_t t = 0; t < chunks; ++t) {
      const int64_t b = std::min(n, t * per), e = std::min(n, b + per);
      partial_[size_t(t) * 8] = b < e ? f(b, e) : 0.0;
    }
    double total = 0;
    for (int64_t t = 0; t < chunks; ++t) total += partial_[size_t(t) * 8];
    return total;
  }

  const VectorOps& ops_;
  int64_t batch_ = 0, channels_ = 0, spatial_ = 0, groups_ = 1;
  float epsilon_ = 1e-5f;
  std::vector<float> scale_, bias_, factor_, shift_;
  std::vector<double> partial_;
};

// ------------------------------------------------------------------ Softmax

bool softmax_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.size() != 1 || node.outputs.size() != 1) return false;
  if (!is_float(graph, node.inputs[0])) return false;
  const Shape& x = value_of(graph, node.inputs[0]).shape;
  if (x.empty()) return false;
  const int rank = int(x.size());
  const int64_t axis_attr = node.attrs.get_int("axis", node.opset >= 13 ? -1 : 1);
  if (axis_attr < -rank || axis_attr >= rank) return false;
  const int axis = int(axis_attr < 0 ? axis_attr + rank : axis_attr);
  if (node.opset < 13) return axis == rank - 1;  // coerced to 2-D: the same only for the last axis
  for (int d = axis + 1; d < rank; ++d)
    if (x[size_t(d)] != 1) return false;
  return true;
}

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(const PrepareContext& ctx, const VectorOps& ops) : ops_(ops) {
    const Shape& x = ctx.input(0).shape;
    const int rank = int(x.size());
    int axis = int(ctx.node().attrs.get_int("axis", ctx.node().opset >= 13 ? -1 : 1));
    if (axis < 0) axis += rank;
    cols_ = x[size_t(axis)];
    rows_ = cols_ == 0 ? 0 : shape_numel(x) / cols_;
  }
  void run(const RunContext& ctx) override {
    const float* x = ctx.in<float>(0);
    float* y = ctx.out<float>(0);
    const int64_t grain = std::max<int64_t>(1, kGrain / 8 / std::max<int64_t>(1, cols_));
    parallel_for(rows_, ctx.threads, grain,
                 [&](int64_t b, int64_t e) { ops_.softmax_rows(x + b * cols_, y + b * cols_, e - b, cols_); });
  }

 private:
  const VectorOps& ops_;
  int64_t rows_ = 0, cols_ = 0;
};

// ------------------------------------------------------------------ reductions

// The reduced axes of a ReduceSum / ReduceMean, or false when they are not constant.
bool reduce_axes(const ir::Graph& graph, const ir::Node& node, std::vector<int>& axes) {
  const int rank = int(value_of(graph, node.inputs[0]).shape.size());
  std::vector<int64_t> raw;
  const bool axes_input = (node.op_type == "ReduceSum" && node.opset >= 13) || node.opset >= 18;
  if (axes_input) {
    if (node.inputs.size() > 1 && node.inputs[1] != ir::kNoValue) {
      if (!is_constant(graph, node.inputs[1])) return false;
      raw = ir::to_int_vector(*value_of(graph, node.inputs[1]).constant);
    }
    if (raw.empty() && node.attrs.get_int("noop_with_empty_axes", 0) != 0) return false;
  } else {
    raw = node.attrs.get_ints("axes", {});
  }
  axes.clear();
  if (raw.empty())
    for (int d = 0; d < rank; ++d) axes.push_back(d);
  for (int64_t a : raw) {
    if (a < -rank || a >= rank) return false;
    axes.push_back(int(a < 0 ? a + rank : a));
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  return true;
}

bool reduce_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.empty() || node.outputs.size() != 1) return false;
  if (!is_float(graph, node.inputs[0])) return false;
  std::vector<int> axes;
  if (!reduce_axes(graph, node, axes)) return false;
  const int rank = int(value_of(graph, node.inputs[0]).shape.size());
  // A trailing block of axes: rows of contiguous values.
  for (size_t i = 0; i < axes.size(); ++i)
    if (axes[i] != rank - int(axes.size()) + int(i)) return false;
  return true;
}

class RowReduceKernel final : public Kernel {
 public:
  RowReduceKernel(const PrepareContext& ctx, const VectorOps& ops, bool mean, int64_t cols) : ops_(ops), mean_(mean) {
    cols_ = cols;
    const int64_t n = shape_numel(ctx.input(0).shape);
    rows_ = cols_ == 0 ? shape_numel(ctx.output(0).shape) : n / cols_;
  }
  void run(const RunContext& ctx) override {
    const float* x = ctx.in<float>(0);
    float* y = ctx.out<float>(0);
    if (cols_ == 0) {
      for (int64_t r = 0; r < rows_; ++r) y[r] = mean_ ? NAN : 0.0f;
      return;
    }
    const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, cols_));
    parallel_for(rows_, ctx.threads, grain, [&](int64_t b, int64_t e) {
      ops_.row_sums(x + b * cols_, y + b, e - b, cols_);
      if (mean_)
        for (int64_t r = b; r < e; ++r) y[r] /= float(cols_);
    });
  }

 private:
  const VectorOps& ops_;
  bool mean_;
  int64_t rows_ = 0, cols_ = 0;
};

std::unique_ptr<Kernel> make_reduce(const PrepareContext& ctx, const VectorOps& ops) {
  std::vector<int> axes;
  reduce_axes(ctx.graph(), ctx.node(), axes);
  const Shape& x = ctx.input(0).shape;
  int64_t cols = 1;
  for (int a : axes) cols *= x[size_t(a)];
  return std::make_unique<RowReduceKernel>(ctx, ops, ctx.node().op_type == "ReduceMean", cols);
}

bool pool_accepts(const ir::Graph& graph, const ir::Node& node) {
  return node.domain.empty() && node.inputs.size() == 1 && is_float(graph, node.inputs[0]) &&
         value_of(graph, node.inputs[0]).shape.size() >= 3;
}

std::unique_ptr<Kernel> make_pool(const PrepareContext& ctx, const VectorOps& ops) {
  const Shape& x = ctx.input(0).shape;
  int64_t cols = 1;
  for (size_t d = 2; d < x.size(); ++d) cols *= x[d];
  return std::make_unique<RowReduceKernel>(ctx, ops, true, cols);
}

template <Isa isa>
std::unique_ptr<Kernel> create_group_norm(const PrepareContext& ctx) {
  return std::make_unique<GroupNormKernel>(ctx, ops_for(isa));
}
template <Isa isa>
std::unique_ptr<Kernel> create_softmax(const PrepareContext& ctx) {
  return std::make_unique<SoftmaxKernel>(ctx, ops_for(isa));
}
template <Isa isa>
std::unique_ptr<Kernel> create_reduce(const PrepareContext& ctx) {
  return make_reduce(ctx, ops_for(isa));
}
template <Isa isa>
std::unique_ptr<Kernel> create_pool(const PrepareContext& ctx) {
  return make_pool(ctx, ops_for(isa));
}

#define KESTREL_BOTH(name, op, accepts, create)                                                                   \
  KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.avx512." name, op, Isa::kAvx512Core, accepts, nullptr,             \
                                          create<Isa::kAvx512Core>, 1});                                          \
  KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.generic." name, op, Isa::kBaseline, accepts, nullptr,              \
                                          create<Isa::kBaseline>, 0})

KESTREL_BOTH("groupnorm", "kestrel.GroupNorm", group_norm_accepts, create_group_norm);
KESTREL_BOTH("softmax", "Softmax", softmax_accepts, create_softmax);
KESTREL_BOTH("reduce", "ReduceSum", reduce_accepts, create_reduce);
KESTREL_BOTH("reduce", "ReduceMean", reduce_accepts, create_reduce);
KESTREL_BOTH("reduce", "GlobalAveragePool", pool_accepts, create_pool);

}  // namespace
}  // namespace kestrel::cpu::fast
