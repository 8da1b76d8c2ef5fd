// Tests of the data-movement ops. Expected values come from the ONNX spec's examples, numpy
// results worked out by hand, or explicit index loops written here (independent of the kernels'
// strided-copy formulation).
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

Tensor ints64(std::vector<int64_t> values) { return make_int64({int64_t(values.size())}, values); }

Tensor iota_float(Shape shape, float first = 0.f) {
  std::vector<float> values(size_t(shape_numel(shape)));
  for (size_t i = 0; i < values.size(); ++i) values[i] = first + float(i);
  return make_float(std::move(shape), values);
}

// ---- Transpose ------------------------------------------------------------------------------------

TEST(TensorMovement, TransposeAllPermutationsOfRank3) {
  const Tensor x = iota_float({2, 3, 4});
  const int64_t dims[3] = {2, 3, 4};
  std::vector<int64_t> perm = {0, 1, 2};
  do {
    ir::Node node = make_node("Transpose", 1);
    node.attrs.set("perm", perm);
    const Tensor out = run_one(node, {&x});
    const Shape expected_shape = {dims[perm[0]], dims[perm[1]], dims[perm[2]]};
    ASSERT_EQ(out.shape(), expected_shape);
    // out[a][b][c] = x[i] where x's index along axis perm[k] is the k-th output coordinate.
    std::vector<float> expected;
    for (int64_t a = 0; a < expected_shape[0]; ++a)
      for (int64_t b = 0; b < expected_shape[1]; ++b)
        for (int64_t c = 0; c < expected_shape[2]; ++c) {
          int64_t in[3];
          in[perm[0]] = a;
          in[perm[1]] = b;
          in[perm[2]] = c;
          expected.push_back(float(in[0] * 12 + in[1] * 4 + in[2]));
        }
    EXPECT_EQ(to_floats(out), expected) << fmt::format("perm {}", perm);
  } while (std::next_permutation(perm.begin(), perm.end()));
}

TEST(TensorMovement, TransposeDefaultReversesAndMovesInt64) {
  const Tensor x = make_int64({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor out = run_one(make_node("Transpose", 1), {&x});
  EXPECT_EQ(out.shape(), (Shape{3, 2}));
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{1, 4, 2, 5, 3, 6}));
}

TEST(TensorMovement, TransposeRejectsBadPerm) {
  const Tensor x(DataType::kFLOAT, {2, 3, 4});
  for (const std::vector<int64_t>& perm : {std::vector<int64_t>{0, 1}, {0, 1, 1}, {0, 1, 3}, {-1, 0, 1}}) {
    ir::Node node = make_node("Transpose", 1);
    node.attrs.set("perm", perm);
    EXPECT_THROW(run_one(node, {&x}), Error) << fmt::format("perm {}", perm);
  }
}

// ---- Concat ---------------------------------------------------------------------------------------

TEST(TensorMovement, ConcatAlongEachAxis) {
  const Tensor a = make_float({2, 2}, {1, 2, 3, 4});
  const Tensor b = make_float({2, 2}, {5, 6, 7, 8});
  ir::Node node = make_node("Concat", 2);
  node.attrs.set("axis", int64_t{0});
  Tensor out = run_one(node, {&a, &b});
  EXPECT_TRUE(tensors_near(out, make_float({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8})));
  node.attrs.set("axis", int64_t{1});
  out = run_one(node, {&a, &b});
  EXPECT_TRUE(tensors_near(out, make_float({2, 4}, {1, 2, 5, 6, 3, 4, 7, 8})));
  node.attrs.set("axis", int64_t{-2});
  out = run_one(node, {&a, &b});
  EXPECT_TRUE(tensors_near(out, make_float({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8})));
}

TEST(TensorMovement, ConcatThreeUnevenInt32InputsWithAnEmptyOne) {
  const Tensor a = make_int32({2, 1}, {1, 2});
  const Tensor empty(DataType::kINT32, {2, 0});
  const Tensor c = make_int32({2, 3}, {3, 4, 5, 6, 7, 8});
  ir::Node node = make_node("Concat", 3);
  node.attrs.set("axis", int64_t{-1});
  const Tensor out = run_one(node, {&a, &empty, &c});
  EXPECT_EQ(out.dtype(), DataType::kINT32);
  EXPECT_EQ(out.shape(), (Shape{2, 4}));
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{1, 3, 4, 5, 2, 6, 7, 8}));
}

TEST(TensorMovement, ConcatErrors) {
  const Tensor a(DataType::kFLOAT, {2, 2});
  const Tensor wrong_dim(DataType::kFLOAT, {3, 2});
  const Tensor wrong_rank(DataType::kFLOAT, {2, 2, 1});
  const Tensor wrong_type(DataType::kINT64, {2, 2});
  ir::Node node = make_node("Concat", 2);
  node.attrs.set("axis", int64_t{1});
  EXPECT_THROW(run_one(node, {&a, &wrong_dim}), Error);
  EXPECT_THROW(run_one(node, {&a, &wrong_rank}), Error);
  EXPECT_THROW(run_one(node, {&a, &wrong_type}), Error);
  node.attrs.set("axis", int64_t{2});
  EXPECT_THROW(run_one(node, {&a, &a}), Error);
  node.attrs.erase("axis");
  EXPECT_THROW(run_one(node, {&a, &a}), Error);  // axis is required
}

// ---- Split ----------------------------------------------------------------------------------------

TEST(TensorMovement, SplitEqualPartsByDefault) {
  const Tensor x = iota_float({2, 6});
  ir::Node node = make_node("Split", 1, 3);
  node.attrs.set("axis", int64_t{1});
  const std::vector<Tensor> parts = run_reference(node, {&x});
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_TRUE(tensors_near(parts[0], make_float({2, 2}, {0, 1, 6, 7})));
  EXPECT_TRUE(tensors_near(parts[1], make_float({2, 2}, {2, 3, 8, 9})));
  EXPECT_TRUE(tensors_near(parts[2], make_float({2, 2}, {4, 5, 10, 11})));
  // Default axis 0.
  const std::vector<Tensor> rows = run_reference(make_node("Split", 1, 2), {&x});
  EXPECT_TRUE(tensors_near(rows[1], make_float({1, 6}, {6, 7, 8, 9, 10, 11})));
  EXPECT_THROW(run_reference(make_node("Split", 1, 4), {&x}), Error);  // 2 rows into 4
}

TEST(TensorMovement, SplitSizesAsInputFromOpset13) {
  const Tensor x = make_int64({6}, {1, 2, 3, 4, 5, 6});
  const Tensor split = ints64({2, 0, 4});
  ir::Node node = make_node("Split", 2, 3, 13);
  node.attrs.set("axis", int64_t{-1});
  const std::vector<Tensor> parts = run_reference(node, {&x, &split});
  EXPECT_EQ(to_ints(parts[0]), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(parts[1].shape(), (Shape{0}));
  EXPECT_EQ(to_ints(parts[2]), (std::vector<int64_t>{3, 4, 5, 6}));
  const Tensor bad_sum = ints64({2, 2, 1});
  EXPECT_THROW(run_reference(node, {&x, &bad_sum}), Error);
  const Tensor bad_count = ints64({2, 4});
  EXPECT_THROW(run_reference(node, {&x, &bad_count}), Error);
  const Tensor negative = ints64({4, -1, 3});
  EXPECT_THROW(run_reference(node, {&x, &negative}), Error);
}

TEST(TensorMovement, SplitSizesAsAttributeBeforeOpset13) {
  const Tensor x = iota_float({5, 2});
  ir::Node node = make_node("Split", 1, 2, 11);
  node.attrs.set("split", std::vector<int64_t>{1, 4});
  const std::vector<Tensor> parts = run_reference(node, {&x});
  EXPECT_TRUE(tensors_near(parts[0], make_float({1, 2}, {0, 1})));
  EXPECT_TRUE(tensors_near(parts[1], make_float({4, 2}, {2, 3, 4, 5, 6, 7, 8, 9})));
}

TEST(TensorMovement, SplitUnevenLastChunkAtOpset18) {
  const Tensor x = iota_float({7});
  ir::Node node = make_node("Split", 1, 3, 18);
  node.attrs.set("num_outputs", int64_t{3});
  const std::vector<Tensor> parts = run_reference(node, {&x});
  EXPECT_TRUE(tensors_near(parts[0], make_float({3}, {0, 1, 2})));
  EXPECT_TRUE(tensors_near(parts[1], make_float({3}, {3, 4, 5})));
  EXPECT_TRUE(tensors_near(parts[2], make_float({1}, {6})));
  // Before opset 18 an uneven split is an error.
  EXPECT_THROW(run_reference(make_node("Split", 1, 3, 17), {&x}), Error);
}

ir::Node split_into(int outputs, int64_t num_outputs, int opset, int inputs = 1) {
  ir::Node node = make_node("Split", inputs, outputs, opset);
  node.attrs.set("num_outputs", num_outputs);
  return node;
}

TEST(TensorMovement, SplitNumOutputsAtOpsets18To21) {
  const Tensor x = iota_float({2, 4});
  for (int opset : {18, 19, 20, 21}) {
    ir::Node node = split_into(3, 3, opset);
    node.attrs.set("axis", int64_t{1});
    // Chunks of ceil(4 / 3) = 2: the last one is empty, as in ONNX's reference implementation.
    const std::vector<Tensor> parts = run_reference(node, {&x});
    EXPECT_TRUE(tensors_near(parts[0], make_float({2, 2}, {0, 1, 4, 5}))) << opset;
    EXPECT_TRUE(tensors_near(parts[1], make_float({2, 2}, {2, 3, 6, 7}))) << opset;
    EXPECT_EQ(parts[2].shape(), (Shape{2, 0})) << opset;
  }
}

TEST(TensorMovement, SplitNumOutputsRefusals) {
  const Tensor x = iota_float({5});
  expect_error_mentioning(split_into(5, 5, 17), {&x}, "'num_outputs' exists only from opset 18");
  // Chunks of ceil(5 / 4) = 2 would need 8 elements for the first four.
  expect_error_mentioning(split_into(4, 4, 18), {&x}, "num_outputs 4 cannot split an axis of size 5");
  const Tensor sizes = ints64({2, 3});
  expect_error_mentioning(split_into(2, 2, 18, 2), {&x, &sizes}, "not both");
  expect_error_mentioning(split_into(2, 3, 18), {&x}, "num_outputs 3 differs from the 2 outputs");
}

// ---- Slice ----------------------------------------------------------------------------------------

Tensor slice(const Tensor& x, std::vector<int64_t> starts, std::vector<int64_t> ends, std::vector<int64_t> axes = {},
             std::vector<int64_t> steps = {}) {
  const Tensor s = ints64(starts), e = ints64(ends), a = ints64(axes), st = ints64(steps);
  return run_one(make_node("Slice", 5), {&x, &s, &e, axes.empty() ? nullptr : &a, steps.empty() ? nullptr : &st});
}

TEST(TensorMovement, SliceSpecExamples) {
  const Tensor x = iota_float({2, 4});  // [[0,1,2,3],[4,5,6,7]]
  EXPECT_TRUE(tensors_near(slice(x, {1, 0}, {2, 3}, {0, 1}, {1, 2}), make_float({1, 2}, {4, 6})));
  EXPECT_TRUE(tensors_near(slice(x, {0, 1}, {-1, 1000}), make_float({1, 3}, {1, 2, 3})));
}

TEST(TensorMovement, SliceClampingAndSteps) {
  const Tensor x = iota_float({2, 4});
  // Full reverse with the recommended INT_MIN end.
  EXPECT_TRUE(tensors_near(slice(x, {-1}, {kMin}, {1}, {-1}), make_float({2, 4}, {3, 2, 1, 0, 7, 6, 5, 4})));
  // Start beyond the end clamps to the last element for negative steps; end -10+4 clamps to -1.
  EXPECT_TRUE(tensors_near(slice(x, {10}, {-10}, {1}, {-2}), make_float({2, 2}, {3, 1, 7, 5})));
  EXPECT_TRUE(tensors_near(slice(x, {0}, {kMax}, {1}, {3}), make_float({2, 2}, {0, 3, 4, 7})));
  EXPECT_TRUE(tensors_near(slice(x, {-1}, {kMin}, {1}, {kMin}), make_float({2, 1}, {3, 7})));
  EXPECT_TRUE(tensors_near(slice(x, {1}, {3}, {-1}), make_float({2, 2}, {1, 2, 5, 6})));
  EXPECT_EQ(slice(x, {1000}, {1000}, {1}).shape(), (Shape{2, 0}));
  EXPECT_EQ(slice(x, {3}, {1}, {1}).shape(), (Shape{2, 0}));      // empty with a positive step
  EXPECT_EQ(slice(x, {1}, {3}, {1}, {-1}).shape(), (Shape{2, 0}));  // empty with a negative step
  EXPECT_TRUE(tensors_near(slice(x, {-1000}, {1}, {0}), make_float({1, 4}, {0, 1, 2, 3})));
}

TEST(TensorMovement, SliceStridedRank3AgainstLoops) {
  const Tensor x = iota_float({4, 5, 6});
  const Tensor out = slice(x, {1, 4, 0}, {4, 0, 6}, {0, 1, 2}, {2, -2, 3});
  // Axis 0: 1, 3; axis 1: 4, 2; axis 2: 0, 3.
  std::vector<float> expected;
  for (int a : {1, 3})
    for (int b : {4, 2})
      for (int c : {0, 3}) expected.push_back(float(a * 30 + b * 6 + c));
  EXPECT_TRUE(tensors_near(out, make_float({2, 2, 2}, expected)));
}

TEST(TensorMovement, SliceInt32IndicesAndBoolData) {
  const Tensor x = make_bool({5}, {true, false, true, true, false});
  const Tensor starts = make_int32({1}, {1}), ends = make_int32({1}, {4});
  const Tensor out = run_one(make_node("Slice", 3), {&x, &starts, &ends});
  EXPECT_EQ(out.dtype(), DataType::kBOOL);
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{0, 1, 1}));
}

TEST(TensorMovement, SliceAttributesBeforeOpset10) {
  const Tensor x = iota_float({2, 4});
  ir::Node node = make_node("Slice", 1, 1, 9);
  node.attrs.set("starts", std::vector<int64_t>{0, 1});
  node.attrs.set("ends", std::vector<int64_t>{1, 3});
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({1, 2}, {1, 2})));
}

TEST(TensorMovement, SliceErrors) {
  const Tensor x = iota_float({2, 4});
  EXPECT_THROW(slice(x, {0}, {1}, {1}, {0}), Error);          // zero step
  EXPECT_THROW(slice(x, {0, 0}, {1}), Error);                 // length mismatch
  EXPECT_THROW(slice(x, {0}, {1}, {2}), Error);               // axis out of range
  EXPECT_THROW(slice(x, {0, 0}, {1, 1}, {1, -1}), Error);     // repeated axis
  EXPECT_THROW(slice(x, {0, 0, 0}, {1, 1, 1}), Error);        // more starts than axes
}

// ---- Expand, Tile ---------------------------------------------------------------------------------

TEST(TensorMovement, ExpandBroadcastsBothWays) {
  const Tensor x = make_float({3, 1}, {1, 2, 3});
  const Tensor shape = ints64({2, 1, 4});
  const Tensor out = run_one(make_node("Expand", 2), {&x, &shape});
  ASSERT_EQ(out.shape(), (Shape{2, 3, 4}));
  std::vector<float> expected;
  for (int n = 0; n < 2; ++n)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 4; ++j) expected.push_back(float(i + 1));
  EXPECT_EQ(to_floats(out), expected);
  // A target smaller than the input keeps the input's dims (bidirectional broadcast).
  const Tensor small = ints64({1});
  EXPECT_TRUE(tensors_near(run_one(make_node("Expand", 2), {&x, &small}), x));
  const Tensor bad = ints64({2, 4});
  EXPECT_THROW(run_one(make_node("Expand", 2), {&x, &bad}), Error);
}

TEST(TensorMovement, TileRepeatsEachAxis) {
  const Tensor x = make_int64({2, 2}, {1, 2, 3, 4});
  const Tensor repeats = ints64({2, 3});
  const Tensor out = run_one(make_node("Tile", 2), {&x, &repeats});
  EXPECT_EQ(out.shape(), (Shape{4, 6}));
  EXPECT_EQ(to_ints(out), (std::vector<int64_t>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,  //
                                                1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}));
  const Tensor zero = ints64({0, 1});
  EXPECT_EQ(run_one(make_node("Tile", 2), {&x, &zero}).shape(), (Shape{0, 2}));
  const Tensor wrong_length = ints64({2});
  EXPECT_THROW(run_one(make_node("Tile", 2), {&x, &wrong_length}), Error);
  const Tensor negative = ints64({1, -1});
  EXPECT_THROW(run_one(make_node("Tile", 2), {&x, &negative}), Error);
}

// ---- DepthToSpace, SpaceToDepth -------------------------------------------------------------------

TEST(TensorMovement, DepthToSpaceBothModes) {
  const int64_t n = 2, c = 8, h = 2, w = 3, b = 2, oc = c / (b * b);
  const Tensor x = iota_float({n, c, h, w});
  for (const std::string mode : {"DCR", "CRD"}) {
    ir::Node node = make_node("DepthToSpace", 1);
    node.attrs.set("blocksize", b);
    node.attrs.set("mode", mode);
    const Tensor out = run_one(node, {&x});
    ASSERT_EQ(out.shape(), (Shape{n, oc, h * b, w * b}));
    std::vector<float> expected;
    for (int64_t in = 0; in < n; ++in)
      for (int64_t oc_i = 0; oc_i < oc; ++oc_i)
        for (int64_t y = 0; y < h * b; ++y)
          for (int64_t xw = 0; xw < w * b; ++xw) {
            const int64_t by = y % b, bx = xw % b;
            const int64_t channel = mode == "DCR" ? (by * b + bx) * oc + oc_i : oc_i * b * b + by * b + bx;
            expected.push_back(float(((in * c + channel) * h + y / b) * w + xw / b));
          }
    EXPECT_EQ(to_floats(out), expected) << mode;
  }
}

TEST(TensorMovement, SpaceToDepthAndBack) {
  const int64_t n = 1, c = 2, h = 4, w = 6, b = 2;
  const Tensor x = iota_float({n, c, h, w});
  ir::Node node = make_node("SpaceToDepth", 1);
  node.attrs.set("blocksize", b);
  const Tensor out = run_one(node, {&x});
  ASSERT_EQ(out.shape(), (Shape{n, c * b * b, h / b, w / b}));
  std::vector<float> expected;
  for (int64_t oc = 0; oc < c * b * b; ++oc)
    for (int64_t y = 0; y < h / b; ++y)
      for (int64_t xw = 0; xw < w / b; ++xw) {
        const int64_t block = oc / c, channel = oc % c;
        expected.push_back(float((channel * h + y * b + block / b) * w + xw * b + block % b));
      }
  EXPECT_EQ(to_floats(out), expected);
  // DepthToSpace in DCR mode undoes SpaceToDepth.
  ir::Node back = make_node("DepthToSpace", 1);
  back.attrs.set("blocksize", b);
  EXPECT_TRUE(tensors_near(run_one(back, {&out}), x));
}

TEST(TensorMovement, DepthSpaceErrors) {
  const Tensor x(DataType::kFLOAT, {1, 6, 4, 4});
  ir::Node d2s = make_node("DepthToSpace", 1);
  d2s.attrs.set("blocksize", int64_t{2});
  EXPECT_THROW(run_one(d2s, {&x}), Error);  // 6 channels, blocksize^2 = 4
  d2s.attrs.set("blocksize", int64_t{1});
  d2s.attrs.set("mode", std::string("XYZ"));
  EXPECT_THROW(run_one(d2s, {&x}), Error);
  ir::Node s2d = make_node("SpaceToDepth", 1);
  s2d.attrs.set("blocksize", int64_t{3});
  EXPECT_THROW(run_one(s2d, {&x}), Error);  // 4 not divisible by 3
  const Tensor rank3(DataType::kFLOAT, {6, 4, 4});
  s2d.attrs.set("blocksize", int64_t{2});
  EXPECT_THROW(run_one(s2d, {&rank3}), Error);
}

// ---- Pad ------------------------------------------------------------------------------------------

Tensor pad(const Tensor& x, std::vector<int64_t> pads, const std::string& mode, const Tensor* value = nullptr,
           int opset = 17) {
  ir::Node node = make_node("Pad", 3, 1, opset);
  node.attrs.set("mode", mode);
  const Tensor p = ints64(pads);
  return run_one(node, {&x, &p, value});
}

TEST(TensorMovement, PadConstant) {
  const Tensor x = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor nine = make_float({}, {9});
  // pads = [x1_begin, x2_begin, x1_end, x2_end]
  EXPECT_TRUE(tensors_near(pad(x, {1, 0, 0, 2}, "constant", &nine),
                           make_float({3, 5}, {9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 4, 5, 6, 9, 9})));
  EXPECT_TRUE(tensors_near(pad(x, {0, 1, 0, 0}, "constant"), make_float({2, 4}, {0, 1, 2, 3, 0, 4, 5, 6})));
  // Negative pads crop.
  EXPECT_TRUE(tensors_near(pad(x, {0, -1, 0, -1}, "constant"), make_float({2, 1}, {2, 5})));
  EXPECT_TRUE(tensors_near(pad(x, {-1, 1, 0, 0}, "constant", &nine), make_float({1, 4}, {9, 4, 5, 6})));
}

TEST(TensorMovement, PadReflectEdgeWrap) {
  const Tensor row = make_float({1, 3}, {1, 2, 3});
  EXPECT_TRUE(tensors_near(pad(row, {0, 2, 0, 2}, "reflect"), make_float({1, 7}, {3, 2, 1, 2, 3, 2, 1})));
  // Pads wider than the axis keep reflecting (numpy.pad's behaviour).
  EXPECT_TRUE(tensors_near(pad(row, {0, 5, 0, 4}, "reflect"),
                           make_float({1, 12}, {2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3})));
  EXPECT_TRUE(tensors_near(pad(row, {0, 1, 0, 2}, "wrap", nullptr, 19), make_float({1, 6}, {3, 1, 2, 3, 1, 2})));
  const Tensor x = make_int32({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor edge = pad(x, {1, 1, 1, 1}, "edge");
  EXPECT_EQ(edge.dtype(), DataType::kINT32);
  EXPECT_EQ(edge.shape(), (Shape{4, 5}));
  EXPECT_EQ(to_ints(edge), (std::vector<int64_t>{1, 1, 2, 3, 3, 1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 4, 4, 5, 6, 6}));
  const Tensor reflect = pad(x, {1, 0, 1, 0}, "reflect");
  EXPECT_EQ(to_ints(reflect), (std::vector<int64_t>{4, 5, 6, 1, 2, 3, 4, 5, 6, 1, 2, 3}));
}

TEST(TensorMovement, PadAxesInputAtOpset18) {
  const Tensor x = make_float({2, 2}, {1, 2, 3, 4});
  const Tensor pads = ints64({1, 2});
  const Tensor axes = ints64({-1});
  const Tensor value = make_float({}, {-1});
  const Tensor out = run_one(make_node("Pad", 4, 1, 18), {&x, &pads, &value, &axes});
  EXPECT_TRUE(tensors_near(out, make_float({2, 5}, {-1, 1, 2, -1, -1, -1, 3, 4, -1, -1})));
}

TEST(TensorMovement, PadWrapFromOpset19) {
  // numpy.pad(np.arange(6).reshape(2, 3), ((1, 0), (2, 1)), mode="wrap")
  const Tensor x = make_float({2, 3}, {0, 1, 2, 3, 4, 5});
  const Tensor expected = make_float({3, 6}, {4, 5, 3, 4, 5, 3, 1, 2, 0, 1, 2, 0, 4, 5, 3, 4, 5, 3});
  for (int opset : {19, 20, 21}) EXPECT_TRUE(tensors_near(pad(x, {1, 2, 0, 1}, "wrap", nullptr, opset), expected));
  ir::Node at_18 = make_node("Pad", 2, 1, 18);
  at_18.attrs.set("mode", std::string("wrap"));
  const Tensor pads = ints64({1, 2, 0, 1});
  expect_error_mentioning(at_18, {&x, &pads}, "mode 'wrap' exists only from opset 19 (opset 18)");
}

TEST(TensorMovement, PadAxesInputOnlyFromOpset18) {
  const Tensor x = make_float({2, 2}, {1, 2, 3, 4});
  const Tensor pads = ints64({1, 0});
  const Tensor axes = ints64({0});
  // Pad only axis 0 at the front, at each opset that has the input.
  for (int opset : {18, 19, 20, 21})
    EXPECT_TRUE(tensors_near(run_one(make_node("Pad", 4, 1, opset), {&x, &pads, nullptr, &axes}),
                             make_float({3, 2}, {0, 0, 1, 2, 3, 4})));
  expect_error_mentioning(make_node("Pad", 4, 1, 17), {&x, &pads, nullptr, &axes},
                          "'axes' input exists only from opset 18 (opset 17)");
}

TEST(TensorMovement, PadAttributesBeforeOpset11) {
  const Tensor x = make_float({2, 2}, {1, 2, 3, 4});
  ir::Node node = make_node("Pad", 1, 1, 10);
  node.attrs.set("pads", std::vector<int64_t>{1, 0, 0, 0});
  node.attrs.set("value", 7.5f);
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({3, 2}, {7.5f, 7.5f, 1, 2, 3, 4})));
}

TEST(TensorMovement, PadErrors) {
  const Tensor x = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(pad(x, {1, 1}, "constant"), Error);               // needs 2 * rank values
  EXPECT_THROW(pad(x, {0, -4, 0, 0}, "constant"), Error);        // crops more than the axis
  EXPECT_THROW(pad(x, {0, 1, 0, 1}, "mirror"), Error);           // unknown mode
  const Tensor int_value = make_int64({}, {1});
  EXPECT_THROW(pad(x, {0, 1, 0, 1}, "constant", &int_value), Error);  // value of another dtype
  const Tensor empty(DataType::kFLOAT, {2, 0});
  EXPECT_THROW(pad(empty, {0, 1, 0, 0}, "edge"), Error);
  EXPECT_EQ(pad(empty, {0, 1, 0, 0}, "constant").shape(), (Shape{2, 1}));
}

// ---- ReverseSequence ------------------------------------------------------------------------------

TEST(TensorMovement, ReverseSequenceSpecExamples) {
  const Tensor time_major = make_float({4, 4}, {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15});
  const Tensor lens = ints64({4, 3, 2, 1});
  ir::Node node = make_node("ReverseSequence", 2);
  node.attrs.set("time_axis", int64_t{0});
  node.attrs.set("batch_axis", int64_t{1});
  EXPECT_TRUE(tensors_near(run_one(node, {&time_major, &lens}),
                           make_float({4, 4}, {3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15})));

  const Tensor batch_major = iota_float({4, 4});
  const Tensor lens2 = ints64({1, 2, 3, 4});
  node.attrs.set("time_axis", int64_t{1});
  node.attrs.set("batch_axis", int64_t{0});
  EXPECT_TRUE(tensors_near(run_one(node, {&batch_major, &lens2}),
                           make_float({4, 4}, {0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 15, 14, 13, 12})));
  const Tensor too_long = ints64({1, 2, 3, 5});
  EXPECT_THROW(run_one(node, {&batch_major, &too_long}), Error);
  const Tensor wrong_batch = ints64({1, 2});
  EXPECT_THROW(run_one(node, {&batch_major, &wrong_batch}), Error);
}

}  // namespace
}  // namespace kestrel::testing
