// GOT-10k metrics against values worked out by hand, including the official toolkit's quirks:
// boxes clipped to the image (top-left corner clipped without shrinking the box), the first
// frame and frames with cover 0 left out, IoUs pooled over sequences (frame-weighted), strict
// thresholds, speed as the mean of 1/t over t > 0.
#include <cmath>

#include <gtest/gtest.h>

#include "core/error.h"
#include "eval/metrics.h"
#include "eval/text_io.h"

namespace kestrel::eval {
namespace {

TEST(Metrics, IouOfOverlappingBoxes) {
  // Intersection 5x10 = 50, union 100 + 100 - 50 = 150.
  EXPECT_NEAR(bounded_iou({0, 0, 10, 10}, {5, 0, 10, 10}, 100, 100), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(bounded_iou({0, 0, 10, 10}, {0, 0, 10, 10}, 100, 100), 1.0, 1e-12);
  EXPECT_EQ(bounded_iou({0, 0, 10, 10}, {20, 20, 10, 10}, 100, 100), 0.0);
}

TEST(Metrics, ClipsBoxesToTheImageAsTheToolkitDoes) {
  // x, y clipped to 0 without shrinking w, h: (-10,-10,20,20) becomes (0,0,20,20), which equals
  // the ground truth. Unclipped, the IoU would be 100 / 700.
  EXPECT_NEAR(bounded_iou({-10, -10, 20, 20}, {0, 0, 20, 20}, 100, 100), 1.0, 1e-12);
  // w, h clipped to the right and bottom edges: (90,90,20,20) becomes (90,90,10,10).
  EXPECT_NEAR(bounded_iou({90, 90, 20, 20}, {90, 90, 10, 10}, 100, 100), 1.0, 1e-12);
  // The ground truth is clipped too: (95,0,10,10) -> (95,0,5,10); prediction (90,0,10,10):
  // intersection 5x10 = 50, union 100 + 50 - 50 = 100.
  EXPECT_NEAR(bounded_iou({90, 0, 10, 10}, {95, 0, 10, 10}, 100, 100), 0.5, 1e-12);
  // A box entirely outside collapses to no area.
  EXPECT_EQ(bounded_iou({150, 150, 10, 10}, {0, 0, 10, 10}, 100, 100), 0.0);
}

TEST(Metrics, EmptyPredictionsScoreZero) {
  EXPECT_EQ(bounded_iou({0, 0, 0, 0}, {0, 0, 10, 10}, 100, 100), 0.0);
  EXPECT_EQ(bounded_iou({5, 5, 0, 10}, {0, 0, 10, 10}, 100, 100), 0.0);
  EXPECT_EQ(bounded_iou({0, 0, 0, 0}, {0, 0, 0, 0}, 100, 100), 0.0);  // 0 / (0 + eps)
}

TEST(Metrics, FirstFrameAndCoverZeroFramesAreLeftOut) {
  const std::vector<Box> gt(4, Box{0, 0, 10, 10});
  // Frame 0 is wrong but is the initialisation; frame 3 is wrong but fully covered (cover 0).
  const std::vector<Box> pred = {{50, 50, 10, 10}, {0, 0, 10, 10}, {5, 0, 10, 10}, {80, 80, 10, 10}};
  const std::vector<int> cover = {8, 1, 8, 0};
  const std::vector<double> ious = sequence_ious(pred, gt, cover, 100, 100);
  ASSERT_EQ(ious.size(), 2u);
  EXPECT_NEAR(ious[0], 1.0, 1e-12);
  EXPECT_NEAR(ious[1], 1.0 / 3.0, 1e-12);
  const Metrics m = summarize(ious, {});
  EXPECT_NEAR(m.ao, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(m.sr50, 0.5);
  EXPECT_EQ(m.sr75, 0.5);
  EXPECT_EQ(m.frames, 2u);
  EXPECT_EQ(m.fps, -1);  // no times recorded
}

TEST(Metrics, LengthMismatchIsAnError) {
  const std::vector<Box> gt(3, Box{0, 0, 10, 10});
  EXPECT_THROW(sequence_ious(std::vector<Box>(2), gt, {1, 1, 1}, 100, 100), Error);
  EXPECT_THROW(sequence_ious(gt, gt, {1, 1}, 100, 100), Error);
}

TEST(Metrics, PoolsFramesOverSequences) {
  // Sequence A: three frames with IoU 1; sequence B: one frame with IoU 0. Frame-weighted AO is
  // 3/4 (a mean of per-sequence AOs would say 1/2).
  const Metrics m = summarize({1.0, 1.0, 1.0, 0.0}, {});
  EXPECT_NEAR(m.ao, 0.75, 1e-12);
  EXPECT_NEAR(m.sr50, 0.75, 1e-12);
}

TEST(Metrics, ThresholdsAreStrict) {
  const Metrics m = summarize({0.5, 0.75, 0.76}, {});
  EXPECT_NEAR(m.sr50, 2.0 / 3.0, 1e-12);  // 0.5 is not above 0.5
  EXPECT_NEAR(m.sr75, 1.0 / 3.0, 1e-12);
  ASSERT_EQ(m.success_curve.size(), size_t(kSuccessBins));
  EXPECT_EQ(m.success_curve[0], 1.0);
  EXPECT_NEAR(m.success_curve[49], 1.0, 1e-12);
  EXPECT_NEAR(m.success_curve[50], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.success_curve[75], 1.0 / 3.0, 1e-12);
  EXPECT_EQ(m.success_curve[76], 0.0);
  EXPECT_EQ(summarize({1.0}, {}).success_curve[100], 0.0);  // IoU 1 is not above threshold 1
}

TEST(Metrics, SpeedIsTheMeanOfInverseTimesOverPositiveTimes) {
  const Metrics m = summarize({1.0}, {0.5, 0.0, 0.25, std::nan(""), -1.0});
  EXPECT_NEAR(m.fps, (2.0 + 4.0) / 2.0, 1e-12);
}

TEST(Metrics, NoCountedFrameGivesNaN) {
  const Metrics m = summarize({}, {0.1});
  EXPECT_TRUE(std::isnan(m.ao));
  EXPECT_TRUE(std::isnan(m.sr50));
  EXPECT_NEAR(m.fps, 10.0, 1e-9);
}

TEST(ResultText, FormatsAsTheToolkitRecords) {
  EXPECT_EQ(format_boxes({{1, 2.5, 3.25, 4.0004}}), "1.000,2.500,3.250,4.000\n");
  EXPECT_EQ(format_times({{0.5, 0.25}, {0.125, 1}}), "0.50000000,0.12500000\n0.25000000,1.00000000\n");
}

}  // namespace
}  // namespace kestrel::eval
