#include "support/op_test.h"

#include <cmath>
#include <cstring>
#include <random>

#include "core/error.h"

namespace kestrel::testing {

Tensor make_float(Shape shape, std::vector<float> values) {
  Tensor t(DataType::kFLOAT, std::move(shape));
  EXPECT_EQ(size_t(t.numel()), values.size());
  if (!values.empty()) std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

Tensor make_int64(Shape shape, std::vector<int64_t> values) {
  Tensor t(DataType::kINT64, std::move(shape));
  EXPECT_EQ(size_t(t.numel()), values.size());
  if (!values.empty()) std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

Tensor make_int32(Shape shape, std::vector<int32_t> values) {
  Tensor t(DataType::kINT32, std::move(shape));
  EXPECT_EQ(size_t(t.numel()), values.size());
  if (!values.empty()) std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

Tensor make_bool(Shape shape, std::vector<bool> values) {
  Tensor t(DataType::kBOOL, std::move(shape));
  EXPECT_EQ(size_t(t.numel()), values.size());
  for (size_t i = 0; i < values.size(); ++i) t.data<uint8_t>()[i] = values[i] ? 1 : 0;
  return t;
}

Tensor random_float(Shape shape, uint32_t seed, float lo, float hi) {
  Tensor t(DataType::kFLOAT, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

ir::Node make_node(const std::string& op_type, int num_inputs, int num_outputs, int opset) {
  ir::Node node;
  node.name = op_type + "_under_test";
  node.op_type = op_type;
  node.opset = opset;
  for (int i = 0; i < num_inputs; ++i) node.inputs.push_back(i);
  for (int i = 0; i < num_outputs; ++i) node.outputs.push_back(num_inputs + i);
  return node;
}

std::vector<Tensor> run_reference(const ir::Node& node, const std::vector<const Tensor*>& inputs) {
  return cpu::evaluate_node(node, inputs);
}

Tensor run_one(const ir::Node& node, const std::vector<const Tensor*>& inputs) {
  return run_reference(node, inputs).at(0);
}

void expect_error_mentioning(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                             const std::string& fragment) {
  try {
    run_reference(node, inputs);
    ADD_FAILURE() << "expected an error mentioning '" << fragment << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

std::vector<float> to_floats(const Tensor& t) {
  std::vector<float> out(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[size_t(i)] = float(t.double_at(i));
  return out;
}

std::vector<int64_t> to_ints(const Tensor& t) {
  std::vector<int64_t> out(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) out[size_t(i)] = t.int_at(i);
  return out;
}

::testing::AssertionResult tensors_near(const Tensor& actual, const Tensor& expected, double atol, double rtol) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " != expected "
                                         << shape_str(expected.shape());
  if (actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure() << "dtype " << dtype_name(actual.dtype()) << " != expected "
                                         << dtype_name(expected.dtype());
  for (int64_t i = 0; i < actual.numel(); ++i) {
    const double a = actual.double_at(i), e = expected.double_at(i);
    if (std::isnan(e) && std::isnan(a)) continue;
    if (a == e) continue;  // equal infinities too
    if (!(std::fabs(a - e) <= atol + rtol * std::fabs(e)))
      return ::testing::AssertionFailure() << "element " << i << ": " << a << " != expected " << e;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace kestrel::testing
