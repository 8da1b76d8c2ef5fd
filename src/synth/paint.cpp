#include "synth/paint.h"

#include <algorithm>
#include <cmath>

namespace kestrel::synth {
namespace {

// Maps pixel centres of one row to the texture's (u, v): u increases by du_dx per pixel, etc.
struct RowMapping {
  float u, v, du_dx, dv_dx;
};

RowMapping map_row(const Pose& pose, int x0, int y) {
  const double c = std::cos(pose.angle), s = std::sin(pose.angle);
  const double dx = x0 + 0.5 - pose.cx, dy = y + 0.5 - pose.cy;
  return {float((c * dx + s * dy) / pose.half_w), float((-s * dx + c * dy) / pose.half_h), float(c / pose.half_w),
          float(-s / pose.half_h)};
}

}  // namespace

void paint_shape(RgbImage& image, const CoverageMap& coverage, const Texture& texture, const Pose& pose) {
  const PixelRect area = coverage.window.intersect({0, 0, image.width, image.height});
  if (area.empty()) return;
  for (int y = area.y0; y < area.y1; ++y) {
    const float* cover = coverage.row(y) + (area.x0 - coverage.window.x0);
    uint8_t* pixel = image.row(y) + size_t(area.x0) * 3;
    RowMapping m = map_row(pose, area.x0, y);
    for (int x = area.x0; x < area.x1; ++x, ++cover, pixel += 3, m.u += m.du_dx, m.v += m.dv_dx) {
      const float a = *cover;
      if (a <= 0.0f) continue;
      const Rgb c = texture.sample(m.u, m.v);
      if (a >= 1.0f) {  // the inside of the shape: no blending
        pixel[0] = c.r, pixel[1] = c.g, pixel[2] = c.b;
        continue;
      }
      const uint32_t alpha = uint32_t(a * 256.0f + 0.5f), keep = 256 - alpha;  // 8-bit fixed point
      pixel[0] = uint8_t((pixel[0] * keep + c.r * alpha + 128) >> 8);
      pixel[1] = uint8_t((pixel[1] * keep + c.g * alpha + 128) >> 8);
      pixel[2] = uint8_t((pixel[2] * keep + c.b * alpha + 128) >> 8);
    }
  }
}

void paint_shape_blurred(RgbImage& image, const CoverageMap& coverage, const Texture& texture, const Pose& pose,
                         Vec2 blur, BlurScratch& scratch) {
  const PixelRect window = coverage.window;
  const int ww = window.width(), wh = window.height();
  if (ww <= 0 || wh <= 0) return;

  // The streak is a digital line: one tap per pixel step along its longer axis ("major"), the
  // other coordinate rounded. Taps sharing a minor offset form a run along the major axis, and a
  // run's sum is a difference of two prefix sums, so the cost per pixel is the number of runs
  // (1 for a horizontal or vertical streak), not the number of taps.
  const bool major_is_x = std::fabs(blur.x) >= std::fabs(blur.y);
  const double major_length = major_is_x ? blur.x : blur.y, minor_length = major_is_x ? blur.y : blur.x;
  const int half = int(std::lround(std::fabs(major_length) / 2));
  const int taps = 2 * half + 1;
  struct Run {
    int minor, first, last;  // minor offset; major offsets first..last
  };
  std::vector<Run> runs;
  for (int m = -half; m <= half; ++m) {
    const int minor = half == 0 ? 0 : int(std::lround(minor_length * m / major_length));
    if (!runs.empty() && runs.back().minor == minor)
      runs.back().last = m;
    else
      runs.push_back({minor, m, m});
  }
  int minor_reach = 0;
  for (const Run& r : runs) minor_reach = std::max(minor_reach, std::abs(r.minor));

  // Prefix sums of the premultiplied RGBA shape along the major axis, padded by `pad` on both
  // ends so no lookup needs clipping: entry j of a line sums the pixels before j - pad. The array
  // is laid out so that neighbouring output pixels of a row read neighbouring entries: lines are
  // rows (x major) or entry rows hold all columns (y major).
  const int pad = 2 * half;
  const int entries = (major_is_x ? ww : wh) + 2 * pad + 1;
  const size_t row_floats = size_t(major_is_x ? entries : ww) * 4;
  refill(scratch.layer, size_t(major_is_x ? wh : entries) * row_floats, 0.0f);
  for (int y = window.y0; y < window.y1; ++y) {
    const float* cover = coverage.row(y);
    const int k = y - window.y0;
    float* out = major_is_x ? scratch.layer.data() + size_t(k) * row_floats + size_t(pad + 1) * 4
                            : scratch.layer.data() + size_t(k + pad + 1) * row_floats;
    RowMapping m = map_row(pose, window.x0, y);
    for (int i = 0; i < ww; ++i, m.u += m.du_dx, m.v += m.dv_dx) {
      const float a = cover[i];
      if (a <= 0.0f) continue;
      const Rgb c = texture.sample(m.u, m.v);
      const float premultiply = a * (1.0f / 255.0f);
      out[4 * i + 0] = c.r * premultiply, out[4 * i + 1] = c.g * premultiply, out[4 * i + 2] = c.b * premultiply;
      out[4 * i + 3] = a;
    }
  }
  if (major_is_x) {
    for (int line = 0; line < wh; ++line) {
      float* p = scratch.layer.data() + size_t(line) * row_floats;
      for (int j = 1; j < entries; ++j)
        for (int ch = 0; ch < 4; ++ch) p[j * 4 + ch] += p[(j - 1) * 4 + ch];
    }
  } else {
    for (int j = 1; j < entries; ++j) {
      float* p = scratch.layer.data() + size_t(j) * row_floats;
      const float* previous = p - row_floats;
      for (size_t i = 0; i < row_floats; ++i) p[i] += previous[i];
    }
  }

  const int reach_x = major_is_x ? half : minor_reach, reach_y = major_is_x ? minor_reach : half;
  const PixelRect grown{window.x0 - reach_x, window.y0 - reach_y, window.x1 + reach_x, window.y1 + reach_y};
  const PixelRect area = grown.intersect({0, 0, image.width, image.height});
  if (area.empty()) return;
  const int aw = area.width();
  const float inverse_taps = 1.0f / float(taps);
  for (int y = area.y0; y < area.y1; ++y) {
    const int wy = y - window.y0;
    refill(scratch.accumulated, size_t(aw) * 4, 0.0f);
    for (const Run& r : runs) {
      // Output pixel at window-relative major coordinate q sums sources q - last .. q - first:
      // entries q - first + 1 + pad minus q - last + pad.
      int x_begin = area.x0, x_end = area.x1;
      const float *high, *low;
      if (major_is_x) {
        const int line = wy - r.minor;
        if (line < 0 || line >= wh) continue;
        const float* base = scratch.layer.data() + size_t(line) * row_floats;
        high = base + ptrdiff_t(x_begin - window.x0 - r.first + 1 + pad) * 4;
        low = base + ptrdiff_t(x_begin - window.x0 - r.last + pad) * 4;
      } else {
        // Column x - window.x0 - minor must exist.
        x_begin = std::max(x_begin, window.x0 + r.minor);
        x_end = std::min(x_end, window.x1 + r.minor);
        if (x_begin >= x_end) continue;
        const int column = x_begin - window.x0 - r.minor;
        high = scratch.layer.data() + size_t(wy - r.first + 1 + pad) * row_floats + size_t(column) * 4;
        low = scratch.layer.data() + size_t(wy - r.last + pad) * row_floats + size_t(column) * 4;
      }
      float* acc = scratch.accumulated.data() + size_t(x_begin - area.x0) * 4;
      for (int i = 0, n = (x_end - x_begin) * 4; i < n; ++i) acc[i] += high[i] - low[i];
    }
    uint8_t* pixel = image.row(y) + size_t(area.x0) * 3;
    const float* acc = scratch.accumulated.data();
    for (int i = 0; i < aw; ++i, pixel += 3, acc += 4) {
      const float a = acc[3] * inverse_taps;
      if (a <= 1e-6f) continue;  // prefix-sum differences leave rounding dust where nothing is
      pixel[0] = to_byte(pixel[0] * (1.0f / 255.0f) * (1.0f - a) + acc[0] * inverse_taps);
      pixel[1] = to_byte(pixel[1] * (1.0f / 255.0f) * (1.0f - a) + acc[1] * inverse_taps);
      pixel[2] = to_byte(pixel[2] * (1.0f / 255.0f) * (1.0f - a) + acc[2] * inverse_taps);
    }
  }
}

}  // namespace kestrel::synth
