// Tests of the element-wise unary operators: expected values come from hand-computed tables or from
// straightforward float formulas written out here, independent of the kernels.
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/fp16.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

template <typename T>
Tensor make_typed(DataType dtype, Shape shape, std::vector<T> values) {
  Tensor t(dtype, std::move(shape));
  EXPECT_EQ(size_t(t.numel()), values.size());
  EXPECT_EQ(sizeof(T), dtype_size(dtype));
  if (!values.empty()) std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

Tensor run_unary(const std::string& op, const Tensor& x, int opset = 17) {
  return run_one(make_node(op, 1, 1, opset), {&x});
}

// Applies a float formula element by element to build the expected tensor.
Tensor expected_from(const Tensor& x, const std::function<float(float)>& formula) {
  std::vector<float> values = to_floats(x);
  for (float& v : values) v = formula(v);
  return make_float(x.shape(), values);
}

// Like tensors_near but also accepts equal infinities (inf - inf is NaN, which tensors_near rejects).
::testing::AssertionResult floats_match(const Tensor& actual, const std::vector<float>& expected) {
  if (actual.dtype() != DataType::kFLOAT || size_t(actual.numel()) != expected.size())
    return ::testing::AssertionFailure() << "expected " << expected.size() << " float32 values";
  for (size_t i = 0; i < expected.size(); ++i) {
    const float a = actual.data<float>()[i], e = expected[i];
    if (a == e || (std::isnan(a) && std::isnan(e))) continue;
    if (std::isinf(a) || std::isinf(e) || !(std::fabs(a - e) <= 1e-6f * (1.f + std::fabs(e))))
      return ::testing::AssertionFailure() << "element " << i << ": " << a << " != expected " << e;
  }
  return ::testing::AssertionSuccess();
}

const Tensor& sample_inputs() {
  static const Tensor x = make_float({2, 5}, {-20.f, -3.f, -1.f, -0.5f, 0.f, 0.25f, 1.f, 2.5f, 7.f, 30.f});
  return x;
}

TEST(ElementwiseUnary, MathFunctionsMatchTheirFormulas) {
  const Tensor positive = make_float({6}, {0.01f, 0.5f, 1.f, 2.f, 10.f, 1000.f});
  struct Case {
    const char* op;
    const Tensor* input;
    std::function<float(float)> formula;
  };
  const std::vector<Case> cases = {
      {"Tanh", &sample_inputs(), [](float v) { return std::tanh(v); }},
      {"Exp", &sample_inputs(), [](float v) { return std::exp(v); }},
      {"Erf", &sample_inputs(), [](float v) { return std::erf(v); }},
      {"Sin", &sample_inputs(), [](float v) { return std::sin(v); }},
      {"Cos", &sample_inputs(), [](float v) { return std::cos(v); }},
      {"Floor", &sample_inputs(), [](float v) { return std::floor(v); }},
      {"Ceil", &sample_inputs(), [](float v) { return std::ceil(v); }},
      {"Softsign", &sample_inputs(), [](float v) { return v / (1.f + std::fabs(v)); }},
      {"Sigmoid", &sample_inputs(), [](float v) { return 1.f / (1.f + std::exp(-v)); }},
      {"Sqrt", &positive, [](float v) { return std::sqrt(v); }},
      {"Log", &positive, [](float v) { return std::log(v); }},
      {"Reciprocal", &positive, [](float v) { return 1.f / v; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.op);
    EXPECT_TRUE(tensors_near(run_unary(c.op, *c.input), expected_from(*c.input, c.formula), 1e-6, 1e-6));
  }
}

TEST(ElementwiseUnary, SoftplusStaysFiniteForLargeInputs) {
  const Tensor x = make_float({5}, {-100.f, -1.f, 0.f, 1.f, 100.f});
  const Tensor expected = make_float({5}, {3.720076e-44f, 0.31326169f, 0.69314718f, 1.31326169f, 100.f});
  EXPECT_TRUE(tensors_near(run_unary("Softplus", x), expected, 1e-6, 1e-6));
}

TEST(ElementwiseUnary, SigmoidHandlesLargeMagnitudes) {
  const Tensor x = make_float({4}, {-200.f, -20.f, 20.f, 200.f});
  const Tensor expected = make_float({4}, {0.f, 2.0611537e-09f, 1.f, 1.f});
  EXPECT_TRUE(tensors_near(run_unary("Sigmoid", x), expected, 1e-12, 1e-6));
}

TEST(ElementwiseUnary, MathOfSpecialValues) {
  const Tensor x = make_float({3}, {-1.f, 0.f, kInf});
  EXPECT_TRUE(floats_match(run_unary("Log", x), {kNaN, -kInf, kInf}));
  EXPECT_TRUE(floats_match(run_unary("Sqrt", x), {kNaN, 0.f, kInf}));
  EXPECT_TRUE(floats_match(run_unary("Reciprocal", x), {-1.f, kInf, 0.f}));
  EXPECT_FALSE(floats_match(run_unary("Reciprocal", x), {-1.f, -kInf, 0.f}));
}

TEST(ElementwiseUnary, ReluKeepsPositivesForFloatAndIntegers) {
  EXPECT_TRUE(tensors_near(run_unary("Relu", make_float({4}, {-2.f, -0.f, 0.5f, 3.f})),
                           make_float({4}, {0.f, 0.f, 0.5f, 3.f})));
  const Tensor ints = make_typed<int32_t>(DataType::kINT32, {2, 2}, {-5, 0, 7, -1});
  const Tensor y = run_unary("Relu", ints);
  EXPECT_EQ(y.dtype(), DataType::kINT32);
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{0, 0, 7, 0}));
  EXPECT_TRUE(std::isnan(to_floats(run_unary("Relu", make_float({1}, {kNaN})))[0]));
}

TEST(ElementwiseUnary, LeakyReluUsesAlpha) {
  const Tensor x = make_float({4}, {-10.f, -1.f, 0.f, 2.f});
  EXPECT_TRUE(tensors_near(run_unary("LeakyRelu", x), make_float({4}, {-0.1f, -0.01f, 0.f, 2.f})));
  ir::Node node = make_node("LeakyRelu", 1);
  node.attrs.set("alpha", 0.5f);
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({4}, {-5.f, -0.5f, 0.f, 2.f})));
}

TEST(ElementwiseUnary, EluAndSelu) {
  const Tensor x = make_float({4}, {-2.f, -0.5f, 0.f, 1.5f});
  EXPECT_TRUE(tensors_near(run_unary("Elu", x), expected_from(x, [](float v) { return v < 0 ? std::exp(v) - 1 : v; })));
  ir::Node elu = make_node("Elu", 1);
  elu.attrs.set("alpha", 2.f);
  EXPECT_TRUE(tensors_near(run_one(elu, {&x}), expected_from(x, [](float v) { return v < 0 ? 2 * (std::exp(v) - 1) : v; })));

  const float alpha = 1.6732632423543772f, gamma = 1.0507009873554805f;
  EXPECT_TRUE(tensors_near(run_unary("Selu", x), expected_from(x, [&](float v) {
                             return v > 0 ? gamma * v : gamma * (alpha * std::exp(v) - alpha);
                           })));
  ir::Node selu = make_node("Selu", 1);
  selu.attrs.set("alpha", 2.f);
  selu.attrs.set("gamma", 3.f);
  EXPECT_TRUE(tensors_near(run_one(selu, {&x}), expected_from(x, [](float v) {
                             return v > 0 ? 3 * v : 3 * (2 * std::exp(v) - 2);
                           })));
}

TEST(ElementwiseUnary, HardSigmoidAndHardSwish) {
  const Tensor x = make_float({6}, {-5.f, -3.f, -1.f, 0.f, 1.f, 4.f});
  EXPECT_TRUE(tensors_near(run_unary("HardSigmoid", x), make_float({6}, {0.f, 0.f, 0.3f, 0.5f, 0.7f, 1.f})));
  ir::Node node = make_node("HardSigmoid", 1);
  node.attrs.set("alpha", 0.5f);
  node.attrs.set("beta", 0.25f);
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({6}, {0.f, 0.f, 0.f, 0.25f, 0.75f, 1.f})));
  // x * clamp(x/6 + 1/2, 0, 1)
  EXPECT_TRUE(tensors_near(run_unary("HardSwish", x),
                           make_float({6}, {0.f, 0.f, -1.f / 3.f, 0.f, 2.f / 3.f, 4.f})));
}

TEST(ElementwiseUnary, GeluExactAndTanhApproximation) {
  const Tensor x = make_float({5}, {-3.f, -1.f, 0.f, 1.f, 3.f});
  const Tensor exact = make_float({5}, {-0.0040496985f, -0.15865525f, 0.f, 0.84134475f, 2.9959503f});
  EXPECT_TRUE(tensors_near(run_unary("Gelu", x, 20), exact, 1e-6, 1e-6));
  EXPECT_TRUE(tensors_near(run_unary("Gelu", x, 13), exact, 1e-6, 1e-6));  // accepted before opset 20 too

  ir::Node node = make_node("Gelu", 1, 1, 20);
  node.attrs.set("approximate", std::string("tanh"));
  const Tensor approx = expected_from(x, [](float v) {
    return 0.5f * v * (1.f + std::tanh(0.7978845608f * (v + 0.044715f * v * v * v)));
  });
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), approx, 1e-6, 1e-6));
  EXPECT_FALSE(tensors_near(run_one(node, {&x}), exact, 1e-6, 1e-6));  // the approximation is observable

  node.attrs.set("approximate", std::string("fast"));
  EXPECT_THROW(run_one(node, {&x}), Error);
}

TEST(ElementwiseUnary, RoundHalvesToEven) {
  const Tensor x = make_float({10}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 2.4f, -2.6f, 0.49999997f, 3.f});
  EXPECT_TRUE(tensors_near(run_unary("Round", x), make_float({10}, {0.f, 2.f, 2.f, -0.f, -2.f, -2.f, 2.f, -3.f, 0.f, 3.f})));
}

TEST(ElementwiseUnary, NegAbsSignOnFloatsAndIntegers) {
  const Tensor f = make_float({5}, {-2.5f, -0.f, 0.f, 3.f, kNaN});
  EXPECT_TRUE(tensors_near(run_unary("Neg", f), make_float({5}, {2.5f, 0.f, -0.f, -3.f, kNaN})));
  EXPECT_TRUE(tensors_near(run_unary("Abs", f), make_float({5}, {2.5f, 0.f, 0.f, 3.f, kNaN})));
  EXPECT_TRUE(tensors_near(run_unary("Sign", f), make_float({5}, {-1.f, 0.f, 0.f, 1.f, kNaN})));

  const Tensor i = make_int64({4}, {-7, 0, 5, std::numeric_limits<int64_t>::min()});
  EXPECT_EQ(to_ints(run_unary("Neg", i)), (std::vector<int64_t>{7, 0, -5, std::numeric_limits<int64_t>::min()}));
  EXPECT_EQ(to_ints(run_unary("Abs", i)), (std::vector<int64_t>{7, 0, 5, std::numeric_limits<int64_t>::min()}));
  EXPECT_EQ(to_ints(run_unary("Sign", i)), (std::vector<int64_t>{-1, 0, 1, -1}));

  const Tensor i8 = make_typed<int8_t>(DataType::kINT8, {3}, {-128, -3, 4});
  const Tensor neg8 = run_unary("Neg", i8);
  EXPECT_EQ(neg8.dtype(), DataType::kINT8);
  EXPECT_EQ(to_ints(neg8), (std::vector<int64_t>{-128, 3, -4}));

  const Tensor u8 = make_typed<uint8_t>(DataType::kUINT8, {3}, {0, 1, 200});
  EXPECT_EQ(to_ints(run_unary("Abs", u8)), (std::vector<int64_t>{0, 1, 200}));
  EXPECT_EQ(to_ints(run_unary("Sign", u8)), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_THROW(run_unary("Neg", u8), Error);  // unsigned negation is not in the spec
}

TEST(ElementwiseUnary, FloatOnlyOpsRejectIntegers) {
  const Tensor i = make_int64({2}, {1, 2});
  for (const char* op : {"Sigmoid", "Tanh", "Sqrt", "Exp", "Erf", "Gelu", "Floor", "IsNaN", "HardSwish"}) {
    SCOPED_TRACE(op);
    EXPECT_THROW(run_unary(op, i), Error);
  }
}

TEST(ElementwiseUnary, NotIsNaNIsInf) {
  const Tensor b = make_bool({2, 2}, {true, false, false, true});
  const Tensor not_b = run_unary("Not", b);
  EXPECT_EQ(not_b.dtype(), DataType::kBOOL);
  EXPECT_EQ(not_b.shape(), (Shape{2, 2}));
  EXPECT_EQ(to_ints(not_b), (std::vector<int64_t>{0, 1, 1, 0}));
  EXPECT_THROW(run_unary("Not", make_float({1}, {1.f})), Error);

  const Tensor x = make_float({6}, {-1.7f, kNaN, kInf, -3.6f, -kInf, kInf});
  const Tensor nan = run_unary("IsNaN", x);
  EXPECT_EQ(nan.dtype(), DataType::kBOOL);
  EXPECT_EQ(to_ints(nan), (std::vector<int64_t>{0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(to_ints(run_unary("IsInf", x)), (std::vector<int64_t>{0, 0, 1, 0, 1, 1}));

  ir::Node only_negative = make_node("IsInf", 1);
  only_negative.attrs.set("detect_positive", int64_t(0));
  EXPECT_EQ(to_ints(run_one(only_negative, {&x})), (std::vector<int64_t>{0, 0, 0, 0, 1, 0}));
  ir::Node only_positive = make_node("IsInf", 1);
  only_positive.attrs.set("detect_negative", int64_t(0));
  EXPECT_EQ(to_ints(run_one(only_positive, {&x})), (std::vector<int64_t>{0, 0, 1, 0, 0, 1}));
}

TEST(ElementwiseUnary, IdentityCopiesAnyDtype) {
  const Tensor i = make_int64({2, 1}, {-3, 9});
  const Tensor y = run_unary("Identity", i);
  EXPECT_EQ(y.dtype(), DataType::kINT64);
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{-3, 9}));

  const Tensor h = make_typed<Half>(DataType::kHALF, {2}, {float_to_half(1.5f), float_to_half(-2.f)});
  EXPECT_TRUE(tensors_near(run_unary("Identity", h), h, 0, 0));
  const Tensor empty(DataType::kFLOAT, {0, 3});  // (make_float memcpys from a null pointer when empty)
  EXPECT_EQ(run_unary("Identity", empty).shape(), (Shape{0, 3}));
}

TEST(ElementwiseUnary, DropoutPassesInputThroughWithFullMask) {
  const Tensor x = random_float({3, 4}, 7);
  const std::vector<Tensor> out = run_reference(make_node("Dropout", 1, 2, 13), {&x});
  EXPECT_TRUE(tensors_near(out[0], x, 0, 0));
  EXPECT_EQ(out[1].dtype(), DataType::kBOOL);
  EXPECT_EQ(out[1].shape(), x.shape());
  EXPECT_EQ(to_ints(out[1]), std::vector<int64_t>(12, 1));

  // Opset 12+: ratio and training_mode inputs; a false training_mode is inference.
  const Tensor ratio = make_float({}, {0.3f});
  const Tensor off = make_bool({}, {false});
  EXPECT_TRUE(tensors_near(run_one(make_node("Dropout", 3, 1, 13), {&x, &ratio, &off}), x, 0, 0));
  EXPECT_TRUE(tensors_near(run_one(make_node("Dropout", 3, 1, 13), {&x, &ratio, nullptr}), x, 0, 0));

  // Opset 11: ratio is an attribute.
  ir::Node old = make_node("Dropout", 1, 2, 11);
  old.attrs.set("ratio", 0.2f);
  const std::vector<Tensor> old_out = run_reference(old, {&x});
  EXPECT_TRUE(tensors_near(old_out[0], x, 0, 0));
  EXPECT_EQ(old_out[1].dtype(), DataType::kBOOL);
}

TEST(ElementwiseUnary, DropoutRefusesTrainingMode) {
  const Tensor x = random_float({2, 2}, 3);
  const Tensor ratio = make_float({}, {0.5f});
  const Tensor on = make_bool({}, {true});
  EXPECT_THROW(run_reference(make_node("Dropout", 3, 2, 13), {&x, &ratio, &on}), Error);
}

TEST(ElementwiseUnary, DropoutInTrainingModeWithRatioZeroIsIdentity) {
  // Exporters write F.dropout(p=0, training=True) this way: nothing is dropped, the scale is 1.
  const Tensor x = random_float({2, 3}, 5);
  const Tensor zero = make_float({}, {0.0f});
  const Tensor on = make_bool({}, {true});
  const std::vector<Tensor> out = run_reference(make_node("Dropout", 3, 2, 13), {&x, &zero, &on});
  EXPECT_TRUE(tensors_near(out[0], x, 0, 0));
  EXPECT_EQ(to_ints(out[1]), std::vector<int64_t>(6, 1));
}

// ---- Cast -------------------------------------------------------------------------------------------

constexpr int64_t kOnnxFloat = 1, kOnnxUint8 = 2, kOnnxInt8 = 3, kOnnxInt32 = 6, kOnnxInt64 = 7, kOnnxBool = 9,
                  kOnnxFloat16 = 10, kOnnxDouble = 11;

Tensor run_cast(const Tensor& x, int64_t to, int opset = 13) {
  ir::Node node = make_node("Cast", 1, 1, opset);
  node.attrs.set("to", to);
  return run_one(node, {&x});
}

// Builds a tensor of any Cast type from small integer values (bool: non-zero is true).
Tensor tensor_of(DataType dtype, const std::vector<int>& values) {
  Tensor t(dtype, {int64_t(values.size())});
  for (size_t i = 0; i < values.size(); ++i) {
    const int v = values[i];
    switch (dtype) {
      case DataType::kFLOAT: t.data<float>()[i] = float(v); break;
      case DataType::kHALF: t.data<Half>()[i] = float_to_half(float(v)); break;
      case DataType::kINT64: t.data<int64_t>()[i] = v; break;
      case DataType::kINT32: t.data<int32_t>()[i] = v; break;
      case DataType::kINT8: t.data<int8_t>()[i] = int8_t(v); break;
      case DataType::kUINT8: t.data<uint8_t>()[i] = uint8_t(v); break;
      case DataType::kBOOL: t.data<uint8_t>()[i] = v != 0; break;
    }
  }
  return t;
}

TEST(ElementwiseCast, EveryPairOfSupportedTypes) {
  const std::vector<std::pair<DataType, int64_t>> types = {
      {DataType::kFLOAT, kOnnxFloat}, {DataType::kHALF, kOnnxFloat16}, {DataType::kINT64, kOnnxInt64},
      {DataType::kINT32, kOnnxInt32}, {DataType::kINT8, kOnnxInt8},     {DataType::kUINT8, kOnnxUint8},
      {DataType::kBOOL, kOnnxBool}};
  for (const auto& [from, from_code] : types) {
    for (const auto& [to, to_code] : types) {
      SCOPED_TRACE(std::string(dtype_name(from)) + " -> " + dtype_name(to));
      const std::vector<int> source = from == DataType::kBOOL ? std::vector<int>{0, 1, 0, 1}
                                                              : std::vector<int>{0, 1, 2, 100};
      std::vector<int> expected = source;
      if (to == DataType::kBOOL)
        for (int& v : expected) v = v != 0;
      const Tensor y = run_cast(tensor_of(from, source), to_code);
      EXPECT_EQ(y.dtype(), to);
      EXPECT_TRUE(tensors_near(y, tensor_of(to, expected), 0, 0));
    }
  }
}

TEST(ElementwiseCast, FloatToIntegerTruncatesTowardZero) {
  const Tensor x = make_float({6}, {-2.7f, -0.5f, 0.5f, 2.7f, 1e10f, kNaN});
  const Tensor y = run_cast(x, kOnnxInt64);
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{-2, 0, 0, 2, 10000000000, 0}));
  EXPECT_EQ(to_ints(run_cast(make_float({2}, {-2.7f, 2.7f}), kOnnxInt32)), (std::vector<int64_t>{-2, 2}));
  // Negative floats reach uint8 through the truncated integer, which wraps (like numpy on x86).
  EXPECT_EQ(to_ints(run_cast(make_float({3}, {-1.f, 255.9f, 256.f}), kOnnxUint8)), (std::vector<int64_t>{255, 255, 0}));
  const Tensor h = make_typed<Half>(DataType::kHALF, {2}, {float_to_half(-3.75f), float_to_half(2.5f)});
  EXPECT_EQ(to_ints(run_cast(h, kOnnxInt8)), (std::vector<int64_t>{-3, 2}));
}

TEST(ElementwiseCast, IntegerNarrowingWraps) {
  const Tensor x = make_int64({4}, {300, -129, 127, -1});
  EXPECT_EQ(to_ints(run_cast(x, kOnnxInt8)), (std::vector<int64_t>{44, 127, 127, -1}));
  EXPECT_EQ(to_ints(run_cast(x, kOnnxUint8)), (std::vector<int64_t>{44, 127, 127, 255}));
  const Tensor big = make_int64({1}, {(int64_t(1) << 32) + 5});
  EXPECT_EQ(to_ints(run_cast(big, kOnnxInt32)), (std::vector<int64_t>{5}));
}

TEST(ElementwiseCast, ToBoolIsNonZero) {
  const Tensor x = make_float({5}, {0.f, -0.f, 0.1f, -3.f, kNaN});
  const Tensor y = run_cast(x, kOnnxBool);
  EXPECT_EQ(y.dtype(), DataType::kBOOL);
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{0, 0, 1, 1, 1}));
}

TEST(ElementwiseCast, FloatToHalfRoundsAndBack) {
  const Tensor x = make_float({4}, {1.f, 0.1f, 65520.f, -2.f});
  const Tensor h = run_cast(x, kOnnxFloat16);
  ASSERT_EQ(h.dtype(), DataType::kHALF);
  EXPECT_EQ(h.data<Half>()[0].bits, 0x3c00);
  EXPECT_EQ(h.data<Half>()[1].bits, 0x2e66);  // nearest half to 0.1
  EXPECT_EQ(h.data<Half>()[2].bits, 0x7c00);  // overflows to infinity
  EXPECT_TRUE(floats_match(run_cast(h, kOnnxFloat), {1.f, 0.0999755859375f, kInf, -2.f}));
}

TEST(ElementwiseCast, ShapeAndOpsetsAndErrors) {
  const Tensor x(DataType::kFLOAT, {2, 0, 3});
  EXPECT_EQ(run_cast(x, kOnnxInt64).shape(), (Shape{2, 0, 3}));
  const Tensor y = make_float({2}, {1.5f, -1.5f});
  EXPECT_EQ(to_ints(run_cast(y, kOnnxInt32, 9)), (std::vector<int64_t>{1, -1}));
  EXPECT_EQ(to_ints(run_cast(y, kOnnxInt32, 19)), (std::vector<int64_t>{1, -1}));
  EXPECT_THROW(run_cast(y, kOnnxDouble), Error);
  EXPECT_THROW(run_cast(y, 8 /* string */), Error);
  EXPECT_THROW(run_one(make_node("Cast", 1), {&y}), Error);  // 'to' is required
}

TEST(ElementwiseCast, CastLikeTakesTheSecondInputsType) {
  const Tensor x = make_float({3}, {1.9f, -1.9f, 0.f});
  const Tensor like = make_typed<int32_t>(DataType::kINT32, {0}, {});
  const Tensor y = run_one(make_node("CastLike", 2, 1, 15), {&x, &like});
  EXPECT_EQ(y.dtype(), DataType::kINT32);
  EXPECT_EQ(y.shape(), (Shape{3}));
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{1, -1, 0}));
  const Tensor like_bool = make_bool({1}, {false});
  EXPECT_EQ(to_ints(run_one(make_node("CastLike", 2, 1, 15), {&x, &like_bool})), (std::vector<int64_t>{1, 1, 0}));
}

// ---- Clip -------------------------------------------------------------------------------------------

TEST(ElementwiseClip, MinAndMaxInputs) {
  const Tensor x = make_float({2, 3}, {-5.f, -1.f, 0.f, 0.5f, 2.f, kNaN});
  const Tensor lo = make_float({}, {-1.f});
  const Tensor hi = make_float({}, {1.f});
  const ir::Node node = make_node("Clip", 3, 1, 13);
  EXPECT_TRUE(tensors_near(run_one(node, {&x, &lo, &hi}), make_float({2, 3}, {-1.f, -1.f, 0.f, 0.5f, 1.f, kNaN})));
  // Either bound may be absent.
  EXPECT_TRUE(tensors_near(run_one(node, {&x, nullptr, &hi}), make_float({2, 3}, {-5.f, -1.f, 0.f, 0.5f, 1.f, kNaN})));
  EXPECT_TRUE(tensors_near(run_one(make_node("Clip", 2, 1, 13), {&x, &lo}),
                           make_float({2, 3}, {-1.f, -1.f, 0.f, 0.5f, 2.f, kNaN})));
  EXPECT_TRUE(tensors_near(run_one(make_node("Clip", 1, 1, 13), {&x}), x));
  // A bound of shape [1] is accepted too (some exporters emit it).
  const Tensor hi1 = make_float({1}, {0.f});
  EXPECT_TRUE(tensors_near(run_one(node, {&x, nullptr, &hi1}), make_float({2, 3}, {-5.f, -1.f, 0.f, 0.f, 0.f, kNaN})));
}

TEST(ElementwiseClip, MinAboveMaxGivesMax) {
  const Tensor x = make_float({3}, {-3.f, 0.f, 3.f});
  const Tensor lo = make_float({}, {2.f});
  const Tensor hi = make_float({}, {1.f});
  EXPECT_TRUE(tensors_near(run_one(make_node("Clip", 3, 1, 13), {&x, &lo, &hi}), make_float({3}, {1.f, 1.f, 1.f})));
}

TEST(ElementwiseClip, IntegerTypes) {
  const Tensor x = make_typed<int8_t>(DataType::kINT8, {4}, {-128, -3, 5, 127});
  const Tensor lo = make_typed<int8_t>(DataType::kINT8, {}, {-2});
  const Tensor hi = make_typed<int8_t>(DataType::kINT8, {}, {4});
  const Tensor y = run_one(make_node("Clip", 3, 1, 13), {&x, &lo, &hi});
  EXPECT_EQ(y.dtype(), DataType::kINT8);
  EXPECT_EQ(to_ints(y), (std::vector<int64_t>{-2, -2, 4, 4}));
  EXPECT_EQ(to_ints(run_one(make_node("Clip", 1, 1, 13), {&x})), (std::vector<int64_t>{-128, -3, 5, 127}));
  const Tensor i64 = make_int64({3}, {-10, 10, 100});
  const Tensor max64 = make_int64({}, {50});
  EXPECT_EQ(to_ints(run_one(make_node("Clip", 3, 1, 12), {&i64, nullptr, &max64})),
            (std::vector<int64_t>{-10, 10, 50}));
}

TEST(ElementwiseClip, AttributesBeforeOpset11) {
  const Tensor x = make_float({4}, {-3.f, -0.5f, 0.5f, 3.f});
  ir::Node node = make_node("Clip", 1, 1, 6);
  node.attrs.set("min", -1.f);
  node.attrs.set("max", 1.f);
  EXPECT_TRUE(tensors_near(run_one(node, {&x}), make_float({4}, {-1.f, -0.5f, 0.5f, 1.f})));
  ir::Node only_min = make_node("Clip", 1, 1, 6);
  only_min.attrs.set("min", 0.f);
  EXPECT_TRUE(tensors_near(run_one(only_min, {&x}), make_float({4}, {0.f, 0.f, 0.5f, 3.f})));
}

TEST(ElementwiseClip, RejectsBadBounds) {
  const Tensor x = make_float({3}, {1.f, 2.f, 3.f});
  const Tensor vector_bound = make_float({2}, {0.f, 1.f});
  EXPECT_THROW(run_one(make_node("Clip", 2, 1, 13), {&x, &vector_bound}), Error);
  const Tensor int_bound = make_int64({}, {1});
  EXPECT_THROW(run_one(make_node("Clip", 2, 1, 13), {&x, &int_bound}), Error);
  const Tensor scalar = make_float({}, {1.f});
  EXPECT_THROW(run_one(make_node("Clip", 2, 1, 6), {&x, &scalar}), Error);  // inputs only from opset 11
}

TEST(ElementwiseCast, Opset19To21SaturateOnlyConcernsFloat8WhichIsRefused) {
  const Tensor x = make_float({3}, {-300.f, 2.7f, 300.f});
  for (int opset : {19, 21}) {
    ir::Node node = make_node("Cast", 1, 1, opset);
    node.attrs.set("to", kOnnxInt32);
    node.attrs.set("saturate", int64_t{0});  // ignored: the spec applies it to float8 targets only
    EXPECT_EQ(to_ints(run_one(node, {&x})), (std::vector<int64_t>{-300, 2, 300})) << opset;
  }
  // The type codes of float8 (19) and 4-bit integers (21) are named, though libonnx 1.12 predates them.
  const std::pair<int64_t, std::string> refused[] = {{17, "FLOAT8E4M3FN"}, {19, "FLOAT8E5M2"}, {21, "UINT4"},
                                                     {22, "INT4"}};
  for (const auto& [code, name] : refused) {
    ir::Node node = make_node("Cast", 1, 1, 21);
    node.attrs.set("to", code);
    expect_error_mentioning(node, {&x}, fmt::format("ONNX data type {} ({}) is not supported", code, name));
  }
}

}  // namespace
}  // namespace kestrel::testing
