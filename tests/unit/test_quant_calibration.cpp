// Calibrator math against histograms worked out by hand: the KL divergence of one candidate
// threshold, the entropy choice, percentiles, and the one-pass histogram's range doubling.
#include <cmath>

#include <gtest/gtest.h>

#include "quant/histogram.h"

namespace kestrel::quant {
namespace {

TEST(QuantHistogram, KlDivergenceOfOneCandidateByHand) {
  // 256 bins, candidate 256: the 128 levels merge bin pairs. Bins 0,1 hold 3 and 1 -> Q spreads
  // 4 over both: 2, 2. Bins 2,3 hold 4 and 0 -> Q puts 4 on bin 2 only (empty bins stay empty).
  std::vector<double> counts(256, 0.0);
  counts[0] = 3;
  counts[1] = 1;
  counts[2] = 4;
  // P = [3,1,4]/8, Q = [2,2,4]/8; both are smoothed alike (253 zeros get 1e-4 each, taken evenly
  // from the 3 non-zero entries), so the zero bins add p*log(p/q) = 0.
  const double t = 1e-4 * 253 / 3;
  const double p0 = 0.375 - t, p1 = 0.125 - t, q01 = 0.25 - t;
  const double expected = p0 * std::log(p0 / q01) + p1 * std::log(p1 / q01);
  EXPECT_NEAR(kl_divergence_for_bin(counts, 256), expected, 1e-12);
}

TEST(QuantHistogram, OutliersFoldIntoTheLastReferenceBin) {
  // Candidate 128 of a 256-bin histogram: 128 levels for 128 bins, so Q equals the clipped
  // histogram bin for bin; P has the outlier (bin 200) added to bin 127, Q does not.
  std::vector<double> counts(256, 0.0);
  for (int k = 0; k < 128; ++k) counts[size_t(k)] = 1;
  counts[200] = 128;
  // P = [1 x 127, 129] / 256, Q = [1 x 128] / 128; no zeros inside the first 128 bins.
  const double p = 1.0 / 256, p_last = 129.0 / 256, q = 1.0 / 128;
  const double expected = 127 * p * std::log(p / q) + p_last * std::log(p_last / q);
  EXPECT_NEAR(kl_divergence_for_bin(counts, 128), expected, 1e-12);
}

TEST(QuantHistogram, EntropyKeepsEverythingWhenNothingIsGainedByClipping) {
  // All mass uniformly in the first 128 bins: candidate 128 reproduces it exactly (KL 0), and
  // the first minimum wins.
  std::vector<double> counts(kHistogramBins, 0.0);
  for (int k = 0; k < 128; ++k) counts[size_t(k)] = 10;
  EXPECT_EQ(entropy_threshold_bin(counts), 128);
}

TEST(QuantHistogram, EntropyClipsALoneFarOutlier) {
  // A smooth bulk over the first 1000 bins and one value in the last bin: keeping the outlier
  // would waste half the levels, so the threshold lands well inside the histogram.
  std::vector<double> counts(kHistogramBins, 0.0);
  for (int k = 0; k < 1000; ++k) counts[size_t(k)] = 1000.0 * std::exp(-k / 150.0);
  counts[2047] = 1;
  const int bin = entropy_threshold_bin(counts);
  EXPECT_GE(bin, 128);
  EXPECT_LT(bin, 1100);
}

TEST(QuantHistogram, EntropyIgnoresTheSpikeOfZerosAReluMakes) {
  // Half the values exactly zero, the rest uniform over the whole range: without the zero bin
  // there is nothing to clip, so the threshold is the full range, not a fraction of it.
  std::vector<double> counts(kHistogramBins, 1.0);
  counts[0] = 1e6;
  EXPECT_EQ(entropy_threshold_bin(counts), kHistogramBins);
  // Had the spike counted, candidates past 255 bins would merge it into level 0 with bin 1.
  EXPECT_GT(kl_divergence_for_bin(counts, 256), kl_divergence_for_bin(counts, 128));
}

TEST(QuantHistogram, PercentileInterpolatesInsideTheBin) {
  // 50, 30, 20 in bins of width 1: 90% = 90 of 100 is crossed halfway through bin 2.
  EXPECT_NEAR(percentile_threshold({50, 30, 20}, 1.0, 90.0), 2.5, 1e-12);
  EXPECT_NEAR(percentile_threshold({50, 30, 20}, 0.5, 50.0), 0.5, 1e-12);
  EXPECT_NEAR(percentile_threshold({50, 30, 20}, 1.0, 100.0), 3.0, 1e-12);
}

TEST(QuantHistogram, RangeGrowsToTheNewMaxAndRedistributesCounts) {
  AbsHistogram h;
  const float first[] = {1.0f, -0.5f, 0.f};
  h.add(first, 3);
  EXPECT_EQ(h.range(), 1.0f);
  // |x| = 1 lands in the last bin, 0.5 in bin 1024, 0 in bin 0.
  EXPECT_EQ(h.counts()[2047], 1);
  EXPECT_EQ(h.counts()[1024], 1);
  const float second[] = {3.0f};
  h.add(second, 1);
  EXPECT_EQ(h.range(), 3.0f);
  EXPECT_EQ(h.max_abs(), 3.0f);
  // New bins are 3x wider: old bin 2047 covers [682.33, 682.67) of the new ones, old bin 1024
  // [341.33, 341.67): each falls inside one new bin.
  EXPECT_EQ(h.counts()[682], 1);
  EXPECT_EQ(h.counts()[341], 1);
  EXPECT_EQ(h.counts()[2047], 1);  // 3.0 itself, the new last bin
  EXPECT_EQ(h.counts()[0], 1);
  // Growth by 1.5x: old bin 1 covers new [0.667, 1.333): half in bin 0, half in bin 1.
  AbsHistogram g;
  const float a[] = {2.0f, 1.5f / 1024};  // range 2, the second value in bin 1 (width 1/1024)
  g.add(a, 2);
  EXPECT_EQ(g.counts()[1], 1);
  const float b[] = {3.0f};
  g.add(b, 1);
  EXPECT_NEAR(g.counts()[0], 0.5, 1e-12);
  EXPECT_NEAR(g.counts()[1], 0.5, 1e-12);
  double total = 0;
  for (double c : g.counts()) total += c;
  EXPECT_NEAR(total, 3, 1e-12);
}

TEST(QuantHistogram, ZerosBeforeTheRangeIsKnownAndNonFiniteValues) {
  AbsHistogram h;
  const float zeros[] = {0.f, 0.f};
  h.add(zeros, 2);
  EXPECT_EQ(h.range(), 0.f);
  const float later[] = {2.f, INFINITY, NAN};
  h.add(later, 3);
  EXPECT_EQ(h.range(), 2.f);
  EXPECT_EQ(h.counts()[0], 2);
  EXPECT_EQ(h.counts()[2047], 1);
  EXPECT_TRUE(h.saw_non_finite());
}

}  // namespace
}  // namespace kestrel::quant
