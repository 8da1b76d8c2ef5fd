// Tests of BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization and
// LRN: hand-computed
// small cases, random cases against the textbook formulas written out here, and the rejection of
// what inference cannot do (training mode, statistics outputs, unsupported stash types).
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

// Per-group mean and population variance in double.
struct Stats {
  double mean, variance;
};

Stats stats_of(const float* v, int64_t n) {
  double mean = 0, variance = 0;
  for (int64_t i = 0; i < n; ++i) mean += v[i];
  mean /= double(n);
  for (int64_t i = 0; i < n; ++i) variance += (v[i] - mean) * (v[i] - mean);
  return {mean, variance / double(n)};
}

// ---- BatchNormalization ----------------------------------------------------------------------------------

TEST(BatchNorm, UsesTheRunningStatisticsPerChannel) {
  // Channel 0: (x - 1) / 2; channel 1: (x - 3) / 0.5 * 2 + 1 (epsilon 0).
  const Tensor x = make_float({1, 2, 1, 2}, {1, 2, 3, 4});
  const Tensor scale = make_float({2}, {1, 2}), bias = make_float({2}, {0, 1});
  const Tensor mean = make_float({2}, {1, 3}), var = make_float({2}, {4, 0.25f});
  ir::Node node = make_node("BatchNormalization", 5);
  node.attrs.set("epsilon", 0.f);
  EXPECT_TRUE(tensors_near(run_one(node, {&x, &scale, &bias, &mean, &var}), make_float({1, 2, 1, 2}, {0, 0.5f, 1, 5})));
}

TEST(BatchNorm, DefaultEpsilonAndRankTwoAndFive) {
  for (const Shape& shape : {Shape{4, 3}, Shape{2, 3, 2, 2, 3}}) {
    const Tensor x = random_float(shape, 1);
    const Tensor scale = random_float({3}, 2), bias = random_float({3}, 3);
    const Tensor mean = random_float({3}, 4), var = random_float({3}, 5, 0.f, 1e-4f);  // tiny: epsilon matters
    const Tensor y = run_one(make_node("BatchNormalization", 5, 1, 9), {&x, &scale, &bias, &mean, &var});
    const int64_t plane = x.numel() / (shape[0] * 3);
    std::vector<float> expected;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t c = (i / plane) % 3;
      expected.push_back(float((x.data<float>()[i] - mean.data<float>()[c]) /
                                   std::sqrt(double(var.data<float>()[c]) + 1e-5) * scale.data<float>()[c] +
                               bias.data<float>()[c]));
    }
    EXPECT_TRUE(tensors_near(y, make_float(shape, expected), 1e-5, 1e-5)) << shape_str(shape);
  }
}

TEST(BatchNorm, RejectsTrainingModeAndStatisticsOutputs) {
  const Tensor x = random_float({1, 2, 2}, 6);
  const Tensor c = make_float({2}, {1, 1});
  ir::Node training = make_node("BatchNormalization", 5, 1, 15);
  training.attrs.set("training_mode", int64_t(1));
  EXPECT_THROW(run_one(training, {&x, &c, &c, &c, &c}), Error);
  EXPECT_THROW(run_one(make_node("BatchNormalization", 5, 3, 15), {&x, &c, &c, &c, &c}), Error);
  EXPECT_THROW(run_one(make_node("BatchNormalization", 5, 5, 9), {&x, &c, &c, &c, &c}), Error);
  const Tensor three = make_float({3}, {1, 1, 1});
  EXPECT_THROW(run_one(make_node("BatchNormalization", 5), {&x, &three, &c, &c, &c}), Error);
}

TEST(BatchNorm, AcceptsAbsentOptionalOutputs) {
  // A node listing empty names for the training outputs is inference all the same.
  ir::Graph graph;
  for (const Shape& shape : {Shape{1, 2, 3}, Shape{2}, Shape{2}, Shape{2}, Shape{2}}) {
    ir::Value v;
    v.name = "in" + std::to_string(graph.values.size());
    v.shape = shape;
    v.shape_known = true;
    graph.add_value(v);
  }
  ir::Value out;
  out.name = "y";
  const int y = graph.add_value(out);
  ir::Node node = make_node("BatchNormalization", 5, 1, 14);
  node.outputs = {y, ir::kNoValue, ir::kNoValue};
  ir::infer_node(graph, node);
  EXPECT_EQ(graph.values[size_t(y)].shape, (Shape{1, 2, 3}));
}

// ---- InstanceNormalization ----------------------------------------------------------------------------

TEST(InstanceNorm, NormalisesEachSampleAndChannelOverSpatialDims) {
  // [1, 2, 3, 4]: mean 2.5, variance 1.25; scale 2, bias 1, epsilon 0.
  const Tensor x = make_float({1, 1, 4}, {1, 2, 3, 4});
  const Tensor scale = make_float({1}, {2}), bias = make_float({1}, {1});
  ir::Node node = make_node("InstanceNormalization", 3);
  node.attrs.set("epsilon", 0.f);
  const float s = 2.f / std::sqrt(1.25f);
  EXPECT_TRUE(tensors_near(run_one(node, {&x, &scale, &bias}),
                           make_float({1, 1, 4}, {-1.5f * s + 1, -0.5f * s + 1, 0.5f * s + 1, 1.5f * s + 1})));
}

TEST(InstanceNorm, RandomAgainstFormulaIncludingALargeOffset) {
  // An offset of 1000 on a spread of 1e-2: a one-pass float variance would lose most digits.
  const Tensor x = random_float({2, 3, 4, 5}, 7, 1000.f, 1000.01f);
  const Tensor scale = random_float({3}, 8), bias = random_float({3}, 9);
  const Tensor y = run_one(make_node("InstanceNormalization", 3), {&x, &scale, &bias});
  std::vector<float> expected;
  for (int64_t plane = 0; plane < 6; ++plane) {
    const float* v = x.data<float>() + plane * 20;
    const Stats st = stats_of(v, 20);
    const int64_t c = plane % 3;
    for (int i = 0; i < 20; ++i)
      expected.push_back(float((v[i] - st.mean) / std::sqrt(st.variance + 1e-5) * scale.data<float>()[c] +
                               bias.data<float>()[c]));
  }
  EXPECT_TRUE(tensors_near(y, make_float({2, 3, 4, 5}, expected), 1e-4, 1e-4));
}

TEST(InstanceNorm, RejectsBadShapes) {
  const Tensor x = random_float({1, 2, 3}, 10);
  const Tensor c3 = make_float({3}, {1, 1, 1}), c2 = make_float({2}, {1, 1});
  EXPECT_THROW(run_one(make_node("InstanceNormalization", 3), {&x, &c3, &c2}), Error);
  const Tensor rank2 = random_float({1, 2}, 11);
  EXPECT_THROW(run_one(make_node("InstanceNormalization", 3), {&rank2, &c2, &c2}), Error);
}

// ---- LayerNormalization ---------------------------------------------------------------------------------

TEST(LayerNorm, LastAxisByHandWithStatisticsOutputs) {
  // Rows [1, 2, 3] (mean 2, variance 2/3) and [2, 4, 6] (mean 4, variance 8/3); epsilon 0.
  const Tensor x = make_float({2, 3}, {1, 2, 3, 2, 4, 6});
  const Tensor scale = make_float({3}, {1, 2, 3});
  ir::Node node = make_node("LayerNormalization", 2, 3);
  node.attrs.set("epsilon", 0.f);
  const std::vector<Tensor> out = run_reference(node, {&x, &scale});
  const float a = 1 / std::sqrt(2.f / 3);  // (x - mean) * inv_std for both rows: -1, 0, 1 times a
  EXPECT_TRUE(tensors_near(out[0], make_float({2, 3}, {-a, 0, 3 * a, -a, 0, 3 * a})));
  EXPECT_TRUE(tensors_near(out[1], make_float({2, 1}, {2, 4})));
  EXPECT_TRUE(tensors_near(out[2], make_float({2, 1}, {a, 1 / std::sqrt(8.f / 3)})));
}

TEST(LayerNorm, InnerAxisWithBroadcastScaleAndBias) {
  // axis 1 of [2, 3, 4]: statistics over the last 12 elements; Scale [3, 4], B [4] broadcast to [3, 4].
  const Tensor x = random_float({2, 3, 4}, 12);
  const Tensor scale = random_float({3, 4}, 13), bias = random_float({4}, 14);
  std::vector<float> expected;
  for (int r = 0; r < 2; ++r) {
    const float* v = x.data<float>() + r * 12;
    const Stats st = stats_of(v, 12);
    for (int i = 0; i < 12; ++i)
      expected.push_back(float((v[i] - st.mean) / std::sqrt(st.variance + 1e-5) * scale.data<float>()[i] +
                               bias.data<float>()[i % 4]));
  }
  for (int64_t axis : {1, -2}) {
    ir::Node node = make_node("LayerNormalization", 3, 2);
    node.attrs.set("axis", axis);
    const std::vector<Tensor> out = run_reference(node, {&x, &scale, &bias});
    EXPECT_TRUE(tensors_near(out[0], make_float({2, 3, 4}, expected), 1e-5, 1e-5)) << axis;
    EXPECT_EQ(out[1].shape(), (Shape{2, 1, 1})) << axis;
  }
}

TEST(LayerNorm, RejectsUnsupportedStashTypeAndBadShapes) {
  const Tensor x = random_float({2, 3}, 15);
  const Tensor scale = random_float({3}, 16);
  ir::Node stash = make_node("LayerNormalization", 2);
  stash.attrs.set("stash_type", int64_t(11));
  EXPECT_THROW(run_one(stash, {&x, &scale}), Error);
  ir::Node axis = make_node("LayerNormalization", 2);
  axis.attrs.set("axis", int64_t(2));
  EXPECT_THROW(run_one(axis, {&x, &scale}), Error);
  const Tensor wrong = random_float({2}, 17);
  EXPECT_THROW(run_one(make_node("LayerNormalization", 2), {&x, &wrong}), Error);
}

// ---- LRN ------------------------------------------------------------------------------------------------

// ---- GroupNormalization -------------------------------------------------------------------------------

// The formula written out: statistics over each group of channels and the spatial dims, then
// scale and bias per channel.
Tensor group_norm_by_formula(const Tensor& x, int64_t groups, const std::vector<float>& channel_scale,
                             const std::vector<float>& channel_bias, double epsilon) {
  Tensor y(DataType::kFLOAT, x.shape());
  const int64_t n = x.dim(0), c = x.dim(1), spatial = x.numel() / (n * c), per_group = c / groups * spatial;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t base = (b * groups + g) * per_group;
      const Stats s = stats_of(x.data<float>() + base, per_group);
      for (int64_t i = 0; i < per_group; ++i) {
        const size_t channel = size_t(g * (c / groups) + i / spatial);
        y.data<float>()[base + i] = float((x.data<float>()[base + i] - s.mean) / std::sqrt(s.variance + epsilon) *
                                              channel_scale[channel] +
                                          channel_bias[channel]);
      }
    }
  return y;
}

ir::Node group_norm_node(int opset, int64_t groups) {
  ir::Node node = make_node("GroupNormalization", 3, 1, opset);
  node.attrs.set("num_groups", groups);
  node.attrs.set("epsilon", 1e-3f);
  return node;
}

TEST(GroupNorm, Opset18ScalesPerGroup) {
  const Tensor x = random_float({2, 6, 3, 2}, 11, -2.f, 3.f);
  const Tensor scale = make_float({3}, {0.5f, -2.f, 1.5f});
  const Tensor bias = make_float({3}, {1.f, 0.f, -0.25f});
  const Tensor expected = group_norm_by_formula(x, 3, {0.5f, 0.5f, -2.f, -2.f, 1.5f, 1.5f},
                                                {1.f, 1.f, 0.f, 0.f, -0.25f, -0.25f}, 1e-3);
  for (int opset : {18, 19, 20})
    EXPECT_TRUE(tensors_near(run_one(group_norm_node(opset, 3), {&x, &scale, &bias}), expected, 1e-5, 1e-4))
        << opset;
}

TEST(GroupNorm, Opset21ScalesPerChannel) {
  const Tensor x = random_float({1, 4, 5}, 12, -1.f, 1.f);
  const std::vector<float> scale_values{0.5f, 2.f, -1.f, 3.f}, bias_values{0.f, 1.f, 2.f, -3.f};
  const Tensor scale = make_float({4}, scale_values), bias = make_float({4}, bias_values);
  EXPECT_TRUE(tensors_near(run_one(group_norm_node(21, 2), {&x, &scale, &bias}),
                           group_norm_by_formula(x, 2, scale_values, bias_values, 1e-3), 1e-5, 1e-4));
}

TEST(GroupNorm, RefusesTheOtherOpsetsScaleShapeAndUnsupportedSettings) {
  const Tensor x = random_float({1, 4, 3}, 13);
  const Tensor per_channel = make_float({4}, {1, 1, 1, 1}), per_group = make_float({2}, {1, 1});
  expect_error_mentioning(group_norm_node(18, 2), {&x, &per_channel, &per_channel},
                          "scale must be [2] (one value per group at opset 18)");
  expect_error_mentioning(group_norm_node(21, 2), {&x, &per_group, &per_group},
                          "scale must be [4] (one value per channel at opset 21)");
  expect_error_mentioning(group_norm_node(17, 2), {&x, &per_group, &per_group}, "exists only from opset 18");
  expect_error_mentioning(group_norm_node(21, 3), {&x, &per_channel, &per_channel}, "num_groups 3 must divide");
  ir::Node stash = group_norm_node(21, 2);
  stash.attrs.set("stash_type", int64_t{0});
  expect_error_mentioning(stash, {&x, &per_channel, &per_channel}, "stash_type 0 is not supported");
}

TEST(LRN, SumsSquaresOverNeighbouringChannels) {
  // Channels [1, 2, 3] with alpha / size = 1, beta 1, bias 1.
  const Tensor x = make_float({1, 3, 1, 1}, {1, 2, 3});
  ir::Node odd = make_node("LRN", 1);
  odd.attrs.set("size", int64_t(3));
  odd.attrs.set("alpha", 3.f);
  odd.attrs.set("beta", 1.f);
  // size 3: channels c-1..c+1 -> sums 5, 14, 13.
  EXPECT_TRUE(tensors_near(run_one(odd, {&x}), make_float({1, 3, 1, 1}, {1.f / 6, 2.f / 15, 3.f / 14})));
  // size 2: channels c..c+1 (floor before, ceil after) -> sums 5, 13, 9.
  ir::Node even = odd;
  even.attrs.set("size", int64_t(2));
  even.attrs.set("alpha", 2.f);
  EXPECT_TRUE(tensors_near(run_one(even, {&x}), make_float({1, 3, 1, 1}, {1.f / 6, 2.f / 14, 3.f / 10})));
  EXPECT_THROW(run_one(make_node("LRN", 1), {&x}), Error);  // size is required
}

}  // namespace
}  // namespace kestrel::testing
