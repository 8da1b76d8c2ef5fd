#include "synth/background.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "synth/noise.h"
#include "synth/paint.h"
#include "synth/rasterize.h"
#include "synth/shapes.h"
#include "synth/texture.h"

namespace kestrel::synth {
namespace {

// A colour ramp of a few stops; natural scenes are mostly one hue family with varied brightness.
struct Palette {
  std::vector<Color> stops;

  static Palette random(Rng& rng) {
    Palette p;
    const double hue = rng.uniform();
    const double spread = rng.uniform(0.02, 0.2);
    const int count = rng.range(3, 5);
    for (int i = 0; i < count; ++i) {
      const double value = 0.15 + 0.8 * (i + rng.uniform(0.0, 0.8)) / count;
      p.stops.push_back(hsv_to_rgb(hue + rng.uniform(-spread, spread), rng.uniform(0.1, 0.7), value));
    }
    return p;
  }

  Color at(float t) const {
    const float f = std::clamp(t, 0.0f, 1.0f) * float(stops.size() - 1);
    const size_t i = std::min(size_t(f), stops.size() - 2);
    const float w = f - float(i);
    const Color& a = stops[i];
    const Color& b = stops[i + 1];
    return {a.r + (b.r - a.r) * w, a.g + (b.g - a.g) * w, a.b + (b.b - a.b) * w};
  }
};

// Rescales values to span [0, 1], since averaged octaves crowd around 0.5.
void stretch(std::vector<float>& values) {
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  const float low = *lo, range = std::max(*hi - *lo, 1e-6f);
  for (float& v : values) v = (v - low) / range;
}

// Large-scale fractal terrain through a palette, modulated by fine detail.
void paint_natural(RgbImage& image, double scale, Rng& rng, int first_row = 0) {
  const int w = image.width, h = image.height - first_row;
  if (h <= 0) return;
  std::vector<float> shape, detail;
  fractal_noise(w, h, rng.uniform(150, 500) * scale, 6, rng.uniform(0.45, 0.62), rng.next(), shape);
  fractal_noise(w, h, rng.uniform(6, 24) * scale, 3, 0.5, rng.next(), detail);
  stretch(shape);
  const Palette palette = Palette::random(rng);
  const float detail_strength = float(rng.uniform(0.05, 0.3));
  for (int y = 0; y < h; ++y) {
    uint8_t* p = image.row(y + first_row);
    const float* s = shape.data() + size_t(y) * size_t(w);
    const float* d = detail.data() + size_t(y) * size_t(w);
    for (int x = 0; x < w; ++x, p += 3) {
      const Color c = palette.at(s[x]);
      const float m = 1.0f + detail_strength * (2.0f * d[x] - 1.0f);
      p[0] = to_byte(c.r * m), p[1] = to_byte(c.g * m), p[2] = to_byte(c.b * m);
    }
  }
}

void paint_sky(RgbImage& image, int horizon, Rng& rng) {
  const Color zenith = hsv_to_rgb(rng.uniform(0.5, 0.7), rng.uniform(0.2, 0.8), rng.uniform(0.5, 1.0));
  const Color low = hsv_to_rgb(rng.uniform(0.0, 0.2), rng.uniform(0.0, 0.5), rng.uniform(0.6, 1.0));
  std::vector<float> clouds;
  const int w = image.width;
  fractal_noise(w, std::max(horizon, 1), 120.0 * w / 1280, 5, 0.55, rng.next(), clouds);
  stretch(clouds);
  const float cloudiness = float(rng.uniform(0.0, 0.6));
  for (int y = 0; y < horizon; ++y) {
    const float t = float(y) / float(std::max(horizon - 1, 1));
    uint8_t* p = image.row(y);
    const float* cl = clouds.data() + size_t(y) * size_t(w);
    for (int x = 0; x < w; ++x, p += 3) {
      const float cloud = cloudiness * std::max(0.0f, cl[x] - 0.45f) * 1.8f;
      p[0] = to_byte(zenith.r + (low.r - zenith.r) * t + cloud);
      p[1] = to_byte(zenith.g + (low.g - zenith.g) * t + cloud);
      p[2] = to_byte(zenith.b + (low.b - zenith.b) * t + cloud);
    }
  }
}

void paint_gradient(RgbImage& image, Rng& rng) {
  const Color a = random_color(rng), b = random_color(rng);
  const double angle = rng.uniform(0, 6.283185307179586);
  const double ca = std::cos(angle) / image.width, sa = std::sin(angle) / image.height;
  for (int y = 0; y < image.height; ++y) {
    uint8_t* p = image.row(y);
    for (int x = 0; x < image.width; ++x, p += 3) {
      const float t = float(0.5 + 0.5 * (ca * (2 * x - image.width) + sa * (2 * y - image.height)) * 0.7);
      p[0] = to_byte(a.r + (b.r - a.r) * t), p[1] = to_byte(a.g + (b.g - a.g) * t), p[2] = to_byte(a.b + (b.b - a.b) * t);
    }
  }
}

// Many random textured shapes: a busy scene where anything could be mistaken for the target.
void paint_clutter(RgbImage& image, double scale, Rng& rng) {
  CoverageMap coverage;
  const double frame_area = 1280.0 * 720.0 * scale * scale;
  const int count = int(rng.range(20, 60) * double(image.width) * image.height / frame_area);
  for (int i = 0; i < count; ++i) {
    const ShapeKind kind = random_shape_kind(rng);
    const Polygon outline = make_outline(kind, rng);
    const double area = rng.log_uniform(0.002, 0.04) * frame_area;
    const double aspect = rng.log_uniform(0.4, 2.5);
    const Pose pose{rng.uniform(0, image.width), rng.uniform(0, image.height), 0.5 * std::sqrt(area * aspect),
                    0.5 * std::sqrt(area / aspect), rng.uniform(0, 6.283185307179586)};
    const Texture texture = make_texture(random_texture_recipe(rng), 64);
    const Polygon placed = place_outline(outline, pose);
    rasterize_polygon(placed, pixels_touched(bounds_of(placed)).intersect({0, 0, image.width, image.height}),
                      coverage);
    paint_shape(image, coverage, texture, pose);
  }
}

// Brick or tile wall: rows of offset blocks with mortar, each block a slightly different shade.
void paint_bricks(RgbImage& image, double scale, Rng& rng) {
  const double brick_h = rng.uniform(20, 80) * scale, brick_w = brick_h * rng.uniform(1.0, 3.5);
  const double mortar = std::max(1.0, brick_h * rng.uniform(0.04, 0.15));
  const Color base = random_color(rng), joint = random_color(rng);
  const float variation = float(rng.uniform(0.05, 0.25));
  const uint64_t seed = rng.next();
  std::vector<float> grain;
  fractal_noise(image.width, image.height, 10 * scale, 3, 0.5, rng.next(), grain);
  for (int y = 0; y < image.height; ++y) {
    const int row = int(std::floor(y / brick_h));
    const double in_row = y - row * brick_h;
    const double offset = (row % 2) * brick_w * 0.5;
    uint8_t* p = image.row(y);
    for (int x = 0; x < image.width; ++x, p += 3) {
      const int column = int(std::floor((x + offset) / brick_w));
      const double in_column = x + offset - column * brick_w;
      const bool is_joint = in_row < mortar || in_column < mortar;
      uint64_t state = seed ^ (uint64_t(int64_t(row)) * 0x9E3779B97F4A7C15ull) ^ uint64_t(int64_t(column));
      const float shade = 1.0f + variation * (float(splitmix64(state) >> 40) / 16777216.0f * 2.0f - 1.0f);
      const float g = 0.85f + 0.3f * grain[size_t(y) * size_t(image.width) + size_t(x)];
      const Color c = is_joint ? joint : Color{base.r * shade, base.g * shade, base.b * shade};
      p[0] = to_byte(c.r * g), p[1] = to_byte(c.g * g), p[2] = to_byte(c.b * g);
    }
  }
}

}  // namespace

const char* background_name(BackgroundKind kind) {
  switch (kind) {
    case BackgroundKind::kNatural: return "natural";
    case BackgroundKind::kSkyAndGround: return "sky and ground";
    case BackgroundKind::kClutter: return "clutter";
    case BackgroundKind::kBricks: return "bricks";
    case BackgroundKind::kCount: break;
  }
  return "background";
}

BackgroundKind random_background_kind(Rng& rng) { return BackgroundKind(rng.weighted({0.35, 0.2, 0.3, 0.15})); }

RgbImage make_background(BackgroundKind kind, int width, int height, double scale, Rng& rng) {
  RgbImage image(width, height);
  switch (kind) {
    case BackgroundKind::kNatural: paint_natural(image, scale, rng); break;
    case BackgroundKind::kSkyAndGround: {
      const int horizon = int(height * rng.uniform(0.2, 0.6));
      paint_sky(image, horizon, rng);
      paint_natural(image, scale, rng, horizon);
      break;
    }
    case BackgroundKind::kClutter:
      if (rng.chance(0.5)) paint_gradient(image, rng); else paint_natural(image, scale, rng);
      paint_clutter(image, scale, rng);
      break;
    case BackgroundKind::kBricks: paint_bricks(image, scale, rng); break;
    case BackgroundKind::kCount: break;
  }
  return image;
}

}  // namespace kestrel::synth
