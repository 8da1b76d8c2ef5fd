// Reference kernels for the reductions (ReduceSum ... ReduceLogSumExp), ArgMax/ArgMin and TopK.
//
// Float sums, means and norms accumulate in double; Max/Min propagate NaN like numpy. Integer
// Sum/Prod/Mean/L1/SumSquare accumulate in int64 and wrap when narrowed to the output type.
// Reducing an empty set gives the identity of the reduction (0 for sums, 1 for Prod, -inf/+inf
// or the type's extreme for Max/Min, -inf for LogSum/LogSumExp, NaN for a float Mean), as ONNX
// opset 18 specifies.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>
#include <vector>

#include "backend/cpu/reference/dispatch.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

enum class Reduction { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kSumSquare, kLogSum, kLogSumExp };

// The same resolution of axes as the schema's shape inference (src/ir/ops/reduce.cpp), which has
// already validated them: ReduceSum reads axes from an input from opset 13, the others from 18.
std::vector<bool> resolve_reduced_axes(const KernelContext& ctx, int rank) {
  const int axes_input_opset = ctx.node().op_type == "ReduceSum" ? 13 : 18;
  std::vector<int64_t> axes;
  bool noop_with_empty_axes = false;
  if (ctx.opset() >= axes_input_opset) {
    if (ctx.has_input(1)) axes = ir::to_int_vector(ctx.input(1));
    noop_with_empty_axes = ctx.attrs().get_int("noop_with_empty_axes", 0) != 0;
  } else {
    axes = ctx.attrs().get_ints("axes", {});
  }
  if (axes.empty()) return std::vector<bool>(size_t(rank), !noop_with_empty_axes);
  std::vector<bool> reduced(size_t(rank), false);
  for (int64_t axis : axes) reduced[size_t(ir::normalize_axis(axis, rank))] = true;
  return reduced;
}

// An axis-aligned box of elements inside a tensor: its extents and the strides that walk it.
struct Box {
  Shape dims;
  std::vector<int64_t> strides;

  int64_t size() const { return shape_numel(dims); }

  // Calls visit(offset) for every point of the box, in row-major order, without materialising
  // the offsets (a full reduction of a large tensor would otherwise need as many of them).
  template <typename F>
  void for_each_offset(F&& visit) const {
    if (size() == 0) return;
    std::vector<int64_t> index(dims.size(), 0);
    int64_t offset = 0;
    for (;;) {
      visit(offset);
      size_t d = dims.size();
      for (; d > 0; --d) {  // odometer step: bump the last axis with room left, rewind those after it
        const size_t a = d - 1;
        if (++index[a] < dims[a]) {
          offset += strides[a];
          break;
        }
        offset -= (dims[a] - 1) * strides[a];
        index[a] = 0;
      }
      if (d == 0) return;
    }
  }
};

// The input splits into one group of elements per output element: `groups` walks the kept axes
// (one point per group, at the group's first element) and `members` the reduced axes relative
// to it. The output enumerates the kept axes in row-major order whatever keepdims says, so the
// n-th group visited belongs to output element n.
struct ReductionLayout {
  Box groups, members;
};

ReductionLayout reduction_layout(const Shape& shape, const std::vector<bool>& reduced) {
  const std::vector<int64_t> strides = ir::strides_of(shape);
  ReductionLayout layout;
  for (size_t i = 0; i < shape.size(); ++i) {
    Box& box = reduced[i] ? layout.members : layout.groups;
    box.dims.push_back(shape[i]);
    box.strides.push_back(strides[i]);
  }
  return layout;
}

// The input elements that reduce to one output element.
template <typename T>
struct Group {
  const T* start;
  const Box& members;
  int64_t size() const { return members.size(); }
  template <typename F>
  void for_each(F&& f) const {
    members.for_each_offset([&](int64_t offset) { f(start[offset]); });
  }
};

double float_sum(const Group<float>& g) {
  double sum = 0;
  g.for_each([&](float x) { sum += x; });
  return sum;
}

double float_sum_of_squares(const Group<float>& g) {
  double sum = 0;
  g.for_each([&](float x) { sum += double(x) * double(x); });
  return sum;
}

// Max (or Min) where a NaN anywhere makes the result NaN, as numpy's max does.
float float_extreme(const Group<float>& g, bool want_max) {
  float best = want_max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
  bool saw_nan = false;
  g.for_each([&](float x) {
    saw_nan = saw_nan || std::isnan(x);
    if (want_max ? x > best : x < best) best = x;
  });
  return saw_nan ? std::numeric_limits<float>::quiet_NaN() : best;
}

// log(sum(exp(x))) shifted by the maximum so that large inputs do not overflow. A non-finite
// maximum is not subtracted: -inf everywhere gives log(0) = -inf, a +inf gives +inf.
double float_log_sum_exp(const Group<float>& g) {
  const float max = float_extreme(g, true);
  if (std::isnan(max)) return max;
  const double shift = std::isfinite(max) ? max : 0.0;
  double sum = 0;
  g.for_each([&](float x) { sum += std::exp(double(x) - shift); });
  return std::log(sum) + shift;
}

float reduce_float(Reduction r, const Group<float>& g) {
  switch (r) {
    case Reduction::kSum: return float(float_sum(g));
    case Reduction::kMean: return float(float_sum(g) / double(g.size()));  // 0/0 = NaN for an empty set
    case Reduction::kMax: return float_extreme(g, true);
    case Reduction::kMin: return float_extreme(g, false);
    case Reduction::kProd: {
      double product = 1;
      g.for_each([&](float x) { product *= x; });
      return float(product);
    }
    case Reduction::kL1: {
      double sum = 0;
      g.for_each([&](float x) { sum += std::fabs(double(x)); });
      return float(sum);
    }
    case Reduction::kL2: return float(std::sqrt(float_sum_of_squares(g)));
    case Reduction::kSumSquare: return float(float_sum_of_squares(g));
    case Reduction::kLogSum: return float(std::log(float_sum(g)));
    case Reduction::kLogSumExp: return float(float_log_sum_exp(g));
  }
  fail("unknown reduction");
}

template <typename T>
T reduce_integer(Reduction r, const Group<T>& g) {
  switch (r) {
    case Reduction::kMax: {
      T best = std::numeric_limits<T>::lowest();
      g.for_each([&](T x) { best = std::max(best, x); });
      return best;
    }
    case Reduction::kMin: {
      T best = std::numeric_limits<T>::max();
      g.for_each([&](T x) { best = std::min(best, x); });
      return best;
    }
    case Reduction::kSum:
    case Reduction::kMean: {
      int64_t sum = 0;
      g.for_each([&](T x) { sum += int64_t(x); });
      if (r == Reduction::kSum) return T(sum);
      KESTREL_CHECK(g.size() > 0, "the integer mean of an empty set is undefined");
      return T(sum / g.size());  // truncates toward zero, like integer division
    }
    case Reduction::kProd: {
      int64_t product = 1;
      g.for_each([&](T x) { product *= int64_t(x); });
      return T(product);
    }
    case Reduction::kL1: {
      int64_t sum = 0;
      g.for_each([&](T x) { sum += x < 0 ? -int64_t(x) : int64_t(x); });
      return T(sum);
    }
    case Reduction::kSumSquare: {
      int64_t sum = 0;
      g.for_each([&](T x) { sum += int64_t(x) * int64_t(x); });
      return T(sum);
    }
    default: fail("this reduction supports float32 inputs only");
  }
}

template <Reduction R>
void reduce_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const ReductionLayout layout = reduction_layout(x.shape(), resolve_reduced_axes(ctx, x.rank()));
  KESTREL_CHECK(layout.groups.size() == y.numel(), "output shape {} does not match the reduction of {}",
                shape_str(y.shape()), shape_str(x.shape()));
  dispatch_numeric(x.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    T* out = y.data<T>();
    layout.groups.for_each_offset([&](int64_t group_start) {
      const Group<T> group{in + group_start, layout.members};
      if constexpr (std::is_same_v<T, float>)
        *out++ = reduce_float(R, group);
      else
        *out++ = reduce_integer<T>(R, group);
    });
  });
}

template <typename T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>)
    return std::isnan(v);
  else
    return false;
}

// A strict total order on numbers with NaN above everything, so that sorts and arg-searches are
// well defined in the presence of NaN.
template <typename T>
bool ordered_below(T a, T b) {
  if (is_nan(a)) return false;
  if (is_nan(b)) return true;
  return a < b;
}

// A tensor seen as [outer, length, inner] around one axis.
struct AxisView {
  int64_t outer = 1, length = 1, inner = 1;
};

AxisView axis_view(const Shape& shape, int axis) {
  AxisView v;
  for (int i = 0; i < axis; ++i) v.outer *= shape[size_t(i)];
  v.length = shape[size_t(axis)];
  for (size_t i = size_t(axis) + 1; i < shape.size(); ++i) v.inner *= shape[i];
  return v;
}

// numpy's rule for NaN: NaN counts as the extreme for both ArgMax and ArgMin, so the first NaN wins
// (the last one with select_last_index, as the ONNX reference flips the axis).
template <bool kMax, typename T>
bool replaces_best(T candidate, T best, bool select_last) {
  if (is_nan(best)) return select_last && is_nan(candidate);
  if (is_nan(candidate)) return true;
  if (candidate == best) return select_last;
  return kMax ? candidate > best : candidate < best;
}

template <bool kMax>
void arg_reduce_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int axis = ir::normalize_axis(ctx.attrs().get_int("axis", 0), x.rank());
  const bool select_last = ctx.attrs().get_int("select_last_index", 0) != 0;
  const AxisView v = axis_view(x.shape(), axis);
  int64_t* out = ctx.output(0).data<int64_t>();
  dispatch_numeric(x.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        const T* line = in + o * v.length * v.inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < v.length; ++k)
          if (replaces_best<kMax>(line[k * v.inner], line[best * v.inner], select_last)) best = k;
        out[o * v.inner + i] = best;
      }
  });
}

// Sorted output whatever `sorted` says (any order is allowed when it is 0). Equal values keep
// their index order, as the spec asks; NaN ranks above every number.
void topk_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& values = ctx.output(0);
  int64_t* indices = ctx.output(1).data<int64_t>();
  const int axis = ir::normalize_axis(ctx.attrs().get_int("axis", -1), x.rank());
  const bool largest = ctx.attrs().get_int("largest", 1) != 0;
  const int64_t k = values.dim(axis);  // shape inference already resolved and checked k
  const AxisView v = axis_view(x.shape(), axis);
  dispatch_numeric(x.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    T* out = values.data<T>();
    std::vector<int64_t> order(size_t(v.length));
    for (int64_t o = 0; o < v.outer; ++o)
      for (int64_t i = 0; i < v.inner; ++i) {
        const T* line = in + o * v.length * v.inner + i;
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          return largest ? ordered_below(line[b * v.inner], line[a * v.inner])
                         : ordered_below(line[a * v.inner], line[b * v.inner]);
        });
        for (int64_t j = 0; j < k; ++j) {
          const int64_t at = (o * k + j) * v.inner + i;
          out[at] = line[order[size_t(j)] * v.inner];
          indices[at] = order[size_t(j)];
        }
      }
  });
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("ReduceSum", reduce_kernel<Reduction::kSum>);
KESTREL_REGISTER_REFERENCE_KERNEL("ReduceMean", reduce_kernel<Reduction::kMean>);
KESTREL_REGISTER_REFERENCE_KERNEL("ReduceMax", reduce_kernel<Reduction::kMax>);
KESTREL_REGISTER_REFERENCE_KERNEL("ReduceMin", reduce_kernel<Reduction::kMin>);
KESTREL_REGISTER_REFERENCE_KERNEL("ReduceProd", reduce_kernel<Reduction::kProd>);
KESTREL_REGISTER_REFERENCE_KERNEL("ReduceL1", reduce_kernel<Reduction::kL1>);
KESTREL_REGISTER_REFERENCE_KERNEL("ReduceL2", reduce_kernel<Reduction::kL2>);
KESTREL_REGISTER_REFERENCE_KERNEL("ReduceSumSquare", reduce_kernel<Reduction::kSumSquare>);
KESTREL_REGISTER_REFERENCE_KERNEL("ReduceLogSum", reduce_kernel<Reduction::kLogSum>);
KESTREL_REGISTER_REFERENCE_KERNEL("ReduceLogSumExp", reduce_kernel<Reduction::kLogSumExp>);
KESTREL_REGISTER_REFERENCE_KERNEL("ArgMax", arg_reduce_kernel<true>);
KESTREL_REGISTER_REFERENCE_KERNEL("ArgMin", arg_reduce_kernel<false>);
KESTREL_REGISTER_REFERENCE_KERNEL("TopK", topk_kernel);

}  // namespace kestrel::cpu
