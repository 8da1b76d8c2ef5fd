// Reference kernels of the element-wise operators with several inputs. All of them share one
// broadcasting loop, for_each_broadcast. Integer arithmetic wraps modulo 2^n like numpy, and integer
// division or modulo by zero gives 0 (numpy's result) rather than undefined behaviour, because
// graphs often compute both branches of a Where that guards a division.
#include <array>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "backend/cpu/reference/dispatch.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

// ---- The broadcasting loop ------------------------------------------------------------------------

// Walks the output in row-major order and hands `visit` the flat output index together with the
// flat index of the matching element in each input. Inputs broadcast numpy-style against the
// output: a dimension of size 1, or a missing leading one, is read with stride 0.
template <size_t N, typename Visit>
void for_each_broadcast(const Shape& out_shape, const std::array<const Shape*, N>& input_shapes, Visit&& visit) {
  std::array<std::vector<int64_t>, N> strides;
  for (size_t k = 0; k < N; ++k) strides[k] = ir::broadcast_strides(*input_shapes[k], out_shape);
  const size_t rank = out_shape.size();
  std::vector<int64_t> index(rank, 0);
  std::array<int64_t, N> offsets{};
  const int64_t total = shape_numel(out_shape);
  for (int64_t out = 0; out < total; ++out) {
    visit(out, offsets);
    // Odometer step: advance the last dimension and carry into earlier ones as they wrap around.
    for (size_t d = rank; d-- > 0;) {
      ++index[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += strides[k][d];
      if (index[d] < out_shape[d]) break;
      for (size_t k = 0; k < N; ++k) offsets[k] -= strides[k][d] * out_shape[d];
      index[d] = 0;
    }
  }
}

// y = op(a, b) with a and b broadcast to y's shape.
template <typename A, typename B, typename Out, typename Op>
void binary_map(const KernelContext& ctx, Op op) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Tensor& y = ctx.output(0);
  const A* pa = a.data<A>();
  const B* pb = b.data<B>();
  Out* py = y.data<Out>();
  for_each_broadcast<2>(y.shape(), {&a.shape(), &b.shape()},
                        [&](int64_t out, const std::array<int64_t, 2>& at) { py[out] = op(pa[at[0]], pb[at[1]]); });
}

// Equal also compares bools, which are stored as bytes holding 0 or 1.
template <typename F>
void dispatch_numeric_or_bool(DataType t, F&& f) {
  if (t == DataType::kBOOL) return f.template operator()<uint8_t>();
  dispatch_numeric(t, std::forward<F>(f));
}

// ---- Scalar semantics -----------------------------------------------------------------------------

// The type integer arithmetic is carried out in so that overflow wraps instead of being UB.
template <typename T, bool = std::is_integral_v<T>>
struct WrappingType {
  using type = T;
};
template <typename T>
struct WrappingType<T, true> {
  using type = std::make_unsigned_t<T>;
};
template <typename T>
using Wrapping = typename WrappingType<T>::type;

template <typename T>
T add(T a, T b) { return T(Wrapping<T>(a) + Wrapping<T>(b)); }
template <typename T>
T subtract(T a, T b) { return T(Wrapping<T>(a) - Wrapping<T>(b)); }
template <typename T>
T multiply(T a, T b) { return T(Wrapping<T>(a) * Wrapping<T>(b)); }

template <typename T>
bool is_negative(T x) {
  if constexpr (std::is_unsigned_v<T>)
    return false;
  else
    return x < T(0);
}

// Integer division truncates toward zero, as in C++.
template <typename T>
T divide(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    if (b == T(0)) return T(0);
    if constexpr (std::is_signed_v<T>)
      if (b == T(-1)) return subtract(T(0), a);  // INT_MIN / -1 overflows
    return T(a / b);
  } else {
    return a / b;
  }
}

// c_fmod: the remainder has the dividend's sign (C fmod); otherwise the divisor's (Python, numpy.mod).
template <typename T>
T remainder(T a, T b, bool c_fmod) {
  T r;
  if constexpr (std::is_integral_v<T>) {
    if (b == T(0)) return T(0);
    if constexpr (std::is_signed_v<T>)
      if (b == T(-1)) return T(0);  // INT_MIN % -1 overflows
    r = T(a % b);
  } else {
    r = std::fmod(a, b);
  }
  if (!c_fmod && r != T(0) && is_negative(r) != is_negative(b)) r = add(r, b);
  return r;
}

int64_t truncate_to_int64(double x) {
  if (std::isnan(x)) return 0;
  if (x >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (x <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return int64_t(x);
}

// Exact integer power by squaring, wrapping on overflow. A negative exponent gives 1 / base^|e|
// truncated toward zero, so only bases 1 and -1 keep a non-zero result (base 0 gives 0).
template <typename T>
T integer_power(T base, int64_t exponent) {
  if (exponent < 0) {
    if (base == T(1)) return T(1);
    if constexpr (std::is_signed_v<T>)
      if (base == T(-1)) return exponent % 2 == 0 ? T(1) : T(-1);
    return T(0);
  }
  Wrapping<T> result = 1, factor = Wrapping<T>(base);
  for (; exponent > 0; exponent >>= 1) {
    if (exponent & 1) result = Wrapping<T>(result * factor);
    factor = Wrapping<T>(factor * factor);
  }
  return T(result);
}

// The result has the base's type; an integer base with a float exponent truncates the real power.
template <typename Base, typename Exponent>
Base power(Base base, Exponent exponent) {
  if constexpr (std::is_floating_point_v<Base>)
    return Base(std::pow(double(base), double(exponent)));
  else if constexpr (std::is_floating_point_v<Exponent>)
    return Base(truncate_to_int64(std::pow(double(base), double(exponent))));
  else
    return integer_power(base, int64_t(exponent));
}

// NaN wins, as in numpy.minimum / numpy.maximum.
template <typename T>
T minimum(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return b < a ? b : a;
}
template <typename T>
T maximum(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return a < b ? b : a;
}

// ---- Arithmetic -----------------------------------------------------------------------------------

template <template <typename> class Op>
void arithmetic_kernel(const KernelContext& ctx) {
  dispatch_numeric(ctx.input(0).dtype(), [&]<typename T>() { binary_map<T, T, T>(ctx, Op<T>{}); });
}

template <typename T>
struct AddOp {
  T operator()(T a, T b) const { return add(a, b); }
};
template <typename T>
struct SubOp {
  T operator()(T a, T b) const { return subtract(a, b); }
};
template <typename T>
struct MulOp {
  T operator()(T a, T b) const { return multiply(a, b); }
};
template <typename T>
struct DivOp {
  T operator()(T a, T b) const { return divide(a, b); }
};

void mod_kernel(const KernelContext& ctx) {
  const bool c_fmod = ctx.attrs().get_int("fmod", 0) != 0;
  dispatch_numeric(ctx.input(0).dtype(), [&]<typename T>() {
    binary_map<T, T, T>(ctx, [c_fmod](T a, T b) { return remainder(a, b, c_fmod); });
  });
}

void pow_kernel(const KernelContext& ctx) {
  dispatch_numeric(ctx.input(0).dtype(), [&]<typename Base>() {
    dispatch_numeric(ctx.input(1).dtype(), [&]<typename Exponent>() {
      binary_map<Base, Exponent, Base>(ctx, [](Base b, Exponent e) { return power(b, e); });
    });
  });
}

// ---- Comparisons and logic (bool outputs: one byte holding 0 or 1) -------------------------------

template <typename Compare>
void comparison_kernel(const KernelContext& ctx, Compare compare) {
  dispatch_numeric_or_bool(ctx.input(0).dtype(), [&]<typename T>() {
    binary_map<T, T, uint8_t>(ctx, [&](T a, T b) { return uint8_t(compare(a, b) ? 1 : 0); });
  });
}

void equal_kernel(const KernelContext& ctx) {
  comparison_kernel(ctx, [](auto a, auto b) { return a == b; });
}
void less_kernel(const KernelContext& ctx) {
  comparison_kernel(ctx, [](auto a, auto b) { return a < b; });
}
void less_or_equal_kernel(const KernelContext& ctx) {
  comparison_kernel(ctx, [](auto a, auto b) { return a <= b; });
}
void greater_kernel(const KernelContext& ctx) {
  comparison_kernel(ctx, [](auto a, auto b) { return a > b; });
}
void greater_or_equal_kernel(const KernelContext& ctx) {
  comparison_kernel(ctx, [](auto a, auto b) { return a >= b; });
}

template <typename Logic>
void logical_kernel(const KernelContext& ctx, Logic logic) {
  binary_map<uint8_t, uint8_t, uint8_t>(ctx, [&](uint8_t a, uint8_t b) { return uint8_t(logic(a != 0, b != 0)); });
}

void and_kernel(const KernelContext& ctx) {
  logical_kernel(ctx, [](bool a, bool b) { return a && b; });
}
void or_kernel(const KernelContext& ctx) {
  logical_kernel(ctx, [](bool a, bool b) { return a || b; });
}
void xor_kernel(const KernelContext& ctx) {
  logical_kernel(ctx, [](bool a, bool b) { return a != b; });
}

// ---- Variadic -------------------------------------------------------------------------------------

// y = op(...op(op(x0, x1), x2)..., xn), every input broadcast to y's shape.
template <typename T, typename Op>
void fold_inputs(const KernelContext& ctx, Op op) {
  Tensor& y = ctx.output(0);
  T* py = y.data<T>();
  const T* first = ctx.input(0).data<T>();
  for_each_broadcast<1>(y.shape(), {&ctx.input(0).shape()},
                        [&](int64_t out, const std::array<int64_t, 1>& at) { py[out] = first[at[0]]; });
  for (size_t k = 1; k < ctx.num_inputs(); ++k) {
    const T* px = ctx.input(k).data<T>();
    for_each_broadcast<1>(y.shape(), {&ctx.input(k).shape()},
                          [&](int64_t out, const std::array<int64_t, 1>& at) { py[out] = op(py[out], px[at[0]]); });
  }
}

template <template <typename> class Op>
void variadic_kernel(const KernelContext& ctx) {
  dispatch_numeric(ctx.input(0).dtype(), [&]<typename T>() { fold_inputs<T>(ctx, Op<T>{}); });
}

template <typename T>
struct MinOp {
  T operator()(T a, T b) const { return minimum(a, b); }
};
template <typename T>
struct MaxOp {
  T operator()(T a, T b) const { return maximum(a, b); }
};

void mean_kernel(const KernelContext& ctx) {
  fold_inputs<float>(ctx, AddOp<float>{});
  Tensor& y = ctx.output(0);
  const float count = float(ctx.num_inputs());
  for (int64_t i = 0; i < y.numel(); ++i) y.data<float>()[i] /= count;
}

// ---- Where and PRelu ------------------------------------------------------------------------------

void where_kernel(const KernelContext& ctx) {
  const Tensor& condition = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& y = ctx.input(2);
  Tensor& out = ctx.output(0);
  dispatch_any(x.dtype(), [&]<typename T>() {
    const uint8_t* pc = condition.data<uint8_t>();
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
    for_each_broadcast<3>(out.shape(), {&condition.shape(), &x.shape(), &y.shape()},
                          [&](int64_t o, const std::array<int64_t, 3>& at) { po[o] = pc[at[0]] ? px[at[1]] : py[at[2]]; });
  });
}

// The slope broadcasts to the input, so the shared loop over the output (the input's shape) fits.
void prelu_kernel(const KernelContext& ctx) {
  dispatch_numeric(ctx.input(0).dtype(), [&]<typename T>() {
    binary_map<T, T, T>(ctx, [](T x, T slope) { return is_negative(x) ? multiply(slope, x) : x; });
  });
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("Add", arithmetic_kernel<AddOp>);
KESTREL_REGISTER_REFERENCE_KERNEL("Sub", arithmetic_kernel<SubOp>);
KESTREL_REGISTER_REFERENCE_KERNEL("Mul", arithmetic_kernel<MulOp>);
KESTREL_REGISTER_REFERENCE_KERNEL("Div", arithmetic_kernel<DivOp>);
KESTREL_REGISTER_REFERENCE_KERNEL("Mod", mod_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Pow", pow_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Min", variadic_kernel<MinOp>);
KESTREL_REGISTER_REFERENCE_KERNEL("Max", variadic_kernel<MaxOp>);
KESTREL_REGISTER_REFERENCE_KERNEL("Sum", variadic_kernel<AddOp>);
KESTREL_REGISTER_REFERENCE_KERNEL("Mean", mean_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Equal", equal_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Less", less_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("LessOrEqual", less_or_equal_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Greater", greater_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("GreaterOrEqual", greater_or_equal_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("And", and_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Or", or_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Xor", xor_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Where", where_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("PRelu", prelu_kernel);

}  // namespace kestrel::cpu
