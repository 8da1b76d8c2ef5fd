#include "synth/rasterize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "synth/image.h"

namespace kestrel::synth {
namespace {

constexpr int kSubScanlines = 4;
constexpr float kSubWeight = 1.0f / kSubScanlines;

// Adds `weight` times the length of [a, b) that falls inside each pixel of the row.
void add_span(float* row, int x0, int width, double a, double b, float weight) {
  a = std::max(a, double(x0));
  b = std::min(b, double(x0 + width));
  if (b <= a) return;
  const int first = int(std::floor(a)), last = int(std::floor(b));
  if (first == last) {
    row[first - x0] += float(b - a) * weight;
    return;
  }
  row[first - x0] += float(first + 1 - a) * weight;
  for (int x = first + 1; x < last; ++x) row[x - x0] += weight;
  if (last < x0 + width) row[last - x0] += float(b - last) * weight;
}

}  // namespace

void rasterize_polygon(const Polygon& polygon, const PixelRect& window, CoverageMap& out) {
  out.window = window;
  const size_t width = size_t(std::max(window.width(), 0)), height = size_t(std::max(window.height(), 0));
  refill(out.values, width * height, 0.0f);
  if (width == 0 || height == 0 || polygon.size() < 3) return;

  struct Edge {
    double y_top, y_bottom, x_at_top, dx_dy;
  };
  std::vector<Edge> edges;
  edges.reserve(polygon.size());
  double y_min = 1e300, y_max = -1e300;
  for (size_t i = 0, n = polygon.size(); i < n; ++i) {
    Vec2 a = polygon[i], b = polygon[(i + 1) % n];
    if (a.y == b.y) continue;  // horizontal edges never cross a scanline
    if (a.y > b.y) std::swap(a, b);
    edges.push_back({a.y, b.y, a.x, (b.x - a.x) / (b.y - a.y)});
    y_min = std::min(y_min, a.y);
    y_max = std::max(y_max, b.y);
  }
  const int row_first = std::max(window.y0, int(std::floor(y_min)));
  const int row_last = std::min(window.y1 - 1, int(std::floor(y_max)));
  std::vector<double> crossings;
  crossings.reserve(edges.size());
  for (int y = row_first; y <= row_last; ++y) {
    float* row = out.values.data() + size_t(y - window.y0) * width;
    for (int sub = 0; sub < kSubScanlines; ++sub) {
      const double ys = y + (sub + 0.5) / kSubScanlines;
      crossings.clear();
      // Half-open in y, so a vertex shared by two edges is crossed once and the count stays even.
      for (const Edge& e : edges)
        if (ys >= e.y_top && ys < e.y_bottom) crossings.push_back(e.x_at_top + (ys - e.y_top) * e.dx_dy);
      std::sort(crossings.begin(), crossings.end());
      for (size_t k = 0; k + 1 < crossings.size(); k += 2)
        add_span(row, window.x0, int(width), crossings[k], crossings[k + 1], kSubWeight);
    }
  }
  // Rounding in the sums can exceed 1 by a hair; the compositor expects [0, 1].
  for (float& v : out.values) v = std::min(v, 1.0f);
}

}  // namespace kestrel::synth
