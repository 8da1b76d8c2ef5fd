// Pad on CUDA (pad.cu) against the CPU engine, exactly in FP32 (a data movement; FP16 rounds the
// input to half first): every mode, cropping, the axes input, a non-zero constant.
#include <gtest/gtest.h>

#include "gpu/cuda_test_support.h"

namespace kestrel {
namespace {

GraphBuilder pad_graph(Shape x, std::vector<int64_t> pads, const char* mode, float value, std::vector<int64_t> axes = {},
                       int opset = 18) {
  GraphBuilder b;
  const int xi = b.input("x", random_tensor(x, 90));
  std::vector<int> ins{xi, b.constant("pads", int64_tensor({int64_t(pads.size())}, pads)),
                       b.constant("value", scalar_tensor(DataType::kFLOAT, value))};
  if (!axes.empty()) ins.push_back(b.constant("axes", int64_tensor({int64_t(axes.size())}, axes)));
  ir::Attributes a;
  a.set("mode", std::string(mode));
  b.g.opset = opset;
  b.output(b.node("Pad", ins, 1, a, opset)[0]);
  return b;
}

TEST(CudaKernels, PadEveryMode) {
  KESTREL_REQUIRE_GPU();
  // DenseNet's and Swin's zero pads, then each mode with unequal and cropping pads.
  expect_matches_cpu(pad_graph({1, 8, 7, 7}, {0, 0, 0, 0, 0, 0, 1, 1}, "constant", 0.f), 0.0, 1e-3);
  expect_matches_cpu(pad_graph({2, 3, 5, 6}, {0, 1, 2, 1, 0, 0, 3, -2}, "constant", 1.5f), 0.0, 1e-3);
  expect_matches_cpu(pad_graph({2, 3, 5, 6}, {0, 0, 2, 3, 0, 0, 1, 4}, "edge", 0.f), 0.0, 1e-3);
  expect_matches_cpu(pad_graph({2, 3, 5, 6}, {0, 0, 4, 2, 0, 0, 3, 5}, "reflect", 0.f), 0.0, 1e-3);
  expect_matches_cpu(pad_graph({1, 2, 4, 3}, {0, 0, 5, 1, 0, 0, 2, 7}, "wrap", 0.f, {}, 19), 0.0, 1e-3);
  expect_matches_cpu(pad_graph({3, 10}, {2, 1}, "constant", -1.f, {1}), 0.0, 1e-3);  // the axes input
}

}  // namespace
}  // namespace kestrel
