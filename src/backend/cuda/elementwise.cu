// Element-wise kernels: unary maps, broadcasting binary operators, Where and Cast.
#include <cmath>
#include <type_traits>

#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {
namespace {

// ---------------------------------------------------------------- unary

template <UnaryOp OP>
__device__ __forceinline__ float unary_float(float x, float alpha, float beta) {
  if constexpr (OP == UnaryOp::kIdentity) return x;
  if constexpr (OP == UnaryOp::kRelu) return x > 0.f ? x : (x == x ? 0.f : x);
  if constexpr (OP == UnaryOp::kLeakyRelu) return x >= 0.f ? x : alpha * x;
  if constexpr (OP == UnaryOp::kSigmoid) return 1.f / (1.f + expf(-x));
  if constexpr (OP == UnaryOp::kTanh) return tanhf(x);
  if constexpr (OP == UnaryOp::kExp) return expf(x);
  if constexpr (OP == UnaryOp::kLog) return logf(x);
  if constexpr (OP == UnaryOp::kSqrt) return sqrtf(x);
  if constexpr (OP == UnaryOp::kNeg) return -x;
  if constexpr (OP == UnaryOp::kAbs) return fabsf(x);
  if constexpr (OP == UnaryOp::kReciprocal) return 1.f / x;
  if constexpr (OP == UnaryOp::kFloor) return floorf(x);
  if constexpr (OP == UnaryOp::kCeil) return ceilf(x);
  if constexpr (OP == UnaryOp::kClip) return x != x ? x : fminf(fmaxf(x, alpha), beta);
  if constexpr (OP == UnaryOp::kErf) return erff(x);
  if constexpr (OP == UnaryOp::kHardSigmoid) return fmaxf(0.f, fminf(1.f, alpha * x + beta));
  if constexpr (OP == UnaryOp::kHardSwish) return x * fmaxf(0.f, fminf(1.f, x / 6.f + 0.5f));
  if constexpr (OP == UnaryOp::kSoftplus) return x > 20.f ? x : log1pf(expf(x));
  if constexpr (OP == UnaryOp::kGelu) return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
  if constexpr (OP == UnaryOp::kElu) return x < 0.f ? alpha * expm1f(x) : x;
  if constexpr (OP == UnaryOp::kSelu) return x > 0.f ? beta * x : beta * alpha * expm1f(x);
  if constexpr (OP == UnaryOp::kSoftsign) return x / (1.f + fabsf(x));
  if constexpr (OP == UnaryOp::kRound) return rintf(x);  // halves to even, as the reference
  if constexpr (OP == UnaryOp::kSign) return x > 0.f ? 1.f : (x < 0.f ? -1.f : x);  // 0 and NaN pass through
  if constexpr (OP == UnaryOp::kSin) return sinf(x);
  if constexpr (OP == UnaryOp::kCos) return cosf(x);
  return x;
}

template <UnaryOp OP, typename T>
__global__ void unary_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t n, float alpha, float beta) {
  await_previous_kernel();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    if constexpr (IsFloatStorage<T>::value) {
      y[i] = from_float<T>(unary_float<OP>(to_float(x[i]), alpha, beta));
    } else {
      const T v = x[i];
      if constexpr (OP == UnaryOp::kRelu) y[i] = v > T(0) ? v : T(0);
      else if constexpr (OP == UnaryOp::kNeg) y[i] = T(0) - v;
      else if constexpr (OP == UnaryOp::kAbs) y[i] = v < T(0) ? T(0) - v : v;
      else y[i] = v;
    }
  }
}

template <UnaryOp OP>
void unary_dispatch(DType dtype, const void* x, void* y, int64_t n, float alpha, float beta, cudaStream_t s) {
  dispatch_numeric(dtype, [&]<typename T>() {
    launch(unary_kernel<OP, T>, grid_for(n), kThreads, 0, s, static_cast<const T*>(x), static_cast<T*>(y), n, alpha,
           beta);
  });
}

// ---------------------------------------------------------------- binary

template <typename T>
struct Compute {
  using type = T;
};
template <>
struct Compute<__half> {
  using type = float;
};

template <BinaryOp OP, typename C>
__device__ __forceinline__ auto binary_apply(C a, C b) {
  if constexpr (OP == BinaryOp::kAdd) return C(a + b);
  if constexpr (OP == BinaryOp::kSub) return C(a - b);
  if constexpr (OP == BinaryOp::kMul) return C(a * b);
  if constexpr (OP == BinaryOp::kDiv) {
    if constexpr (std::is_integral_v<C>) {
      if (b == C(0)) return C(0);
      if (b == C(-1)) return C(C(0) - a);
      return C(a / b);
    } else {
      return C(a / b);
    }
  }
  if constexpr (OP == BinaryOp::kMod || OP == BinaryOp::kFMod) {
    C r;
    if constexpr (std::is_integral_v<C>) {
      if (b == C(0) || b == C(-1)) return C(0);
      r = C(a % b);
    } else {
      r = fmodf(a, b);
    }
    if (OP == BinaryOp::kMod && r != C(0) && ((r < C(0)) != (b < C(0)))) r = C(r + b);
    return r;
  }
  if constexpr (OP == BinaryOp::kPow) {
    if constexpr (std::is_integral_v<C>) {
      C result = 1, base = a;
      for (C e = b; e > 0; e >>= 1) {
        if (e & 1) result = C(result * base);
        base = C(base * base);
      }
      return b < 0 ? C(0) : result;
    } else {
      return C(powf(a, b));
    }
  }
  if constexpr (OP == BinaryOp::kMax) return C(a != a ? a : (b != b ? b : (a > b ? a : b)));
  if constexpr (OP == BinaryOp::kMin) return C(a != a ? a : (b != b ? b : (a < b ? a : b)));
  if constexpr (OP == BinaryOp::kEqual) return uint8_t(a == b);
  if constexpr (OP == BinaryOp::kLess) return uint8_t(a < b);
  if constexpr (OP == BinaryOp::kLessOrEqual) return uint8_t(a <= b);
  if constexpr (OP == BinaryOp::kGreater) return uint8_t(a > b);
  if constexpr (OP == BinaryOp::kGreaterOrEqual) return uint8_t(a >= b);
  if constexpr (OP == BinaryOp::kAnd) return uint8_t((a != 0) && (b != 0));
  if constexpr (OP == BinaryOp::kOr) return uint8_t((a != 0) || (b != 0));
  if constexpr (OP == BinaryOp::kXor) return uint8_t((a != 0) != (b != 0));
}

template <BinaryOp OP>
constexpr bool returns_bool = OP >= BinaryOp::kEqual;

template <int K>
__device__ __forceinline__ void broadcast_offsets(const Broadcast& p, int64_t i, int64_t (&off)[3]) {
  for (int k = 0; k < K; ++k) off[k] = p.contiguous[k] ? i : 0;
  bool any = false;
  for (int k = 0; k < K; ++k) any |= !p.contiguous[k];
  if (!any) return;
  int64_t rest = i;
  for (int d = p.rank - 1; d >= 0; --d) {
    const int64_t c = rest % p.dims[d];
    rest /= p.dims[d];
    for (int k = 0; k < K; ++k)
      if (!p.contiguous[k]) off[k] += c * p.strides[k][d];
  }
}

template <BinaryOp OP, typename T>
__global__ void binary_kernel(Broadcast p, const T* __restrict__ a, const T* __restrict__ b, void* __restrict__ y) {
  await_previous_kernel();
  using C = typename Compute<T>::type;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p.n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    broadcast_offsets<2>(p, i, off);
    C va, vb;
    if constexpr (IsFloatStorage<T>::value) {
      va = to_float(a[off[0]]);
      vb = to_float(b[off[1]]);
    } else {
      va = a[off[0]];
      vb = b[off[1]];
    }
    const auto r = binary_apply<OP, C>(va, vb);
    if constexpr (returns_bool<OP>) {
      static_cast<uint8_t*>(y)[i] = r;
    } else if constexpr (IsFloatStorage<T>::value) {
      static_cast<T*>(y)[i] = from_float<T>(r);
    } else {
      static_cast<T*>(y)[i] = r;
    }
  }
}

template <BinaryOp OP>
void binary_dispatch(DType in, const Broadcast& p, const void* a, const void* b, void* y, cudaStream_t s) {
  auto launch_typed = [&]<typename T>() {
    launch(binary_kernel<OP, T>, grid_for(p.n), kThreads, 0, s, p, static_cast<const T*>(a), static_cast<const T*>(b),
           y);
  };
  if constexpr (OP >= BinaryOp::kAnd) {
    if (in != DType::kBool) throw std::runtime_error("CUDA logic kernel: bool inputs expected");
    launch_typed.template operator()<uint8_t>();
  } else if constexpr (returns_bool<OP>) {
    if (in == DType::kBool || in == DType::kU8) return launch_typed.template operator()<uint8_t>();
    dispatch_numeric(in, launch_typed);
  } else {
    dispatch_numeric(in, launch_typed);
  }
}

template <typename T>
__global__ void where_kernel(Broadcast p, const uint8_t* __restrict__ cond, const T* __restrict__ a,
                             const T* __restrict__ b, T* __restrict__ y) {
  await_previous_kernel();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p.n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    broadcast_offsets<3>(p, i, off);
    y[i] = cond[off[0]] ? a[off[1]] : b[off[2]];
  }
}

// ---------------------------------------------------------------- cast

template <typename To, typename From>
__device__ __forceinline__ To cast_value(From x) {
  if constexpr (std::is_same_v<From, __half>) {
    return cast_value<To>(__half2float(x));
  } else if constexpr (std::is_same_v<From, BoolByte>) {
    return cast_value<To>(uint8_t(x.v != 0));
  } else if constexpr (std::is_same_v<To, BoolByte>) {
    return BoolByte{uint8_t(x != From(0))};
  } else if constexpr (std::is_same_v<To, __half>) {
    return __float2half_rn(float(x));
  } else if constexpr (std::is_floating_point_v<From> && std::is_integral_v<To>) {
    const double d = double(x);
    if (d != d) return To(0);
    if (d >= 9223372036854775807.0) return To(INT64_MAX);
    if (d <= -9223372036854775808.0) return To(INT64_MIN);
    return To(int64_t(d));
  } else {
    return To(x);
  }
}

template <typename From, typename To>
__global__ void cast_kernel(const From* __restrict__ x, To* __restrict__ y, int64_t n) {
  await_previous_kernel();
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = cast_value<To>(x[i]);
}

template <typename F>
void dispatch_cast(DType t, F&& f) {
  switch (t) {
    case DType::kF32: return f.template operator()<float>();
    case DType::kF16: return f.template operator()<__half>();
    case DType::kI64: return f.template operator()<int64_t>();
    case DType::kI32: return f.template operator()<int32_t>();
    case DType::kI8: return f.template operator()<int8_t>();
    case DType::kU8: return f.template operator()<uint8_t>();
    case DType::kBool: return f.template operator()<BoolByte>();
  }
}

}  // namespace

void launch_unary(UnaryOp op, DType dtype, const void* x, void* y, int64_t n, float alpha, float beta,
                  cudaStream_t s) {
  if (n == 0) return;
  switch (op) {
#define KESTREL_UNARY_CASE(OP) \
  case UnaryOp::OP: return unary_dispatch<UnaryOp::OP>(dtype, x, y, n, alpha, beta, s);
    KESTREL_UNARY_CASE(kIdentity)
    KESTREL_UNARY_CASE(kRelu)
    KESTREL_UNARY_CASE(kLeakyRelu)
    KESTREL_UNARY_CASE(kSigmoid)
    KESTREL_UNARY_CASE(kTanh)
    KESTREL_UNARY_CASE(kExp)
    KESTREL_UNARY_CASE(kLog)
    KESTREL_UNARY_CASE(kSqrt)
    KESTREL_UNARY_CASE(kNeg)
    KESTREL_UNARY_CASE(kAbs)
    KESTREL_UNARY_CASE(kReciprocal)
    KESTREL_UNARY_CASE(kFloor)
    KESTREL_UNARY_CASE(kCeil)
    KESTREL_UNARY_CASE(kClip)
    KESTREL_UNARY_CASE(kErf)
    KESTREL_UNARY_CASE(kHardSigmoid)
    KESTREL_UNARY_CASE(kHardSwish)
    KESTREL_UNARY_CASE(kSoftplus)
    KESTREL_UNARY_CASE(kGelu)
    KESTREL_UNARY_CASE(kElu)
    KESTREL_UNARY_CASE(kSelu)
    KESTREL_UNARY_CASE(kSoftsign)
    KESTREL_UNARY_CASE(kRound)
    KESTREL_UNARY_CASE(kSign)
    KESTREL_UNARY_CASE(kSin)
    KESTREL_UNARY_CASE(kCos)
#undef KESTREL_UNARY_CASE
  }
}

void launch_binary(BinaryOp op, DType in, const Broadcast& p, const void* a, const void* b, void* y, cudaStream_t s) {
  if (p.n == 0) return;
  switch (op) {
#define KESTREL_BINARY_CASE(OP) \
  case BinaryOp::OP: return binary_dispatch<BinaryOp::OP>(in, p, a, b, y, s);
    KESTREL_BINARY_CASE(kAdd)
    KESTREL_BINARY_CASE(kSub)
    KESTREL_BINARY_CASE(kMul)
    KESTREL_BINARY_CASE(kDiv)
    KESTREL_BINARY_CASE(kMod)
    KESTREL_BINARY_CASE(kFMod)
    KESTREL_BINARY_CASE(kPow)
    KESTREL_BINARY_CASE(kMax)
    KESTREL_BINARY_CASE(kMin)
    KESTREL_BINARY_CASE(kEqual)
    KESTREL_BINARY_CASE(kLess)
    KESTREL_BINARY_CASE(kLessOrEqual)
    KESTREL_BINARY_CASE(kGreater)
    KESTREL_BINARY_CASE(kGreaterOrEqual)
    KESTREL_BINARY_CASE(kAnd)
    KESTREL_BINARY_CASE(kOr)
    KESTREL_BINARY_CASE(kXor)
#undef KESTREL_BINARY_CASE
  }
}

void launch_where(DType dtype, const Broadcast& p, const void* cond, const void* a, const void* b, void* y,
                  cudaStream_t s) {
  if (p.n == 0) return;
  const int size = dtype == DType::kF32 || dtype == DType::kI32 ? 4 : dtype == DType::kI64 ? 8 : dtype == DType::kF16 ? 2 : 1;
  dispatch_size(size, [&]<typename T>() {
    launch(where_kernel<T>, grid_for(p.n), kThreads, 0, s, p, static_cast<const uint8_t*>(cond),
           static_cast<const T*>(a), static_cast<const T*>(b), static_cast<T*>(y));
  });
}

void launch_cast(DType from, DType to, const void* x, void* y, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  dispatch_cast(from, [&]<typename F>() {
    dispatch_cast(to, [&]<typename T>() {
      launch(cast_kernel<F, T>, grid_for(n), kThreads, 0, s, static_cast<const F*>(x), static_cast<T*>(y), n);
    });
  });
}

}  // namespace kestrel::cuda
