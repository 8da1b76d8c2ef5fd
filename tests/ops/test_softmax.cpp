// Tests for Softmax, LogSoftmax and Hardmax, in particular their opset-12 vs opset-13 semantics.
#include <cmath>
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

Tensor run_op(const std::string& op, const Tensor& x, int opset, std::optional<int64_t> axis = std::nullopt) {
  ir::Node node = make_node(op, 1, 1, opset);
  if (axis) node.attrs.set("axis", *axis);
  return run_reference(node, {&x})[0];
}

// Which elements of a [D0,D1,D2] tensor are normalised together: elements with the same key.
using GroupKey = std::function<std::vector<int64_t>(int64_t a, int64_t b, int64_t c)>;

// Naive softmax / log-softmax / hardmax of a rank-3 tensor over the groups given by `key`,
// written without reference to the kernel's [outer, length, inner] view.
Tensor naive_normalize3(const std::string& op, const Tensor& x, const GroupKey& key) {
  const Shape& s = x.shape();
  auto at = [&](int64_t a, int64_t b, int64_t c) { return (a * s[1] + b) * s[2] + c; };
  std::map<std::vector<int64_t>, std::vector<int64_t>> members;  // key -> flat indices, in order
  for (int64_t a = 0; a < s[0]; ++a)
    for (int64_t b = 0; b < s[1]; ++b)
      for (int64_t c = 0; c < s[2]; ++c) members[key(a, b, c)].push_back(at(a, b, c));
  const float* in = x.data<float>();
  Tensor out(DataType::kFLOAT, s);
  for (const auto& [k, idx] : members) {
    if (op == "Hardmax") {
      int64_t best = idx[0];
      for (int64_t i : idx)
        if (in[i] > in[best]) best = i;
      for (int64_t i : idx) out.data<float>()[i] = i == best ? 1.f : 0.f;
      continue;
    }
    double sum = 0;
    for (int64_t i : idx) sum += std::exp(double(in[i]));
    for (int64_t i : idx)
      out.data<float>()[i] = float(op == "Softmax" ? std::exp(double(in[i])) / sum : double(in[i]) - std::log(sum));
  }
  return out;
}

const GroupKey kAxis0Single = [](int64_t, int64_t b, int64_t c) { return std::vector<int64_t>{b, c}; };
const GroupKey kAxis1Single = [](int64_t a, int64_t, int64_t c) { return std::vector<int64_t>{a, c}; };
const GroupKey kAxis2Single = [](int64_t a, int64_t b, int64_t) { return std::vector<int64_t>{a, b}; };
// Coerced to 2-D at axis 1: rows are indexed by axis 0, each row spans axes 1 and 2.
const GroupKey kFlattenFromAxis1 = [](int64_t a, int64_t, int64_t) { return std::vector<int64_t>{a}; };
// Coerced to 2-D at axis 0: a single row spanning the whole tensor.
const GroupKey kFlattenFromAxis0 = [](int64_t, int64_t, int64_t) { return std::vector<int64_t>{}; };

double max_abs_difference(const Tensor& a, const Tensor& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i) worst = std::max(worst, std::fabs(a.double_at(i) - b.double_at(i)));
  return worst;
}

// The semantic change at opset 13, on a [2,3,4] input with axis=1:
//  - opset 12 coerces the input to a [2, 12] matrix and normalises each row: every batch entry's
//    12 values (axes 1 and 2 together) sum to 1;
//  - opset 13 normalises along axis 1 alone: each of the 2*4 columns of 3 values sums to 1.
TEST(SoftmaxOp, Opset12And13DifferForAMiddleAxis) {
  const Tensor x = random_float({2, 3, 4}, 3, -2.f, 2.f);
  for (const std::string op : {"Softmax", "LogSoftmax", "Hardmax"}) {
    const Tensor old_semantics = run_op(op, x, 12, 1);
    const Tensor new_semantics = run_op(op, x, 13, 1);
    EXPECT_TRUE(tensors_near(old_semantics, naive_normalize3(op, x, kFlattenFromAxis1))) << op;
    EXPECT_TRUE(tensors_near(new_semantics, naive_normalize3(op, x, kAxis1Single))) << op;
    EXPECT_GT(max_abs_difference(old_semantics, new_semantics), 0.1) << op;
  }
  // The defining sums, spelled out for Softmax.
  const Tensor old_softmax = run_op("Softmax", x, 12, 1);
  const Tensor new_softmax = run_op("Softmax", x, 13, 1);
  const float* o = old_softmax.data<float>();
  const float* n = new_softmax.data<float>();
  for (int64_t a = 0; a < 2; ++a) {
    double row = 0;
    for (int64_t j = 0; j < 12; ++j) row += o[a * 12 + j];
    EXPECT_NEAR(row, 1.0, 1e-5) << "opset 12, batch " << a;
    for (int64_t c = 0; c < 4; ++c) {
      double column = 0;
      for (int64_t b = 0; b < 3; ++b) column += n[(a * 3 + b) * 4 + c];
      EXPECT_NEAR(column, 1.0, 1e-5) << "opset 13, batch " << a << " column " << c;
    }
  }
  // Hardmax: opset 12 leaves a single 1 per batch entry, opset 13 one per column.
  double old_ones = 0, new_ones = 0;
  for (float v : to_floats(run_op("Hardmax", x, 12, 1))) old_ones += v;
  for (float v : to_floats(run_op("Hardmax", x, 13, 1))) new_ones += v;
  EXPECT_EQ(old_ones, 2);
  EXPECT_EQ(new_ones, 8);
}

TEST(SoftmaxOp, DefaultAxisIs1BeforeOpset13AndMinus1From13) {
  const Tensor x = random_float({2, 3, 4}, 5, -3.f, 3.f);
  for (const std::string op : {"Softmax", "LogSoftmax", "Hardmax"}) {
    for (int opset : {11, 12})
      EXPECT_TRUE(tensors_near(run_op(op, x, opset), naive_normalize3(op, x, kFlattenFromAxis1)))
          << op << " opset " << opset;
    for (int opset : {13, 17})
      EXPECT_TRUE(tensors_near(run_op(op, x, opset), naive_normalize3(op, x, kAxis2Single)))
          << op << " opset " << opset;
  }
}

TEST(SoftmaxOp, EveryAxisOnBothSidesOfOpset13) {
  const Tensor x = random_float({3, 4, 5}, 9, -2.f, 2.f);
  for (const std::string op : {"Softmax", "LogSoftmax", "Hardmax"}) {
    // Opset 13: one axis at a time, negative axes counted from the end.
    EXPECT_TRUE(tensors_near(run_op(op, x, 13, 0), naive_normalize3(op, x, kAxis0Single))) << op;
    EXPECT_TRUE(tensors_near(run_op(op, x, 13, -3), naive_normalize3(op, x, kAxis0Single))) << op;
    EXPECT_TRUE(tensors_near(run_op(op, x, 13, -2), naive_normalize3(op, x, kAxis1Single))) << op;
    // Opset 11/12: the flattened trailing block.
    EXPECT_TRUE(tensors_near(run_op(op, x, 11, 0), naive_normalize3(op, x, kFlattenFromAxis0))) << op;
    EXPECT_TRUE(tensors_near(run_op(op, x, 12, -2), naive_normalize3(op, x, kFlattenFromAxis1))) << op;
    // On the last axis both semantics coincide.
    EXPECT_TRUE(tensors_near(run_op(op, x, 12, 2), run_op(op, x, 13, 2))) << op;
    EXPECT_TRUE(tensors_near(run_op(op, x, 12, 2), naive_normalize3(op, x, kAxis2Single))) << op;
  }
}

TEST(SoftmaxOp, OnnxDocumentationExample) {
  const Tensor x = make_float({1, 3}, {-1, 0, 1});
  EXPECT_TRUE(tensors_near(run_op("Softmax", x, 13), make_float({1, 3}, {0.09003057f, 0.24472848f, 0.66524094f})));
  EXPECT_TRUE(
      tensors_near(run_op("LogSoftmax", x, 13), make_float({1, 3}, {-2.40760596f, -1.40760596f, -0.40760596f})));
  EXPECT_TRUE(tensors_near(run_op("Hardmax", x, 13), make_float({1, 3}, {0, 0, 1})));
}

TEST(SoftmaxOp, LargeInputsDoNotOverflow) {
  const Tensor x = make_float({2, 4}, {0, 1, 2, 3, 10000, 10001, 10002, 10003});
  const std::vector<float> softmax_row = {0.032058604f, 0.08714432f, 0.23688284f, 0.6439143f};
  const std::vector<float> log_softmax_row = {-3.4401897f, -2.4401897f, -1.4401897f, -0.44018972f};
  std::vector<float> softmax_expected = softmax_row, log_expected = log_softmax_row;
  softmax_expected.insert(softmax_expected.end(), softmax_row.begin(), softmax_row.end());
  log_expected.insert(log_expected.end(), log_softmax_row.begin(), log_softmax_row.end());
  EXPECT_TRUE(tensors_near(run_op("Softmax", x, 13), make_float({2, 4}, softmax_expected)));
  EXPECT_TRUE(tensors_near(run_op("LogSoftmax", x, 13), make_float({2, 4}, log_expected), 1e-4, 1e-5));
  EXPECT_TRUE(tensors_near(run_op("Softmax", x, 11), make_float({2, 4}, softmax_expected)));
}

TEST(SoftmaxOp, LogSoftmaxKeepsPrecisionWhereSoftmaxUnderflows) {
  const Tensor x = make_float({2}, {0, -200});
  const Tensor out = run_op("LogSoftmax", x, 13);
  EXPECT_NEAR(out.data<float>()[0], 0.0, 1e-6);
  EXPECT_NEAR(out.data<float>()[1], -200.0, 1e-3);  // log(exp(-200)) would be -inf in float
}

TEST(SoftmaxOp, HardmaxPicksTheFirstMaximumAndFirstNaN) {
  const Tensor ties = make_float({2, 4}, {1, 5, 5, 2, 7, 7, 7, 7});
  EXPECT_TRUE(tensors_near(run_op("Hardmax", ties, 13), make_float({2, 4}, {0, 1, 0, 0, 1, 0, 0, 0})));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor with_nan = make_float({4}, {1, nan, 3, nan});
  EXPECT_TRUE(tensors_near(run_op("Hardmax", with_nan, 13), make_float({4}, {0, 1, 0, 0})));
}

TEST(SoftmaxOp, NaNSpreadsOverItsLineOnly) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor x = make_float({2, 2}, {nan, 1, 0, 0});
  const Tensor out = run_op("Softmax", x, 13);
  EXPECT_TRUE(std::isnan(out.data<float>()[0]));
  EXPECT_TRUE(std::isnan(out.data<float>()[1]));
  EXPECT_FLOAT_EQ(out.data<float>()[2], 0.5f);
  EXPECT_FLOAT_EQ(out.data<float>()[3], 0.5f);
}

TEST(SoftmaxOp, EmptyTensorsPassThrough) {
  const Tensor x(DataType::kFLOAT, {2, 0, 3});
  EXPECT_EQ(run_op("Softmax", x, 13, 1).shape(), (Shape{2, 0, 3}));
  EXPECT_EQ(run_op("LogSoftmax", x, 12, 1).shape(), (Shape{2, 0, 3}));
}

TEST(SoftmaxOp, RejectsBadInputs) {
  const Tensor x = random_float({2, 3, 4}, 1);
  for (const std::string op : {"Softmax", "LogSoftmax", "Hardmax"}) {
    for (int opset : {11, 13}) {
      EXPECT_THROW(run_op(op, x, opset, 3), Error) << op;
      EXPECT_THROW(run_op(op, x, opset, -4), Error) << op;
    }
    EXPECT_THROW(run_op(op, make_int64({2}, {1, 2}), 13), Error) << op;
    EXPECT_THROW(run_op(op, make_float({}, {1}), 13), Error) << op;
    // Before opset 13 the default axis is 1, which a rank-1 input does not have.
    EXPECT_THROW(run_op(op, make_float({3}, {1, 2, 3}), 11), Error) << op;
    EXPECT_TRUE(tensors_near(run_op(op, make_float({3}, {1, 2, 3}), 11, 0), run_op(op, make_float({3}, {1, 2, 3}), 13)))
        << op;
  }
}

}  // namespace
}  // namespace kestrel::testing
