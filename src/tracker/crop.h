// The official tracker's crop (pytracking's sample_target): a square of side
// ceil(sqrt(w*h) * factor) centred on the box, zero outside the image, resized bilinearly to
// out_size x out_size and written as [0,1] floats in CHW order (mean 0, std 1: no other
// normalisation), straight into an engine's input buffer.
#pragma once
#include <cstdint>

#include "synth/image.h"
#include "tracker/box.h"

namespace kestrel::tracker {

using synth::RgbImage;

// Where the square lies in image pixels, and the scale from it to the network's input.
struct CropWindow {
  int64_t x1 = 0, y1 = 0;  // top-left corner; may lie outside the image
  int64_t size = 0;        // side in image pixels
  double resize_factor = 0;  // out_size / size
};

// Throws kestrel::Error when the side comes out below one pixel (a zero-size box), as the
// official code raises "Too small bounding box".
CropWindow crop_window(const Box& box, double factor, int out_size);

// Fills out[3 * out_size * out_size] (R plane, G plane, B plane).
//
// Exactly the official pixels, up to OpenCV's 8-bit rounding: the crop is taken as the official
// code does, including its quirk that once the square reaches the right (bottom) edge the last
// image column (row) is padded with zeros too (`x2_pad = max(x2 - W + 1, 0)`); the resize is
// OpenCV's INTER_LINEAR (half-pixel centres, edge samples repeated), computed here in float
// where cv2.resize rounds to uint8 (a difference below 0.5/255 per channel).
void crop_resize_normalize(const RgbImage& image, const CropWindow& window, int out_size, float* out);

// The pixels crop_resize_normalize reads: columns [max(x1, 0), min(x1 + size, W - 1)) and the same
// for rows (the last column and row never, by the quirk above). The GPU path uploads only this
// part of a frame. Empty (width or height 0) when the crop is all padding.
struct FrameRegion {
  int x = 0, y = 0, width = 0, height = 0;
  bool empty() const { return width <= 0 || height <= 0; }
};
FrameRegion crop_region(const CropWindow& window, int image_width, int image_height);

}  // namespace kestrel::tracker
