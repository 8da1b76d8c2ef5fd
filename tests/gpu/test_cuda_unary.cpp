// Every element-wise unary op of the CUDA backend against the CPU engine, FP32 and FP16, on
// values around their interesting points (negatives, zero, halves for Round).
#include <gtest/gtest.h>

#include "gpu/cuda_test_support.h"

namespace kestrel {
namespace {

TEST(CudaKernels, UnaryOps) {
  KESTREL_REQUIRE_GPU();
  struct Op {
    const char* name;
    ir::Attributes attrs;
    float lo, hi;
  };
  ir::Attributes elu, selu;
  elu.set("alpha", 0.7f);
  selu.set("alpha", 1.5f);
  selu.set("gamma", 1.1f);
  const Op ops[] = {{"Relu", {}, -3, 3},       {"Sigmoid", {}, -8, 8},    {"Tanh", {}, -4, 4},   {"Exp", {}, -5, 5},
                    {"Log", {}, 0.01f, 9},     {"Sqrt", {}, 0, 9},        {"Neg", {}, -3, 3},    {"Abs", {}, -3, 3},
                    {"Reciprocal", {}, 0.5f, 4}, {"Floor", {}, -3, 3},    {"Ceil", {}, -3, 3},   {"Erf", {}, -3, 3},
                    {"HardSigmoid", {}, -4, 4}, {"HardSwish", {}, -5, 5}, {"Softplus", {}, -5, 25}, {"Gelu", {}, -4, 4},
                    {"Elu", elu, -4, 4},       {"Selu", selu, -4, 4},     {"Softsign", {}, -6, 6}, {"Sign", {}, -2, 2},
                    {"Sin", {}, -7, 7},        {"Cos", {}, -7, 7},        {"LeakyRelu", {}, -3, 3}};
  for (const Op& op : ops) {
    SCOPED_TRACE(op.name);
    GraphBuilder b;
    Tensor x = random_tensor({2, 3, 17, 11}, 130, op.lo, op.hi);
    if (std::string(op.name) == "Sign") x.data<float>()[0] = 0.f;
    const int xi = b.input("x", std::move(x));
    b.output(b.one(op.name, {xi}, op.attrs));
    expect_matches_cpu(b, 1e-5 * std::max(1.f, std::fabs(op.hi)), 2e-2 * std::max(1.f, std::fabs(op.hi)));
  }
  // Round: halves go to the even neighbour, in FP32 (FP16 holds these values exactly too).
  GraphBuilder b;
  Tensor x(DataType::kFLOAT, {8});
  const float values[] = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f, 0.49f, -3.51f};
  for (int i = 0; i < 8; ++i) x.data<float>()[i] = values[i];
  b.output(b.one("Round", {b.input("x", std::move(x))}));
  expect_matches_cpu(b, 0.0, 0.0);
}

}  // namespace
}  // namespace kestrel
