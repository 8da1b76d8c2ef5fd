#include "tracker/crop.h"

#include <cfenv>
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace kestrel::tracker {
namespace {

// One output coordinate's two source samples (image coordinates, -1 where the crop is padding)
// and the weight of the second.
struct Taps {
  int64_t first = -1, second = -1;
  float weight = 0;
};

// OpenCV's INTER_LINEAR sample positions along one axis of a crop of `size` pixels starting at
// image coordinate `start`, for an image `extent` pixels long. `end_valid` is where the official
// crop stops copying image pixels (see the header: one short of the edge once it is reached).
std::vector<Taps> axis_taps(int64_t start, int64_t size, int64_t extent, int out_size) {
  const int64_t end = start + size;
  const int64_t end_valid = end <= extent - 1 ? end : extent - 1;
  auto image_coord = [&](int64_t local) -> int64_t {
    const int64_t c = start + local;
    return c >= 0 && c < end_valid ? c : -1;
  };
  const double scale = double(size) / double(out_size);
  std::vector<Taps> taps(static_cast<size_t>(out_size));
  for (int o = 0; o < out_size; ++o) {
    float f = float((o + 0.5) * scale - 0.5);  // OpenCV computes the position in float
    int64_t s = int64_t(std::floor(f));
    f -= float(s);
    if (s < 0) s = 0, f = 0;
    if (s >= size - 1) s = size - 1, f = 0;
    const int64_t s1 = std::min(s + 1, size - 1);
    taps[size_t(o)] = {image_coord(s), image_coord(s1), f};
  }
  return taps;
}

}  // namespace

CropWindow crop_window(const Box& box, double factor, int out_size) {
  const double side = std::ceil(std::sqrt(box.w * box.h) * factor);
  KESTREL_CHECK(side >= 1 && std::isfinite(side), "box {},{},{},{} is too small to crop (side {})", box.x, box.y,
                box.w, box.h, side);
  CropWindow window;
  window.size = int64_t(side);
  // Python's round() rounds halves to even, as nearbyint does in the default rounding mode.
  KESTREL_CHECK(std::fegetround() == FE_TONEAREST, "the floating-point rounding mode was changed");
  window.x1 = int64_t(std::nearbyint(box.x + 0.5 * box.w - side * 0.5));
  window.y1 = int64_t(std::nearbyint(box.y + 0.5 * box.h - side * 0.5));
  window.resize_factor = double(out_size) / side;
  return window;
}

void crop_resize_normalize(const RgbImage& image, const CropWindow& window, int out_size, float* out) {
  const std::vector<Taps> xs = axis_taps(window.x1, window.size, image.width, out_size);
  const std::vector<Taps> ys = axis_taps(window.y1, window.size, image.height, out_size);
  const size_t plane = size_t(out_size) * size_t(out_size);
  float* planes[3] = {out, out + plane, out + 2 * plane};
  constexpr float kInv255 = 1.0f / 255.0f;
  for (int oy = 0; oy < out_size; ++oy) {
    const Taps& ty = ys[size_t(oy)];
    const uint8_t* row0 = ty.first >= 0 ? image.row(int(ty.first)) : nullptr;
    const uint8_t* row1 = ty.second >= 0 ? image.row(int(ty.second)) : nullptr;
    const float wy = ty.weight;
    for (int ox = 0; ox < out_size; ++ox) {
      const Taps& tx = xs[size_t(ox)];
      const float wx = tx.weight;
      for (int c = 0; c < 3; ++c) {
        auto sample = [&](const uint8_t* row, int64_t x) -> float {
          return row != nullptr && x >= 0 ? float(row[x * 3 + c]) : 0.0f;
        };
        // Horizontal first, then vertical, as OpenCV does.
        const float top = sample(row0, tx.first) * (1 - wx) + sample(row0, tx.second) * wx;
        const float bottom = sample(row1, tx.first) * (1 - wx) + sample(row1, tx.second) * wx;
        planes[c][size_t(oy) * size_t(out_size) + size_t(ox)] = (top * (1 - wy) + bottom * wy) * kInv255;
      }
    }
  }
}

FrameRegion crop_region(const CropWindow& window, int image_width, int image_height) {
  // The bounds axis_taps() accepts: image_coord(c) is c itself when 0 <= c < end_valid.
  auto span = [](int64_t start, int64_t size, int64_t extent, int& first, int& length) {
    const int64_t end = start + size;
    const int64_t end_valid = end <= extent - 1 ? end : extent - 1;
    const int64_t lo = std::max<int64_t>(start, 0);
    first = int(std::min(lo, extent));
    length = end_valid > lo ? int(end_valid - lo) : 0;
  };
  FrameRegion region;
  span(window.x1, window.size, image_width, region.x, region.width);
  span(window.y1, window.size, image_height, region.y, region.height);
  if (region.empty()) region.width = region.height = 0;
  return region;
}

}  // namespace kestrel::tracker
