// Running mean and variance (Welford), merged with Chan's formula: the normalisation kernels'
// statistics, exact enough in FP32 where sum and sum of squares would cancel.
#pragma once

namespace kestrel::cuda {

struct Moments {
  float count, mean, m2;
};

__device__ __forceinline__ Moments merge(Moments a, Moments b) {
  const float count = a.count + b.count;
  if (count == 0.f) return a;
  const float delta = b.mean - a.mean;
  const float wb = b.count / count;
  return {count, a.mean + delta * wb, a.m2 + b.m2 + delta * delta * a.count * wb};
}

__device__ __forceinline__ Moments add_sample(Moments m, float v) {
  m.count += 1.f;
  const float delta = v - m.mean;
  m.mean += delta / m.count;
  m.m2 += delta * (v - m.mean);
  return m;
}

// Lane 0 ends with the warp's total.
__device__ __forceinline__ Moments warp_merge(Moments m) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    Moments o{__shfl_down_sync(0xffffffffu, m.count, offset), __shfl_down_sync(0xffffffffu, m.mean, offset),
              __shfl_down_sync(0xffffffffu, m.m2, offset)};
    m = merge(m, o);
  }
  return m;
}

}  // namespace kestrel::cuda
