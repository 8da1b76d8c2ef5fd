// The tracker's crop (pytracking's sample_target + cv2.resize INTER_LINEAR) against values
// worked out by hand.
#include <gtest/gtest.h>

#include "core/error.h"
#include "tracker/crop.h"

namespace kestrel::tracker {
namespace {

// Pixel (x, y) holds R = 10*y + x, G = R + 100, B = R + 150.
RgbImage ramp(int width, int height) {
  RgbImage image(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.row(y) + size_t(x) * 3;
      p[0] = uint8_t(10 * y + x);
      p[1] = uint8_t(10 * y + x + 100);
      p[2] = uint8_t(10 * y + x + 150);
    }
  return image;
}

float at(const std::vector<float>& chw, int size, int c, int y, int x) {
  return chw[size_t(c) * size_t(size * size) + size_t(y) * size_t(size) + size_t(x)];
}

TEST(TrackerCrop, WindowFollowsTheOfficialFormula) {
  // side = ceil(sqrt(30*40) * 2) = ceil(69.28) = 70; x1 = round(10 + 15 - 35) = -10;
  // y1 = round(20 + 20 - 35) = 5.
  const CropWindow w = crop_window({10, 20, 30, 40}, 2.0, 128);
  EXPECT_EQ(w.size, 70);
  EXPECT_EQ(w.x1, -10);
  EXPECT_EQ(w.y1, 5);
  EXPECT_DOUBLE_EQ(w.resize_factor, 128.0 / 70.0);
}

TEST(TrackerCrop, WindowRoundsHalvesToEvenLikePython) {
  // side = ceil(2 * 1.5) = 3; x1 = round(x + 1 - 1.5): round(2.5) = 2, round(3.5) = 4.
  EXPECT_EQ(crop_window({3, 3, 2, 2}, 1.5, 8).x1, 2);
  EXPECT_EQ(crop_window({4, 4, 2, 2}, 1.5, 8).x1, 4);
}

TEST(TrackerCrop, BoxWithoutAreaIsRefused) {
  EXPECT_THROW(crop_window({5, 5, 0, 10}, 4.0, 256), Error);
}

TEST(TrackerCrop, DownscaleAveragesPixelPairs) {
  // A 4x4 crop at (0,0) of a 6x6 image to 2x2: samples at 0.5 and 2.5, so every output is the
  // mean of a 2x2 block; R of the top-left block = (0 + 1 + 10 + 11) / 4 = 5.5.
  const RgbImage image = ramp(6, 6);
  std::vector<float> out(3 * 2 * 2);
  crop_resize_normalize(image, {0, 0, 4, 0.5}, 2, out.data());
  EXPECT_FLOAT_EQ(at(out, 2, 0, 0, 0), 5.5f / 255);
  EXPECT_FLOAT_EQ(at(out, 2, 0, 0, 1), 7.5f / 255);
  EXPECT_FLOAT_EQ(at(out, 2, 0, 1, 0), 25.5f / 255);
  EXPECT_FLOAT_EQ(at(out, 2, 1, 0, 0), 105.5f / 255);  // G plane
  EXPECT_FLOAT_EQ(at(out, 2, 2, 1, 1), 177.5f / 255);  // B plane: 150 + 27.5
}

TEST(TrackerCrop, UpscaleRepeatsEdgesAndInterpolates) {
  // A 2x2 crop to 4x4: positions -0.25 (edge: pixel 0), 0.25, 0.75, 1.25 (edge: pixel 1).
  const RgbImage image = ramp(6, 6);
  std::vector<float> out(3 * 4 * 4);
  crop_resize_normalize(image, {2, 2, 2, 2.0}, 4, out.data());
  // Row 0 samples image row 2 only; R there is 20 + x for x = 2, 3.
  EXPECT_FLOAT_EQ(at(out, 4, 0, 0, 0), 22.0f / 255);
  EXPECT_FLOAT_EQ(at(out, 4, 0, 0, 1), (0.75f * 22 + 0.25f * 23) / 255);
  EXPECT_FLOAT_EQ(at(out, 4, 0, 0, 2), (0.25f * 22 + 0.75f * 23) / 255);
  EXPECT_FLOAT_EQ(at(out, 4, 0, 0, 3), 23.0f / 255);
  // Row 1 is a quarter of the way from image row 2 to row 3 (R + 10).
  EXPECT_FLOAT_EQ(at(out, 4, 0, 1, 0), (22.0f + 2.5f) / 255);
}

TEST(TrackerCrop, PadsWithZerosOutsideTheImage) {
  // Crop from (-2,-1), side 4, to 4x4: an exact copy shifted, zeros left of x=0 and above y=0.
  const RgbImage image = ramp(6, 6);
  std::vector<float> out(3 * 4 * 4);
  crop_resize_normalize(image, {-2, -1, 4, 1.0}, 4, out.data());
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x) {
        const int ix = x - 2, iy = y - 1;
        const float want = ix < 0 || iy < 0 ? 0.0f : float(10 * iy + ix + (c == 0 ? 0 : c == 1 ? 100 : 150)) / 255;
        EXPECT_FLOAT_EQ(at(out, 4, c, y, x), want) << "c " << c << " y " << y << " x " << x;
      }
}

TEST(TrackerCrop, LastColumnAndRowArePaddedOnceTheCropReachesTheEdge) {
  // The official crop copies image columns only up to W-1 (exclusive) when the square reaches
  // the right edge (x2_pad = max(x2 - W + 1, 0)): crop (2,2) side 4 of a 6x6 image ends at 6, so
  // image column 5 and row 5 read as zeros, while column 4 and row 4 are kept.
  const RgbImage image = ramp(6, 6);
  std::vector<float> out(3 * 4 * 4);
  crop_resize_normalize(image, {2, 2, 4, 1.0}, 4, out.data());
  EXPECT_FLOAT_EQ(at(out, 4, 0, 0, 2), 24.0f / 255);  // image (4, 2)
  EXPECT_FLOAT_EQ(at(out, 4, 0, 0, 3), 0.0f);         // image (5, 2)
  EXPECT_FLOAT_EQ(at(out, 4, 0, 2, 0), 42.0f / 255);  // image (2, 4)
  EXPECT_FLOAT_EQ(at(out, 4, 0, 3, 0), 0.0f);         // image (2, 5)
  // One column short of the edge (ends at 5 <= W - 1), nothing is dropped.
  crop_resize_normalize(image, {1, 1, 4, 1.0}, 4, out.data());
  EXPECT_FLOAT_EQ(at(out, 4, 0, 3, 3), 44.0f / 255);
}

}  // namespace
}  // namespace kestrel::tracker
