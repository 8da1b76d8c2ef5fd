// Tests of the indexing ops. Expected values are the ONNX spec's examples or worked out by hand;
// out-of-range indices must raise an Error rather than read or write out of bounds.
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

ir::Node node_with_axis(const std::string& op, int inputs, int64_t axis, int opset = 17) {
  ir::Node node = make_node(op, inputs, 1, opset);
  node.attrs.set("axis", axis);
  return node;
}

// ---- Gather ---------------------------------------------------------------------------------------

TEST(TensorGather, GatherSpecExamples) {
  const Tensor data = make_float({3, 2}, {1.f, 1.2f, 2.3f, 3.4f, 4.5f, 5.7f});
  const Tensor indices = make_int64({2, 2}, {0, 1, 1, 2});
  EXPECT_TRUE(tensors_near(run_one(node_with_axis("Gather", 2, 0), {&data, &indices}),
                           make_float({2, 2, 2}, {1.f, 1.2f, 2.3f, 3.4f, 2.3f, 3.4f, 4.5f, 5.7f})));

  const Tensor data3 = make_float({3, 3}, {1.f, 1.2f, 1.9f, 2.3f, 3.4f, 3.9f, 4.5f, 5.7f, 5.9f});
  const Tensor cols = make_int64({1, 2}, {0, 2});
  EXPECT_TRUE(tensors_near(run_one(node_with_axis("Gather", 2, 1), {&data3, &cols}),
                           make_float({3, 1, 2}, {1.f, 1.9f, 2.3f, 3.9f, 4.5f, 5.9f})));
  // Default axis 0, negative axis.
  EXPECT_TRUE(tensors_near(run_one(make_node("Gather", 2), {&data, &indices}),
                           run_one(node_with_axis("Gather", 2, -2), {&data, &indices})));
}

TEST(TensorGather, GatherNegativeScalarAndInt32Indices) {
  const Tensor data = make_int64({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  const Tensor scalar = make_int64({}, {-2});
  const Tensor column = run_one(node_with_axis("Gather", 2, 1), {&data, &scalar});
  EXPECT_EQ(column.shape(), (Shape{3}));
  EXPECT_EQ(to_ints(column), (std::vector<int64_t>{2, 6, 10}));
  const Tensor rows = make_int32({3}, {-1, 0, -3});
  const Tensor picked = run_one(make_node("Gather", 2), {&data, &rows});
  EXPECT_EQ(picked.dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(picked), (std::vector<int64_t>{8, 9, 10, 11, 0, 1, 2, 3, 0, 1, 2, 3}));
}

TEST(TensorGather, GatherRejectsOutOfRangeAndBadIndexTypes) {
  const Tensor data(DataType::kFLOAT, {3, 2});
  const Tensor too_big = make_int64({2}, {0, 3});
  expect_error_mentioning(make_node("Gather", 2), {&data, &too_big}, "index 3");
  const Tensor too_small = make_int32({1}, {-4});
  expect_error_mentioning(make_node("Gather", 2), {&data, &too_small}, "index -4");
  const Tensor float_indices = make_float({1}, {0});
  EXPECT_THROW(run_one(make_node("Gather", 2), {&data, &float_indices}), Error);
  const Tensor ok = make_int64({1}, {0});
  EXPECT_THROW(run_one(node_with_axis("Gather", 2, 2), {&data, &ok}), Error);
}

// ---- GatherElements -------------------------------------------------------------------------------

TEST(TensorGather, GatherElementsSpecExamples) {
  const Tensor data = make_float({2, 2}, {1, 2, 3, 4});
  const Tensor indices = make_int64({2, 2}, {0, 0, 1, 0});
  EXPECT_TRUE(tensors_near(run_one(node_with_axis("GatherElements", 2, 1), {&data, &indices}),
                           make_float({2, 2}, {1, 1, 4, 3})));

  const Tensor data3 = make_float({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const Tensor rows = make_int32({2, 3}, {1, 2, 0, 2, 0, 0});
  EXPECT_TRUE(tensors_near(run_one(node_with_axis("GatherElements", 2, 0), {&data3, &rows}),
                           make_float({2, 3}, {4, 8, 3, 7, 2, 3})));
  const Tensor negative = make_int64({2, 3}, {-1, -2, 0, -2, 0, 0});
  EXPECT_TRUE(tensors_near(run_one(node_with_axis("GatherElements", 2, -2), {&data3, &negative}),
                           make_float({2, 3}, {7, 5, 3, 4, 2, 3})));
}

TEST(TensorGather, GatherElementsErrors) {
  const Tensor data(DataType::kFLOAT, {2, 2});
  const Tensor out_of_range = make_int64({1, 2}, {0, 2});
  expect_error_mentioning(node_with_axis("GatherElements", 2, 1), {&data, &out_of_range}, "index 2");
  const Tensor too_wide = make_int64({1, 3}, {0, 0, 0});  // 3 > 2 along the non-indexed axis 1
  EXPECT_THROW(run_one(node_with_axis("GatherElements", 2, 0), {&data, &too_wide}), Error);
  const Tensor wrong_rank = make_int64({2}, {0, 0});
  EXPECT_THROW(run_one(node_with_axis("GatherElements", 2, 0), {&data, &wrong_rank}), Error);
}

// ---- GatherND -------------------------------------------------------------------------------------

Tensor gather_nd(const Tensor& data, const Tensor& indices, int64_t batch_dims = 0) {
  ir::Node node = make_node("GatherND", 2);
  node.attrs.set("batch_dims", batch_dims);
  return run_one(node, {&data, &indices});
}

TEST(TensorGather, GatherNDSpecExamples) {
  const Tensor d2 = make_int32({2, 2}, {0, 1, 2, 3});
  EXPECT_EQ(to_ints(gather_nd(d2, make_int64({2, 2}, {0, 0, 1, 1}))), (std::vector<int64_t>{0, 3}));
  const Tensor rows = gather_nd(d2, make_int64({2, 1}, {1, 0}));
  EXPECT_EQ(rows.shape(), (Shape{2, 2}));
  EXPECT_EQ(to_ints(rows), (std::vector<int64_t>{2, 3, 0, 1}));

  const Tensor d3 = make_float({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_TRUE(tensors_near(gather_nd(d3, make_int64({2, 2}, {0, 1, 1, 0})), make_float({2, 2}, {2, 3, 4, 5})));
  EXPECT_TRUE(tensors_near(gather_nd(d3, make_int64({2, 1, 2}, {0, 1, 1, 0})),
                           make_float({2, 1, 2}, {2, 3, 4, 5})));
  // batch_dims = 1: each batch entry indexes its own slice of data.
  EXPECT_TRUE(tensors_near(gather_nd(d3, make_int64({2, 1}, {1, 0}), 1), make_float({2, 2}, {2, 3, 4, 5})));
  // Full-rank tuples with batch_dims = 1 and negative, int32 indices.
  EXPECT_TRUE(tensors_near(gather_nd(d3, make_int32({2, 2, 2}, {0, 0, -1, -1, 0, 1, 1, 0}), 1),
                           make_float({2, 2}, {0, 3, 5, 6})));
}

TEST(TensorGather, GatherNDErrors) {
  const Tensor d2(DataType::kFLOAT, {2, 3});
  const Tensor out_of_range = make_int64({1, 2}, {1, 3});
  expect_error_mentioning(make_node("GatherND", 2), {&d2, &out_of_range}, "index 3");
  const Tensor k_too_big = make_int64({1, 3}, {0, 0, 0});
  EXPECT_THROW(gather_nd(d2, k_too_big), Error);
  const Tensor batch_mismatch = make_int64({3, 1}, {0, 0, 0});
  EXPECT_THROW(gather_nd(d2, batch_mismatch, 1), Error);
  const Tensor ok = make_int64({2, 1}, {0, 0});
  EXPECT_THROW(gather_nd(d2, ok, 2), Error);  // batch_dims must be below both ranks
}

// ---- ScatterElements, ScatterND ------------------------------------------------------------------

TEST(TensorGather, ScatterElementsSpecExamples) {
  const Tensor data(DataType::kFLOAT, {3, 3});
  const Tensor indices = make_int64({2, 3}, {1, 0, 2, 0, 2, 1});
  const Tensor updates = make_float({2, 3}, {1.f, 1.1f, 1.2f, 2.f, 2.1f, 2.2f});
  EXPECT_TRUE(tensors_near(run_one(make_node("ScatterElements", 3), {&data, &indices, &updates}),
                           make_float({3, 3}, {2.f, 1.1f, 0.f, 1.f, 0.f, 2.2f, 0.f, 2.1f, 1.2f})));

  const Tensor row = make_float({1, 5}, {1, 2, 3, 4, 5});
  const Tensor pair = make_float({1, 2}, {1.1f, 2.1f});
  const Tensor cols = make_int64({1, 2}, {1, 3});
  EXPECT_TRUE(tensors_near(run_one(node_with_axis("ScatterElements", 3, 1), {&row, &cols, &pair}),
                           make_float({1, 5}, {1.f, 1.1f, 3.f, 2.1f, 5.f})));
  const Tensor negative = make_int32({1, 2}, {1, -3});
  EXPECT_TRUE(tensors_near(run_one(node_with_axis("ScatterElements", 3, -1), {&row, &negative, &pair}),
                           make_float({1, 5}, {1.f, 1.1f, 2.1f, 4.f, 5.f})));
}

TEST(TensorGather, ScatterElementsReductions) {
  const Tensor row = make_int64({1, 4}, {1, 2, 3, 4});
  const Tensor twice = make_int64({1, 2}, {1, 1});
  const Tensor updates = make_int64({1, 2}, {5, 10});
  const std::vector<std::pair<std::string, std::vector<int64_t>>> cases = {
      {"none", {1, 10, 3, 4}}, {"add", {1, 17, 3, 4}}, {"mul", {1, 100, 3, 4}},
      {"max", {1, 10, 3, 4}},  {"min", {1, 2, 3, 4}},
  };
  for (const auto& [reduction, expected] : cases) {
    ir::Node node = node_with_axis("ScatterElements", 3, 1, 18);
    node.attrs.set("reduction", reduction);
    EXPECT_EQ(to_ints(run_one(node, {&row, &twice, &updates})), expected) << reduction;
  }
  ir::Node bad = node_with_axis("ScatterElements", 3, 1, 18);
  bad.attrs.set("reduction", std::string("avg"));
  EXPECT_THROW(run_one(bad, {&row, &twice, &updates}), Error);
  // max and min arrived with opset 18.
  for (const char* op : {"ScatterElements", "ScatterND"}) {
    ir::Node before_18 = make_node(op, 3, 1, 17);
    before_18.attrs.set("reduction", std::string("max"));
    const Tensor nd_index = make_int64({1, 2}, {0, 1});
    const Tensor nd_update = make_int64({1}, {5});
    if (std::string(op) == "ScatterND")
      expect_error_mentioning(before_18, {&row, &nd_index, &nd_update}, "'max' exists only from opset 18 (opset 17)");
    else
      expect_error_mentioning(before_18, {&row, &twice, &updates}, "'max' exists only from opset 18 (opset 17)");
  }
}

TEST(TensorGather, ScatterElementsErrors) {
  const Tensor data(DataType::kFLOAT, {2, 2});
  const Tensor updates = make_float({1, 2}, {1, 2});
  const Tensor out_of_range = make_int64({1, 2}, {0, -3});
  expect_error_mentioning(make_node("ScatterElements", 3), {&data, &out_of_range, &updates}, "index -3");
  const Tensor mismatched = make_int64({2, 1}, {0, 0});
  EXPECT_THROW(run_one(make_node("ScatterElements", 3), {&data, &mismatched, &updates}), Error);
}

TEST(TensorGather, ScatterNDSpecExamples) {
  const Tensor data = make_float({8}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor indices = make_int64({4, 1}, {4, 3, 1, 7});
  const Tensor updates = make_float({4}, {9, 10, 11, 12});
  EXPECT_TRUE(tensors_near(run_one(make_node("ScatterND", 3), {&data, &indices, &updates}),
                           make_float({8}, {1, 11, 3, 10, 9, 6, 7, 12})));

  // Whole slices: rows 0 and 2 of a [3, 2] tensor, with a negative index.
  const Tensor matrix = make_int64({3, 2}, {1, 2, 3, 4, 5, 6});
  const Tensor which = make_int32({2, 1}, {0, -1});
  const Tensor rows = make_int64({2, 2}, {10, 20, 30, 40});
  EXPECT_EQ(to_ints(run_one(make_node("ScatterND", 3), {&matrix, &which, &rows})),
            (std::vector<int64_t>{10, 20, 3, 4, 30, 40}));
  ir::Node add = make_node("ScatterND", 3, 1, 16);
  add.attrs.set("reduction", std::string("add"));
  const Tensor same_row = make_int64({2, 1}, {1, 1});
  EXPECT_EQ(to_ints(run_one(add, {&matrix, &same_row, &rows})), (std::vector<int64_t>{1, 2, 43, 64, 5, 6}));
}

TEST(TensorGather, ScatterNDErrors) {
  const Tensor data(DataType::kFLOAT, {4});
  const Tensor updates = make_float({1}, {1});
  const Tensor out_of_range = make_int64({1, 1}, {4});
  expect_error_mentioning(make_node("ScatterND", 3), {&data, &out_of_range, &updates}, "index 4");
  const Tensor wrong_updates = make_float({2}, {1, 2});
  const Tensor ok = make_int64({1, 1}, {0});
  EXPECT_THROW(run_one(make_node("ScatterND", 3), {&data, &ok, &wrong_updates}), Error);
}

// ---- NonZero --------------------------------------------------------------------------------------

TEST(TensorGather, NonZeroOfConstants) {
  const Tensor x = make_bool({2, 2}, {true, false, true, true});
  const Tensor out = run_one(make_node("NonZero", 1), {&x});
  EXPECT_EQ(out.dtype(), DataType::kINT64);
  EXPECT_EQ(out.shape(), (Shape{2, 3}));
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{0, 1, 1, 0, 0, 1}));
  const Tensor floats = make_float({4}, {0.f, -2.f, 0.f, 0.5f});
  EXPECT_EQ(to_ints(run_one(make_node("NonZero", 1), {&floats})), (std::vector<int64_t>{1, 3}));
  const Tensor zeros(DataType::kINT32, {2, 3});
  EXPECT_EQ(run_one(make_node("NonZero", 1), {&zeros}).shape(), (Shape{2, 0}));
}

TEST(TensorGather, NonZeroNeedsAConstantInput) {
  ir::Graph graph;
  ir::Node node = make_node("NonZero", 1);
  node.inputs = {graph.add_value(ir::Value{"x", DataType::kFLOAT, {3}, true, std::nullopt})};
  node.outputs = {graph.add_value(ir::Value{"y"})};
  EXPECT_THROW(ir::infer_node(graph, node), Error);
}

// ---- OneHot ---------------------------------------------------------------------------------------

TEST(TensorGather, OneHotAxesAndNegativeIndices) {
  const Tensor indices = make_int64({4}, {1, -1, 5, 0});  // 5 is out of [-3, 3): an all-off row
  const Tensor depth = make_int64({}, {3});
  const Tensor values = make_float({2}, {0, 5});
  EXPECT_TRUE(tensors_near(run_one(make_node("OneHot", 3), {&indices, &depth, &values}),
                           make_float({4, 3}, {0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0})));
  EXPECT_TRUE(tensors_near(run_one(node_with_axis("OneHot", 3, 0), {&indices, &depth, &values}),
                           make_float({3, 4}, {0, 0, 0, 5, 5, 0, 0, 0, 0, 5, 0, 0})));
}

TEST(TensorGather, OneHotFloatIndicesAndIntValues) {
  const Tensor indices = make_float({2, 1}, {2.f, 0.f});
  const Tensor depth = make_float({1}, {3.f});
  const Tensor values = make_int64({2}, {-1, 1});
  const Tensor out = run_one(node_with_axis("OneHot", 3, 1), {&indices, &depth, &values});
  EXPECT_EQ(out.dtype(), DataType::kINT64);
  EXPECT_EQ(out.shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{-1, -1, 1, 1, -1, -1}));
  const Tensor zero_depth = make_int64({}, {0});
  EXPECT_THROW(run_one(make_node("OneHot", 3), {&indices, &zero_depth, &values}), Error);
  const Tensor three_values = make_int64({3}, {0, 1, 2});
  EXPECT_THROW(run_one(make_node("OneHot", 3), {&indices, &depth, &three_values}), Error);
}

// ---- Trilu ----------------------------------------------------------------------------------------

TEST(TensorGather, TriluUpperAndLower) {
  const Tensor x = make_float({3, 4}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  struct Case {
    int64_t upper, k;
    std::vector<float> expected;
  };
  const std::vector<Case> cases = {
      {1, 0, {1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12}},  {1, 1, {0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12}},
      {1, -1, {1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12}}, {0, 0, {1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0}},
      {0, -1, {0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0}},  {0, 2, {1, 2, 3, 0, 5, 6, 7, 8, 9, 10, 11, 12}},
  };
  for (const Case& c : cases) {
    ir::Node node = make_node("Trilu", 2, 1, 14);
    node.attrs.set("upper", c.upper);
    const Tensor k = make_int64({}, {c.k});
    EXPECT_TRUE(tensors_near(run_one(node, {&x, &k}), make_float({3, 4}, c.expected)))
        << "upper " << c.upper << " k " << c.k;
  }
}

TEST(TensorGather, TriluBatchedWithoutK) {
  const Tensor x = make_int32({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor out = run_one(make_node("Trilu", 1, 1, 14), {&x});
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{1, 2, 0, 4, 5, 6, 0, 8}));
  const Tensor vector(DataType::kFLOAT, {4});
  EXPECT_THROW(run_one(make_node("Trilu", 1, 1, 14), {&vector}), Error);
}

}  // namespace
}  // namespace kestrel::testing
