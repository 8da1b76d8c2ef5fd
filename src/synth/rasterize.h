// Anti-aliased polygon coverage: what fraction of each pixel a simple polygon covers.
#pragma once
#include <vector>

#include "synth/geometry.h"

namespace kestrel::synth {

// Coverage in [0, 1] over a pixel window; values outside the window are 0.
struct CoverageMap {
  PixelRect window;
  std::vector<float> values;  // window.width() * window.height(), row-major

  float at(int x, int y) const {
    if (x < window.x0 || y < window.y0 || x >= window.x1 || y >= window.y1) return 0.0f;
    return values[size_t(y - window.y0) * size_t(window.width()) + size_t(x - window.x0)];
  }
  const float* row(int y) const { return values.data() + size_t(y - window.y0) * size_t(window.width()); }
};

// A pixel belongs to a shape's mask when at least half of it is covered: the labels count these.
constexpr float kMaskThreshold = 0.5f;

// Even-odd fill of `polygon` over `window`, sampled on 4 sub-scanlines per pixel row with exact
// coverage along x: smooth edges at the cost of a few crossings per row, not per pixel.
// `out` is reused between calls to avoid reallocating.
void rasterize_polygon(const Polygon& polygon, const PixelRect& window, CoverageMap& out);

}  // namespace kestrel::synth
