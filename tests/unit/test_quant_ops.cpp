// QuantizeLinear / DequantizeLinear reference kernels against values worked out by hand:
// round half to even, saturation, zero points, per-axis scales, and the schema's checks.
#include <cmath>
#include <limits>

#include "core/error.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

Tensor scalar_float(float v) { return make_float({}, {v}); }

Tensor int8_tensor(Shape shape, std::vector<int8_t> values) {
  Tensor t(DataType::kINT8, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<int8_t>());
  return t;
}

std::vector<int> as_ints(const Tensor& t) {
  std::vector<int> v;
  for (int64_t i = 0; i < t.numel(); ++i)
    v.push_back(t.dtype() == DataType::kINT8 ? int(t.data<int8_t>()[i]) : int(t.data<uint8_t>()[i]));
  return v;
}

TEST(QuantizeLinearOp, RoundsHalfToEvenAndSaturatesInt8) {
  // x / 0.5: 1.25 -> 2.5 -> 2; 1.75 -> 3.5 -> 4; -1.25 -> -2.5 -> -2; 0.25 -> 0.5 -> 0; big values clamp.
  const Tensor x = make_float({7}, {1.25f, 1.75f, -1.25f, 0.25f, 1000.f, -1000.f, 0.74f});
  const Tensor scale = scalar_float(0.5f);
  const Tensor zp = int8_tensor({}, {0});
  const Tensor y = run_one(make_node("QuantizeLinear", 3, 1, 13), {&x, &scale, &zp});
  ASSERT_EQ(y.dtype(), DataType::kINT8);
  EXPECT_EQ(as_ints(y), (std::vector<int>{2, 4, -2, 0, 127, -128, 1}));
}

TEST(QuantizeLinearOp, Uint8WithZeroPointAndDefaultZeroPoint) {
  const Tensor x = make_float({4}, {0.f, 1.f, -1.f, 100.f});
  const Tensor scale = scalar_float(0.1f);
  Tensor zp(DataType::kUINT8, {});
  *zp.data<uint8_t>() = 128;
  const Tensor y = run_one(make_node("QuantizeLinear", 3, 1, 13), {&x, &scale, &zp});
  ASSERT_EQ(y.dtype(), DataType::kUINT8);
  EXPECT_EQ(as_ints(y), (std::vector<int>{128, 138, 118, 255}));
  // Without a zero point the output is uint8 with zero point 0: negatives clamp to 0.
  const Tensor y2 = run_one(make_node("QuantizeLinear", 2, 1, 10), {&x, &scale});
  ASSERT_EQ(y2.dtype(), DataType::kUINT8);
  EXPECT_EQ(as_ints(y2), (std::vector<int>{0, 10, 0, 255}));
}

TEST(QuantizeLinearOp, PerAxisScalesFollowTheAxis) {
  // [2,3] with axis 1: column c uses scale[c].
  const Tensor x = make_float({2, 3}, {1.f, 1.f, 1.f, -2.f, -2.f, -2.f});
  const Tensor scale = make_float({3}, {1.f, 0.5f, 0.25f});
  const Tensor zp = int8_tensor({3}, {0, 0, 0});
  ir::Node node = make_node("QuantizeLinear", 3, 1, 13);
  node.attrs.set("axis", int64_t(1));
  EXPECT_EQ(as_ints(run_one(node, {&x, &scale, &zp})), (std::vector<int>{1, 2, 4, -2, -4, -8}));
  // axis 0 needs two scales: three is refused with the reason.
  node.attrs.set("axis", int64_t(0));
  EXPECT_THROW(run_one(node, {&x, &scale, &zp}), Error);
}

TEST(QuantizeLinearOp, PerAxisNeedsOpset13) {
  const Tensor x = make_float({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor scale = make_float({3}, {1.f, 1.f, 1.f});
  ir::Node node = make_node("QuantizeLinear", 2, 1, 11);
  try {
    run_one(node, {&x, &scale});
    FAIL() << "per-axis scales at opset 11 must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("opset 13"), std::string::npos) << e.what();
  }
}

TEST(DequantizeLinearOp, PerTensorAndPerAxisHandValues) {
  const Tensor q = int8_tensor({2, 2}, {-128, 127, 3, -3});
  const Tensor scale = scalar_float(0.5f);
  const Tensor zp = int8_tensor({}, {1});
  const Tensor y = run_one(make_node("DequantizeLinear", 3, 1, 13), {&q, &scale, &zp});
  EXPECT_EQ(to_floats(y), (std::vector<float>{-64.5f, 63.f, 1.f, -2.f}));
  const Tensor axis_scale = make_float({2}, {1.f, 0.25f});
  ir::Node node = make_node("DequantizeLinear", 2, 1, 13);
  node.attrs.set("axis", int64_t(0));
  EXPECT_EQ(to_floats(run_one(node, {&q, &axis_scale})), (std::vector<float>{-128.f, 127.f, 0.75f, -0.75f}));
}

TEST(DequantizeLinearOp, QuantizeThenDequantizeIsWithinHalfAStep) {
  const Tensor x = random_float({64}, 7, -3.f, 3.f);
  const Tensor scale = scalar_float(3.f / 127);
  const Tensor zp = int8_tensor({}, {0});
  const Tensor q = run_one(make_node("QuantizeLinear", 3, 1, 13), {&x, &scale, &zp});
  const Tensor y = run_one(make_node("DequantizeLinear", 3, 1, 13), {&q, &scale, &zp});
  for (int64_t i = 0; i < x.numel(); ++i)
    EXPECT_LE(std::fabs(y.data<float>()[i] - x.data<float>()[i]), 0.5f * 3.f / 127 + 1e-6f);
}

TEST(DequantizeLinearOp, RefusesFloatInputAndMismatchedZeroPoint) {
  const Tensor x = make_float({2}, {1, 2});
  const Tensor scale = scalar_float(1.f);
  EXPECT_THROW(run_one(make_node("DequantizeLinear", 2, 1, 13), {&x, &scale}), Error);
  const Tensor q = int8_tensor({2}, {1, 2});
  Tensor zp(DataType::kUINT8, {});
  EXPECT_THROW(run_one(make_node("DequantizeLinear", 3, 1, 13), {&q, &scale, &zp}), Error);
}

TEST(QuantizeLinearOp, Opset21OutputDtypeChoosesTheType) {
  const Tensor x = make_float({3}, {-1.f, 0.5f, 300.f});
  const Tensor scale = scalar_float(0.5f);
  ir::Node node = make_node("QuantizeLinear", 2, 1, 21);
  node.attrs.set("output_dtype", int64_t{3});  // INT8; without it, no zero point means uint8
  const Tensor y = run_one(node, {&x, &scale});
  ASSERT_EQ(y.dtype(), DataType::kINT8);
  EXPECT_EQ(as_ints(y), (std::vector<int>{-2, 1, 127}));
  node.attrs.set("output_dtype", int64_t{2});  // UINT8
  EXPECT_EQ(as_ints(run_one(node, {&x, &scale})), (std::vector<int>{0, 1, 255}));
  const Tensor zp = int8_tensor({}, {0});
  ir::Node disagree = make_node("QuantizeLinear", 3, 1, 21);
  disagree.attrs.set("output_dtype", int64_t{2});
  expect_error_mentioning(disagree, {&x, &scale, &zp}, "'output_dtype' is uint8 but the zero point int8");
}

TEST(QuantizeLinearOp, RefusesFloat8Int4AndBlockedQuantization) {
  const Tensor x = make_float({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  const Tensor scale = scalar_float(0.5f);
  ir::Node float8 = make_node("QuantizeLinear", 2, 1, 19);
  float8.attrs.set("output_dtype", int64_t{17});
  expect_error_mentioning(float8, {&x, &scale}, "FLOAT8E4M3FN");
  ir::Node int4 = make_node("QuantizeLinear", 2, 1, 21);
  int4.attrs.set("output_dtype", int64_t{22});
  expect_error_mentioning(int4, {&x, &scale}, "INT4");
  const Tensor block_scale = make_float({2, 2}, {1, 1, 1, 1});
  for (const char* op : {"QuantizeLinear", "DequantizeLinear"}) {
    ir::Node blocked = make_node(op, 2, 1, 21);
    blocked.attrs.set("axis", int64_t{1});
    blocked.attrs.set("block_size", int64_t{2});
    const Tensor q = int8_tensor({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
    expect_error_mentioning(blocked, {std::string(op) == "QuantizeLinear" ? &x : &q, &block_scale},
                            "attribute 'block_size' = 2 is not supported");
  }
}

}  // namespace
}  // namespace kestrel::testing
