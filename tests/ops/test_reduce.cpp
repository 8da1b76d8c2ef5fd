// Tests for ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp, ArgMax/ArgMin, TopK.
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

Tensor make_int8(Shape shape, std::vector<int8_t> values) {
  Tensor t(DataType::kINT8, std::move(shape));
  EXPECT_EQ(size_t(t.numel()), values.size());
  std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

// The [3,2,2] example of the ONNX operator documentation: 1..12.
Tensor onnx_example() { return make_float({3, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}); }

// A reduction node whose axes are given the way the node's opset wants them: as an attribute
// before the op's axes-input opset, as an input (the returned tensor) from it on.
struct ReduceCall {
  ir::Node node;
  std::optional<Tensor> axes_input;
  std::vector<Tensor> run(const Tensor& x) const {
    return run_reference(node, {&x, axes_input ? &*axes_input : nullptr});
  }
};

ReduceCall reduce_call(const std::string& op, int opset, const std::optional<std::vector<int64_t>>& axes,
                       std::optional<int64_t> keepdims = std::nullopt) {
  const int axes_input_opset = op == "ReduceSum" ? 13 : 18;
  const bool as_input = opset >= axes_input_opset;
  ReduceCall call{make_node(op, as_input ? 2 : 1, 1, opset), std::nullopt};
  if (axes) {
    if (as_input)
      call.axes_input = make_int64({int64_t(axes->size())}, *axes);
    else
      call.node.attrs.set("axes", *axes);
  }
  if (keepdims) call.node.attrs.set("keepdims", *keepdims);
  return call;
}

// ---- An independent naive reduction of a rank-3 tensor, for comparisons ----------------------

// The per-group formula of each op, applied to the list of values in a group.
double naive_formula(const std::string& op, const std::vector<double>& v) {
  double acc = 0;
  if (op == "ReduceSum") { for (double x : v) acc += x; return acc; }
  if (op == "ReduceMean") { for (double x : v) acc += x; return acc / double(v.size()); }
  if (op == "ReduceMax") { acc = -INFINITY; for (double x : v) acc = std::max(acc, x); return acc; }
  if (op == "ReduceMin") { acc = INFINITY; for (double x : v) acc = std::min(acc, x); return acc; }
  if (op == "ReduceProd") { acc = 1; for (double x : v) acc *= x; return acc; }
  if (op == "ReduceL1") { for (double x : v) acc += std::fabs(x); return acc; }
  if (op == "ReduceL2") { for (double x : v) acc += x * x; return std::sqrt(acc); }
  if (op == "ReduceSumSquare") { for (double x : v) acc += x * x; return acc; }
  if (op == "ReduceLogSum") { for (double x : v) acc += x; return std::log(acc); }
  if (op == "ReduceLogSumExp") { for (double x : v) acc += std::exp(x); return std::log(acc); }
  ADD_FAILURE() << "no naive formula for " << op;
  return 0;
}

// Groups the elements of a [D0,D1,D2] tensor by their index on the kept axes, then applies the
// formula to each group; the result has the kept-dims shape (keepdims=1 style).
Tensor naive_reduce3(const std::string& op, const Tensor& x, const std::vector<bool>& reduced) {
  const Shape& s = x.shape();
  std::map<std::vector<int64_t>, std::vector<double>> groups;
  for (int64_t a = 0; a < s[0]; ++a)
    for (int64_t b = 0; b < s[1]; ++b)
      for (int64_t c = 0; c < s[2]; ++c) {
        const std::vector<int64_t> idx{a, b, c};
        std::vector<int64_t> key(3);
        for (size_t i = 0; i < 3; ++i) key[i] = reduced[i] ? 0 : idx[i];
        groups[key].push_back(x.data<float>()[(a * s[1] + b) * s[2] + c]);
      }
  Shape out_shape(3);
  for (size_t i = 0; i < 3; ++i) out_shape[i] = reduced[i] ? 1 : s[i];
  std::vector<float> out;
  for (const auto& [key, values] : groups) out.push_back(float(naive_formula(op, values)));  // map order = row-major
  return make_float(out_shape, out);
}

const std::vector<std::string> kAllReductions = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                                                 "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare",
                                                 "ReduceLogSum", "ReduceLogSumExp"};

// ---- ReduceSum: axes attribute before opset 13, optional input from 13 ------------------------

TEST(ReduceOp, SumAxesAttributeBeforeOpset13) {
  ir::Node node = make_node("ReduceSum", 1, 1, 11);
  node.attrs.set("axes", std::vector<int64_t>{1});
  const Tensor x = onnx_example();
  const auto out = run_reference(node, {&x});
  EXPECT_TRUE(tensors_near(out[0], make_float({3, 1, 2}, {4, 6, 12, 14, 20, 22})));
}

TEST(ReduceOp, SumAxesInputFromOpset13WithNegativeAxisNoKeepdims) {
  ir::Node node = make_node("ReduceSum", 2, 1, 13);
  node.attrs.set("keepdims", int64_t{0});
  const Tensor x = onnx_example();
  const Tensor axes = make_int64({1}, {-2});
  const auto out = run_reference(node, {&x, &axes});
  EXPECT_TRUE(tensors_near(out[0], make_float({3, 2}, {4, 6, 12, 14, 20, 22})));
}

TEST(ReduceOp, SumWithoutAxesReducesEverything) {
  const Tensor x = onnx_example();
  const Tensor empty_axes = make_int64({0}, {});
  const ir::Node node13 = make_node("ReduceSum", 2, 1, 13);
  EXPECT_TRUE(tensors_near(run_reference(node13, {&x, nullptr})[0], make_float({1, 1, 1}, {78})));
  EXPECT_TRUE(tensors_near(run_reference(node13, {&x, &empty_axes})[0], make_float({1, 1, 1}, {78})));
  ir::Node node11 = make_node("ReduceSum", 1, 1, 11);
  node11.attrs.set("keepdims", int64_t{0});
  EXPECT_TRUE(tensors_near(run_reference(node11, {&x})[0], make_float({}, {78})));
}

TEST(ReduceOp, SumNoopWithEmptyAxesIsIdentity) {
  ir::Node node = make_node("ReduceSum", 2, 1, 13);
  node.attrs.set("noop_with_empty_axes", int64_t{1});
  const Tensor x = onnx_example();
  const Tensor empty_axes = make_int64({0}, {});
  EXPECT_TRUE(tensors_near(run_reference(node, {&x, &empty_axes})[0], x));
  EXPECT_TRUE(tensors_near(run_reference(node, {&x, nullptr})[0], x));
  // With axes present the flag changes nothing.
  const Tensor axes = make_int64({1}, {0});
  EXPECT_TRUE(tensors_near(run_reference(node, {&x, &axes})[0], make_float({1, 2, 2}, {15, 18, 21, 24})));
}

TEST(ReduceOp, AxesMustComeTheWayTheOpsetSays) {
  const Tensor x = onnx_example();
  const Tensor axes = make_int64({1}, {1});
  ir::Node sum13 = make_node("ReduceSum", 1, 1, 13);
  sum13.attrs.set("axes", std::vector<int64_t>{1});
  EXPECT_THROW(run_reference(sum13, {&x}), Error);
  EXPECT_THROW(run_reference(make_node("ReduceSum", 2, 1, 12), {&x, &axes}), Error);
  EXPECT_THROW(run_reference(make_node("ReduceMean", 2, 1, 17), {&x, &axes}), Error);
  ir::Node mean18 = make_node("ReduceMean", 1, 1, 18);
  mean18.attrs.set("axes", std::vector<int64_t>{1});
  EXPECT_THROW(run_reference(mean18, {&x}), Error);
  ir::Node noop12 = make_node("ReduceSum", 1, 1, 12);
  noop12.attrs.set("noop_with_empty_axes", int64_t{1});
  EXPECT_THROW(run_reference(noop12, {&x}), Error);
}

TEST(ReduceOp, RejectsBadAxes) {
  const Tensor x = onnx_example();
  for (const std::vector<int64_t>& axes : {std::vector<int64_t>{3}, std::vector<int64_t>{-4},
                                           std::vector<int64_t>{1, -2}, std::vector<int64_t>{0, 0}}) {
    EXPECT_THROW(reduce_call("ReduceMax", 13, axes).run(x), Error) << fmt::format("{}", axes);
    EXPECT_THROW(reduce_call("ReduceSum", 13, axes).run(x), Error) << fmt::format("{}", axes);
  }
  const Tensor scalar = make_float({}, {5});
  EXPECT_THROW(reduce_call("ReduceSum", 13, std::vector<int64_t>{0}).run(scalar), Error);
}

// ---- Every reduction against the naive formula, old and new axes conventions ------------------

TEST(ReduceOp, AllReductionsMatchNaiveFormula) {
  // Positive values keep LogSum defined; the range keeps Prod well inside float.
  const Tensor x = random_float({3, 4, 5}, 7, 0.5f, 1.5f);
  const std::vector<std::pair<std::vector<int64_t>, std::vector<bool>>> cases = {
      {{0}, {true, false, false}},      {{1, 2}, {false, true, true}}, {{-1}, {false, false, true}},
      {{2, 0}, {true, false, true}},    {{}, {true, true, true}},
  };
  for (const std::string& op : kAllReductions)
    for (int opset : {11, 13, 18})
      for (const auto& [axes, reduced] : cases)
        for (int64_t keepdims : {0, 1}) {
          const auto out = reduce_call(op, opset, axes, keepdims).run(x);
          Tensor expected = naive_reduce3(op, x, reduced);
          if (!keepdims) {
            Shape squeezed;
            for (size_t i = 0; i < 3; ++i)
              if (!reduced[i]) squeezed.push_back(x.dim(int(i)));
            expected = expected.reshaped(squeezed);
          }
          EXPECT_TRUE(tensors_near(out[0], expected, 1e-5, 1e-5))
              << op << " opset " << opset << " axes " << fmt::format("{}", axes) << " keepdims " << keepdims;
        }
}

TEST(ReduceOp, OnnxDocumentationExamples) {
  const Tensor x = onnx_example();
  auto run = [&](const std::string& op, std::vector<int64_t> axes, int64_t keepdims) {
    return reduce_call(op, 13, axes, keepdims).run(x)[0];
  };
  EXPECT_TRUE(tensors_near(run("ReduceMean", {1}, 0), make_float({3, 2}, {2, 3, 6, 7, 10, 11})));
  EXPECT_TRUE(tensors_near(run("ReduceMax", {1}, 0), make_float({3, 2}, {3, 4, 7, 8, 11, 12})));
  EXPECT_TRUE(tensors_near(run("ReduceMin", {1}, 1), make_float({3, 1, 2}, {1, 2, 5, 6, 9, 10})));
  EXPECT_TRUE(tensors_near(run("ReduceProd", {1}, 0), make_float({3, 2}, {3, 8, 35, 48, 99, 120})));
  EXPECT_TRUE(tensors_near(run("ReduceL1", {2}, 0), make_float({3, 2}, {3, 7, 11, 15, 19, 23})));
  EXPECT_TRUE(tensors_near(run("ReduceSumSquare", {1}, 0), make_float({3, 2}, {10, 20, 74, 100, 202, 244})));
  EXPECT_TRUE(tensors_near(run("ReduceL2", {2}, 0),
                           make_float({3, 2}, {2.23606798f, 5.f, 7.81024968f, 10.63014581f, 13.45362405f,
                                               16.2788206f})));
  EXPECT_TRUE(tensors_near(run("ReduceMean", {}, 1), make_float({1, 1, 1}, {6.5f})));
}

// ---- Numerics --------------------------------------------------------------------------------

TEST(ReduceOp, LogSumExpIsStableForLargeInputs) {
  const Tensor x = make_float({2, 2}, {1000, 1000, -1000, -1000 + std::log(3.f)});
  const auto out = reduce_call("ReduceLogSumExp", 13, std::vector<int64_t>{1}, 0).run(x);
  EXPECT_TRUE(tensors_near(out[0], make_float({2}, {1000 + std::log(2.f), -1000 + std::log(4.f)}), 1e-3, 1e-6));
}

TEST(ReduceOp, LogSumExpOfInfinities) {
  const Tensor x = make_float({2, 2}, {-kInf, -kInf, kInf, 1});
  const auto out = reduce_call("ReduceLogSumExp", 13, std::vector<int64_t>{1}, 0).run(x);
  EXPECT_EQ(out[0].data<float>()[0], -kInf);
  EXPECT_EQ(out[0].data<float>()[1], kInf);
}

TEST(ReduceOp, SumsAccumulateInDouble) {
  // In float, 1e8 + 1 rounds back to 1e8 (floats near 1e8 are 8 apart), so a float accumulator
  // loses the 1s; a double one keeps them.
  const Tensor x = make_float({2, 4}, {1e8f, 1, 1, -1e8f, 1e8f, 3, 1, -1e8f});
  EXPECT_TRUE(tensors_near(reduce_call("ReduceSum", 13, std::vector<int64_t>{1}, 0).run(x)[0],
                           make_float({2}, {2, 4}), 0, 0));
  EXPECT_TRUE(tensors_near(reduce_call("ReduceMean", 13, std::vector<int64_t>{1}, 0).run(x)[0],
                           make_float({2}, {0.5f, 1}), 0, 0));
}

TEST(ReduceOp, MaxAndMinPropagateNaN) {
  const Tensor x = make_float({2, 3}, {1, kNaN, 3, 4, 5, 6});
  const auto max = reduce_call("ReduceMax", 13, std::vector<int64_t>{1}, 0).run(x);
  const auto min = reduce_call("ReduceMin", 13, std::vector<int64_t>{1}, 0).run(x);
  EXPECT_TRUE(std::isnan(max[0].data<float>()[0]));
  EXPECT_EQ(max[0].data<float>()[1], 6.f);
  EXPECT_TRUE(std::isnan(min[0].data<float>()[0]));
  EXPECT_EQ(min[0].data<float>()[1], 4.f);
}

TEST(ReduceOp, EmptySetGivesTheIdentity) {
  const Tensor x(DataType::kFLOAT, {2, 0});
  auto reduce = [&](const std::string& op) {
    const auto out = reduce_call(op, 13, std::vector<int64_t>{1}, 0).run(x);
    EXPECT_EQ(out[0].shape(), Shape{2});
    return out[0].data<float>()[0];
  };
  EXPECT_EQ(reduce("ReduceSum"), 0.f);
  EXPECT_EQ(reduce("ReduceProd"), 1.f);
  EXPECT_EQ(reduce("ReduceMax"), -kInf);
  EXPECT_EQ(reduce("ReduceMin"), kInf);
  EXPECT_EQ(reduce("ReduceL2"), 0.f);
  EXPECT_EQ(reduce("ReduceLogSum"), -kInf);
  EXPECT_EQ(reduce("ReduceLogSumExp"), -kInf);
  EXPECT_TRUE(std::isnan(reduce("ReduceMean")));
}

TEST(ReduceOp, ScalarInputReducesToScalar) {
  const Tensor x = make_float({}, {-3});
  EXPECT_TRUE(tensors_near(reduce_call("ReduceL1", 13, std::nullopt).run(x)[0], make_float({}, {3})));
  EXPECT_TRUE(tensors_near(reduce_call("ReduceSum", 13, std::nullopt).run(x)[0], make_float({}, {-3})));
}

// From opset 18 every reduction takes axes as an input; "no-op" then reduces each element alone,
// i.e. applies the reduction's per-element map (as the ONNX reference implementation does).
TEST(ReduceOp, Opset18AxesInputAndNoop) {
  const Tensor x = make_float({2, 2}, {-1, 2, -3, 4});
  ReduceCall l1 = reduce_call("ReduceL1", 18, std::vector<int64_t>{-1}, 0);
  EXPECT_TRUE(tensors_near(l1.run(x)[0], make_float({2}, {3, 7})));
  ReduceCall square = reduce_call("ReduceSumSquare", 18, std::vector<int64_t>{});
  square.node.attrs.set("noop_with_empty_axes", int64_t{1});
  EXPECT_TRUE(tensors_near(square.run(x)[0], make_float({2, 2}, {1, 4, 9, 16})));
  ReduceCall max = reduce_call("ReduceMax", 18, std::nullopt);
  max.node.attrs.set("noop_with_empty_axes", int64_t{1});
  EXPECT_TRUE(tensors_near(max.run(x)[0], x));
  ReduceCall mean = reduce_call("ReduceMean", 18, std::nullopt);
  EXPECT_TRUE(tensors_near(mean.run(x)[0], make_float({1, 1}, {0.5f})));
}

// ---- Integer dtypes --------------------------------------------------------------------------

TEST(ReduceOp, Int64SumMaxMinProd) {
  const Tensor x = make_int64({2, 3}, {1, -2, 3, 4, 5, -6});
  auto run = [&](const std::string& op, std::vector<int64_t> axes) {
    return reduce_call(op, 13, axes, 0).run(x)[0];
  };
  EXPECT_EQ(run("ReduceSum", {1}).dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(run("ReduceSum", {1})), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(to_ints(run("ReduceSum", {0})), (std::vector<int64_t>{5, 3, -3}));
  EXPECT_EQ(to_ints(run("ReduceMax", {1})), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(to_ints(run("ReduceMin", {0})), (std::vector<int64_t>{1, -2, -6}));
  EXPECT_EQ(to_ints(run("ReduceProd", {1})), (std::vector<int64_t>{-6, -120}));
  EXPECT_EQ(to_ints(run("ReduceProd", {})), (std::vector<int64_t>{720}));
  EXPECT_EQ(to_ints(run("ReduceL1", {1})), (std::vector<int64_t>{6, 15}));
  EXPECT_EQ(to_ints(run("ReduceSumSquare", {1})), (std::vector<int64_t>{14, 77}));
  // Integer mean truncates toward zero: 2/3 -> 0, 3/3 -> 1, and (-7)/2 -> -3.
  EXPECT_EQ(to_ints(run("ReduceMean", {1})), (std::vector<int64_t>{0, 1}));
  const Tensor odd = make_int64({2}, {-3, -4});
  EXPECT_EQ(to_ints(reduce_call("ReduceMean", 13, std::nullopt, 0).run(odd)[0]), (std::vector<int64_t>{-3}));
}

TEST(ReduceOp, Int64ValuesBeyondFloatPrecisionStayExact) {
  const int64_t big = (int64_t(1) << 53) + 1;
  const Tensor x = make_int64({2}, {big, 2});
  EXPECT_EQ(to_ints(reduce_call("ReduceSum", 13, std::nullopt, 0).run(x)[0]), (std::vector<int64_t>{big + 2}));
  EXPECT_EQ(to_ints(reduce_call("ReduceMax", 13, std::nullopt, 0).run(x)[0]), (std::vector<int64_t>{big}));
}

TEST(ReduceOp, Int32AndInt8) {
  const Tensor x = make_int32({2, 2}, {7, -1, 2, 3});
  const auto sum = reduce_call("ReduceSum", 11, std::vector<int64_t>{0}, 1).run(x);
  EXPECT_EQ(sum[0].dtype(), DataType::kINT32);
  EXPECT_EQ(sum[0].shape(), (Shape{1, 2}));
  EXPECT_EQ(to_ints(sum[0]), (std::vector<int64_t>{9, 2}));
  EXPECT_EQ(to_ints(reduce_call("ReduceMin", 11, std::vector<int64_t>{1}, 0).run(x)[0]),
            (std::vector<int64_t>{-1, 2}));
  const Tensor bytes = make_int8({3}, {-7, 100, -128});
  const auto max = reduce_call("ReduceMax", 13, std::nullopt, 0).run(bytes);
  EXPECT_EQ(max[0].dtype(), DataType::kINT8);
  EXPECT_EQ(to_ints(max[0]), (std::vector<int64_t>{100}));
}

TEST(ReduceOp, RejectsUnsupportedDtypes) {
  const Tensor ints = make_int64({2}, {1, 2});
  EXPECT_THROW(reduce_call("ReduceL2", 13, std::nullopt).run(ints), Error);
  EXPECT_THROW(reduce_call("ReduceLogSumExp", 13, std::nullopt).run(ints), Error);
  EXPECT_THROW(reduce_call("ReduceLogSum", 13, std::nullopt).run(ints), Error);
  const Tensor bytes = make_int8({2}, {1, 2});
  EXPECT_THROW(reduce_call("ReduceSum", 13, std::nullopt).run(bytes), Error);
  const Tensor flags = make_bool({2}, {true, false});
  EXPECT_THROW(reduce_call("ReduceMax", 13, std::nullopt).run(flags), Error);
}

// ---- ArgMax / ArgMin -------------------------------------------------------------------------

std::vector<Tensor> run_arg(const std::string& op, const Tensor& x, std::optional<int64_t> axis,
                            std::optional<int64_t> keepdims, std::optional<int64_t> select_last = std::nullopt,
                            int opset = 13) {
  ir::Node node = make_node(op, 1, 1, opset);
  if (axis) node.attrs.set("axis", *axis);
  if (keepdims) node.attrs.set("keepdims", *keepdims);
  if (select_last) node.attrs.set("select_last_index", *select_last);
  return run_reference(node, {&x});
}

TEST(ReduceArg, OnnxExamples) {
  const Tensor x = make_float({2, 2}, {2, 1, 3, 10});
  const auto default_axis = run_arg("ArgMax", x, std::nullopt, std::nullopt);
  EXPECT_EQ(default_axis[0].dtype(), DataType::kINT64);
  EXPECT_EQ(default_axis[0].shape(), (Shape{1, 2}));
  EXPECT_EQ(to_ints(default_axis[0]), (std::vector<int64_t>{1, 1}));
  const auto no_keep = run_arg("ArgMax", x, 1, 0);
  EXPECT_EQ(no_keep[0].shape(), (Shape{2}));
  EXPECT_EQ(to_ints(no_keep[0]), (std::vector<int64_t>{0, 1}));
  const auto min_negative = run_arg("ArgMin", x, -1, 1);
  EXPECT_EQ(min_negative[0].shape(), (Shape{2, 1}));
  EXPECT_EQ(to_ints(min_negative[0]), (std::vector<int64_t>{1, 0}));
}

TEST(ReduceArg, SelectLastIndexPicksTheLastTie) {
  const Tensor x = make_float({2, 2}, {2, 2, 3, 10});
  EXPECT_EQ(to_ints(run_arg("ArgMax", x, 1, 0)[0]), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(to_ints(run_arg("ArgMax", x, 1, 0, 1)[0]), (std::vector<int64_t>{1, 1}));
  const Tensor y = make_float({4}, {5, 1, 7, 1});
  EXPECT_EQ(to_ints(run_arg("ArgMin", y, 0, 0)[0]), (std::vector<int64_t>{1}));
  EXPECT_EQ(to_ints(run_arg("ArgMin", y, 0, 0, 1)[0]), (std::vector<int64_t>{3}));
}

TEST(ReduceArg, SelectLastIndexNeedsOpset12) {
  const Tensor x = make_float({2}, {1, 2});
  EXPECT_THROW(run_arg("ArgMax", x, 0, 1, 0, 11), Error);
  EXPECT_EQ(to_ints(run_arg("ArgMax", x, 0, 1, std::nullopt, 11)[0]), (std::vector<int64_t>{1}));
  EXPECT_EQ(to_ints(run_arg("ArgMax", x, 0, 1, 1, 12)[0]), (std::vector<int64_t>{1}));
}

// numpy: np.argmax/np.argmin return the first NaN; the ONNX reference's select_last_index flips
// the axis, so it returns the last NaN.
TEST(ReduceArg, NaNWinsLikeNumpy) {
  const Tensor x = make_float({5}, {1, kNaN, 9, kNaN, -4});
  EXPECT_EQ(to_ints(run_arg("ArgMax", x, 0, 0)[0]), (std::vector<int64_t>{1}));
  EXPECT_EQ(to_ints(run_arg("ArgMin", x, 0, 0)[0]), (std::vector<int64_t>{1}));
  EXPECT_EQ(to_ints(run_arg("ArgMax", x, 0, 0, 1)[0]), (std::vector<int64_t>{3}));
  EXPECT_EQ(to_ints(run_arg("ArgMin", x, 0, 0, 1)[0]), (std::vector<int64_t>{3}));
}

TEST(ReduceArg, MatchesNaiveSearchOnEveryAxis) {
  const Tensor x = random_float({3, 4, 5}, 11);
  const float* v = x.data<float>();
  for (int64_t axis = -3; axis < 3; ++axis) {
    const int a = int(axis < 0 ? axis + 3 : axis);
    const auto max = run_arg("ArgMax", x, axis, 1);
    const auto min = run_arg("ArgMin", x, axis, 1);
    Shape expected_shape = x.shape();
    expected_shape[size_t(a)] = 1;
    ASSERT_EQ(max[0].shape(), expected_shape);
    int64_t o = 0;
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 4; ++j)
        for (int64_t k = 0; k < 5; ++k) {
          int64_t idx[3] = {i, j, k};
          if (idx[a] != 0) continue;  // one output per line along `a`, in row-major order
          int64_t best_max = 0, best_min = 0;
          float vmax = -kInf, vmin = kInf;
          for (int64_t t = 0; t < x.dim(a); ++t) {
            idx[a] = t;
            const float value = v[(idx[0] * 4 + idx[1]) * 5 + idx[2]];
            if (value > vmax) {
              vmax = value;
              best_max = t;
            }
            if (value < vmin) {
              vmin = value;
              best_min = t;
            }
          }
          EXPECT_EQ(max[0].data<int64_t>()[o], best_max) << "axis " << axis << " output " << o;
          EXPECT_EQ(min[0].data<int64_t>()[o], best_min) << "axis " << axis << " output " << o;
          ++o;
        }
    EXPECT_EQ(o, max[0].numel());
  }
}

TEST(ReduceArg, IntegerInputs) {
  const Tensor x = make_int64({2, 3}, {5, 9, 9, -1, -8, -8});
  EXPECT_EQ(to_ints(run_arg("ArgMax", x, 1, 0)[0]), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(to_ints(run_arg("ArgMin", x, 1, 0, 1)[0]), (std::vector<int64_t>{0, 2}));
  const Tensor y = make_int32({3}, {3, -7, 2});
  EXPECT_EQ(to_ints(run_arg("ArgMin", y, 0, 1)[0]), (std::vector<int64_t>{1}));
}

TEST(ReduceArg, RejectsBadInputs) {
  const Tensor x = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(run_arg("ArgMax", x, 2, 1), Error);
  EXPECT_THROW(run_arg("ArgMin", x, -3, 1), Error);
  const Tensor scalar = make_float({}, {1});
  EXPECT_THROW(run_arg("ArgMax", scalar, 0, 1), Error);
  const Tensor empty(DataType::kFLOAT, {2, 0});
  EXPECT_THROW(run_arg("ArgMax", empty, 1, 1), Error);
  const Tensor flags = make_bool({2}, {true, false});
  EXPECT_THROW(run_arg("ArgMax", flags, 0, 1), Error);
}

// ---- TopK ------------------------------------------------------------------------------------

std::vector<Tensor> run_topk(const Tensor& x, int64_t k, std::optional<int64_t> axis,
                             std::optional<int64_t> largest = std::nullopt, int opset = 11) {
  ir::Node node = make_node("TopK", 2, 2, opset);
  if (axis) node.attrs.set("axis", *axis);
  if (largest) node.attrs.set("largest", *largest);
  const Tensor k_tensor = make_int64({1}, {k});
  return run_reference(node, {&x, &k_tensor});
}

TEST(ReduceTopK, OnnxExample) {
  const Tensor x = make_float({3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  const auto out = run_topk(x, 3, 1);
  EXPECT_TRUE(tensors_near(out[0], make_float({3, 3}, {3, 2, 1, 7, 6, 5, 11, 10, 9})));
  EXPECT_EQ(out[1].dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(out[1]), (std::vector<int64_t>{3, 2, 1, 3, 2, 1, 3, 2, 1}));
  const auto smallest = run_topk(x, 2, std::nullopt, 0);  // default axis is the last
  EXPECT_TRUE(tensors_near(smallest[0], make_float({3, 2}, {0, 1, 4, 5, 8, 9})));
  EXPECT_EQ(to_ints(smallest[1]), (std::vector<int64_t>{0, 1, 0, 1, 0, 1}));
}

TEST(ReduceTopK, TiesKeepIndexOrderAndNonLastAxis) {
  // Along axis 0 of a [4,2] tensor: column 0 is {1,3,1,3}, column 1 is {4,4,2,0}.
  const Tensor x = make_float({4, 2}, {1, 4, 3, 4, 1, 2, 3, 0});
  const auto top = run_topk(x, 3, 0);
  EXPECT_TRUE(tensors_near(top[0], make_float({3, 2}, {3, 4, 3, 4, 1, 2})));
  EXPECT_EQ(to_ints(top[1]), (std::vector<int64_t>{1, 0, 3, 1, 0, 2}));
  const auto bottom = run_topk(x, 3, -2, 0);
  EXPECT_TRUE(tensors_near(bottom[0], make_float({3, 2}, {1, 0, 1, 2, 3, 4})));
  EXPECT_EQ(to_ints(bottom[1]), (std::vector<int64_t>{0, 3, 2, 2, 1, 0}));
}

TEST(ReduceTopK, IntegerInputAndEdgeK) {
  const Tensor x = make_int64({5}, {4, -2, 9, 4, 0});
  const auto out = run_topk(x, 5, 0);
  EXPECT_EQ(out[0].dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(out[0]), (std::vector<int64_t>{9, 4, 4, 0, -2}));
  EXPECT_EQ(to_ints(out[1]), (std::vector<int64_t>{2, 0, 3, 4, 1}));
  EXPECT_EQ(run_topk(x, 0, 0)[0].shape(), (Shape{0}));
}

TEST(ReduceTopK, RejectsBadK) {
  const Tensor x = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(run_topk(x, 4, 1), Error);
  EXPECT_THROW(run_topk(x, -1, 1), Error);
  EXPECT_THROW(run_topk(x, 1, 2), Error);
  EXPECT_THROW(run_topk(x, 1, 1, 1, 10), Error);  // 'largest' does not exist before opset 11
}

}  // namespace
}  // namespace kestrel::testing
