// Reference kernel for Resize (opsets 11-21; attributes and shapes: src/ir/ops/resize.cpp).
//
// Resizing is separable: every output element is a weighted sum over the tensor product of
// per-dim "taps" (input index, weight), and the taps of a dim depend only on the output
// coordinate in that dim. So the kernel first plans the taps of every output coordinate of every
// dim, then sums products. For a dim of input length `in` and output coordinate x:
//
// 1. Map x to the input coordinate x_ori (scale = the given scale, or out/in with sizes;
//    length_resized = in * scale, which is the output length with sizes; with scales it is the
//    unrounded product, as in ONNX's reference implementation):
//      half_pixel            (x + 0.5) / scale - 0.5
//      half_pixel_symmetric  half_pixel shifted by in / 2 * (1 - out / length_resized), which
//                            centres the output when flooring the size cut length_resized
//      pytorch_half_pixel    length_resized > 1 ? (x + 0.5) / scale - 0.5 : 0
//      align_corners         length_resized == 1 ? 0 : x * (in - 1) / (length_resized - 1)
//      asymmetric            x / scale
//      tf_half_pixel_for_nn  (x + 0.5) / scale
//      tf_crop_and_resize    length_resized > 1 ? start * (in - 1) + x * (end - start) * (in - 1) / (length_resized - 1)
//                                               : (start + end) / 2 * (in - 1)
//    With tf_crop_and_resize an x_ori outside [0, in - 1] makes the whole output element
//    extrapolation_value.
// 2. Split x_ori = base + ratio with ratio in (0, 1] (an integral x_ori counts as the previous
//    index plus 1), and weight the neighbours:
//      nearest  one tap: base + 1 if the rounding mode picks up (round_prefer_floor: ratio > 0.5,
//               round_prefer_ceil: ratio >= 0.5, ceil: always, floor: never), else base; an
//               integral x_ori is itself
//      linear   base: 1 - ratio, base + 1: ratio
//      cubic    base - 1 .. base + 2 with Keys' cubic convolution weights (A = cubic_coeff_a);
//               exclude_outside=1 zeroes the weights of taps outside [0, in) and renormalises
//    Tap indices are then clamped to [0, in - 1] (edge replication).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/reference/dispatch.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

struct Tap {
  int64_t index;
  double weight;
};

// The taps of one output coordinate of one dim; `outside` marks a tf_crop_and_resize coordinate
// that falls outside the input (the output element is then extrapolation_value).
struct CoordinateTaps {
  std::vector<Tap> taps;
  bool outside = false;
};

struct ResizeSettings {
  std::string mode, nearest_mode, transform;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation_value = 0;
};

struct AxisScale {
  int64_t in = 0, out = 0;
  double scale = 1, length_resized = 1, roi_start = 0, roi_end = 1;
};

double original_coordinate(const ResizeSettings& s, const AxisScale& a, double x) {
  const double in = double(a.in);
  if (s.transform == "half_pixel") return (x + 0.5) / a.scale - 0.5;
  if (s.transform == "half_pixel_symmetric") {
    const double adjustment = double(a.out) / a.length_resized;
    return in / 2 * (1 - adjustment) + (x + 0.5) / a.scale - 0.5;
  }
  if (s.transform == "pytorch_half_pixel") return a.length_resized > 1 ? (x + 0.5) / a.scale - 0.5 : 0.0;
  if (s.transform == "align_corners") return a.length_resized == 1 ? 0.0 : x * (in - 1) / (a.length_resized - 1);
  if (s.transform == "asymmetric") return x / a.scale;
  if (s.transform == "tf_half_pixel_for_nn") return (x + 0.5) / a.scale;
  // tf_crop_and_resize
  if (a.length_resized > 1)
    return a.roi_start * (in - 1) + x * (a.roi_end - a.roi_start) * (in - 1) / (a.length_resized - 1);
  return 0.5 * (a.roi_start + a.roi_end) * (in - 1);
}

std::vector<double> cubic_weights(double ratio, double a) {
  auto near = [a](double t) { return ((a + 2) * t - (a + 3)) * t * t + 1; };                // |t| <= 1
  auto far = [a](double t) { return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a; };          // 1 < |t| < 2
  return {far(ratio + 1), near(ratio), near(1 - ratio), far(2 - ratio)};
}

CoordinateTaps taps_for(const ResizeSettings& s, const AxisScale& a, int64_t x) {
  CoordinateTaps result;
  const double x_ori = original_coordinate(s, a, double(x));
  if (s.transform == "tf_crop_and_resize" && (x_ori < 0 || x_ori > double(a.in - 1))) {
    result.outside = true;
    return result;
  }
  int64_t base = int64_t(std::floor(x_ori));
  double ratio = x_ori - double(base);
  const bool integral = ratio == 0;
  if (integral) {
    base -= 1;
    ratio = 1;
  }
  auto clamp = [&](int64_t i) { return std::min(std::max<int64_t>(i, 0), a.in - 1); };

  if (s.mode == "nearest") {
    bool up = true;  // an integral x_ori (ratio 1) is base + 1 = x_ori itself
    if (!integral) {
      if (s.nearest_mode == "round_prefer_floor") up = ratio > 0.5;
      else if (s.nearest_mode == "round_prefer_ceil") up = ratio >= 0.5;
      else up = s.nearest_mode == "ceil";
    }
    result.taps.push_back({clamp(up ? base + 1 : base), 1.0});
    return result;
  }

  const int64_t first = s.mode == "linear" ? base : base - 1;
  std::vector<double> weights =
      s.mode == "linear" ? std::vector<double>{1 - ratio, ratio} : cubic_weights(ratio, s.cubic_a);
  if (s.exclude_outside) {
    double sum = 0;
    for (size_t k = 0; k < weights.size(); ++k) {
      const int64_t i = first + int64_t(k);
      if (i < 0 || i >= a.in) weights[k] = 0;
      sum += weights[k];
    }
    for (double& w : weights) w /= sum;
  }
  for (size_t k = 0; k < weights.size(); ++k)
    if (weights[k] != 0) result.taps.push_back({clamp(first + int64_t(k)), weights[k]});
  return result;
}

// Advances the multi-index over the taps of every dim; false once every combination was visited.
bool next_tap(std::vector<int64_t>& tap_index, const std::vector<const CoordinateTaps*>& taps) {
  for (size_t d = tap_index.size(); d-- > 0;) {
    if (++tap_index[d] < int64_t(taps[d]->taps.size())) return true;
    tap_index[d] = 0;
  }
  return false;
}

std::vector<AxisScale> axis_scales(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& y = ctx.output(0);
  const bool has_sizes = ctx.has_input(3) && ctx.input(3).numel() > 0;
  const bool has_roi = ctx.has_input(1) && ctx.input(1).numel() > 0;
  std::vector<AxisScale> axes(size_t(x.rank()));
  for (int d = 0; d < x.rank(); ++d) {
    AxisScale& a = axes[size_t(d)];
    a.in = x.dim(d);
    a.out = y.dim(d);
    if (has_sizes) {
      a.scale = a.in > 0 ? double(a.out) / double(a.in) : 1.0;
      a.length_resized = double(a.out);
    } else {
      a.scale = ctx.input(2).data<float>()[d];
      a.length_resized = a.scale * double(a.in);
    }
    if (has_roi) {
      a.roi_start = ctx.input(1).double_at(d);
      a.roi_end = ctx.input(1).double_at(d + x.rank());
    }
  }
  return axes;
}

void resize_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  ResizeSettings s;
  s.mode = ctx.attrs().get_string("mode", "nearest");
  s.nearest_mode = ctx.attrs().get_string("nearest_mode", "round_prefer_floor");
  s.transform = ctx.attrs().get_string("coordinate_transformation_mode", "half_pixel");
  s.cubic_a = ctx.attrs().get_float("cubic_coeff_a", -0.75f);
  s.exclude_outside = ctx.attrs().get_int("exclude_outside", 0) != 0;
  s.extrapolation_value = ctx.attrs().get_float("extrapolation_value", 0.f);

  const std::vector<AxisScale> axes = axis_scales(ctx);
  const size_t rank = axes.size();
  std::vector<std::vector<CoordinateTaps>> plan(rank);
  for (size_t d = 0; d < rank; ++d)
    for (int64_t o = 0; o < axes[d].out; ++o) plan[d].push_back(taps_for(s, axes[d], o));
  const std::vector<int64_t> in_strides = ir::strides_of(x.shape());

  dispatch_numeric(x.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    T* out = y.data<T>();
    std::vector<int64_t> out_index(rank, 0), tap_index(rank, 0);
    std::vector<const CoordinateTaps*> taps(rank);
    for (int64_t o = 0; o < y.numel(); ++o) {
      bool outside = false;
      for (size_t d = 0; d < rank; ++d) {
        taps[d] = &plan[d][size_t(out_index[d])];
        outside = outside || taps[d]->outside;
      }
      if (outside) {
        out[o] = T(s.extrapolation_value);
      } else if (s.mode == "nearest") {
        int64_t offset = 0;
        for (size_t d = 0; d < rank; ++d) offset += taps[d]->taps[0].index * in_strides[d];
        out[o] = in[offset];
      } else {
        // Sum over the tensor product of the taps of every dim.
        double sum = 0;
        std::fill(tap_index.begin(), tap_index.end(), 0);
        while (true) {
          double weight = 1;
          int64_t offset = 0;
          for (size_t d = 0; d < rank; ++d) {
            const Tap& tap = taps[d]->taps[size_t(tap_index[d])];
            weight *= tap.weight;
            offset += tap.index * in_strides[d];
          }
          sum += weight * double(in[offset]);
          if (!next_tap(tap_index, taps)) break;
        }
        out[o] = T(sum);
      }
      for (size_t d = rank; d-- > 0;) {
        if (++out_index[d] < axes[d].out) break;
        out_index[d] = 0;
      }
    }
  });
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("Resize", resize_kernel);

}  // namespace kestrel::cpu
