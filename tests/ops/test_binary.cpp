// Tests of the broadcasting element-wise operators. Broadcast results are checked against explicit
// index loops written in the test; scalar semantics against hand-computed tables.
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

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

template <typename T>
Tensor make_typed(DataType dtype, Shape shape, std::vector<T> values) {
  Tensor t(dtype, std::move(shape));
  EXPECT_EQ(size_t(t.numel()), values.size());
  EXPECT_EQ(sizeof(T), dtype_size(dtype));
  if (!values.empty()) std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

Tensor run_binary(const std::string& op, const Tensor& a, const Tensor& b, int opset = 17) {
  return run_one(make_node(op, 2, 1, opset), {&a, &b});
}

// ---- Broadcasting -----------------------------------------------------------------------------------

TEST(ElementwiseBroadcast, ThreeDimsAgainstTwo) {
  // [2,1,3] op [4,1] -> [2,4,3]: out[i][j][k] = a[i][0][k] op b[j][0].
  const Tensor a = random_float({2, 1, 3}, 1);
  const Tensor b = random_float({4, 1}, 2, 0.5f, 2.f);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  std::vector<float> sum, difference, product, quotient;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 3; ++k) {
        const float x = pa[i * 3 + k], y = pb[j];
        sum.push_back(x + y);
        difference.push_back(x - y);
        product.push_back(x * y);
        quotient.push_back(x / y);
      }
  EXPECT_TRUE(tensors_near(run_binary("Add", a, b), make_float({2, 4, 3}, sum)));
  EXPECT_TRUE(tensors_near(run_binary("Sub", a, b), make_float({2, 4, 3}, difference)));
  EXPECT_TRUE(tensors_near(run_binary("Mul", a, b), make_float({2, 4, 3}, product)));
  EXPECT_TRUE(tensors_near(run_binary("Div", a, b), make_float({2, 4, 3}, quotient)));
}

TEST(ElementwiseBroadcast, BothSidesBroadcastInTheMiddle) {
  // [3,1,2] op [1,4,1] -> [3,4,2]
  const Tensor a = random_float({3, 1, 2}, 3);
  const Tensor b = random_float({1, 4, 1}, 4);
  std::vector<float> expected;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 2; ++k) expected.push_back(a.data<float>()[i * 2 + k] - b.data<float>()[j]);
  EXPECT_TRUE(tensors_near(run_binary("Sub", a, b), make_float({3, 4, 2}, expected)));
  // Swapping the operands swaps the broadcast roles.
  for (float& v : expected) v = -v;
  EXPECT_TRUE(tensors_near(run_binary("Sub", b, a), make_float({3, 4, 2}, expected)));
}

TEST(ElementwiseBroadcast, ScalarsAndEmptyTensors) {
  const Tensor scalar = make_float({}, {10.f});
  const Tensor v = make_float({3}, {1.f, 2.f, 3.f});
  EXPECT_TRUE(tensors_near(run_binary("Add", scalar, v), make_float({3}, {11.f, 12.f, 13.f})));
  EXPECT_TRUE(tensors_near(run_binary("Sub", v, scalar), make_float({3}, {-9.f, -8.f, -7.f})));
  const Tensor s2 = run_binary("Mul", scalar, scalar);
  EXPECT_EQ(s2.shape(), Shape{});
  EXPECT_EQ(to_floats(s2), std::vector<float>{100.f});

  const Tensor empty(DataType::kFLOAT, {0, 3});  // (make_float memcpys from a null pointer when empty)
  EXPECT_EQ(run_binary("Add", empty, v).shape(), (Shape{0, 3}));
  const Tensor column = make_float({2, 1}, {1.f, 2.f});
  EXPECT_THROW(run_binary("Add", empty, column), Error);  // 0 vs 2
}

TEST(ElementwiseBroadcast, IncompatibleShapesAndTypesAreRejected) {
  const Tensor a = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor b = make_float({2}, {1, 2});
  EXPECT_THROW(run_binary("Add", a, b), Error);
  const Tensor i = make_int64({3}, {1, 2, 3});
  EXPECT_THROW(run_binary("Mul", a, i), Error);
  const Tensor flags = make_bool({3}, {true, false, true});
  EXPECT_THROW(run_binary("Add", flags, flags), Error);
}

// ---- Arithmetic -------------------------------------------------------------------------------------

TEST(ElementwiseArithmetic, IntegerTypesKeepTheirType) {
  const Tensor a = make_int64({2, 2}, {7, -7, 100, 0});
  const Tensor b = make_int64({2}, {2, -3});
  const Tensor sum = run_binary("Add", a, b);
  EXPECT_EQ(sum.dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(sum), (std::vector<int64_t>{9, -10, 102, -3}));
  EXPECT_EQ(to_ints(run_binary("Sub", a, b)), (std::vector<int64_t>{5, -4, 98, 3}));
  EXPECT_EQ(to_ints(run_binary("Mul", a, b)), (std::vector<int64_t>{14, 21, 200, 0}));

  const Tensor i32 = run_binary("Add", make_int32({2}, {std::numeric_limits<int32_t>::max(), 1}), make_int32({}, {1}));
  EXPECT_EQ(i32.dtype(), DataType::kINT32);
  EXPECT_EQ(to_ints(i32), (std::vector<int64_t>{std::numeric_limits<int32_t>::min(), 2}));  // wraps

  const Tensor u8a = make_typed<uint8_t>(DataType::kUINT8, {3}, {5, 200, 17});
  const Tensor u8b = make_typed<uint8_t>(DataType::kUINT8, {3}, {10, 100, 4});
  EXPECT_EQ(to_ints(run_binary("Sub", u8a, u8b)), (std::vector<int64_t>{251, 100, 13}));
  EXPECT_EQ(to_ints(run_binary("Add", u8a, u8b)), (std::vector<int64_t>{15, 44, 21}));
  EXPECT_EQ(to_ints(run_binary("Div", u8a, u8b)), (std::vector<int64_t>{0, 2, 4}));
}

TEST(ElementwiseArithmetic, IntegerDivisionTruncatesTowardZero) {
  const Tensor a = make_int64({6}, {7, -7, 7, -7, 1, 5});
  const Tensor b = make_int64({6}, {2, 2, -2, -2, 3, 0});
  // Division by zero gives 0, as numpy does, instead of trapping.
  EXPECT_EQ(to_ints(run_binary("Div", a, b)), (std::vector<int64_t>{3, -3, -3, 3, 0, 0}));
  const Tensor a8 = make_typed<int8_t>(DataType::kINT8, {2}, {-128, -9});
  const Tensor b8 = make_typed<int8_t>(DataType::kINT8, {2}, {-1, 4});
  EXPECT_EQ(to_ints(run_binary("Div", a8, b8)), (std::vector<int64_t>{-128, -2}));
  EXPECT_EQ(to_ints(run_binary("Div", make_int32({2}, {-9, 9}), make_int32({1}, {4}))), (std::vector<int64_t>{-2, 2}));
}

TEST(ElementwiseArithmetic, FloatDivisionFollowsIeee) {
  const Tensor a = make_float({3}, {1.f, -1.f, 0.f});
  const Tensor zero = make_float({}, {0.f});
  const std::vector<float> y = to_floats(run_binary("Div", a, zero));
  EXPECT_TRUE(std::isinf(y[0]) && y[0] > 0);
  EXPECT_TRUE(std::isinf(y[1]) && y[1] < 0);
  EXPECT_TRUE(std::isnan(y[2]));
}

TEST(ElementwiseArithmetic, ModIntegerTakesTheDivisorsSign) {
  const Tensor a = make_int64({6}, {-4, 7, 5, 4, -7, 8});
  const Tensor b = make_int64({6}, {2, -3, 8, -2, 3, 5});
  EXPECT_EQ(to_ints(run_binary("Mod", a, b, 13)), (std::vector<int64_t>{0, -2, 5, 0, 2, 3}));
  ir::Node c_mod = make_node("Mod", 2, 1, 13);
  c_mod.attrs.set("fmod", int64_t(1));
  EXPECT_EQ(to_ints(run_one(c_mod, {&a, &b})), (std::vector<int64_t>{0, 1, 5, 0, -1, 3}));

  const Tensor a8 = make_typed<int8_t>(DataType::kINT8, {3}, {-7, 7, -128});
  const Tensor b8 = make_typed<int8_t>(DataType::kINT8, {3}, {3, -3, -1});
  const Tensor m8 = run_binary("Mod", a8, b8, 13);
  EXPECT_EQ(m8.dtype(), DataType::kINT8);
  EXPECT_EQ(to_ints(m8), (std::vector<int64_t>{2, -2, 0}));
  const Tensor u8a = make_typed<uint8_t>(DataType::kUINT8, {2}, {250, 9});
  const Tensor u8b = make_typed<uint8_t>(DataType::kUINT8, {1}, {7});
  EXPECT_EQ(to_ints(run_binary("Mod", u8a, u8b, 13)), (std::vector<int64_t>{5, 2}));
}

TEST(ElementwiseArithmetic, ModFloat) {
  const Tensor a = make_float({6}, {-4.3f, 7.2f, 5.f, 4.3f, -7.2f, 8.f});
  const Tensor b = make_float({6}, {2.1f, -3.4f, 8.f, -2.1f, 3.4f, 5.f});
  ir::Node c_mod = make_node("Mod", 2, 1, 13);
  c_mod.attrs.set("fmod", int64_t(1));
  std::vector<float> fmod_expected, mod_expected;
  for (int i = 0; i < 6; ++i) {
    const float x = a.data<float>()[i], y = b.data<float>()[i];
    fmod_expected.push_back(std::fmod(x, y));
    mod_expected.push_back(x - std::floor(double(x) / y) * y);  // numpy.mod's definition
  }
  EXPECT_TRUE(tensors_near(run_one(c_mod, {&a, &b}), make_float({6}, fmod_expected), 0, 0));
  EXPECT_TRUE(tensors_near(run_one(c_mod, {&a, &b}),
                           make_float({6}, {-0.10000038f, 0.39999962f, 5.f, 0.10000038f, -0.39999962f, 3.f}), 1e-7, 0));
  // fmod=0 on floats is outside the spec but accepted, with numpy.mod semantics.
  EXPECT_TRUE(tensors_near(run_binary("Mod", a, b, 13), make_float({6}, mod_expected), 1e-6, 1e-6));

  c_mod.attrs.set("fmod", int64_t(2));
  EXPECT_THROW(run_one(c_mod, {&a, &b}), Error);
}

TEST(ElementwiseArithmetic, PowFloatBase) {
  const Tensor base = make_float({2, 3}, {1.f, 2.f, 3.f, -2.f, 0.5f, 4.f});
  const Tensor exponent = make_float({3}, {2.f, 0.5f, -1.f});
  std::vector<float> expected;
  for (int i = 0; i < 6; ++i) expected.push_back(std::pow(base.data<float>()[i], exponent.data<float>()[i % 3]));
  const Tensor y = run_binary("Pow", base, exponent, 15);
  EXPECT_TRUE(tensors_near(y, make_float({2, 3}, expected)));
  // A negative base with a fractional exponent has no real power.
  const Tensor neg = make_float({1}, {-2.f});
  const Tensor half = make_float({1}, {0.5f});
  EXPECT_TRUE(std::isnan(to_floats(run_binary("Pow", neg, half))[0]));

  // Integer exponent, float result.
  const Tensor int_exponent = make_int64({}, {3});
  const Tensor cubed = run_binary("Pow", base, int_exponent, 15);
  EXPECT_EQ(cubed.dtype(), DataType::kFLOAT);
  EXPECT_TRUE(tensors_near(cubed, make_float({2, 3}, {1.f, 8.f, 27.f, -8.f, 0.125f, 64.f})));
}

TEST(ElementwiseArithmetic, PowIntegerBase) {
  const Tensor base = make_int32({3}, {1, 2, 3});
  const Tensor float_exponent = make_float({3}, {4.f, 5.f, 6.f});
  const Tensor y = run_binary("Pow", base, float_exponent, 15);
  EXPECT_EQ(y.dtype(), DataType::kINT32);
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{1, 32, 729}));
  const Tensor root = make_float({}, {0.5f});
  EXPECT_EQ(to_ints(run_binary("Pow", make_int32({3}, {4, 8, 2}), root, 15)), (std::vector<int64_t>{2, 2, 1}));

  const Tensor b64 = make_int64({5}, {2, -3, 2, -1, 1});
  const Tensor e64 = make_int64({5}, {10, 3, -1, -3, -2});
  EXPECT_EQ(to_ints(run_binary("Pow", b64, e64, 15)), (std::vector<int64_t>{1024, -27, 0, -1, 1}));
  const Tensor big = make_int64({1}, {3});
  const Tensor e40 = make_int64({1}, {39});
  EXPECT_EQ(to_ints(run_binary("Pow", big, e40, 15)), (std::vector<int64_t>{4052555153018976267}));

  EXPECT_THROW(run_binary("Pow", make_bool({1}, {true}), e40), Error);
}

// ---- Variadic ---------------------------------------------------------------------------------------

TEST(ElementwiseVariadic, ThreeInputsBroadcast) {
  const Tensor a = make_float({2, 3}, {1.f, 5.f, -2.f, 0.f, 8.f, 3.f});
  const Tensor b = make_float({3}, {2.f, 2.f, 2.f});
  const Tensor c = make_float({2, 1}, {-1.f, 4.f});
  std::vector<float> sum, mean, lowest, highest;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      const float x = a.data<float>()[i * 3 + j], y = b.data<float>()[j], z = c.data<float>()[i];
      sum.push_back(x + y + z);
      mean.push_back((x + y + z) / 3.f);
      lowest.push_back(std::min({x, y, z}));
      highest.push_back(std::max({x, y, z}));
    }
  const ir::Node sum_node = make_node("Sum", 3);
  EXPECT_TRUE(tensors_near(run_one(sum_node, {&a, &b, &c}), make_float({2, 3}, sum)));
  EXPECT_TRUE(tensors_near(run_one(make_node("Mean", 3), {&a, &b, &c}), make_float({2, 3}, mean)));
  EXPECT_TRUE(tensors_near(run_one(make_node("Min", 3), {&a, &b, &c}), make_float({2, 3}, lowest)));
  EXPECT_TRUE(tensors_near(run_one(make_node("Max", 3), {&a, &b, &c}), make_float({2, 3}, highest)));
  // The broadcast output can be bigger than every input.
  EXPECT_EQ(run_one(make_node("Sum", 2), {&b, &c}).shape(), (Shape{2, 3}));
}

TEST(ElementwiseVariadic, SingleInputIsCopied) {
  const Tensor a = make_float({2, 2}, {1.f, -2.f, 3.f, -4.f});
  for (const char* op : {"Sum", "Mean", "Min", "Max"}) {
    SCOPED_TRACE(op);
    EXPECT_TRUE(tensors_near(run_one(make_node(op, 1), {&a}), a, 0, 0));
  }
}

TEST(ElementwiseVariadic, IntegerMinMaxAndNaN) {
  const Tensor a = make_int64({3}, {5, -1, 7});
  const Tensor b = make_int64({}, {3});
  const Tensor lo = run_one(make_node("Min", 2), {&a, &b});
  EXPECT_EQ(lo.dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(lo), (std::vector<int64_t>{3, -1, 3}));
  EXPECT_EQ(to_ints(run_one(make_node("Max", 2), {&a, &b})), (std::vector<int64_t>{5, 3, 7}));
  const Tensor u = make_typed<uint8_t>(DataType::kUINT8, {2}, {200, 3});
  const Tensor v = make_typed<uint8_t>(DataType::kUINT8, {2}, {100, 50});
  EXPECT_EQ(to_ints(run_one(make_node("Max", 2), {&u, &v})), (std::vector<int64_t>{200, 50}));
  EXPECT_EQ(to_ints(run_one(make_node("Sum", 2), {&a, &b})), (std::vector<int64_t>{8, 2, 10}));

  const Tensor f = make_float({2}, {kNaN, 1.f});
  const Tensor g = make_float({2}, {0.f, kNaN});
  EXPECT_TRUE(tensors_near(run_one(make_node("Max", 2), {&f, &g}), make_float({2}, {kNaN, kNaN})));
  EXPECT_TRUE(tensors_near(run_one(make_node("Min", 2), {&f, &g}), make_float({2}, {kNaN, kNaN})));
}

TEST(ElementwiseVariadic, RejectsMixedTypesAndIntegerMean) {
  const Tensor a = make_float({2}, {1.f, 2.f});
  const Tensor i = make_int64({2}, {1, 2});
  EXPECT_THROW(run_one(make_node("Sum", 2), {&a, &i}), Error);
  EXPECT_THROW(run_one(make_node("Mean", 2), {&i, &i}), Error);
  EXPECT_THROW(run_one(make_node("Max", 0), {}), Error);
}

// ---- Comparisons and logic --------------------------------------------------------------------------

TEST(ElementwiseCompare, FloatComparisonsBroadcast) {
  const Tensor a = make_float({2, 3}, {1.f, 2.f, 3.f, 4.f, 5.f, kNaN});
  const Tensor b = make_float({3}, {2.f, 2.f, 2.f});
  struct Case {
    const char* op;
    std::vector<int64_t> expected;
  };
  const std::vector<Case> cases = {
      {"Equal", {0, 1, 0, 0, 0, 0}},          {"Less", {1, 0, 0, 0, 0, 0}},
      {"LessOrEqual", {1, 1, 0, 0, 0, 0}},    {"Greater", {0, 0, 1, 1, 1, 0}},
      {"GreaterOrEqual", {0, 1, 1, 1, 1, 0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    const Tensor y = run_binary(c.op, a, b, 16);
    EXPECT_EQ(y.dtype(), DataType::kBOOL);
    EXPECT_EQ(y.shape(), (Shape{2, 3}));
    EXPECT_EQ(to_ints(y), c.expected);
  }
}

TEST(ElementwiseCompare, IntegerAndBoolComparisons) {
  const Tensor a = make_int64({2, 1}, {-1, 5});
  const Tensor b = make_int64({3}, {-1, 0, 5});
  EXPECT_EQ(to_ints(run_binary("Equal", a, b)), (std::vector<int64_t>{1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(to_ints(run_binary("Less", a, b)), (std::vector<int64_t>{0, 1, 1, 0, 0, 0}));
  const Tensor u = make_typed<uint8_t>(DataType::kUINT8, {2}, {0, 255});
  const Tensor w = make_typed<uint8_t>(DataType::kUINT8, {1}, {128});
  EXPECT_EQ(to_ints(run_binary("Greater", u, w)), (std::vector<int64_t>{0, 1}));
  const Tensor p = make_bool({4}, {true, true, false, false});
  const Tensor q = make_bool({4}, {true, false, true, false});
  EXPECT_EQ(to_ints(run_binary("Equal", p, q)), (std::vector<int64_t>{1, 0, 0, 1}));
  EXPECT_THROW(run_binary("Less", p, q), Error);  // ordering of bools is not defined by the spec
  EXPECT_THROW(run_binary("Equal", a, make_float({1}, {1.f})), Error);
}

TEST(ElementwiseLogic, AndOrXorBroadcast) {
  const Tensor p = make_bool({2, 2}, {true, true, false, false});
  const Tensor q = make_bool({2}, {true, false});
  const Tensor conj = run_binary("And", p, q);
  EXPECT_EQ(conj.dtype(), DataType::kBOOL);
  EXPECT_EQ(to_ints(conj), (std::vector<int64_t>{1, 0, 0, 0}));
  EXPECT_EQ(to_ints(run_binary("Or", p, q)), (std::vector<int64_t>{1, 1, 1, 0}));
  EXPECT_EQ(to_ints(run_binary("Xor", p, q)), (std::vector<int64_t>{0, 1, 1, 0}));
  const Tensor column = make_bool({2, 1}, {false, true});
  EXPECT_EQ(to_ints(run_binary("Or", column, q)), (std::vector<int64_t>{1, 0, 1, 1}));
  EXPECT_THROW(run_binary("And", make_int64({1}, {1}), make_int64({1}, {1})), Error);
}

// ---- Where and PRelu --------------------------------------------------------------------------------

TEST(ElementwiseWhere, BroadcastsThreeWays) {
  const Tensor condition = make_bool({2, 1}, {true, false});
  const Tensor x = make_float({1, 3}, {1.f, 2.f, 3.f});
  const Tensor y = make_float({}, {-1.f});
  const Tensor out = run_one(make_node("Where", 3, 1, 16), {&condition, &x, &y});
  EXPECT_TRUE(tensors_near(out, make_float({2, 3}, {1.f, 2.f, 3.f, -1.f, -1.f, -1.f}), 0, 0));

  const Tensor mask = make_bool({3}, {false, true, false});
  const Tensor xi = make_int64({2, 1}, {10, 20});
  const Tensor yi = make_int64({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor outi = run_one(make_node("Where", 3, 1, 9), {&mask, &xi, &yi});
  EXPECT_EQ(outi.dtype(), DataType::kINT64);
  EXPECT_EQ(to_ints(outi), (std::vector<int64_t>{1, 10, 3, 4, 20, 6}));

  const Tensor bx = make_bool({1}, {true});
  const Tensor by = make_bool({3}, {false, false, false});
  EXPECT_EQ(to_ints(run_one(make_node("Where", 3), {&mask, &bx, &by})), (std::vector<int64_t>{0, 1, 0}));
}

TEST(ElementwiseWhere, RejectsBadTypesAndShapes) {
  const Tensor mask = make_bool({2}, {true, false});
  const Tensor x = make_float({2}, {1.f, 2.f});
  const Tensor xi = make_int64({2}, {1, 2});
  const Tensor wide = make_float({3}, {1.f, 2.f, 3.f});
  EXPECT_THROW(run_one(make_node("Where", 3), {&x, &x, &x}), Error);     // condition must be bool
  EXPECT_THROW(run_one(make_node("Where", 3), {&mask, &x, &xi}), Error);  // x and y differ
  EXPECT_THROW(run_one(make_node("Where", 3), {&mask, &x, &wide}), Error);
}

TEST(ElementwisePRelu, SlopeBroadcastsToInput) {
  // Per-channel slope [C,1,1] against [N,C,H,W].
  const Tensor x = make_float({1, 2, 2, 2}, {-1.f, 2.f, -3.f, 4.f, -5.f, 6.f, -7.f, 0.f});
  const Tensor slope = make_float({2, 1, 1}, {0.1f, 0.5f});
  EXPECT_TRUE(tensors_near(run_binary("PRelu", x, slope, 16),
                           make_float({1, 2, 2, 2}, {-0.1f, 2.f, -0.3f, 4.f, -2.5f, 6.f, -3.5f, 0.f})));
  // Trailing-axis slope, as in the ONNX example.
  const Tensor x3 = random_float({3, 4, 5}, 11);
  const Tensor slope5 = random_float({5}, 12);
  std::vector<float> expected;
  for (int i = 0; i < 60; ++i) {
    const float v = x3.data<float>()[i];
    expected.push_back(v < 0 ? v * slope5.data<float>()[i % 5] : v);
  }
  EXPECT_TRUE(tensors_near(run_binary("PRelu", x3, slope5, 9), make_float({3, 4, 5}, expected)));
  const Tensor xi = make_int64({3}, {-4, 0, 4});
  const Tensor si = make_int64({}, {3});
  EXPECT_EQ(to_ints(run_binary("PRelu", xi, si, 16)), (std::vector<int64_t>{-12, 0, 4}));
}

TEST(ElementwisePRelu, SlopeMustNotGrowTheOutput) {
  const Tensor x = make_float({2, 1}, {1.f, -1.f});
  const Tensor slope = make_float({3}, {0.1f, 0.2f, 0.3f});
  EXPECT_THROW(run_binary("PRelu", x, slope), Error);
  const Tensor bad = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor slope4 = make_float({4}, {1, 2, 3, 4});
  EXPECT_THROW(run_binary("PRelu", bad, slope4), Error);
  EXPECT_THROW(run_binary("PRelu", bad, make_int64({1}, {1})), Error);
}

}  // namespace
}  // namespace kestrel::testing
