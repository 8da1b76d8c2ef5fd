#include "synth/shapes.h"

#include <cmath>

namespace kestrel::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Stretches the outline so its bounds are exactly [-1, 1]^2.
Polygon normalised(Polygon outline) {
  const Bounds b = bounds_of(outline);
  const double sx = 2.0 / b.width(), sy = 2.0 / b.height();
  for (Vec2& p : outline) p = {(p.x - b.x0) * sx - 1.0, (p.y - b.y0) * sy - 1.0};
  return outline;
}

Polygon ellipse() {
  constexpr int kVertices = 64;  // edge error under 0.12% of the radius: invisible at 720p sizes
  Polygon outline;
  for (int i = 0; i < kVertices; ++i) {
    const double t = 2 * kPi * i / kVertices;
    outline.push_back({std::cos(t), std::sin(t)});
  }
  return outline;
}

Polygon rounded_rectangle(Rng& rng) {
  const double radius = rng.uniform(0.15, 0.6);
  constexpr int kArcVertices = 8;
  const Vec2 corners[4] = {{1 - radius, 1 - radius}, {-1 + radius, 1 - radius}, {-1 + radius, -1 + radius},
                           {1 - radius, -1 + radius}};
  Polygon outline;
  for (int c = 0; c < 4; ++c)
    for (int i = 0; i <= kArcVertices; ++i) {
      const double t = kPi / 2 * (c + double(i) / kArcVertices);
      outline.push_back({corners[c].x + radius * std::cos(t), corners[c].y + radius * std::sin(t)});
    }
  return outline;
}

Polygon regular_polygon(Rng& rng) {
  const int corners = rng.range(3, 8);
  const double phase = rng.uniform(0, 2 * kPi);
  Polygon outline;
  for (int i = 0; i < corners; ++i) {
    const double t = phase + 2 * kPi * i / corners;
    outline.push_back({std::cos(t), std::sin(t)});
  }
  return outline;
}

Polygon star(Rng& rng) {
  const int points = rng.range(4, 8);
  const double inner = rng.uniform(0.35, 0.7), phase = rng.uniform(0, 2 * kPi);
  Polygon outline;
  for (int i = 0; i < 2 * points; ++i) {
    const double t = phase + kPi * i / points, r = (i % 2) ? inner : 1.0;
    outline.push_back({r * std::cos(t), r * std::sin(t)});
  }
  return outline;
}

// A star-shaped blob: the radius is 1 plus a few low harmonics, so the outline never crosses itself.
Polygon blob(Rng& rng) {
  constexpr int kVertices = 48;
  double amplitude[3], phase[3];
  for (int h = 0; h < 3; ++h) {
    amplitude[h] = rng.uniform(0.0, 0.3 / (h + 1));
    phase[h] = rng.uniform(0, 2 * kPi);
  }
  Polygon outline;
  for (int i = 0; i < kVertices; ++i) {
    const double t = 2 * kPi * i / kVertices;
    double r = 1.0;
    for (int h = 0; h < 3; ++h) r += amplitude[h] * std::sin((h + 2) * t + phase[h]);
    outline.push_back({r * std::cos(t), r * std::sin(t)});
  }
  return outline;
}

Polygon cross(Rng& rng) {
  const double a = rng.uniform(0.25, 0.6), b = rng.uniform(0.25, 0.6);  // arm half-thickness
  return {{a, -1}, {a, -b}, {1, -b}, {1, b}, {a, b}, {a, 1}, {-a, 1}, {-a, b}, {-1, b}, {-1, -b}, {-a, -b}, {-a, -1}};
}

}  // namespace

const char* shape_name(ShapeKind kind) {
  switch (kind) {
    case ShapeKind::kEllipse: return "ellipse";
    case ShapeKind::kRectangle: return "rectangle";
    case ShapeKind::kRoundedRectangle: return "rounded rectangle";
    case ShapeKind::kPolygon: return "polygon";
    case ShapeKind::kStar: return "star";
    case ShapeKind::kBlob: return "blob";
    case ShapeKind::kCross: return "cross";
    case ShapeKind::kCount: break;
  }
  return "shape";
}

ShapeKind random_shape_kind(Rng& rng) { return ShapeKind(rng.range(0, int(ShapeKind::kCount) - 1)); }

Polygon make_outline(ShapeKind kind, Rng& rng) {
  switch (kind) {
    case ShapeKind::kEllipse: return normalised(ellipse());
    case ShapeKind::kRectangle: return {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}};
    case ShapeKind::kRoundedRectangle: return normalised(rounded_rectangle(rng));
    case ShapeKind::kPolygon: return normalised(regular_polygon(rng));
    case ShapeKind::kStar: return normalised(star(rng));
    case ShapeKind::kBlob: return normalised(blob(rng));
    case ShapeKind::kCross: return normalised(cross(rng));
    case ShapeKind::kCount: break;
  }
  return normalised(ellipse());
}

}  // namespace kestrel::synth
