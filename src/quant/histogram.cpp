#include "quant/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace kestrel::quant {

void AbsHistogram::grow_to(float max_abs) {
  if (range_ == 0) {
    range_ = max_abs;
    counts_[0] += pending_zeros_;
    pending_zeros_ = 0;
    return;
  }
  // Each old bin [k, k+1) * old_width spreads its count over the new bins it overlaps, in
  // proportion to the overlap (mass assumed uniform inside a bin). New bins are wider, so an
  // old bin touches at most two of them.
  std::vector<double> grown(kHistogramBins, 0.0);
  const double ratio = double(range_) / double(max_abs);  // old width / new width
  for (int k = 0; k < kHistogramBins; ++k) {
    const double c = counts_[size_t(k)];
    if (c == 0) continue;
    const double lo = k * ratio, hi = (k + 1) * ratio;
    const int first = std::min(int(lo), kHistogramBins - 1);
    const int last = std::min(int(hi), kHistogramBins - 1);
    if (first == last || double(last) >= hi) {
      grown[size_t(first)] += c;
    } else {
      const double in_first = (double(last) - lo) / (hi - lo);
      grown[size_t(first)] += c * in_first;
      grown[size_t(last)] += c * (1 - in_first);
    }
  }
  counts_.swap(grown);
  range_ = max_abs;
}

void AbsHistogram::add(const float* data, int64_t n) {
  float batch_max = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float a = std::fabs(data[i]);
    if (!std::isfinite(a)) continue;
    batch_max = std::max(batch_max, a);
  }
  max_abs_ = std::max(max_abs_, batch_max);
  if (batch_max > range_) grow_to(batch_max);
  if (range_ == 0) {  // all zeros (so far): they belong to bin 0 of whatever range comes later
    for (int64_t i = 0; i < n; ++i) non_finite_ += std::isfinite(data[i]) ? 0 : 1;
    pending_zeros_ += double(n);
    return;
  }
  const double per_bin = kHistogramBins / double(range_);
  for (int64_t i = 0; i < n; ++i) {
    const float a = std::fabs(data[i]);
    if (!std::isfinite(a)) {
      ++non_finite_;  // never binned: one inf would otherwise stretch the range without limit
      continue;
    }
    const int bin = std::min(int(double(a) * per_bin), kHistogramBins - 1);
    counts_[size_t(bin)] += 1;
  }
}

namespace {

// Replaces zeros by eps and takes the mass from the non-zero entries, so that KL stays finite
// where one distribution is empty and the other is not; returns false when all are zero.
bool smooth(std::vector<double>& p) {
  constexpr double eps = 1e-4;
  size_t zeros = 0;
  for (double v : p) zeros += v == 0 ? 1 : 0;
  const size_t non_zeros = p.size() - zeros;
  if (non_zeros == 0) return false;
  const double take = eps * double(zeros) / double(non_zeros);
  for (double& v : p) v = v == 0 ? eps : v - take;
  return true;
}

void normalize(std::vector<double>& p) {
  double sum = 0;
  for (double v : p) sum += v;
  if (sum > 0)
    for (double& v : p) v /= sum;
}

}  // namespace

double kl_divergence_for_bin(const std::vector<double>& counts, int end_bin) {
  const size_t i = size_t(end_bin);
  std::vector<double> p(counts.begin(), counts.begin() + long(i));
  for (size_t k = i; k < counts.size(); ++k) p[i - 1] += counts[k];  // outliers clip to the last level

  // Q: merge the i bins into 128 groups of (nearly) equal width, then spread each group's mass
  // over the group's bins that were non-zero in the unclipped histogram.
  std::vector<double> q(i, 0.0);
  for (int level = 0; level < kQuantizedLevels; ++level) {
    const size_t begin = i * size_t(level) / kQuantizedLevels;
    const size_t end = i * size_t(level + 1) / kQuantizedLevels;
    double mass = 0;
    size_t occupied = 0;
    for (size_t k = begin; k < end; ++k) {
      mass += counts[k];
      occupied += counts[k] != 0 ? 1 : 0;
    }
    if (occupied == 0) continue;
    for (size_t k = begin; k < end; ++k)
      if (counts[k] != 0) q[k] = mass / double(occupied);
  }
  normalize(p);
  normalize(q);
  if (!smooth(p) || !smooth(q)) return std::numeric_limits<double>::infinity();
  double kl = 0;
  for (size_t k = 0; k < i; ++k) kl += p[k] * std::log(p[k] / q[k]);
  return kl;
}

int entropy_threshold_bin(const std::vector<double>& histogram) {
  // Bin 0 takes bin 1's count, as NVIDIA's reference implementation does: after a ReLU, half of
  // a tensor is exactly zero, and that spike, merged with its neighbours into level 0 for every
  // candidate beyond 255 bins, would dominate the KL and force thresholds of ~10% of the range.
  std::vector<double> counts = histogram;
  if (counts.size() > 1) counts[0] = counts[1];
  const int bins = int(counts.size());
  int best = bins;
  double best_kl = std::numeric_limits<double>::infinity();
  for (int i = kQuantizedLevels; i <= bins; ++i) {
    const double kl = kl_divergence_for_bin(counts, i);
    if (kl < best_kl) {
      best_kl = kl;
      best = i;
    }
  }
  return best;
}

double percentile_threshold(const std::vector<double>& counts, double bin_width, double percentile) {
  double total = 0;
  for (double c : counts) total += c;
  if (total == 0) return 0;
  const double target = total * percentile / 100.0;
  double below = 0;
  for (size_t k = 0; k < counts.size(); ++k) {
    if (counts[k] > 0 && below + counts[k] >= target) {
      const double fraction = (target - below) / counts[k];
      return (double(k) + fraction) * bin_width;
    }
    below += counts[k];
  }
  return double(counts.size()) * bin_width;
}

}  // namespace kestrel::quant
