#include "tracker/decode.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace kestrel::tracker {

std::vector<float> hann_window_1d(int n) {
  std::vector<float> w(size_t(std::max(n, 0)));
  for (int k = 1; k <= n; ++k) w[size_t(k - 1)] = float(0.5 - 0.5 * std::cos(2 * std::numbers::pi * k / (n + 1)));
  return w;
}

std::vector<float> hann_window_2d(int n) {
  const std::vector<float> w = hann_window_1d(n);
  std::vector<float> window(size_t(n) * size_t(n));
  for (int y = 0; y < n; ++y)
    for (int x = 0; x < n; ++x) window[size_t(y) * size_t(n) + size_t(x)] = w[size_t(y)] * w[size_t(x)];
  return window;
}

CropBox decode_at_peak(const float* score, const float* size, const float* offset, const float* window, int feat) {
  const size_t cells = size_t(feat) * size_t(feat);
  size_t best = 0;
  float best_value = window[0] * score[0];
  for (size_t i = 1; i < cells; ++i) {
    const float value = window[i] * score[i];
    if (value > best_value) best_value = value, best = i;  // strict: the first maximum wins
  }
  const size_t ix = best % size_t(feat), iy = best / size_t(feat);
  CropBox box;
  box.cx = (double(ix) + double(offset[best])) / feat;
  box.cy = (double(iy) + double(offset[cells + best])) / feat;
  box.w = size[best];
  box.h = size[cells + best];
  return box;
}

Box map_box_back(const CropBox& box, const Box& previous, double resize_factor, int search_size) {
  const double scale = search_size / resize_factor;
  const double cx = box.cx * scale, cy = box.cy * scale, w = box.w * scale, h = box.h * scale;
  const double half_side = 0.5 * search_size / resize_factor;
  const double cx_real = cx + (previous.cx() - half_side);
  const double cy_real = cy + (previous.cy() - half_side);
  return {cx_real - 0.5 * w, cy_real - 0.5 * h, w, h};
}

Box clip_box(const Box& box, int width, int height, double margin) {
  const double W = width, H = height;
  const double x1 = std::min(std::max(0.0, box.x), W - margin);
  const double x2 = std::min(std::max(margin, box.x + box.w), W);
  const double y1 = std::min(std::max(0.0, box.y), H - margin);
  const double y2 = std::min(std::max(margin, box.y + box.h), H);
  return {x1, y1, std::max(margin, x2 - x1), std::max(margin, y2 - y1)};
}

}  // namespace kestrel::tracker
