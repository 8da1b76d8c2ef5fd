// Points, poses and rectangles of the synthetic scenes. Pixel (x, y) covers [x, x+1) x [y, y+1);
// its centre is (x + 0.5, y + 0.5).
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

namespace kestrel::synth {

struct Vec2 {
  double x = 0, y = 0;
};

// Where an object is in one frame: its outline, given in [-1, 1]^2, is scaled by the half extents,
// rotated by `angle` (radians) and moved to the centre.
struct Pose {
  double cx = 0, cy = 0;
  double half_w = 1, half_h = 1;
  double angle = 0;
};

// Continuous bounds.
struct Bounds {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  double width() const { return x1 - x0; }
  double height() const { return y1 - y0; }
  bool intersects(const Bounds& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
  Bounds inflated(double margin) const { return {x0 - margin, y0 - margin, x1 + margin, y1 + margin}; }
};

// Half-open pixel rectangle [x0, x1) x [y0, y1).
struct PixelRect {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
  bool empty() const { return x1 <= x0 || y1 <= y0; }
  PixelRect intersect(const PixelRect& o) const {
    return {std::max(x0, o.x0), std::max(y0, o.y0), std::min(x1, o.x1), std::min(y1, o.y1)};
  }
  PixelRect inflated(int margin) const { return {x0 - margin, y0 - margin, x1 + margin, y1 + margin}; }
};

using Polygon = std::vector<Vec2>;

inline Polygon place_outline(const Polygon& unit_outline, const Pose& pose) {
  const double c = std::cos(pose.angle), s = std::sin(pose.angle);
  Polygon placed;
  placed.reserve(unit_outline.size());
  for (const Vec2& p : unit_outline) {
    const double x = p.x * pose.half_w, y = p.y * pose.half_h;
    placed.push_back({pose.cx + c * x - s * y, pose.cy + s * x + c * y});
  }
  return placed;
}

inline Bounds bounds_of(const Polygon& polygon) {
  Bounds b{1e300, 1e300, -1e300, -1e300};
  for (const Vec2& p : polygon) {
    b.x0 = std::min(b.x0, p.x);
    b.y0 = std::min(b.y0, p.y);
    b.x1 = std::max(b.x1, p.x);
    b.y1 = std::max(b.y1, p.y);
  }
  return b;
}

// Every pixel the bounds touch.
inline PixelRect pixels_touched(const Bounds& b) {
  return {int(std::floor(b.x0)), int(std::floor(b.y0)), int(std::floor(b.x1)) + 1, int(std::floor(b.y1)) + 1};
}

// Shoelace formula: the exact area, which pixel counts of the rasterised shape approximate.
inline double polygon_area(const Polygon& polygon) {
  double twice = 0;
  for (size_t i = 0, n = polygon.size(); i < n; ++i) {
    const Vec2& a = polygon[i];
    const Vec2& b = polygon[(i + 1) % n];
    twice += a.x * b.y - b.x * a.y;
  }
  return std::fabs(twice) * 0.5;
}

}  // namespace kestrel::synth
