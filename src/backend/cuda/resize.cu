// Resize of the last two axes (kernels.h, "resize"): per output element, the taps of its row and
// of its column (index and weight, as the reference plans them per coordinate), then the sum over
// their product.
#include "backend/cuda/device_types.cuh"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {
namespace {

struct Taps {
  int index[4];
  double weight[4];
  int count;
  bool outside;  // tf_crop_and_resize past the input: the element is extrapolation_value
};

__device__ double original_coordinate(const Resize2d& p, const ResizeAxis& a, double x) {
  const double in = double(a.in);
  switch (p.transform) {
    case CoordinateTransform::kHalfPixel: return (x + 0.5) / a.scale - 0.5;
    case CoordinateTransform::kHalfPixelSymmetric:
      return in / 2 * (1 - double(a.out) / a.length_resized) + (x + 0.5) / a.scale - 0.5;
    case CoordinateTransform::kPytorchHalfPixel: return a.length_resized > 1 ? (x + 0.5) / a.scale - 0.5 : 0.0;
    case CoordinateTransform::kAlignCorners: return a.length_resized == 1 ? 0.0 : x * (in - 1) / (a.length_resized - 1);
    case CoordinateTransform::kAsymmetric: return x / a.scale;
    case CoordinateTransform::kTfHalfPixelForNn: return (x + 0.5) / a.scale;
    case CoordinateTransform::kTfCropAndResize: break;
  }
  if (a.length_resized > 1) return a.roi_start * (in - 1) + x * (a.roi_end - a.roi_start) * (in - 1) / (a.length_resized - 1);
  return 0.5 * (a.roi_start + a.roi_end) * (in - 1);
}

__device__ Taps taps_for(const Resize2d& p, const ResizeAxis& a, int o) {
  Taps t{};
  const double x_ori = original_coordinate(p, a, double(o));
  if (p.transform == CoordinateTransform::kTfCropAndResize && (x_ori < 0 || x_ori > double(a.in - 1))) {
    t.outside = true;
    return t;
  }
  int base = int(floor(x_ori));
  double ratio = x_ori - double(base);
  const bool integral = ratio == 0;
  if (integral) {  // an integral coordinate counts as the previous index plus 1
    base -= 1;
    ratio = 1;
  }
  auto clamp = [&](int i) { return i < 0 ? 0 : i > a.in - 1 ? a.in - 1 : i; };
  if (p.mode == ResizeMode::kNearest) {
    bool up = true;
    if (!integral) {
      switch (p.rounding) {
        case NearestRounding::kRoundPreferFloor: up = ratio > 0.5; break;
        case NearestRounding::kRoundPreferCeil: up = ratio >= 0.5; break;
        case NearestRounding::kFloor: up = false; break;
        case NearestRounding::kCeil: up = true; break;
      }
    }
    t.index[0] = clamp(up ? base + 1 : base);
    t.weight[0] = 1;
    t.count = 1;
    return t;
  }
  double w[4];
  int first, n;
  if (p.mode == ResizeMode::kLinear) {
    first = base, n = 2;
    w[0] = 1 - ratio, w[1] = ratio;
  } else {  // Keys' cubic convolution
    first = base - 1, n = 4;
    const double A = p.cubic_a;
    auto near_w = [A](double s) { return ((A + 2) * s - (A + 3)) * s * s + 1; };
    auto far_w = [A](double s) { return ((A * s - 5 * A) * s + 8 * A) * s - 4 * A; };
    w[0] = far_w(ratio + 1), w[1] = near_w(ratio), w[2] = near_w(1 - ratio), w[3] = far_w(2 - ratio);
  }
  if (p.exclude_outside) {
    double sum = 0;
    for (int k = 0; k < n; ++k) {
      const int i = first + k;
      if (i < 0 || i >= a.in) w[k] = 0;
      sum += w[k];
    }
    for (int k = 0; k < n; ++k) w[k] /= sum;
  }
  t.count = 0;
  for (int k = 0; k < n; ++k)
    if (w[k] != 0) {
      t.index[t.count] = clamp(first + k);
      t.weight[t.count] = w[k];
      ++t.count;
    }
  return t;
}

template <typename T>
__global__ void resize2d_kernel(Resize2d p, const T* __restrict__ x, T* __restrict__ y) {
  await_previous_kernel();
  const int64_t total = int64_t(p.planes) * p.y.out * p.x.out;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int ox = int(i % p.x.out), oy = int((i / p.x.out) % p.y.out);
    const int64_t plane = i / (int64_t(p.x.out) * p.y.out);
    const Taps ty = taps_for(p, p.y, oy), tx = taps_for(p, p.x, ox);
    if (ty.outside || tx.outside) {
      y[i] = from_float<T>(p.extrapolation_value);
      continue;
    }
    const T* in = x + plane * p.y.in * p.x.in;
    double sum = 0;
    for (int a = 0; a < ty.count; ++a)
      for (int b = 0; b < tx.count; ++b)
        sum += ty.weight[a] * tx.weight[b] * double(to_float(in[int64_t(ty.index[a]) * p.x.in + tx.index[b]]));
    y[i] = from_float<T>(float(sum));
  }
}

}  // namespace

void launch_resize2d(DType dtype, const Resize2d& p, const void* x, void* y, cudaStream_t s) {
  const int64_t total = int64_t(p.planes) * p.y.out * p.x.out;
  if (total == 0) return;
  dispatch_float(dtype, [&]<typename T>() {
    launch(resize2d_kernel<T>, grid_for(total), kThreads, 0, s, p, static_cast<const T*>(x), static_cast<T*>(y));
  });
}

}  // namespace kestrel::cuda
