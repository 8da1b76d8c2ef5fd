// Tests of MaxPool, AveragePool, LpPool and the Global* pools. Edge rules (ceil_mode, the
// count_include_pad divisor, SAME_UPPER vs SAME_LOWER, storage_order) are checked on small
// hand-computed cases; padding, strides and dilations together against a naive formula written
// here that enumerates every window position with its own bounds checks.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

using Ints = std::vector<int64_t>;

ir::Node pool_node(const std::string& op, const Ints& kernel, const Ints& strides = {}, const Ints& pads = {},
                   const Ints& dilations = {}) {
  ir::Node node = make_node(op, 1);
  node.attrs.set("kernel_shape", kernel);
  if (!strides.empty()) node.attrs.set("strides", strides);
  if (!pads.empty()) node.attrs.set("pads", pads);
  if (!dilations.empty()) node.attrs.set("dilations", dilations);
  return node;
}

std::vector<float> iota(int n, float start = 0) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[size_t(i)] = start + float(i);
  return v;
}

std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> index(shape.size());
  for (size_t i = shape.size(); i-- > 0;) {
    index[i] = flat % shape[i];
    flat /= shape[i];
  }
  return index;
}

enum class Reduction { kMax, kAverageExcludingPad, kAverageIncludingPad };

// Every output element reduces the window positions o*s - p + k*d; positions outside the input
// are padding (skipped, but counted by kAverageIncludingPad when inside the explicit pads).
Tensor naive_pool(const Tensor& x, Reduction reduction, const Ints& kernel, const Ints& strides, const Ints& pads,
                  const Ints& dilations, const Shape& out_spatial) {
  const size_t spatial = kernel.size();
  Shape y_shape{x.dim(0), x.dim(1)};
  y_shape.insert(y_shape.end(), out_spatial.begin(), out_spatial.end());
  Tensor y(DataType::kFLOAT, y_shape);
  const Shape in_spatial(x.shape().begin() + 2, x.shape().end());
  const int64_t in_plane = shape_numel(in_spatial);
  for (int64_t flat = 0; flat < y.numel(); ++flat) {
    const std::vector<int64_t> yi = unravel(flat, y_shape);
    const float* plane = x.data<float>() + (yi[0] * x.dim(1) + yi[1]) * in_plane;
    double best = -std::numeric_limits<double>::infinity(), sum = 0;
    int64_t count = 0, padded_count = 0;
    for (int64_t t = 0; t < shape_numel(kernel); ++t) {
      const std::vector<int64_t> k = unravel(t, kernel);
      int64_t offset = 0;
      bool inside = true, inside_padding = true;
      for (size_t d = 0; d < spatial; ++d) {
        const int64_t pos = yi[d + 2] * strides[d] - pads[d] + k[d] * dilations[d];
        inside = inside && pos >= 0 && pos < in_spatial[d];
        inside_padding = inside_padding && pos >= -pads[d] && pos < in_spatial[d] + pads[d + spatial];
        offset = offset * in_spatial[d] + pos;
      }
      padded_count += inside_padding;
      if (!inside) continue;
      best = std::max(best, double(plane[offset]));
      sum += plane[offset];
      ++count;
    }
    const double value = reduction == Reduction::kMax                  ? best
                         : reduction == Reduction::kAverageExcludingPad ? sum / double(count)
                                                                         : sum / double(padded_count);
    y.data<float>()[flat] = float(value);
  }
  return y;
}

// ---- MaxPool --------------------------------------------------------------------------------------------

TEST(MaxPool, TwoByTwoWindowsWithIndicesInBothStorageOrders) {
  // Two channels of 4x4 ramps (0..15, 16..31): every window's maximum is its bottom-right element.
  const Tensor x = make_float({1, 2, 4, 4}, iota(32));
  ir::Node node = pool_node("MaxPool", {2, 2}, {2, 2});
  node.outputs.push_back(2);
  std::vector<Tensor> out = run_reference(node, {&x});
  EXPECT_TRUE(tensors_near(out[0], make_float({1, 2, 2, 2}, {5, 7, 13, 15, 21, 23, 29, 31})));
  ASSERT_EQ(out[1].dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(out[1]), (std::vector<int64_t>{5, 7, 13, 15, 21, 23, 29, 31}));
  // Column-major: (h, w) -> h + w * 4 within the plane: (1,1)=5, (1,3)=13, (3,1)=7, (3,3)=15.
  node.attrs.set("storage_order", int64_t(1));
  out = run_reference(node, {&x});
  EXPECT_EQ(to_ints(out[1]), (std::vector<int64_t>{5, 13, 7, 15, 21, 29, 23, 31}));
}

TEST(MaxPool, PaddingIsNeverTheMaximum) {
  // All-negative input: a zero from padding must not win.
  const Tensor x = make_float({1, 1, 2, 2}, {-4, -3, -2, -1});
  const Tensor y = run_one(pool_node("MaxPool", {2, 2}, {1, 1}, {1, 1, 1, 1}), {&x});
  EXPECT_TRUE(tensors_near(y, make_float({1, 1, 3, 3}, {-4, -3, -3, -2, -1, -1, -2, -1, -1})));
}

TEST(MaxPool, CeilModeAddsAPartialWindowButNotOneStartingInPadding) {
  const Tensor x = make_float({1, 1, 5}, {1, 2, 3, 4, 5});
  // No padding: floor gives 2 windows, ceil a third covering only x[4].
  EXPECT_TRUE(tensors_near(run_one(pool_node("MaxPool", {2}, {2}), {&x}), make_float({1, 1, 2}, {2, 4})));
  ir::Node ceil = pool_node("MaxPool", {2}, {2});
  ceil.attrs.set("ceil_mode", int64_t(1));
  EXPECT_TRUE(tensors_near(run_one(ceil, {&x}), make_float({1, 1, 3}, {2, 4, 5})));
  // Pads [1, 1]: (5 + 2 - 2) / 2 rounds up to 3, so 4 windows, but the 4th would start at 6 - 1 = 5,
  // inside the end padding, and is dropped.
  ceil.attrs.set("pads", Ints{1, 1});
  EXPECT_TRUE(tensors_near(run_one(ceil, {&x}), make_float({1, 1, 3}, {1, 3, 5})));
}

TEST(MaxPool, PadsStridesDilationsAgainstNaive) {
  const Tensor x = random_float({2, 3, 9, 10}, 1);
  const Ints kernel{3, 2}, strides{2, 3}, pads{1, 0, 2, 1}, dilations{2, 3};
  // H: (9 + 3 - 5) / 2 + 1 = 4; W: (10 + 1 - 4) / 3 + 1 = 3.
  const Tensor y = run_one(pool_node("MaxPool", kernel, strides, pads, dilations), {&x});
  EXPECT_TRUE(tensors_near(y, naive_pool(x, Reduction::kMax, kernel, strides, pads, dilations, {4, 3})));
}

TEST(MaxPool, OneAndThreeDimsAgainstNaive) {
  const Tensor x1 = random_float({1, 2, 11}, 2);
  EXPECT_TRUE(tensors_near(run_one(pool_node("MaxPool", {3}, {2}, {1, 1}), {&x1}),
                           naive_pool(x1, Reduction::kMax, {3}, {2}, {1, 1}, {1}, {6})));
  const Tensor x3 = random_float({1, 2, 4, 5, 6}, 3);
  EXPECT_TRUE(tensors_near(run_one(pool_node("MaxPool", {2, 3, 2}, {2, 1, 2}, {0, 1, 1, 0, 1, 0}), {&x3}),
                           naive_pool(x3, Reduction::kMax, {2, 3, 2}, {2, 1, 2}, {0, 1, 1, 0, 1, 0}, {1, 1, 1},
                                      {2, 5, 3})));
}

TEST(MaxPool, IntegerTypes) {
  Tensor u8(DataType::kUINT8, {1, 1, 2, 3});
  const uint8_t bytes[] = {1, 200, 3, 255, 5, 0};
  std::memcpy(u8.raw(), bytes, sizeof(bytes));
  const Tensor y = run_one(pool_node("MaxPool", {2, 2}), {&u8});
  ASSERT_EQ(y.dtype(), DataType::kUINT8);
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{255, 200}));
  const Tensor i64 = make_int64({1, 1, 3}, {-5, -7, -6});
  // Padding must not contribute a zero to integer maxima either.
  EXPECT_EQ(to_ints(run_one(pool_node("MaxPool", {2}, {1}, {1, 1}), {&i64})),
            (std::vector<int64_t>{-5, -5, -6, -6}));
}

// ---- AveragePool ----------------------------------------------------------------------------------------

TEST(AveragePool, CountIncludePadChangesTheDivisorAtTheBorders) {
  const Tensor x = make_float({1, 1, 4}, {1, 2, 3, 4});
  ir::Node node = pool_node("AveragePool", {3}, {1}, {1, 1});
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({1, 1, 4}, {1.5f, 2, 3, 3.5f})));
  node.attrs.set("count_include_pad", int64_t(1));
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({1, 1, 4}, {1, 2, 3, 7.f / 3})));
}

TEST(AveragePool, CeilModeOverhangIsNotCountedEvenWithCountIncludePad) {
  // The third window covers x[4] and one position past the (zero) end padding.
  const Tensor x = make_float({1, 1, 5}, {1, 2, 3, 4, 5});
  ir::Node node = pool_node("AveragePool", {2}, {2});
  node.attrs.set("ceil_mode", int64_t(1));
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({1, 1, 3}, {1.5f, 3.5f, 5})));
  node.attrs.set("count_include_pad", int64_t(1));
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({1, 1, 3}, {1.5f, 3.5f, 5})));
  // With an explicit end pad of 1, that padding position does count: (5 + 0) / 2.
  node.attrs.set("pads", Ints{0, 1});
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({1, 1, 3}, {1.5f, 3.5f, 2.5f})));
}

TEST(AveragePool, SameUpperPadsTheEndAndSameLowerTheBeginning) {
  const Tensor x = make_float({1, 1, 4}, {1, 2, 3, 4});
  ir::Node node = pool_node("AveragePool", {2});
  node.attrs.set("auto_pad", std::string("SAME_UPPER"));
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({1, 1, 4}, {1.5f, 2.5f, 3.5f, 4})));
  node.attrs.set("auto_pad", std::string("SAME_LOWER"));
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({1, 1, 4}, {1, 1.5f, 2.5f, 3.5f})));
  // Stride 2 on 5: output ceil(5/2) = 3; VALID: (5 - 2) / 2 + 1 = 2 and ignores pads.
  const Tensor x5 = make_float({1, 1, 5}, {1, 2, 3, 4, 5});
  ir::Node strided = pool_node("AveragePool", {2}, {2}, {3, 3});
  strided.attrs.set("auto_pad", std::string("SAME_UPPER"));
  EXPECT_TRUE(tensors_near(run_one(strided, {&x5}), make_float({1, 1, 3}, {1.5f, 3.5f, 5})));
  strided.attrs.set("auto_pad", std::string("VALID"));
  EXPECT_TRUE(tensors_near(run_one(strided, {&x5}), make_float({1, 1, 2}, {1.5f, 3.5f})));
}

TEST(AveragePool, PadsAndStridesAgainstNaive) {
  const Tensor x = random_float({2, 2, 7, 8}, 4);
  const Ints kernel{3, 3}, strides{2, 2}, pads{1, 1, 1, 2}, ones{1, 1};
  // H: (7 + 2 - 3) / 2 + 1 = 4; W: (8 + 3 - 3) / 2 + 1 = 5.
  ir::Node node = pool_node("AveragePool", kernel, strides, pads);
  EXPECT_TRUE(tensors_near(run_one(node, {&x}),
                           naive_pool(x, Reduction::kAverageExcludingPad, kernel, strides, pads, ones, {4, 5})));
  node.attrs.set("count_include_pad", int64_t(1));
  EXPECT_TRUE(tensors_near(run_one(node, {&x}),
                           naive_pool(x, Reduction::kAverageIncludingPad, kernel, strides, pads, ones, {4, 5})));
}

// ---- LpPool and global pools --------------------------------------------------------------------------------

TEST(LpPool, NormOfEachWindow) {
  const Tensor x = make_float({1, 1, 5}, {3, -4, 0, 5, 12});
  EXPECT_TRUE(tensors_near(run_one(pool_node("LpPool", {2}, {2}), {&x}), make_float({1, 1, 2}, {5, 5})));
  ir::Node l1 = pool_node("LpPool", {2}, {2});
  l1.attrs.set("p", int64_t(1));
  EXPECT_TRUE(tensors_near(run_one(l1, {&x}), make_float({1, 1, 2}, {7, 5})));
}

TEST(GlobalPool, AverageMaxAndLpOverAllSpatialDims) {
  const Tensor x = make_float({1, 2, 2, 2}, {1, 2, 3, 6, -1, -2, -3, -4});
  EXPECT_TRUE(tensors_near(run_one(make_node("GlobalAveragePool", 1), {&x}), make_float({1, 2, 1, 1}, {3, -2.5f})));
  EXPECT_TRUE(tensors_near(run_one(make_node("GlobalMaxPool", 1), {&x}), make_float({1, 2, 1, 1}, {6, -1})));
  EXPECT_TRUE(tensors_near(run_one(make_node("GlobalLpPool", 1), {&x}),
                           make_float({1, 2, 1, 1}, {std::sqrt(50.f), std::sqrt(30.f)})));
  const Tensor x3 = random_float({2, 3, 2, 3, 4}, 5);
  const Tensor y3 = run_one(make_node("GlobalAveragePool", 1), {&x3});
  ASSERT_EQ(y3.shape(), (Shape{2, 3, 1, 1, 1}));
  double sum = 0;
  for (int i = 24; i < 48; ++i) sum += x3.data<float>()[i];  // plane (0, 1)
  EXPECT_NEAR(y3.data<float>()[1], sum / 24, 1e-6);
  const Tensor ints = make_int64({1, 2, 2}, {3, -1, -7, -2});
  EXPECT_EQ(to_ints(run_one(make_node("GlobalMaxPool", 1), {&ints})), (std::vector<int64_t>{3, -2}));
}

TEST(Pool, RejectsBadAttributesAndTypes) {
  const Tensor x = random_float({1, 1, 4, 4}, 6);
  EXPECT_THROW(run_one(make_node("MaxPool", 1), {&x}), Error);                    // no kernel_shape
  EXPECT_THROW(run_one(pool_node("MaxPool", {2}), {&x}), Error);                  // kernel rank
  EXPECT_THROW(run_one(pool_node("MaxPool", {2, 2}, {0, 1}), {&x}), Error);       // zero stride
  EXPECT_THROW(run_one(pool_node("MaxPool", {2, 2}, {}, {1, 1}), {&x}), Error);   // pads count
  EXPECT_THROW(run_one(pool_node("AveragePool", {5, 5}), {&x}), Error);           // window larger than input
  ir::Node bad_mode = pool_node("AveragePool", {2, 2});
  bad_mode.attrs.set("auto_pad", std::string("SAME"));
  EXPECT_THROW(run_one(bad_mode, {&x}), Error);
  ir::Node bad_order = pool_node("MaxPool", {2, 2});
  bad_order.attrs.set("storage_order", int64_t(2));
  EXPECT_THROW(run_one(bad_order, {&x}), Error);
  const Tensor ints = make_int64({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_THROW(run_one(pool_node("AveragePool", {2, 2}), {&ints}), Error);
  const Tensor rank2 = random_float({2, 3}, 7);
  EXPECT_THROW(run_one(pool_node("MaxPool", {}), {&rank2}), Error);
}

}  // namespace
}  // namespace kestrel::testing
