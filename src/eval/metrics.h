// GOT-10k metrics exactly as the official toolkit (got10k.experiments.ExperimentGOT10k) computes
// them: per sequence, the IoU of every frame but the first whose cover label is > 0, with both
// boxes clipped to the image; over a result set, all those IoUs pooled (frame-weighted, every
// run counted); AO = mean IoU, SR_t = fraction of IoUs > t (strictly), speed = mean of 1/t over
// the recorded times t > 0, success curve = SR at 101 thresholds 0, 0.01, ..., 1.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "tracker/box.h"

namespace kestrel::eval {

using tracker::Box;

// The toolkit's rect_iou with bound = (width, height): x, y clipped to [0, W] / [0, H], w, h to
// [0, W - x] / [0, H - y]; IoU = intersection / (union + eps), clipped to [0, 1]. A box without
// area (an empty prediction) scores 0.
double bounded_iou(Box a, Box b, double width, double height);

// The IoUs that count for one run of one sequence: frames 1.. with cover > 0. Throws
// kestrel::Error when the three lists differ in length.
std::vector<double> sequence_ious(const std::vector<Box>& predicted, const std::vector<Box>& groundtruth,
                                  const std::vector<int>& cover, double width, double height);

constexpr int kSuccessBins = 101;

struct Metrics {
  double ao = 0, sr50 = 0, sr75 = 0;  // NaN when no frame counts
  double fps = -1;                    // -1 when no time was recorded, as the toolkit reports
  size_t frames = 0;                  // IoUs pooled
  std::vector<double> success_curve;  // kSuccessBins values
};

Metrics summarize(const std::vector<double>& ious, const std::vector<double>& times);

}  // namespace kestrel::eval
