// Tests of Shape, Size, Reshape, Flatten, Squeeze and Unsqueeze: shapes are checked against the
// ONNX spec's examples and hand-derived values; data must come through unchanged in row-major order.
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

// 0, 1, 2, ... as float, in the given shape.
Tensor iota_float(Shape shape) {
  std::vector<float> values(size_t(shape_numel(shape)));
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i);
  return make_float(std::move(shape), values);
}

// ---- Shape, Size ----------------------------------------------------------------------------------

TEST(TensorShapeOps, ShapeWholeAndSlicedAtOpset15) {
  const Tensor x(DataType::kFLOAT, {2, 3, 4});
  EXPECT_EQ(to_ints(run_one(make_node("Shape", 1), {&x})), (std::vector<int64_t>{2, 3, 4}));

  struct Case {
    std::optional<int64_t> start, end;
    std::vector<int64_t> expected;
  };
  const std::vector<Case> cases = {
      {-1, std::nullopt, {4}}, {std::nullopt, -1, {2, 3}}, {1, 2, {3}},  {-10, std::nullopt, {2, 3, 4}},
      {1, 10, {3, 4}},         {2, 1, {}},                 {3, 3, {}},   {-2, -1, {3}},
  };
  for (const Case& c : cases) {
    ir::Node node = make_node("Shape", 1, 1, 15);
    if (c.start) node.attrs.set("start", *c.start);
    if (c.end) node.attrs.set("end", *c.end);
    const Tensor out = run_one(node, {&x});
    EXPECT_EQ(out.dtype(), DataType::kINT64);
    EXPECT_EQ(out.shape(), (Shape{int64_t(c.expected.size())}));
    EXPECT_EQ(to_ints(out), c.expected) << "start " << c.start.value_or(0) << " end " << c.end.value_or(99);
  }
}

TEST(TensorShapeOps, ShapeIgnoresStartEndBeforeOpset15) {
  ir::Node node = make_node("Shape", 1, 1, 13);
  node.attrs.set("start", int64_t{1});
  const Tensor x(DataType::kINT32, {5, 6});
  EXPECT_EQ(to_ints(run_one(node, {&x})), (std::vector<int64_t>{5, 6}));
}

TEST(TensorShapeOps, ShapeOfScalarIsEmpty) {
  const Tensor x(DataType::kFLOAT, {});
  const Tensor out = run_one(make_node("Shape", 1), {&x});
  EXPECT_EQ(out.shape(), (Shape{0}));
}

TEST(TensorShapeOps, SizeCountsElements) {
  const Tensor x(DataType::kBOOL, {3, 4, 5});
  const Tensor out = run_one(make_node("Size", 1), {&x});
  EXPECT_EQ(out.dtype(), DataType::kINT64);
  EXPECT_EQ(out.shape(), Shape{});
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{60}));
  const Tensor empty(DataType::kFLOAT, {3, 0});
  EXPECT_EQ(to_ints(run_one(make_node("Size", 1), {&empty})), (std::vector<int64_t>{0}));
}

// ---- Reshape --------------------------------------------------------------------------------------

Shape reshaped_shape(const Shape& in, std::vector<int64_t> target, int opset = 17, int64_t allowzero = 0) {
  ir::Node node = make_node("Reshape", 2, 1, opset);
  if (allowzero) node.attrs.set("allowzero", allowzero);
  const Tensor x(DataType::kFLOAT, in);
  const Tensor shape = make_int64({int64_t(target.size())}, target);
  return run_one(node, {&x, &shape}).shape();
}

TEST(TensorShapeOps, ReshapeKeepsRowMajorData) {
  const Tensor x = iota_float({2, 3, 4});
  const Tensor shape = make_int64({2}, {4, 6});
  const Tensor out = run_one(make_node("Reshape", 2), {&x, &shape});
  EXPECT_EQ(out.shape(), (Shape{4, 6}));
  EXPECT_EQ(to_floats(out), to_floats(x));
}

TEST(TensorShapeOps, ReshapeSpecialDimensions) {
  EXPECT_EQ(reshaped_shape({2, 3, 4}, {4, 2, 3}), (Shape{4, 2, 3}));
  EXPECT_EQ(reshaped_shape({2, 3, 4}, {-1}), (Shape{24}));
  EXPECT_EQ(reshaped_shape({2, 3, 4}, {2, -1, 2}), (Shape{2, 6, 2}));
  EXPECT_EQ(reshaped_shape({2, 3, 4}, {0, 4, -1}), (Shape{2, 4, 3}));  // 0 copies the input dim
  EXPECT_EQ(reshaped_shape({2, 3, 4}, {2, 0, 4}), (Shape{2, 3, 4}));
  EXPECT_EQ(reshaped_shape({2, 3, 4}, {1, 1, 2, 12}), (Shape{1, 1, 2, 12}));
  EXPECT_EQ(reshaped_shape({1}, {}), Shape{});  // to a scalar
}

TEST(TensorShapeOps, ReshapeAllowZero) {
  // allowzero=1 (opset 14): 0 is a real zero-size dimension.
  EXPECT_EQ(reshaped_shape({0, 3, 4}, {3, 4, 0}, 14, 1), (Shape{3, 4, 0}));
  // Without allowzero the same request copies input dims: [3,4,4] does not hold 0 elements.
  EXPECT_THROW(reshaped_shape({0, 3, 4}, {3, 4, 0}, 14, 0), Error);
  // allowzero is not known before opset 14: 0 copies.
  EXPECT_EQ(reshaped_shape({2, 3}, {0, 3}, 13, 1), (Shape{2, 3}));
  // 0 and -1 together are ambiguous with allowzero.
  EXPECT_THROW(reshaped_shape({0, 3}, {0, -1}, 14, 1), Error);
}

TEST(TensorShapeOps, ReshapeErrors) {
  EXPECT_THROW(reshaped_shape({2, 3}, {4, 2}), Error);       // element count
  EXPECT_THROW(reshaped_shape({2, 3}, {-1, -1}), Error);     // two -1
  EXPECT_THROW(reshaped_shape({2, 3}, {-1, 4}), Error);      // not divisible
  EXPECT_THROW(reshaped_shape({2, 3}, {-2, 3}), Error);      // invalid dim
  EXPECT_THROW(reshaped_shape({6}, {2, 0}), Error);          // 0 beyond the input rank
  // The shape must be a constant.
  ir::Graph graph;
  ir::Value x{"x", DataType::kFLOAT, {2, 3}, true, std::nullopt};
  ir::Value s{"s", DataType::kINT64, {1}, true, std::nullopt};
  ir::Node node = make_node("Reshape", 2);
  node.inputs = {graph.add_value(x), graph.add_value(s)};
  node.outputs = {graph.add_value(ir::Value{"y"})};
  EXPECT_THROW(ir::infer_node(graph, node), Error);
}

TEST(TensorShapeOps, ReshapeMovesAnyDtype) {
  const Tensor x = make_bool({2, 2}, {true, false, false, true});
  const Tensor shape = make_int64({1}, {4});
  const Tensor out = run_one(make_node("Reshape", 2), {&x, &shape});
  EXPECT_EQ(out.dtype(), DataType::kBOOL);
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{1, 0, 0, 1}));
}

// ---- Flatten --------------------------------------------------------------------------------------

TEST(TensorShapeOps, FlattenAxes) {
  const Tensor x = iota_float({2, 3, 4, 5});
  const std::vector<std::pair<int64_t, Shape>> cases = {
      {0, {1, 120}}, {1, {2, 60}}, {2, {6, 20}}, {3, {24, 5}}, {4, {120, 1}},
      {-1, {24, 5}}, {-2, {6, 20}}, {-3, {2, 60}}, {-4, {1, 120}},
  };
  for (const auto& [axis, expected] : cases) {
    ir::Node node = make_node("Flatten", 1);
    node.attrs.set("axis", axis);
    const Tensor out = run_one(node, {&x});
    EXPECT_EQ(out.shape(), expected) << "axis " << axis;
    EXPECT_EQ(to_floats(out), to_floats(x));
  }
  EXPECT_EQ(run_one(make_node("Flatten", 1), {&x}).shape(), (Shape{2, 60}));  // default axis 1
  for (int64_t axis : {5, -5}) {
    ir::Node node = make_node("Flatten", 1);
    node.attrs.set("axis", axis);
    EXPECT_THROW(run_one(node, {&x}), Error) << "axis " << axis;
  }
}

// ---- Squeeze, Unsqueeze ---------------------------------------------------------------------------

TEST(TensorShapeOps, SqueezeAxesInputFromOpset13) {
  const Tensor x = iota_float({1, 3, 1, 5});
  const Tensor axes = make_int64({1}, {-2});
  const Tensor out = run_one(make_node("Squeeze", 2, 1, 13), {&x, &axes});
  EXPECT_EQ(out.shape(), (Shape{1, 3, 5}));
  EXPECT_EQ(to_floats(out), to_floats(x));
  // No axes: every 1 goes.
  EXPECT_EQ(run_one(make_node("Squeeze", 1, 1, 13), {&x}).shape(), (Shape{3, 5}));
  EXPECT_EQ(run_one(make_node("Squeeze", 2, 1, 13), {&x, nullptr}).shape(), (Shape{3, 5}));
  const Tensor int32_axes = make_int32({2}, {2, 0});
  EXPECT_EQ(run_one(make_node("Squeeze", 2, 1, 13), {&x, &int32_axes}).shape(), (Shape{3, 5}));
}

TEST(TensorShapeOps, SqueezeAxesAttributeBeforeOpset13) {
  const Tensor x(DataType::kINT64, {1, 3, 1});
  ir::Node node = make_node("Squeeze", 1, 1, 11);
  node.attrs.set("axes", std::vector<int64_t>{0});
  EXPECT_EQ(run_one(node, {&x}).shape(), (Shape{3, 1}));
  EXPECT_EQ(run_one(make_node("Squeeze", 1, 1, 11), {&x}).shape(), (Shape{3}));
}

TEST(TensorShapeOps, SqueezeErrors) {
  const Tensor x(DataType::kFLOAT, {1, 3, 1});
  for (const std::vector<int64_t>& bad : {std::vector<int64_t>{1}, {3}, {-4}, {0, 0}, {0, -3}}) {
    const Tensor axes = make_int64({int64_t(bad.size())}, bad);
    EXPECT_THROW(run_one(make_node("Squeeze", 2, 1, 13), {&x, &axes}), Error) << fmt::format("{}", bad);
  }
}

TEST(TensorShapeOps, UnsqueezeAxesIndexTheOutput) {
  const Tensor x = iota_float({3, 4, 5});
  struct Case {
    std::vector<int64_t> axes;
    Shape expected;
  };
  const std::vector<Case> cases = {
      {{0}, {1, 3, 4, 5}},     {{1}, {3, 1, 4, 5}},          {{3}, {3, 4, 5, 1}},
      {{-1}, {3, 4, 5, 1}},    {{-4}, {1, 3, 4, 5}},         {{0, 4}, {1, 3, 4, 5, 1}},
      {{2, 0}, {1, 3, 1, 4, 5}}, {{5, 4, 2}, {3, 4, 1, 5, 1, 1}}, {{1, -2}, {3, 1, 4, 1, 5}},
  };
  for (const Case& c : cases) {
    const Tensor axes = make_int64({int64_t(c.axes.size())}, c.axes);
    const Tensor out = run_one(make_node("Unsqueeze", 2, 1, 13), {&x, &axes});
    EXPECT_EQ(out.shape(), c.expected) << fmt::format("axes {}", c.axes);
    EXPECT_EQ(to_floats(out), to_floats(x));
  }
}

TEST(TensorShapeOps, UnsqueezeOpsetDifferencesAndErrors) {
  const Tensor x(DataType::kFLOAT, {2});
  ir::Node old_node = make_node("Unsqueeze", 1, 1, 11);
  old_node.attrs.set("axes", std::vector<int64_t>{0, 2});
  EXPECT_EQ(run_one(old_node, {&x}).shape(), (Shape{1, 2, 1}));
  EXPECT_THROW(run_one(make_node("Unsqueeze", 1, 1, 11), {&x}), Error);  // axes required
  EXPECT_THROW(run_one(make_node("Unsqueeze", 1, 1, 13), {&x}), Error);
  for (const std::vector<int64_t>& bad : {std::vector<int64_t>{2}, {-3}, {0, 0}, {2, -1}}) {
    const Tensor axes = make_int64({int64_t(bad.size())}, bad);
    EXPECT_THROW(run_one(make_node("Unsqueeze", 2, 1, 13), {&x, &axes}), Error) << fmt::format("{}", bad);
  }
}

TEST(TensorShapeOps, UnsqueezeScalar) {
  const Tensor x = make_int64({}, {7});
  const Tensor axes = make_int64({1}, {0});
  const Tensor out = run_one(make_node("Unsqueeze", 2, 1, 13), {&x, &axes});
  EXPECT_EQ(out.shape(), (Shape{1}));
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{7}));
}

}  // namespace
}  // namespace kestrel::testing
