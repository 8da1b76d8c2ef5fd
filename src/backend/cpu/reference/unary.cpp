// Reference kernels of the element-wise unary operators. Float functions are evaluated in double
// and rounded once to float, so the oracle is as accurate as float storage allows.
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <string>
#include <type_traits>

#include "backend/cpu/reference/dispatch.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "core/fp16.h"

namespace kestrel::cpu {
namespace {

// ---- Shared loops -------------------------------------------------------------------------------

// y[i] = f(x[i]) on float32 tensors, with f taking and returning double.
template <typename F>
void map_float(const KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  KESTREL_CHECK(x.dtype() == DataType::kFLOAT, "expected a float32 input, got {}", dtype_name(x.dtype()));
  const float* in = x.data<float>();
  float* out = ctx.output(0).data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = float(f(double(in[i])));
}

// y[i] = f(x[i]) for every type of dispatch_numeric; f is a generic lambda returning the same type.
template <typename F>
void map_numeric(const KernelContext& ctx, F f) {
  const Tensor& x = ctx.input(0);
  dispatch_numeric(x.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    T* out = ctx.output(0).data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = T(f(in[i]));
  });
}

// Bool outputs hold one byte per element, 0 or 1.
template <typename F>
void map_float_to_bool(const KernelContext& ctx, F predicate) {
  const Tensor& x = ctx.input(0);
  KESTREL_CHECK(x.dtype() == DataType::kFLOAT, "expected a float32 input, got {}", dtype_name(x.dtype()));
  const float* in = x.data<float>();
  uint8_t* out = ctx.output(0).data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = predicate(in[i]) ? 1 : 0;
}

void copy_input_to_output(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.nbytes() > 0) std::memcpy(ctx.output(0).raw(), x.raw(), x.nbytes());
}

// Signed integer negation without the overflow UB of -INT_MIN: wraps like two's complement.
template <typename T>
T negate(T x) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return T(U(0) - U(x));
  } else {
    return -x;
  }
}

template <typename T>
bool is_negative(T x) {
  if constexpr (std::is_unsigned_v<T>)
    return false;
  else
    return x < T(0);
}

// ---- Activations ----------------------------------------------------------------------------------

void relu_kernel(const KernelContext& ctx) {
  // Written so that NaN passes through, as numpy's reference does.
  map_numeric(ctx, []<typename T>(T x) { return is_negative(x) ? T(0) : x; });
}

void leaky_relu_kernel(const KernelContext& ctx) {
  const double alpha = ctx.attrs().get_float("alpha", 0.01f);
  map_float(ctx, [alpha](double x) { return x < 0 ? alpha * x : x; });
}

void elu_kernel(const KernelContext& ctx) {
  const double alpha = ctx.attrs().get_float("alpha", 1.0f);
  map_float(ctx, [alpha](double x) { return x < 0 ? alpha * std::expm1(x) : x; });
}

void selu_kernel(const KernelContext& ctx) {
  const double alpha = ctx.attrs().get_float("alpha", 1.67326319217681884765625f);
  const double gamma = ctx.attrs().get_float("gamma", 1.05070102214813232421875f);
  map_float(ctx, [alpha, gamma](double x) { return x > 0 ? gamma * x : gamma * alpha * std::expm1(x); });
}

double sigmoid(double x) {
  // Two forms so that exp never overflows.
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

void sigmoid_kernel(const KernelContext& ctx) { map_float(ctx, sigmoid); }

double clamp01(double x) { return x < 0 ? 0.0 : (x > 1 ? 1.0 : x); }

void hard_sigmoid_kernel(const KernelContext& ctx) {
  const double alpha = ctx.attrs().get_float("alpha", 0.2f);
  const double beta = ctx.attrs().get_float("beta", 0.5f);
  map_float(ctx, [alpha, beta](double x) { return clamp01(alpha * x + beta); });
}

void hard_swish_kernel(const KernelContext& ctx) {
  map_float(ctx, [](double x) { return x * clamp01(x / 6.0 + 0.5); });
}

// log(1 + exp(x)) without overflow for large x.
double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

void softplus_kernel(const KernelContext& ctx) { map_float(ctx, softplus); }
void softsign_kernel(const KernelContext& ctx) {
  map_float(ctx, [](double x) { return x / (1.0 + std::fabs(x)); });
}

void gelu_kernel(const KernelContext& ctx) {
  if (ctx.attrs().get_string("approximate", "none") == "tanh") {
    const double k = std::sqrt(2.0 / std::numbers::pi);
    map_float(ctx, [k](double x) { return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x))); });
  } else {
    map_float(ctx, [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::numbers::sqrt2)); });
  }
}

// ---- Math functions -------------------------------------------------------------------------------

void tanh_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return std::tanh(x); }); }
void sqrt_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return std::sqrt(x); }); }
void exp_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return std::exp(x); }); }
void log_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return std::log(x); }); }
void erf_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return std::erf(x); }); }
void sin_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return std::sin(x); }); }
void cos_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return std::cos(x); }); }
void reciprocal_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return 1.0 / x; }); }
void floor_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return std::floor(x); }); }
void ceil_kernel(const KernelContext& ctx) { map_float(ctx, [](double x) { return std::ceil(x); }); }

// Halves round to the nearest even integer (numpy.round), independent of the FPU rounding mode.
double round_half_to_even(double x) {
  const double nearest = std::round(x);  // halves away from zero
  if (std::fabs(x - std::trunc(x)) != 0.5) return nearest;
  return 2.0 * std::round(x / 2.0);
}

void round_kernel(const KernelContext& ctx) { map_float(ctx, round_half_to_even); }

void neg_kernel(const KernelContext& ctx) {
  map_numeric(ctx, []<typename T>(T x) { return negate(x); });
}

void abs_kernel(const KernelContext& ctx) {
  map_numeric(ctx, []<typename T>(T x) { return is_negative(x) ? negate(x) : x; });
}

void sign_kernel(const KernelContext& ctx) {
  // Zero and NaN map to themselves.
  map_numeric(ctx, []<typename T>(T x) { return x > T(0) ? T(1) : (is_negative(x) ? T(-1) : x); });
}

// ---- Predicates -----------------------------------------------------------------------------------

void not_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const uint8_t* in = x.data<uint8_t>();
  uint8_t* out = ctx.output(0).data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = in[i] ? 0 : 1;
}

void is_nan_kernel(const KernelContext& ctx) {
  map_float_to_bool(ctx, [](float x) { return std::isnan(x); });
}

void is_inf_kernel(const KernelContext& ctx) {
  const bool detect_negative = ctx.attrs().get_int("detect_negative", 1) != 0;
  const bool detect_positive = ctx.attrs().get_int("detect_positive", 1) != 0;
  map_float_to_bool(ctx, [=](float x) {
    return std::isinf(x) && (x > 0 ? detect_positive : detect_negative);
  });
}

// ---- Identity and Dropout -------------------------------------------------------------------------

void identity_kernel(const KernelContext& ctx) { copy_input_to_output(ctx); }

void dropout_kernel(const KernelContext& ctx) {
  // Shape inference refuses a constant training_mode = true (unless the ratio is 0, which drops
  // nothing); this catches a computed one.
  if (ctx.opset() >= 12 && ctx.has_input(2)) {
    const Tensor& training_mode = ctx.input(2);
    const bool drops_nothing = ctx.has_input(1) && ctx.input(1).numel() > 0 && ctx.input(1).double_at(0) == 0;
    KESTREL_CHECK(training_mode.numel() == 0 || training_mode.int_at(0) == 0 || drops_nothing,
                  "training_mode is true with a ratio that is not 0; only inference (training_mode false, or "
                  "ratio 0) is supported");
  }
  copy_input_to_output(ctx);
  if (!ctx.has_output(1)) return;
  // In inference nothing is dropped: the mask keeps every element.
  Tensor& mask = ctx.output(1);
  if (mask.dtype() == DataType::kBOOL) {
    std::memset(mask.raw(), 1, mask.nbytes());
  } else {
    dispatch_numeric(mask.dtype(), [&]<typename T>() {
      for (int64_t i = 0; i < mask.numel(); ++i) mask.data<T>()[i] = T(1);
    });
  }
}

// ---- Cast -----------------------------------------------------------------------------------------

// Bool tensors store one byte per element; this tag keeps bool apart from uint8 in the dispatch.
struct BoolByte {
  uint8_t value;
};

// Every type Cast supports, as the C++ type its elements are stored in.
template <typename F>
void dispatch_cast_type(DataType t, F&& f) {
  switch (t) {
    case DataType::kFLOAT: return f.template operator()<float>();
    case DataType::kHALF: return f.template operator()<Half>();
    case DataType::kINT64: return f.template operator()<int64_t>();
    case DataType::kINT32: return f.template operator()<int32_t>();
    case DataType::kINT8: return f.template operator()<int8_t>();
    case DataType::kUINT8: return f.template operator()<uint8_t>();
    case DataType::kBOOL: return f.template operator()<BoolByte>();
  }
  fail("Cast does not support data type {}", dtype_name(t));
}

// Truncates toward zero like a C++ conversion, made total: NaN gives 0 and values beyond int64
// saturate (narrower integer targets then wrap modulo 2^n, like numpy on x86).
int64_t truncate_to_int64(double x) {
  if (std::isnan(x)) return 0;
  if (x >= 9223372036854775807.0) return std::numeric_limits<int64_t>::max();
  if (x <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return int64_t(x);
}

template <typename To, typename From>
To cast_value(From x) {
  if constexpr (std::is_same_v<From, Half>) {
    return cast_value<To>(half_to_float(x));
  } else if constexpr (std::is_same_v<From, BoolByte>) {
    return cast_value<To>(uint8_t(x.value != 0 ? 1 : 0));
  } else if constexpr (std::is_same_v<To, BoolByte>) {
    return BoolByte{uint8_t(x != From(0) ? 1 : 0)};
  } else if constexpr (std::is_same_v<To, Half>) {
    return float_to_half(float(x));
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    return To(truncate_to_int64(double(x)));
  } else {
    return To(x);  // int -> int wraps modulo 2^n (C++20); int -> float rounds to nearest
  }
}

void cast_elements(const Tensor& x, Tensor& y) {
  dispatch_cast_type(x.dtype(), [&]<typename From>() {
    dispatch_cast_type(y.dtype(), [&]<typename To>() {
      const From* in = x.data<From>();
      To* out = y.data<To>();
      for (int64_t i = 0; i < x.numel(); ++i) out[i] = cast_value<To>(in[i]);
    });
  });
}

void cast_kernel(const KernelContext& ctx) { cast_elements(ctx.input(0), ctx.output(0)); }

// ---- Clip -----------------------------------------------------------------------------------------

template <typename T>
T bound_or(const KernelContext& ctx, size_t input, T fallback) {
  return ctx.has_input(input) ? ctx.input(input).data<T>()[0] : fallback;
}

void clip_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  dispatch_numeric(x.dtype(), [&]<typename T>() {
    T lo = std::numeric_limits<T>::lowest();
    T hi = std::numeric_limits<T>::max();
    if (ctx.opset() < 11) {
      if constexpr (std::is_floating_point_v<T>) {  // shape inference allows only float32 here
        lo = ctx.attrs().get_float("min", lo);
        hi = ctx.attrs().get_float("max", hi);
      }
    } else {
      lo = bound_or(ctx, 1, lo);
      hi = bound_or(ctx, 2, hi);
    }
    const T* in = x.data<T>();
    T* out = ctx.output(0).data<T>();
    // max then min, like numpy.clip: with min > max everything becomes max, and NaN stays NaN.
    for (int64_t i = 0; i < x.numel(); ++i) {
      T v = in[i];
      if (v < lo) v = lo;
      if (v > hi) v = hi;
      out[i] = v;
    }
  });
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("Relu", relu_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("LeakyRelu", leaky_relu_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Elu", elu_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Selu", selu_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Sigmoid", sigmoid_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("HardSigmoid", hard_sigmoid_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("HardSwish", hard_swish_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Tanh", tanh_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Sqrt", sqrt_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Exp", exp_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Log", log_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Neg", neg_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Abs", abs_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Reciprocal", reciprocal_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Floor", floor_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Ceil", ceil_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Round", round_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Sign", sign_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Erf", erf_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Gelu", gelu_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Softplus", softplus_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Softsign", softsign_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Sin", sin_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Cos", cos_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Not", not_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("IsNaN", is_nan_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("IsInf", is_inf_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Identity", identity_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Dropout", dropout_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Cast", cast_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("CastLike", cast_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Clip", clip_kernel);

}  // namespace kestrel::cpu
