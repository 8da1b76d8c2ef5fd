// Hann window, arg-max decode, mapping back and clipping, against values worked out by hand
// from the official tracker's formulas.
#include <cmath>

#include <gtest/gtest.h>

#include "tracker/decode.h"

namespace kestrel::tracker {
namespace {

TEST(TrackerDecode, HannWindowValues) {
  const std::vector<float> w = hann_window_1d(16);
  ASSERT_EQ(w.size(), 16u);
  // w(k) = 0.5 - 0.5 cos(2 pi k / 17), k = 1..16: never zero at the ends, symmetric.
  EXPECT_FLOAT_EQ(w[0], 0.0337638853f);
  EXPECT_FLOAT_EQ(w[7], 0.9914865498f);
  for (int k = 0; k < 16; ++k) EXPECT_FLOAT_EQ(w[size_t(k)], w[size_t(15 - k)]);
  const std::vector<float> w2 = hann_window_2d(16);
  ASSERT_EQ(w2.size(), 256u);
  EXPECT_FLOAT_EQ(w2[0], w[0] * w[0]);
  EXPECT_FLOAT_EQ(w2[3 * 16 + 5], w[3] * w[5]);  // row y = 3, column x = 5
}

struct Maps {
  std::vector<float> score = std::vector<float>(256, 0.0f), size = std::vector<float>(512, 0.0f),
                     offset = std::vector<float>(512, 0.0f);
};

TEST(TrackerDecode, WindowMovesThePeakAndTheBoxIsReadThere) {
  Maps m;
  m.score[0] = 1.0f;             // a strong corner response: the window takes it to ~0.001
  m.score[6 * 16 + 9] = 0.5f;    // row iy = 6, column ix = 9
  m.offset[6 * 16 + 9] = 0.25f;  // offset x
  m.offset[256 + 6 * 16 + 9] = 0.75f;  // offset y
  m.size[6 * 16 + 9] = 0.2f;
  m.size[256 + 6 * 16 + 9] = 0.4f;
  const std::vector<float> window = hann_window_2d(16);
  const CropBox box = decode_at_peak(m.score.data(), m.size.data(), m.offset.data(), window.data(), 16);
  EXPECT_DOUBLE_EQ(box.cx, (9 + 0.25) / 16);
  EXPECT_DOUBLE_EQ(box.cy, (6 + 0.75) / 16);
  EXPECT_FLOAT_EQ(float(box.w), 0.2f);
  EXPECT_FLOAT_EQ(float(box.h), 0.4f);
}

TEST(TrackerDecode, TiesGoToTheFirstCell) {
  Maps m;
  std::vector<float> flat(256, 1.0f);
  std::fill(m.score.begin(), m.score.end(), 0.5f);
  const CropBox box = decode_at_peak(m.score.data(), m.size.data(), m.offset.data(), flat.data(), 16);
  EXPECT_DOUBLE_EQ(box.cx, 0.0);
  EXPECT_DOUBLE_EQ(box.cy, 0.0);
}

TEST(TrackerDecode, MapBackRecentresOnThePreviousBox) {
  // Previous box (100,100,50,50), centre (125,125); search crop side 200 (sqrt(2500) * 4), so
  // resize_factor = 256/200 and crop units scale by 200 px. A box at the crop centre, a quarter
  // of it wide, is the previous box again.
  const Box back = map_box_back({0.5, 0.5, 0.25, 0.25}, {100, 100, 50, 50}, 256.0 / 200.0, 256);
  EXPECT_NEAR(back.x, 100, 1e-9);
  EXPECT_NEAR(back.y, 100, 1e-9);
  EXPECT_NEAR(back.w, 50, 1e-9);
  EXPECT_NEAR(back.h, 50, 1e-9);
  // 0.1 of the crop right = 20 px; size 0.1 x 0.2 = 20 x 40 px centred at (145, 125).
  const Box moved = map_box_back({0.6, 0.5, 0.1, 0.2}, {100, 100, 50, 50}, 256.0 / 200.0, 256);
  EXPECT_NEAR(moved.x, 135, 1e-9);
  EXPECT_NEAR(moved.y, 105, 1e-9);
  EXPECT_NEAR(moved.w, 20, 1e-9);
  EXPECT_NEAR(moved.h, 40, 1e-9);
}

TEST(TrackerDecode, ClipKeepsTenPixelsInsideTheImage) {
  const Box a = clip_box({-5, -5, 20, 20}, 100, 80, 10);  // x2 = 15 stays, x1 -> 0
  EXPECT_EQ(a, (Box{0, 0, 15, 15}));
  const Box b = clip_box({95, 75, 20, 20}, 100, 80, 10);  // x1 -> W - 10, x2 -> W
  EXPECT_EQ(b, (Box{90, 70, 10, 10}));
  const Box c = clip_box({50, 50, 2, 3}, 100, 80, 10);  // at least 10 x 10
  EXPECT_EQ(c, (Box{50, 50, 10, 10}));
  const Box d = clip_box({-50, 10, 30, 20}, 100, 80, 10);  // x2 = -20 -> margin 10
  EXPECT_EQ(d, (Box{0, 10, 10, 20}));
}

}  // namespace
}  // namespace kestrel::tracker
