// crop_region(): the part of a frame the GPU path uploads must hold every pixel the crop reads.
// Checked on the host: pixels outside the region are overwritten with noise, and the crop must
// not change; and the region must be no larger than the pixels the crop can reach.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "tracker/crop.h"

namespace kestrel::tracker {
namespace {

RgbImage noise(int width, int height, uint32_t seed) {
  RgbImage image(width, height);
  std::mt19937 rng(seed);
  for (uint8_t& v : image.pixels) v = uint8_t(rng() & 0xff);
  return image;
}

// A copy of `image` with every pixel outside `region` replaced by other values.
RgbImage scramble_outside(const RgbImage& image, const FrameRegion& region) {
  RgbImage out = image;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      const bool inside = x >= region.x && x < region.x + region.width && y >= region.y && y < region.y + region.height;
      if (inside) continue;
      uint8_t* p = out.row(y) + size_t(x) * 3;
      for (int c = 0; c < 3; ++c) p[c] = uint8_t(255 - p[c]) ^ 0x5a;
    }
  return out;
}

struct Case {
  int width, height;
  CropWindow window;
  int out_size;
};

std::vector<Case> cases() {
  std::vector<Case> list;
  const std::vector<std::pair<int, int>> sizes = {{64, 48}, {33, 17}, {5, 3}, {2, 2}, {1, 1}};
  for (auto [w, h] : sizes) {
    const int64_t W = w, H = h;
    const int64_t half = std::max<int64_t>(1, W / 2);  // sides of at least one pixel, as crop_window gives
    for (int out : {7, 16, 128}) {
      list.push_back({w, h, {W / 4, H / 4, half, 0}, out});                          // inside
      list.push_back({w, h, {-10, -5, half + 10, 0}, out});                          // off the top-left
      list.push_back({w, h, {W - 1 - half, H - 1 - half, half, 0}, out});           // ends at W-1: last column unread
      list.push_back({w, h, {W - half, H - half, half, 0}, out});                    // ends at W
      list.push_back({w, h, {W + 1 - half, H + 1 - half, half + 3, 0}, out});        // past the edge
      list.push_back({w, h, {-W, -H, 3 * std::max(W, H), 0}, out});                  // larger than the image
      list.push_back({w, h, {W + 5, 2, 9, 0}, out});                                 // all outside
      list.push_back({w, h, {1, 1, 1, 0}, out});                                     // one pixel
    }
  }
  return list;
}

TEST(TrackerCropRegion, HoldsEveryPixelTheCropReads) {
  uint32_t seed = 1;
  for (const Case& c : cases()) {
    const RgbImage image = noise(c.width, c.height, seed++);
    const FrameRegion region = crop_region(c.window, c.width, c.height);
    const size_t n = 3 * size_t(c.out_size) * size_t(c.out_size);
    std::vector<float> want(n), got(n);
    crop_resize_normalize(image, c.window, c.out_size, want.data());
    crop_resize_normalize(scramble_outside(image, region), c.window, c.out_size, got.data());
    ASSERT_EQ(want, got) << c.width << "x" << c.height << " window " << c.window.x1 << "," << c.window.y1 << " side "
                         << c.window.size << " -> " << c.out_size;
  }
}

TEST(TrackerCropRegion, StaysInsideTheWindowAndTheImage) {
  for (const Case& c : cases()) {
    const FrameRegion r = crop_region(c.window, c.width, c.height);
    if (r.empty()) continue;
    EXPECT_GE(r.x, 0);
    EXPECT_GE(r.y, 0);
    EXPECT_GE(r.x, c.window.x1);
    EXPECT_GE(r.y, c.window.y1);
    EXPECT_LE(r.x + r.width, std::min<int64_t>(c.window.x1 + c.window.size, c.width - 1));
    EXPECT_LE(r.y + r.height, std::min<int64_t>(c.window.y1 + c.window.size, c.height - 1));
  }
}

TEST(TrackerCropRegion, ByHand) {
  // 10x8 image, window at (-2, 3) of side 6: columns 0..3 (x1 + size = 4), rows 3..6 (9 > H-1 = 7).
  const FrameRegion r = crop_region({-2, 3, 6, 0}, 10, 8);
  EXPECT_EQ(r.x, 0);
  EXPECT_EQ(r.width, 4);
  EXPECT_EQ(r.y, 3);
  EXPECT_EQ(r.height, 4);
  EXPECT_TRUE(crop_region({12, 0, 4, 0}, 10, 8).empty());   // right of the image
  EXPECT_TRUE(crop_region({0, 0, 5, 0}, 1, 1).empty());     // a 1-pixel image is never read
}

}  // namespace
}  // namespace kestrel::tracker
