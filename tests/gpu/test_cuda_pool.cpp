// MaxPool and AveragePool on CUDA (pool.cu) against the CPU engine, FP32 and FP16: ResNet's and
// DenseNet's windows, padding on one side, ceil_mode, dilation, auto_pad and count_include_pad.
#include <gtest/gtest.h>

#include "gpu/cuda_test_support.h"

namespace kestrel {
namespace {

struct PoolCase {
  const char* op;
  Shape x;
  std::vector<int64_t> kernel, strides, pads, dilations;
  int64_t ceil_mode = 0, count_include_pad = 0;
  const char* auto_pad = "NOTSET";
};

GraphBuilder pool_graph(const PoolCase& c, uint32_t seed) {
  GraphBuilder b;
  const int x = b.input("x", random_tensor(c.x, seed, -3.f, 3.f));
  ir::Attributes a;
  a.set("kernel_shape", c.kernel);
  if (!c.strides.empty()) a.set("strides", c.strides);
  if (!c.pads.empty()) a.set("pads", c.pads);
  if (!c.dilations.empty()) a.set("dilations", c.dilations);
  a.set("ceil_mode", c.ceil_mode);
  if (std::string(c.op) == "AveragePool") a.set("count_include_pad", c.count_include_pad);
  a.set("auto_pad", std::string(c.auto_pad));
  b.output(b.one(c.op, {x}, a));
  return b;
}

TEST(CudaKernels, MaxAndAveragePool) {
  KESTREL_REQUIRE_GPU();
  const PoolCase cases[] = {
      {"MaxPool", {1, 64, 112, 112}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}},  // ResNet's stem pool
      {"MaxPool", {2, 8, 13, 11}, {3, 3}, {2, 2}, {0, 0, 0, 0}, {}, 1},  // ceil_mode: the last window overhangs
      {"MaxPool", {1, 5, 17, 9}, {2, 3}, {1, 2}, {1, 0, 0, 2}, {2, 1}},  // asymmetric pads, dilation
      {"MaxPool", {1, 4, 10, 10}, {3, 3}, {2, 2}, {}, {}, 0, 0, "SAME_UPPER"},
      {"AveragePool", {1, 32, 56, 56}, {2, 2}, {2, 2}, {}, {}},  // DenseNet's transition
      {"AveragePool", {2, 6, 9, 7}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {}, 0, 0},  // borders divide by fewer taps
      {"AveragePool", {2, 6, 9, 7}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {}, 0, 1},  // ... or by the padded window
      {"AveragePool", {1, 3, 11, 11}, {3, 3}, {2, 2}, {0, 0, 1, 1}, {}, 1, 1},  // ceil_mode overhang not counted
  };
  for (size_t i = 0; i < std::size(cases); ++i) {
    SCOPED_TRACE(::testing::Message() << cases[i].op << " case " << i);
    expect_matches_cpu(pool_graph(cases[i], uint32_t(70 + i)), 1e-5, 1e-2);
  }
}

TEST(CudaKernels, PoolOfAnotherRankIsRefusedByName) {
  KESTREL_REQUIRE_GPU();
  GraphBuilder b;
  const int x = b.input("x", random_tensor({1, 4, 10}, 80));
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{2});
  b.output(b.one("MaxPool", {x}, a));
  try {
    compile_for(b.g, DeviceType::kCUDA, false);
    ADD_FAILURE() << "a 1-D pool was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("MaxPool"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2-D"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kestrel
