// Tests of Resize. Small nearest cases are hand-computed; linear and cubic expectations come from
// ONNX's numpy reference implementation (onnx/backend/test/case/node/resize.py, interpolate_nd),
// run once offline and pasted here with the case that produced them.
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

ir::Node resize_node(const std::string& mode, const std::string& transform = "half_pixel", int opset = 13) {
  ir::Node node = make_node("Resize", 4, 1, opset);
  node.attrs.set("mode", mode);
  node.attrs.set("coordinate_transformation_mode", transform);
  return node;
}

Tensor resize_scales(const ir::Node& node, const Tensor& x, std::vector<float> scales) {
  const Tensor s = make_float({int64_t(scales.size())}, scales);
  return run_one(node, {&x, nullptr, &s, nullptr});
}

Tensor resize_sizes(const ir::Node& node, const Tensor& x, std::vector<int64_t> sizes) {
  const Tensor s = make_int64({int64_t(sizes.size())}, sizes);
  return run_one(node, {&x, nullptr, nullptr, &s});
}

std::vector<float> iota(int n, float start) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[size_t(i)] = start + float(i);
  return v;
}

Tensor ramp4x4() { return make_float({1, 1, 4, 4}, iota(16, 1)); }  // 1..16

// ---- nearest ------------------------------------------------------------------------------------------

TEST(Resize, NearestUpAndDownsampleByScales) {
  const Tensor x = make_float({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(tensors_near(resize_scales(resize_node("nearest"), x, {1, 1, 2, 3}),
                           make_float({1, 1, 4, 6}, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2,  //
                                                     3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4})));
  // 2x4 by 0.6: output floor(1.2) x floor(2.4) = 1x2; x_ori = (o + 0.5) / 0.6 - 0.5 = 0.33, 2.0.
  const Tensor wide = make_float({1, 1, 2, 4}, iota(8, 1));
  EXPECT_TRUE(tensors_near(resize_scales(resize_node("nearest"), wide, {1, 1, 0.6f, 0.6f}),
                           make_float({1, 1, 1, 2}, {1, 3})));
}

TEST(Resize, NearestRoundingModes) {
  const Tensor x = make_float({4}, {10, 20, 30, 40});
  // asymmetric x2: x_ori = 0, 0.5, 1, 1.5, ...: the ties decide.
  ir::Node node = resize_node("nearest", "asymmetric");
  node.attrs.set("nearest_mode", std::string("round_prefer_floor"));
  EXPECT_TRUE(tensors_near(resize_scales(node, x, {2}), make_float({8}, {10, 10, 20, 20, 30, 30, 40, 40})));
  node.attrs.set("nearest_mode", std::string("round_prefer_ceil"));
  EXPECT_TRUE(tensors_near(resize_scales(node, x, {2}), make_float({8}, {10, 20, 20, 30, 30, 40, 40, 40})));
  // half_pixel x3: x_ori = -1/3, 0, 1/3, 2/3, 1, ...: floor and ceil differ from rounding.
  node = resize_node("nearest");
  node.attrs.set("nearest_mode", std::string("floor"));
  EXPECT_TRUE(tensors_near(resize_scales(node, x, {3}),
                           make_float({12}, {10, 10, 10, 10, 20, 20, 20, 30, 30, 30, 40, 40})));
  node.attrs.set("nearest_mode", std::string("ceil"));
  EXPECT_TRUE(tensors_near(resize_scales(node, x, {3}),
                           make_float({12}, {10, 10, 20, 20, 20, 30, 30, 30, 40, 40, 40, 40})));
}

TEST(Resize, NearestCoordinateTransformations) {
  const Tensor x = make_float({4}, {10, 20, 30, 40});
  // tf_half_pixel_for_nn: x_ori = (o + 0.5) / 2 = 0.25, 0.75, 1.25, ...
  EXPECT_TRUE(tensors_near(resize_scales(resize_node("nearest", "tf_half_pixel_for_nn"), x, {2}),
                           make_float({8}, {10, 20, 20, 30, 30, 40, 40, 40})));
  // half_pixel: x_ori = -0.25, 0.25, 0.75, ...
  EXPECT_TRUE(tensors_near(resize_scales(resize_node("nearest"), x, {2}),
                           make_float({8}, {10, 10, 20, 20, 30, 30, 40, 40})));
  // align_corners to 7: x_ori = o * 3 / 6 = 0, 0.5, 1, ...; 0.5 rounds down by default.
  EXPECT_TRUE(tensors_near(resize_sizes(resize_node("nearest", "align_corners"), x, {7}),
                           make_float({7}, {10, 10, 20, 20, 30, 30, 40})));
}

TEST(Resize, NearestMovesIntegerTypes) {
  const Tensor x = make_int64({1, 2}, {-5, 7000000000});
  const Tensor y = resize_sizes(resize_node("nearest"), x, {2, 4});
  ASSERT_EQ(y.dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{-5, -5, 7000000000, 7000000000, -5, -5, 7000000000, 7000000000}));
}

// ---- linear -------------------------------------------------------------------------------------------

TEST(Resize, BilinearHalfPixelUpsample) {
  const Tensor x = make_float({1, 1, 2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(tensors_near(resize_scales(resize_node("linear"), x, {1, 1, 2, 2}),
                           make_float({1, 1, 4, 4}, {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f,
                                                     3.25f, 3.5f, 3, 3.25f, 3.75f, 4})));
}

TEST(Resize, BilinearAlignCorners) {
  // Sizes: corners map onto corners exactly.
  EXPECT_TRUE(tensors_near(resize_sizes(resize_node("linear", "align_corners"), ramp4x4(), {1, 1, 3, 5}),
                           make_float({1, 1, 3, 5}, {1, 1.75f, 2.5f, 3.25f, 4, 7, 7.75f, 8.5f, 9.25f, 10, 13,
                                                     13.75f, 14.5f, 15.25f, 16})));
  // Scales 0.6 on 2x4: ONNX uses the unrounded output length 4 * 0.6 = 2.4 in the formula, so
  // the second column samples x = 1 * 3 / 1.4 = 2.142857 (not 3, which the rounded length gives).
  const Tensor wide = make_float({1, 1, 2, 4}, iota(8, 1));
  EXPECT_TRUE(tensors_near(resize_scales(resize_node("linear", "align_corners"), wide, {1, 1, 0.6f, 0.6f}),
                           make_float({1, 1, 1, 2}, {1, 3.142857f})));
}

TEST(Resize, PytorchHalfPixelMapsASingleOutputToZero) {
  // One output column: pytorch_half_pixel samples x = 0; half_pixel samples (0.5 / 0.25) - 0.5 = 1.5.
  const Tensor x = make_float({1, 4}, {1, 2, 3, 4});
  EXPECT_TRUE(tensors_near(resize_sizes(resize_node("linear", "pytorch_half_pixel"), x, {1, 1}), make_float({1, 1}, {1})));
  EXPECT_TRUE(tensors_near(resize_sizes(resize_node("linear"), x, {1, 1}), make_float({1, 1}, {2.5f})));
}

TEST(Resize, TrilinearEqualsThreeSeparableOneDimensionalPasses) {
  // Linear interpolation is a tensor product, so resizing D, H and W at once must equal resizing
  // them one after the other.
  const Tensor x = random_float({1, 2, 3, 4, 5}, 1);
  const ir::Node node = resize_node("linear", "align_corners");
  const Tensor all = resize_sizes(node, x, {1, 2, 5, 3, 8});
  Tensor step = resize_sizes(node, x, {1, 2, 5, 4, 5});
  step = resize_sizes(node, step, {1, 2, 5, 3, 5});
  step = resize_sizes(node, step, {1, 2, 5, 3, 8});
  EXPECT_TRUE(tensors_near(all, step, 1e-5, 1e-5));
}

// ---- cubic --------------------------------------------------------------------------------------------

TEST(Resize, BicubicHalfPixelUpsample) {
  const Tensor y = resize_scales(resize_node("cubic"), ramp4x4(), {1, 1, 2, 2});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 8, 8}));
  // First two rows and the last row of ONNX's reference output (A = -0.75, edges replicated).
  const std::vector<float> expected_rows[] = {
      {0.4726562f, 0.7695312f, 1.246094f, 1.875f, 2.28125f, 2.910156f, 3.386719f, 3.683594f},
      {1.660156f, 1.957031f, 2.433594f, 3.0625f, 3.46875f, 4.097656f, 4.574219f, 4.871094f},
      {13.31641f, 13.61328f, 14.08984f, 14.71875f, 15.125f, 15.75391f, 16.23047f, 16.52734f}};
  const int rows[] = {0, 1, 7};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 8; ++c)
      EXPECT_NEAR(y.data<float>()[rows[r] * 8 + c], expected_rows[r][size_t(c)], 1e-5) << rows[r] << "," << c;
}

TEST(Resize, BicubicExcludeOutsideRenormalisesTheWeights) {
  ir::Node node = resize_node("cubic");
  node.attrs.set("cubic_coeff_a", -0.5f);
  EXPECT_TRUE(tensors_near(resize_scales(node, ramp4x4(), {1, 1, 0.8f, 0.8f}),
                           make_float({1, 1, 3, 3}, {1.385742f, 2.683594f, 4.006836f, 6.577148f, 7.875f, 9.198242f,
                                                     11.87012f, 13.16797f, 14.49121f}),
                           1e-5, 1e-5));
  node.attrs.set("exclude_outside", int64_t(1));
  EXPECT_TRUE(tensors_near(resize_scales(node, ramp4x4(), {1, 1, 0.8f, 0.8f}),
                           make_float({1, 1, 3, 3}, {1.368127f, 2.669501f, 4.013337f, 6.573625f, 7.875f, 9.218835f,
                                                     11.94897f, 13.25034f, 14.59418f}),
                           1e-5, 1e-5));
}

// ---- tf_crop_and_resize -------------------------------------------------------------------------------

TEST(Resize, CropAndResizeExtrapolatesOutsideTheInput) {
  // roi H [0.4, 1.2], W [0.6, 1.7]: only the first row's first column and the second row's first
  // column stay inside; everything else is the extrapolation value 10.
  ir::Node node = resize_node("linear", "tf_crop_and_resize");
  node.attrs.set("extrapolation_value", 10.f);
  const Tensor roi = make_float({8}, {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f});
  const Tensor sizes = make_int64({4}, {1, 1, 3, 3});
  const Tensor x = ramp4x4();
  EXPECT_TRUE(tensors_near(run_one(node, {&x, &roi, nullptr, &sizes}),
                           make_float({1, 1, 3, 3}, {7.6f, 10, 10, 12.4f, 10, 10, 10, 10, 10}), 1e-5, 1e-5));
  EXPECT_THROW(run_one(node, {&x, nullptr, nullptr, &sizes}), Error);  // roi is required here
}

// ---- opsets and errors -----------------------------------------------------------------------------------

TEST(Resize, Opset11TakesEmptyScalesWithSizes) {
  const Tensor x = make_float({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor roi(DataType::kFLOAT, {0});
  const Tensor empty_scales(DataType::kFLOAT, {0});
  const Tensor sizes = make_int64({4}, {1, 1, 4, 4});
  const Tensor y = run_one(resize_node("linear", "half_pixel", 11), {&x, &roi, &empty_scales, &sizes});
  EXPECT_TRUE(tensors_near(y, make_float({1, 1, 4, 4}, {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f,
                                                        3.25f, 3.5f, 3, 3.25f, 3.75f, 4})));
}

TEST(Resize, RejectsBadInputsAndAttributes) {
  const Tensor x = make_float({1, 1, 2, 2}, {1, 2, 3, 4});
  const Tensor scales = make_float({4}, {1, 1, 2, 2});
  const Tensor sizes = make_int64({4}, {1, 1, 4, 4});
  const ir::Node node = resize_node("linear");
  EXPECT_THROW(run_one(node, {&x, nullptr, &scales, &sizes}), Error);   // both
  EXPECT_THROW(run_one(node, {&x, nullptr, nullptr, nullptr}), Error);  // neither
  const Tensor short_scales = make_float({2}, {2, 2});
  EXPECT_THROW(run_one(node, {&x, nullptr, &short_scales, nullptr}), Error);
  const Tensor zero_scale = make_float({4}, {1, 1, 0, 2});
  EXPECT_THROW(run_one(node, {&x, nullptr, &zero_scale, nullptr}), Error);
  EXPECT_THROW(run_one(resize_node("linear", "half_pixel", 10), {&x, nullptr, &scales, nullptr}), Error);
  EXPECT_THROW(resize_scales(resize_node("bilinear"), x, {1, 1, 2, 2}), Error);
  EXPECT_THROW(resize_scales(resize_node("linear", "half_pixel_symmetric"), x, {1, 1, 2, 2}), Error);
  ir::Node bad_nearest = resize_node("nearest");
  bad_nearest.attrs.set("nearest_mode", std::string("round"));
  EXPECT_THROW(resize_scales(bad_nearest, x, {1, 1, 2, 2}), Error);
  const Tensor ints = make_int64({1, 2}, {1, 2});
  EXPECT_THROW(resize_sizes(resize_node("linear"), ints, {1, 4}), Error);  // linear needs float
}

TEST(Resize, ScalesMustBeKnownAtBuildTime) {
  ir::Graph graph;
  for (const Shape& shape : {Shape{1, 1, 2, 2}, Shape{0}, Shape{4}}) {
    ir::Value v;
    v.name = "in" + std::to_string(graph.values.size());
    v.shape = shape;
    v.shape_known = true;  // shapes known, data not
    graph.add_value(v);
  }
  ir::Value out;
  out.name = "y";
  graph.add_value(out);
  ir::Node node = make_node("Resize", 3);
  EXPECT_THROW(ir::infer_node(graph, node), Error);
}

// ---- opset 18-21 attributes --------------------------------------------------------------------------

TEST(Resize, HalfPixelSymmetricFromOpset19) {
  // in 4, scale 0.6: output floor(2.4) = 2; offset = 4/2 * (1 - 2/2.4) = 1/3, so
  // x_ori = 1/3 + (o + 0.5) / 0.6 - 0.5 = 2/3, 7/3 (half_pixel alone gives 1/3, 2).
  const Tensor x = make_float({4}, {1, 2, 3, 4});
  for (int opset : {19, 20, 21})
    EXPECT_TRUE(tensors_near(resize_scales(resize_node("linear", "half_pixel_symmetric", opset), x, {0.6f}),
                             make_float({2}, {5.f / 3, 10.f / 3})))
        << opset;
  EXPECT_TRUE(tensors_near(resize_scales(resize_node("linear", "half_pixel", 19), x, {0.6f}),
                           make_float({2}, {4.f / 3, 3.f})));
  // When the size is exact the two modes agree.
  EXPECT_TRUE(tensors_near(resize_scales(resize_node("linear", "half_pixel_symmetric", 19), x, {0.5f}),
                           make_float({2}, {1.5f, 3.5f})));
  const Tensor scales = make_float({1}, {0.6f});
  expect_error_mentioning(resize_node("linear", "half_pixel_symmetric", 18), {&x, nullptr, &scales, nullptr},
                          "'half_pixel_symmetric' exists only from opset 19 (opset 18)");
}

TEST(Resize, RefusesOpset18AttributesItDoesNotImplement) {
  const Tensor x = ramp4x4();
  const Tensor scales = make_float({4}, {1, 1, 0.5f, 0.5f});
  ir::Node antialias = resize_node("linear", "half_pixel", 18);
  antialias.attrs.set("antialias", int64_t{1});
  expect_error_mentioning(antialias, {&x, nullptr, &scales, nullptr}, "attribute 'antialias' = 1 is not supported");
  ir::Node policy = resize_node("linear", "half_pixel", 18);
  policy.attrs.set("keep_aspect_ratio_policy", std::string("not_larger"));
  const Tensor sizes = make_int64({4}, {1, 1, 2, 3});
  expect_error_mentioning(policy, {&x, nullptr, nullptr, &sizes},
                          "'keep_aspect_ratio_policy' = 'not_larger' is not supported");
  ir::Node axes = resize_node("nearest", "asymmetric", 18);
  axes.attrs.set("axes", std::vector<int64_t>{2, 3});
  const Tensor two_scales = make_float({2}, {0.5f, 0.5f});
  expect_error_mentioning(axes, {&x, nullptr, &two_scales, nullptr}, "attribute 'axes' [2, 3] is not supported");
  // The defaults, spelled out, change nothing.
  ir::Node defaults = resize_node("nearest", "asymmetric", 18);
  defaults.attrs.set("antialias", int64_t{0});
  defaults.attrs.set("keep_aspect_ratio_policy", std::string("stretch"));
  EXPECT_TRUE(tensors_near(resize_scales(defaults, x, {1, 1, 0.5f, 0.5f}), make_float({1, 1, 2, 2}, {1, 3, 9, 11})));
}

}  // namespace
}  // namespace kestrel::testing
