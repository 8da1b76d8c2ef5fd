// A histogram of |x| over [0, range) with 2048 bins, collected in one pass over calibration
// batches, and the three ways of turning it into a clipping threshold.
//
// One pass: the range starts at the first non-zero batch's max |x| and grows to a later batch's
// max when that exceeds it, re-binning the counts so far in proportion to bin overlap (mass
// taken as uniform inside a bin), so no batch has to be run twice and the range always ends at
// the largest |x| seen: all 2048 bins stay in use.
#pragma once
#include <cstdint>
#include <vector>

namespace kestrel::quant {

constexpr int kHistogramBins = 2048;
constexpr int kQuantizedLevels = 128;  // |q| in 0..127 for symmetric int8

class AbsHistogram {
 public:
  AbsHistogram() : counts_(kHistogramBins, 0.0) {}
  void add(const float* data, int64_t n);

  float range() const { return range_; }       // upper edge of the last bin; 0 when only zeros so far
  float max_abs() const { return max_abs_; }   // exact, for min-max calibration
  const std::vector<double>& counts() const { return counts_; }
  double bin_width() const { return double(range_) / kHistogramBins; }
  bool saw_non_finite() const { return non_finite_ > 0; }

 private:
  void grow_to(float max_abs);
  std::vector<double> counts_;
  double pending_zeros_ = 0;  // zeros seen before the range was known
  float range_ = 0;
  float max_abs_ = 0;
  int64_t non_finite_ = 0;
};

// TensorRT's EntropyCalibration2 idea: for every candidate end bin i in [128, bins], the
// reference P is the histogram's first i bins with everything beyond folded into bin i-1; Q is
// those i bins merged into 128 levels and spread back uniformly over the bins that were non-zero.
// Returns the i that minimises KL(P || Q) (the first on ties); the threshold is i * bin_width.
// Bin 0 counts as much as bin 1 here (the zeros a ReLU makes would otherwise decide alone).
int entropy_threshold_bin(const std::vector<double>& counts);
double kl_divergence_for_bin(const std::vector<double>& counts, int end_bin);

// The |x| below which `percentile` percent of the histogram's mass lies, interpolated linearly
// inside the bin where it is crossed.
double percentile_threshold(const std::vector<double>& counts, double bin_width, double percentile);

}  // namespace kestrel::quant
