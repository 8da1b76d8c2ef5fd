#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace kestrel::eval {
namespace {

Box clip_to_image(Box r, double width, double height) {
  // np.clip(v, lo, hi) = min(max(v, lo), hi), in the toolkit's order: x, y first, then w, h
  // against the clipped x, y.
  auto clip = [](double v, double lo, double hi) { return std::min(std::max(v, lo), hi); };
  r.x = clip(r.x, 0, width);
  r.y = clip(r.y, 0, height);
  r.w = clip(r.w, 0, width - r.x);
  r.h = clip(r.h, 0, height - r.y);
  return r;
}

}  // namespace

double bounded_iou(Box a, Box b, double width, double height) {
  a = clip_to_image(a, width, height);
  b = clip_to_image(b, width, height);
  const double x1 = std::max(a.x, b.x), y1 = std::max(a.y, b.y);
  const double x2 = std::min(a.x + a.w, b.x + b.w), y2 = std::min(a.y + a.h, b.y + b.h);
  const double inter = std::max(x2 - x1, 0.0) * std::max(y2 - y1, 0.0);
  const double uni = a.w * a.h + b.w * b.h - inter;
  const double iou = inter / (uni + std::numeric_limits<double>::epsilon());
  return std::min(std::max(iou, 0.0), 1.0);
}

std::vector<double> sequence_ious(const std::vector<Box>& predicted, const std::vector<Box>& groundtruth,
                                  const std::vector<int>& cover, double width, double height) {
  KESTREL_CHECK(predicted.size() == groundtruth.size(), "{} boxes for {} frames", predicted.size(), groundtruth.size());
  KESTREL_CHECK(cover.size() == groundtruth.size(), "{} cover labels for {} frames", cover.size(), groundtruth.size());
  std::vector<double> ious;
  for (size_t f = 1; f < predicted.size(); ++f)
    if (cover[f] > 0) ious.push_back(bounded_iou(predicted[f], groundtruth[f], width, height));
  return ious;
}

Metrics summarize(const std::vector<double>& ious, const std::vector<double>& times) {
  Metrics m;
  m.frames = ious.size();
  m.success_curve.assign(kSuccessBins, 0.0);
  if (ious.empty()) {
    m.ao = m.sr50 = m.sr75 = std::nan("");
    std::fill(m.success_curve.begin(), m.success_curve.end(), std::nan(""));
  } else {
    double sum = 0;
    size_t above50 = 0, above75 = 0;
    for (double iou : ious) {
      sum += iou;
      above50 += iou > 0.5;
      above75 += iou > 0.75;
    }
    const double n = double(ious.size());
    m.ao = sum / n;
    m.sr50 = double(above50) / n;
    m.sr75 = double(above75) / n;
    for (int b = 0; b < kSuccessBins; ++b) {
      // np.linspace(0, 1, 101): i * 0.01, the last one exactly 1.
      const double step = 1.0 / (kSuccessBins - 1);
      const double threshold = b == kSuccessBins - 1 ? 1.0 : double(b) * step;
      size_t above = 0;
      for (double iou : ious) above += iou > threshold;
      m.success_curve[size_t(b)] = double(above) / n;
    }
  }
  double inverse_sum = 0;
  size_t counted = 0;
  for (double t : times)
    if (t > 0) inverse_sum += 1.0 / t, ++counted;  // NaN fails t > 0, as the toolkit drops NaNs
  if (counted > 0) m.fps = inverse_sum / double(counted);
  return m;
}

}  // namespace kestrel::eval
