// From the tracking network's three maps to the next target box, as the official tracker does:
// Hann window times score map, arg-max, box at that cell, mapped back to the image, clipped.
#pragma once
#include <vector>

#include "tracker/box.h"

namespace kestrel::tracker {

// w(k) = 0.5 - 0.5 * cos(2*pi*k / (n+1)) for k = 1..n (hann1d(n, centered=True)).
std::vector<float> hann_window_1d(int n);
// Outer product, row-major [n][n]: the official output_window.
std::vector<float> hann_window_2d(int n);

// A box in units of the search crop: centre and size, all in [0, 1] for boxes inside the crop.
struct CropBox {
  double cx = 0, cy = 0, w = 0, h = 0;
};

// The maps of one sample, each row-major [feat][feat]: score, size (w plane then h plane),
// offset (x plane then y plane). The arg-max is taken over window * score, first index on ties
// (torch.max's choice on CPU), and the box read there:
// cx = (ix + offset_x) / feat, cy = (iy + offset_y) / feat, w, h = size map.
CropBox decode_at_peak(const float* score, const float* size, const float* offset, const float* window, int feat);

// map_box_back: scale a crop box by search_size / resize_factor and re-centre it on the previous
// box's centre; returns (x, y, w, h) in image pixels.
Box map_box_back(const CropBox& box, const Box& previous, double resize_factor, int search_size);

// clip_box(box, H, W, margin): keeps the box inside the image, at least `margin` pixels wide and high.
Box clip_box(const Box& box, int width, int height, double margin);

}  // namespace kestrel::tracker
