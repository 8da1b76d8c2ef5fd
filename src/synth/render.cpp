#include "synth/render.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace kestrel::synth {
namespace {

// Blur streaks shorter than this are invisible after JPEG; drawing them sharp is much cheaper.
constexpr double kMinBlurLength = 1.0;
// Longer streaks would smear the object beyond recognition (and cost time per pixel of length).
constexpr double kMaxBlurLength = 48.0;

void copy_backdrop(const Scene& scene, const CameraOffset& camera, RgbImage& frame) {
  for (int y = 0; y < frame.height; ++y)
    std::memcpy(frame.row(y), scene.backdrop.row(y + camera.y) + size_t(camera.x) * 3, size_t(frame.width) * 3);
}

}  // namespace

TargetObservation FrameRenderer::render(const Scene& scene, int frame_index, RgbImage& frame) {
  if (frame.width != scene.width || frame.height != scene.height) frame = RgbImage(scene.width, scene.height);
  copy_backdrop(scene, scene.camera[size_t(frame_index)], frame);
  const PixelRect image_rect{0, 0, scene.width, scene.height};

  TargetObservation seen;
  visible_window_ = {};
  for (size_t index = 0; index < scene.actors.size(); ++index) {
    const Actor& actor = scene.actors[index];
    const Pose& pose = actor.poses[size_t(frame_index)];
    const Polygon placed = place_outline(actor.outline, pose);
    const bool is_target = int(index) == scene.target;
    Vec2 blur = actor.blur_at(frame_index);
    const double blur_length = std::hypot(blur.x, blur.y);
    if (blur_length > kMaxBlurLength) blur = {blur.x * kMaxBlurLength / blur_length, blur.y * kMaxBlurLength / blur_length};
    const bool blurred = std::hypot(blur.x, blur.y) >= kMinBlurLength;
    PixelRect window = pixels_touched(bounds_of(placed));
    // The target is rasterised whole, outside the frame too, to know its full area; others only
    // where they can show (plus the reach of their blur streak).
    if (!is_target) {
      const int reach = blurred ? int(std::ceil(std::max(std::fabs(blur.x), std::fabs(blur.y)) / 2)) + 1 : 0;
      window = window.intersect(image_rect.inflated(reach));
    }
    if (window.empty()) continue;
    rasterize_polygon(placed, window, coverage_);

    if (is_target) {
      // How much of each pixel shows the target: its coverage, inside the frame.
      visible_window_ = window;
      refill(visibility_, size_t(window.width()) * size_t(window.height()), 0.0f);
      for (int y = window.y0; y < window.y1; ++y) {
        const float* cover = coverage_.row(y);
        float* shows = visibility_.data() + size_t(y - window.y0) * size_t(window.width());
        const bool row_inside = y >= 0 && y < scene.height;
        for (int x = window.x0; x < window.x1; ++x) {
          const float c = cover[x - window.x0];
          if (c < kMaskThreshold) continue;
          ++seen.full_pixels;
          if (row_inside && x >= 0 && x < scene.width) {
            ++seen.inside_pixels;
            shows[x - window.x0] = c;
          }
        }
      }
    } else if (int(index) > scene.target) {
      // Whatever is drawn later hides its coverage's share of what showed before.
      const PixelRect overlap = window.intersect(visible_window_);
      for (int y = overlap.y0; y < overlap.y1; ++y) {
        const float* cover = coverage_.row(y);
        float* shows = visibility_.data() + size_t(y - visible_window_.y0) * size_t(visible_window_.width());
        for (int x = overlap.x0; x < overlap.x1; ++x) shows[x - visible_window_.x0] *= 1.0f - cover[x - window.x0];
      }
    }

    if (blurred)
      paint_shape_blurred(frame, coverage_, actor.texture, pose, blur, blur_);
    else
      paint_shape(frame, coverage_, actor.texture, pose);
  }

  // A pixel shows the target when at least half of it does; count those, and their bounds.
  int x0 = INT32_MAX, y0 = INT32_MAX, x1 = INT32_MIN, y1 = INT32_MIN;
  for (int y = visible_window_.y0; y < visible_window_.y1; ++y) {
    const float* shows = visibility_.data() + size_t(y - visible_window_.y0) * size_t(visible_window_.width());
    for (int x = visible_window_.x0; x < visible_window_.x1; ++x) {
      if (shows[x - visible_window_.x0] < kMaskThreshold) continue;
      ++seen.visible_pixels;
      x0 = std::min(x0, x), x1 = std::max(x1, x + 1);
      y0 = std::min(y0, y), y1 = std::max(y1, y + 1);
    }
  }
  if (seen.visible_pixels > 0) seen.visible_bounds = {x0, y0, x1, y1};

  apply_lighting(frame, scene.lighting[size_t(frame_index)]);
  return seen;
}

void apply_lighting(RgbImage& frame, const Lighting& lighting) {
  if (lighting.is_neutral()) return;
  const size_t n = size_t(frame.width) * 3;
  if (lighting.slope_x == 0 && lighting.slope_y == 0) {
    // Gains only: one lookup per byte.
    uint8_t table[3][256];
    for (int c = 0; c < 3; ++c)
      for (int v = 0; v < 256; ++v) table[c][v] = uint8_t(std::min(float(v) * lighting.gain[c] + 0.5f, 255.0f));
    for (int y = 0; y < frame.height; ++y) {
      uint8_t* p = frame.row(y);
      for (size_t i = 0; i < n; i += 3) p[i] = table[0][p[i]], p[i + 1] = table[1][p[i + 1]], p[i + 2] = table[2][p[i + 2]];
    }
    return;
  }
  // Gain at (x, y) = gain_c * (1 + slope_x * xn + slope_y * yn), xn and yn in [-1, 1] across the
  // frame: per byte, base[i] + rise[i] * yn with both arrays precomputed, which vectorises.
  std::vector<float> base(n), rise(n);
  for (int x = 0; x < frame.width; ++x)
    for (int c = 0; c < 3; ++c) {
      const float xn = float(2.0 * (x + 0.5) / frame.width - 1.0);
      base[size_t(x) * 3 + size_t(c)] = lighting.gain[c] * (1.0f + lighting.slope_x * xn);
      rise[size_t(x) * 3 + size_t(c)] = lighting.gain[c] * lighting.slope_y;
    }
  for (int y = 0; y < frame.height; ++y) {
    const float yn = float(2.0 * (y + 0.5) / frame.height - 1.0);
    uint8_t* p = frame.row(y);
    for (size_t i = 0; i < n; ++i) {
      const float value = float(p[i]) * std::max(base[i] + rise[i] * yn, 0.0f) + 0.5f;
      p[i] = uint8_t(std::min(value, 255.0f));
    }
  }
}

}  // namespace kestrel::synth
