// Device-side helpers shared by the .cu files: storage types, float conversion, dtype dispatch,
// grid sizing.
#pragma once
#include <cstdint>
#include <stdexcept>

#include <cuda_fp16.h>

#include "backend/cuda/kernels.h"

namespace kestrel::cuda {

constexpr int kThreads = 256;

inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks < 1) blocks = 1;
  if (blocks > (int64_t(1) << 30)) blocks = int64_t(1) << 30;
  return unsigned(blocks);
}

// Grid dimensions y and z are limited to 65535; kernels walk the rest with a stride.
inline unsigned capped(int64_t n) { return unsigned(n < 1 ? 1 : n > 65535 ? 65535 : n); }

// The depthwise kernels' launch (conv.cu, qconv.cu): a 256-thread tile of output pixels as wide as
// the plane allows (SMAT's planes are 8 to 128 pixels wide), planes along z.
struct PlaneTiles {
  dim3 grid, block;
};
inline PlaneTiles plane_tiles(int oh, int ow, int64_t planes) {
  unsigned bx = 4;
  while (bx < 32 && int(bx) < ow) bx *= 2;
  const dim3 block(bx, kThreads / bx);
  return {dim3((ow + block.x - 1) / block.x, (oh + block.y - 1) / block.y, capped(planes)), block};
}

struct BoolByte {
  uint8_t v;
};

template <typename T>
__device__ __forceinline__ float to_float(T x) {
  return float(x);
}
template <>
__device__ __forceinline__ float to_float<__half>(__half x) {
  return __half2float(x);
}
template <>
__device__ __forceinline__ float to_float<BoolByte>(BoolByte x) {
  return x.v ? 1.f : 0.f;
}

template <typename T>
__device__ __forceinline__ T from_float(float x) {
  return T(x);
}
template <>
__device__ __forceinline__ __half from_float<__half>(float x) {
  return __float2half_rn(x);
}

// A float result stored as Y: converted for the float types; for int8/uint8 quantized as
// QuantizeLinear(f, y_scale, 0) computes it (src/quant/int8_math.h: division by the scale, half to
// even, saturation, NaN to 0), for the layers that absorbed their output's quantizer.
template <typename Y>
__device__ __forceinline__ Y convert_or_quantize(float f, float y_scale) {
  if constexpr (sizeof(Y) == 1) {
    constexpr float lo = Y(-1) < Y(0) ? -128.f : 0.f, hi = Y(-1) < Y(0) ? 127.f : 255.f;
    float q = rintf(f / y_scale);
    if (isnan(q)) q = 0.f;
    return Y(fminf(fmaxf(q, lo), hi));
  } else {
    return from_float<Y>(f);
  }
}

template <typename T>
struct IsFloatStorage {
  static constexpr bool value = false;
};
template <>
struct IsFloatStorage<float> {
  static constexpr bool value = true;
};
template <>
struct IsFloatStorage<__half> {
  static constexpr bool value = true;
};

// Calls f.template operator()<T>() for the float storage types.
template <typename F>
void dispatch_float(DType t, F&& f) {
  switch (t) {
    case DType::kF32: return f.template operator()<float>();
    case DType::kF16: return f.template operator()<__half>();
    default: throw std::runtime_error("CUDA kernel: expected a float32 or float16 tensor");
  }
}

// Float storage types and the integer types of shape arithmetic.
template <typename F>
void dispatch_numeric(DType t, F&& f) {
  switch (t) {
    case DType::kF32: return f.template operator()<float>();
    case DType::kF16: return f.template operator()<__half>();
    case DType::kI64: return f.template operator()<int64_t>();
    case DType::kI32: return f.template operator()<int32_t>();
    default: throw std::runtime_error("CUDA kernel: unsupported data type");
  }
}

// Raw element moves by size.
template <typename F>
void dispatch_size(int size, F&& f) {
  switch (size) {
    case 1: return f.template operator()<uint8_t>();
    case 2: return f.template operator()<uint16_t>();
    case 4: return f.template operator()<uint32_t>();
    case 8: return f.template operator()<uint64_t>();
    default: throw std::runtime_error("CUDA kernel: unsupported element size");
  }
}

}  // namespace kestrel::cuda
