// Tests of ConstantOfShape, Range, EyeLike and CumSum against hand-computed values (the ONNX
// spec's examples where it has them).
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

// A graph whose node reads non-constant inputs of the given dtypes and shapes, for checking that
// shape inference insists on constants.
void expect_infer_needs_constants(const std::string& op, const std::vector<std::pair<DataType, Shape>>& inputs) {
  ir::Graph graph;
  ir::Node node = make_node(op, int(inputs.size()));
  node.inputs.clear();
  for (size_t i = 0; i < inputs.size(); ++i)
    node.inputs.push_back(
        graph.add_value(ir::Value{fmt::format("in{}", i), inputs[i].first, inputs[i].second, true, std::nullopt}));
  node.outputs = {graph.add_value(ir::Value{"out"})};
  EXPECT_THROW(ir::infer_node(graph, node), Error) << op;
}

// ---- ConstantOfShape -----------------------------------------------------------------------------

TEST(TensorGenerators, ConstantOfShapeDefaultsToFloatZero) {
  const Tensor shape = make_int64({2}, {2, 3});
  const Tensor out = run_one(make_node("ConstantOfShape", 1), {&shape});
  EXPECT_TRUE(tensors_near(out, make_float({2, 3}, {0, 0, 0, 0, 0, 0})));
}

TEST(TensorGenerators, ConstantOfShapeValueAttribute) {
  const Tensor shape = make_int64({3}, {1, 2, 2});
  ir::Node node = make_node("ConstantOfShape", 1);
  node.attrs.set("value", make_int64({1}, {7}));
  const Tensor ints = run_one(node, {&shape});
  EXPECT_EQ(ints.dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(ints), (std::vector<int64_t>(4, 7)));
  node.attrs.set("value", make_float({1}, {1.5f}));
  EXPECT_TRUE(tensors_near(run_one(node, {&shape}), make_float({1, 2, 2}, {1.5f, 1.5f, 1.5f, 1.5f})));
  node.attrs.set("value", make_bool({1}, {true}));
  EXPECT_EQ(to_ints(run_one(node, {&shape})), (std::vector<int64_t>(4, 1)));
}

TEST(TensorGenerators, ConstantOfShapeEdgeShapes) {
  const Tensor scalar_shape(DataType::kINT64, {0});
  ir::Node node = make_node("ConstantOfShape", 1);
  node.attrs.set("value", make_float({1}, {2.f}));
  EXPECT_TRUE(tensors_near(run_one(node, {&scalar_shape}), make_float({}, {2.f})));
  const Tensor with_zero = make_int64({2}, {0, 4});
  EXPECT_EQ(run_one(node, {&with_zero}).shape(), (Shape{0, 4}));
  const Tensor negative = make_int64({2}, {2, -1});
  EXPECT_THROW(run_one(node, {&negative}), Error);
  node.attrs.set("value", make_float({2}, {1.f, 2.f}));
  const Tensor shape = make_int64({1}, {2});
  EXPECT_THROW(run_one(node, {&shape}), Error);  // value must hold one element
  expect_infer_needs_constants("ConstantOfShape", {{DataType::kINT64, {2}}});
}

// ---- Range ----------------------------------------------------------------------------------------

TEST(TensorGenerators, RangeSpecExamples) {
  const Tensor start = make_int64({}, {3}), limit = make_int64({}, {9}), delta = make_int64({}, {3});
  EXPECT_EQ(to_ints(run_one(make_node("Range", 3), {&start, &limit, &delta})), (std::vector<int64_t>{3, 6}));
  const Tensor s2 = make_int64({}, {10}), l2 = make_int64({}, {4}), d2 = make_int64({}, {-2});
  EXPECT_EQ(to_ints(run_one(make_node("Range", 3), {&s2, &l2, &d2})), (std::vector<int64_t>{10, 8, 6}));
  const Tensor s3 = make_int32({}, {10}), l3 = make_int32({}, {6}), d3 = make_int32({}, {-3});
  const Tensor int32_out = run_one(make_node("Range", 3), {&s3, &l3, &d3});
  EXPECT_EQ(int32_out.dtype(), DataType::kINT32);
  EXPECT_EQ(to_ints(int32_out), (std::vector<int64_t>{10, 7}));
}

TEST(TensorGenerators, RangeFloatAndEmpty) {
  const Tensor s = make_float({}, {1}), l = make_float({}, {5}), d = make_float({}, {2});
  EXPECT_TRUE(tensors_near(run_one(make_node("Range", 3), {&s, &l, &d}), make_float({2}, {1, 3})));
  const Tensor zero = make_float({}, {0}), one = make_float({}, {1}), step = make_float({}, {0.3f});
  EXPECT_TRUE(tensors_near(run_one(make_node("Range", 3), {&zero, &one, &step}),
                           make_float({4}, {0.f, 0.3f, 0.6f, 0.9f})));
  const Tensor five = make_int64({}, {5}), one_i = make_int64({}, {1});
  EXPECT_EQ(run_one(make_node("Range", 3), {&five, &one_i, &one_i}).shape(), (Shape{0}));
}

TEST(TensorGenerators, RangeErrors) {
  const Tensor one = make_int64({}, {1}), zero = make_int64({}, {0}), one_f = make_float({}, {1});
  EXPECT_THROW(run_one(make_node("Range", 3), {&zero, &one, &zero}), Error);   // delta 0
  EXPECT_THROW(run_one(make_node("Range", 3), {&zero, &one_f, &one}), Error);  // mixed dtypes
  const Tensor vector = make_int64({2}, {1, 2});
  EXPECT_THROW(run_one(make_node("Range", 3), {&zero, &vector, &one}), Error);  // not a scalar
  expect_infer_needs_constants("Range", {{DataType::kINT64, {}}, {DataType::kINT64, {}}, {DataType::kINT64, {}}});
}

// ---- EyeLike --------------------------------------------------------------------------------------

TEST(TensorGenerators, EyeLikeDiagonals) {
  const Tensor x(DataType::kFLOAT, {3, 4});
  EXPECT_TRUE(tensors_near(run_one(make_node("EyeLike", 1), {&x}),
                           make_float({3, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0})));
  ir::Node node = make_node("EyeLike", 1);
  node.attrs.set("k", int64_t{1});
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({3, 4}, {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1})));
  node.attrs.set("k", int64_t{-2});
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({3, 4}, {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0})));
  node.attrs.set("k", int64_t{4});
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), Tensor(DataType::kFLOAT, {3, 4})));
}

TEST(TensorGenerators, EyeLikeDtypes) {
  const Tensor x(DataType::kINT32, {2, 2});
  const Tensor same = run_one(make_node("EyeLike", 1), {&x});
  EXPECT_EQ(same.dtype(), DataType::kINT32);
  EXPECT_EQ(to_ints(same), (std::vector<int64_t>{1, 0, 0, 1}));
  ir::Node node = make_node("EyeLike", 1);
  node.attrs.set("dtype", int64_t{7});  // ONNX INT64
  EXPECT_EQ(run_one(node, {&x}).dtype(), DataType::kINT64);
  node.attrs.set("dtype", int64_t{9});  // ONNX BOOL
  const Tensor bools = run_one(node, {&x});
  EXPECT_EQ(bools.dtype(), DataType::kBOOL);
  EXPECT_EQ(to_ints(bools), (std::vector<int64_t>{1, 0, 0, 1}));
  node.attrs.set("dtype", int64_t{8});  // ONNX STRING
  EXPECT_THROW(run_one(node, {&x}), Error);
  const Tensor rank3(DataType::kFLOAT, {2, 2, 2});
  EXPECT_THROW(run_one(make_node("EyeLike", 1), {&rank3}), Error);
}

// ---- CumSum ---------------------------------------------------------------------------------------

Tensor cum_sum(const Tensor& x, const Tensor& axis, int64_t exclusive = 0, int64_t reverse = 0) {
  ir::Node node = make_node("CumSum", 2, 1, 14);
  node.attrs.set("exclusive", exclusive);
  node.attrs.set("reverse", reverse);
  return run_one(node, {&x, &axis});
}

TEST(TensorGenerators, CumSumFlags) {
  const Tensor x = make_float({5}, {1, 2, 3, 4, 5});
  const Tensor axis = make_int64({}, {0});
  EXPECT_TRUE(tensors_near(cum_sum(x, axis), make_float({5}, {1, 3, 6, 10, 15})));
  EXPECT_TRUE(tensors_near(cum_sum(x, axis, 1), make_float({5}, {0, 1, 3, 6, 10})));
  EXPECT_TRUE(tensors_near(cum_sum(x, axis, 0, 1), make_float({5}, {15, 14, 12, 9, 5})));
  EXPECT_TRUE(tensors_near(cum_sum(x, axis, 1, 1), make_float({5}, {14, 12, 9, 5, 0})));
}

TEST(TensorGenerators, CumSumAxesAndDtypes) {
  const Tensor x = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(tensors_near(cum_sum(x, make_int64({}, {0})), make_float({2, 3}, {1, 2, 3, 5, 7, 9})));
  EXPECT_TRUE(tensors_near(cum_sum(x, make_int32({1}, {1})), make_float({2, 3}, {1, 3, 6, 4, 9, 15})));
  EXPECT_TRUE(tensors_near(cum_sum(x, make_int64({}, {-1})), make_float({2, 3}, {1, 3, 6, 4, 9, 15})));
  const Tensor ints = make_int64({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor out = cum_sum(ints, make_int64({}, {0}), 0, 1);
  EXPECT_EQ(out.dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{5, 7, 9, 4, 5, 6}));
  const Tensor int32s = make_int32({3}, {7, -2, 1});
  EXPECT_EQ(to_ints(cum_sum(int32s, make_int64({}, {0}))), (std::vector<int64_t>{7, 5, 6}));
}

TEST(TensorGenerators, CumSumErrors) {
  const Tensor x = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(cum_sum(x, make_int64({}, {2})), Error);
  EXPECT_THROW(cum_sum(x, make_int64({}, {-3})), Error);
  EXPECT_THROW(cum_sum(x, make_float({}, {0})), Error);
  EXPECT_THROW(cum_sum(x, make_int64({2}, {0, 1})), Error);
  EXPECT_THROW(cum_sum(make_bool({2}, {true, true}), make_int64({}, {0})), Error);
}

}  // namespace
}  // namespace kestrel::testing
