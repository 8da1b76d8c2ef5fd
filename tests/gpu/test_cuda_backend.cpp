// GPU tests of the CUDA backend: every CUDA kernel and fusion against the CPU reference on
// SMAT-like shapes (FP32 within 1e-4 absolute, FP16 within 2e-2), whole SMAT engines against the
// CPU engine, the engine round trip, CUDA-graph replay against plain launches, and the
// portability check. Without a GPU each test skips and says why.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>

#include "backend/cuda/copy_maps.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/kernels.h"
#include "backend/cuda/timing_cache.h"
#include "core/error.h"
#include "core/file_io.h"
#include "core/fp16.h"
#include "core/tensor.h"
#include "engine/backend.h"
#include "engine/engine_data.h"
#include "engine/memory_plan.h"
#include "kestrel/kestrel.h"
#include "onnx/importer.h"
#include "passes/pass.h"
#include "gpu/cuda_test_support.h"

namespace kestrel {
namespace {

// ------------------------------------------------------------------------------- no GPU

TEST(CudaAvailability, ReasonIsClearWithoutDevice) {
  const std::string reason = cuda::unavailable_reason();
  if (!reason.empty()) {
    EXPECT_NE(reason.find("no CUDA device"), std::string::npos) << reason;
    // Building for CUDA then fails with that reason.
    EXPECT_THROW(engine::require_backend(DeviceType::kCUDA), Error);
  } else {
    const cuda::DeviceFacts f = cuda::current_device_facts();
    EXPECT_FALSE(f.compute_capability.empty());
    std::printf("GPU: %s, compute capability %s, CUDA runtime %s, cuBLAS %s\n", f.device_name.c_str(),
                f.compute_capability.c_str(), f.runtime_version.c_str(), f.cublas_version.c_str());
  }
}


// Needs no GPU: the engine's graph stays plain ONNX layers (it must pass shape inference when
// loaded), while the lowered graph that runs has the fused layers and FP16 values.
TEST(CudaCompile, EngineGraphStaysOnnxConsistent) {
  for (bool fp16 : {false, true}) {
    GraphBuilder b;
    const int x = b.input("x", random_tensor({1, 64, 16, 16}, 90));
    const int y = b.one("Conv", {x, b.constant("w", random_tensor({64, 64, 1, 1}, 91, -0.1f, 0.1f)),
                                 b.constant("b", random_tensor({64}, 92))}, conv_attrs(1, 1, 0, 1));
    b.output(b.one("Relu", {b.one("Add", {y, x})}));
    engine::EngineData e;
    e.device = DeviceType::kCUDA;
    e.graph = b.g;
    passes::optimize(e.graph);
    e.graph.sort();
    cuda::compile_graph(e.graph, fp16, true);
    e.plan = engine::plan_memory(e.graph);
    const std::vector<uint8_t> bytes = engine::serialize_engine(e);
    EXPECT_NO_THROW(engine::deserialize_engine(bytes.data(), bytes.size()));
    for (const ir::Value& v : e.graph.values) EXPECT_NE(v.dtype, DataType::kHALF) << v.name;
    EXPECT_EQ(e.graph.nodes[0].precision, fp16 ? ir::Precision::kFP16 : ir::Precision::kFP32);
    const ir::Graph lowered = cuda::lower_for_cuda(e.graph, true);
    size_t launched = 0;
    for (const ir::Node& n : lowered.nodes) launched += n.op_type != "Cast";
    EXPECT_EQ(launched, 1u);
    if (fp16) EXPECT_EQ(lowered.nodes.size(), 3u);  // reformat in, Conv, reformat out
  }
}

// ------------------------------------------------------------------------------- kernels

GraphBuilder conv_graph(Shape x, Shape w, bool bias, ir::Attributes a, uint32_t seed, const char* then = nullptr) {
  GraphBuilder b;
  const int xi = b.input("x", random_tensor(x, seed));
  const int wi = b.constant("w", random_tensor(w, seed + 1, -0.1f, 0.1f));
  std::vector<int> ins = {xi, wi};
  if (bias) ins.push_back(b.constant("b", random_tensor({w[0]}, seed + 2, -0.5f, 0.5f)));
  int y = b.one("Conv", ins, a);
  if (then) y = b.one(then, {y});
  b.output(y);
  return b;
}


TEST(CudaKernels, Conv1x1Gemm) {
  KESTREL_REQUIRE_GPU();
  // The own GEMM kernel (opt-in) and cuBLAS (with the GEMM fusion switched off).
  for (bool cublas : {false, true}) {
    // The own kernel is opt-in (KESTREL_CUDA_GEMM_EPILOGUE=1); the switch-off wins over it.
    const ScopedEnv on("KESTREL_CUDA_GEMM_EPILOGUE", "1");
    std::unique_ptr<ScopedEnv> off;
    if (cublas) off = std::make_unique<ScopedEnv>("KESTREL_CUDA_NO_GEMM_EPILOGUE", "1");
    expect_matches_cpu(conv_graph({1, 128, 32, 32}, {256, 128, 1, 1}, true, conv_attrs(1, 1, 0, 1), 1));
    expect_matches_cpu(conv_graph({2, 64, 16, 16}, {32, 64, 1, 1}, false, conv_attrs(1, 1, 0, 1), 2));
  }
}

TEST(CudaKernels, ConvDepthwise3x3) {
  KESTREL_REQUIRE_GPU();
  expect_matches_cpu(conv_graph({1, 256, 32, 32}, {256, 1, 3, 3}, true, conv_attrs(3, 1, 1, 256), 3));
  expect_matches_cpu(conv_graph({1, 128, 64, 64}, {128, 1, 3, 3}, true, conv_attrs(3, 2, 1, 128), 4));
  // Planes wider and taller than a block's tile, odd sizes that end mid-tile, small planes, an odd
  // channel count, no padding, stride 2 on odd sizes, with ReLU.
  expect_matches_cpu(conv_graph({2, 8, 128, 100}, {8, 1, 3, 3}, true, conv_attrs(3, 1, 1, 8), 40, "Relu"));
  expect_matches_cpu(conv_graph({3, 24, 13, 7}, {24, 1, 3, 3}, false, conv_attrs(3, 1, 1, 24), 41));
  expect_matches_cpu(conv_graph({1, 37, 8, 8}, {37, 1, 3, 3}, true, conv_attrs(3, 1, 1, 37), 42));
  expect_matches_cpu(conv_graph({2, 16, 9, 11}, {16, 1, 3, 3}, true, conv_attrs(3, 2, 1, 16), 43, "Relu"));
  expect_matches_cpu(conv_graph({1, 12, 10, 10}, {12, 1, 3, 3}, true, conv_attrs(3, 1, 0, 12), 44));
  expect_matches_cpu(conv_graph({1, 8, 67, 70}, {8, 1, 3, 3}, true, conv_attrs(3, 2, 1, 8), 45));
}

TEST(CudaKernels, ConvSmallReduction) {
  KESTREL_REQUIRE_GPU();
  // Dense convolutions with C x KH x KW <= 32 take the direct small-reduction kernel: the RGB stem,
  // more output channels than one block's 32 (a partial last block), a 5x5 and a dilated kernel,
  // a reduction of exactly 32, a strided 1x1, batches.
  expect_matches_cpu(conv_graph({2, 3, 33, 31}, {40, 3, 3, 3}, true, conv_attrs(3, 2, 1, 1), 50, "Relu"));
  expect_matches_cpu(conv_graph({1, 1, 20, 20}, {8, 1, 5, 5}, true, conv_attrs(5, 1, 2, 1), 51));
  ir::Attributes dilated = conv_attrs(3, 1, 2, 1);
  dilated.set("dilations", std::vector<int64_t>{2, 2});
  expect_matches_cpu(conv_graph({1, 3, 17, 19}, {16, 3, 3, 3}, false, dilated, 52));
  expect_matches_cpu(conv_graph({3, 8, 12, 12}, {70, 8, 2, 2}, true, conv_attrs(2, 2, 0, 1), 53));
  expect_matches_cpu(conv_graph({1, 16, 16, 16}, {24, 16, 1, 1}, true, conv_attrs(1, 2, 0, 1), 54));
  // The kernel the builder records for the stem shape.
  const GraphBuilder stem = conv_graph({1, 3, 64, 64}, {32, 3, 3, 3}, true, conv_attrs(3, 2, 1, 1), 55);
  for (bool fp16 : {false, true}) {
    const auto e = compile_for(stem.g, DeviceType::kCUDA, fp16);
    bool found = false;
    for (const ir::Node& n : e->graph.nodes)
      if (n.op_type == "Conv") found = n.kernel == "cuda.conv2d_small_reduction";
    EXPECT_TRUE(found) << (fp16 ? "FP16" : "FP32");
  }
}

TEST(CudaKernels, ConvDense3x3AndStem) {
  KESTREL_REQUIRE_GPU();
  // Implicit GEMM (opt-in) and im2col + cuBLAS (with the GEMM fusion switched off).
  for (bool cublas : {false, true}) {
    // The own kernel is opt-in (KESTREL_CUDA_GEMM_EPILOGUE=1); the switch-off wins over it.
    const ScopedEnv on("KESTREL_CUDA_GEMM_EPILOGUE", "1");
    std::unique_ptr<ScopedEnv> off;
    if (cublas) off = std::make_unique<ScopedEnv>("KESTREL_CUDA_NO_GEMM_EPILOGUE", "1");
    expect_matches_cpu(conv_graph({1, 128, 16, 16}, {64, 128, 3, 3}, true, conv_attrs(3, 1, 1, 1), 5));
    expect_matches_cpu(conv_graph({1, 3, 64, 64}, {32, 3, 3, 3}, true, conv_attrs(3, 2, 1, 1), 6));
  }
}

TEST(CudaKernels, ConvIm2colBatchedAndGrouped) {
  KESTREL_REQUIRE_GPU();
  expect_matches_cpu(conv_graph({2, 32, 16, 16}, {48, 32, 3, 3}, true, conv_attrs(3, 2, 1, 1), 14));
  expect_matches_cpu(conv_graph({1, 32, 16, 16}, {64, 16, 3, 3}, true, conv_attrs(3, 1, 1, 2), 15));
}

// F.unfold as exported: output channel c * k * k + t reads tap t of input channel c (weight `one`).
GraphBuilder one_hot_unfold_graph(Shape x, int64_t kernel, int64_t stride, int64_t dilation, int64_t groups, float one,
                                  int64_t pad) {
  const int64_t channels = x[1], taps = kernel * kernel, per_group = channels / groups;
  Tensor w(DataType::kFLOAT, {channels * taps, per_group, kernel, kernel});
  for (int64_t o = 0; o < channels * taps; ++o)
    w.data<float>()[(o * per_group + (o / taps) % per_group) * taps + o % taps] = one;
  GraphBuilder b;
  const int xi = b.input("x", random_tensor(x, 8));
  ir::Attributes a = conv_attrs(kernel, stride, pad, groups);
  a.set("dilations", std::vector<int64_t>{dilation, dilation});
  b.output(b.one("Conv", {xi, b.constant("w", w)}, a));
  return b;
}

TEST(CudaKernels, ConvOneHotUnfold) {
  KESTREL_REQUIRE_GPU();
  // The patch unfold of MobileViTv2: groups = channels, 4 one-hot 2x2 filters per channel.
  Tensor w(DataType::kFLOAT, {512, 1, 2, 2});
  for (int64_t o = 0; o < 512; ++o) w.data<float>()[o * 4 + o % 4] = 1.f;
  GraphBuilder b;
  const int x = b.input("x", random_tensor({1, 128, 32, 32}, 7));
  b.output(b.one("Conv", {x, b.constant("w", w)}, conv_attrs(2, 2, 0, 128)));
  expect_matches_cpu(b, 1e-6, 2e-3);
  // Lowered to a strided copy (CudaLowering.OneHotUnfoldIsACopy): a batch, a 3x3 unfold with stride 2
  // and dilation 2, in one and in two groups of channels.
  expect_matches_cpu(one_hot_unfold_graph({2, 16, 20, 18}, 2, 2, 1, 16, 1.f, 0), 1e-6, 2e-3);
  expect_matches_cpu(one_hot_unfold_graph({1, 6, 21, 17}, 3, 2, 2, 1, 1.f, 0), 1e-6, 2e-3);
  expect_matches_cpu(one_hot_unfold_graph({1, 6, 21, 17}, 3, 1, 1, 2, 1.f, 0), 1e-6, 2e-3);
}

// Convolutions with one-hot filters and no padding lower to kestrel.StridedCopy; a weight other than
// 1, padding or a non-zero bias keep the convolution. Host only: the lowering needs no GPU.
TEST(CudaLowering, OneHotUnfoldIsACopy) {
  struct Case {
    int64_t kernel, stride, dilation, groups, pad;
    float one;
    bool copy;
  };
  for (const Case c : {Case{2, 2, 1, 16, 0, 1.f, true}, Case{3, 2, 2, 1, 0, 1.f, true}, Case{3, 1, 1, 2, 0, 1.f, true},
                       Case{2, 2, 1, 16, 0, 0.5f, false}, Case{3, 1, 1, 16, 1, 1.f, false}}) {
    const GraphBuilder b = one_hot_unfold_graph({1, 16, 20, 18}, c.kernel, c.stride, c.dilation, c.groups, c.one, c.pad);
    ir::Graph g = b.g;
    passes::optimize(g);
    g.sort();
    cuda::compile_graph(g, false, cuda::LoweringOptions::all(true));
    const ir::Graph lowered = cuda::lower_for_cuda(g, cuda::LoweringOptions::all(true));
    ASSERT_EQ(lowered.nodes.size(), 1u);
    EXPECT_EQ(lowered.nodes[0].op_type, c.copy ? "StridedCopy" : "Conv")
        << "kernel " << c.kernel << " stride " << c.stride << " weight " << c.one << " pad " << c.pad;
  }
  GraphBuilder biased = one_hot_unfold_graph({1, 4, 8, 8}, 2, 2, 1, 4, 1.f, 0);
  Tensor bias(DataType::kFLOAT, {16});
  bias.data<float>()[3] = 0.25f;
  biased.g.nodes[0].inputs.push_back(biased.constant("bias", bias));
  ir::Graph g = biased.g;
  passes::optimize(g);
  g.sort();
  cuda::compile_graph(g, false, cuda::LoweringOptions::all(true));
  EXPECT_EQ(cuda::lower_for_cuda(g, cuda::LoweringOptions::all(true)).nodes[0].op_type, "Conv");
}

TEST(CudaFusion, ConvReluAndResidual) {
  KESTREL_REQUIRE_GPU();
  {
    GraphBuilder b = conv_graph({1, 64, 32, 32}, {128, 64, 1, 1}, true, conv_attrs(1, 1, 0, 1), 8, "Relu");
    expect_matches_cpu(b);
    auto e = compile_for(b.g, DeviceType::kCUDA, false);
    ASSERT_EQ(e->graph.nodes.size(), 2u);  // the engine keeps the ONNX layers, the Relu marked fused
    EXPECT_EQ(e->graph.nodes[0].fused_from.size(), 2u);
    EXPECT_EQ(e->graph.nodes[1].kernel, "(fused)");
    EXPECT_EQ(cuda::lower_for_cuda(e->graph, true).nodes.size(), 1u) << "Conv+Relu should run as one layer";
  }
  {
    GraphBuilder b = conv_graph({1, 128, 16, 16}, {128, 128, 3, 3}, true, conv_attrs(3, 1, 1, 1), 9, "Relu");
    expect_matches_cpu(b);
  }
  {
    // Conv -> Add(residual) -> Relu: one layer.
    GraphBuilder b;
    const int x = b.input("x", random_tensor({1, 128, 16, 16}, 10));
    const int r = b.input("r", random_tensor({1, 64, 16, 16}, 11));
    const int y = b.one("Conv", {x, b.constant("w", random_tensor({64, 128, 1, 1}, 12, -0.1f, 0.1f)),
                                 b.constant("b", random_tensor({64}, 13))}, conv_attrs(1, 1, 0, 1));
    const int s = b.one("Add", {y, r});
    b.output(b.one("Relu", {s}));
    expect_matches_cpu(b);
    auto e = compile_for(b.g, DeviceType::kCUDA, true);
    for (const ir::Node& n : e->graph.nodes) {
      if (n.op_type == "Conv") EXPECT_EQ(n.fused_from.size(), 3u);
      else EXPECT_EQ(n.kernel, "(fused)") << n.name;
    }
    const ir::Graph lowered = cuda::lower_for_cuda(e->graph, true);
    size_t convs = 0, others = 0;
    for (const ir::Node& n : lowered.nodes) (n.op_type == "Conv" ? convs : others) += n.op_type != "Cast";
    EXPECT_EQ(convs, 1u);
    EXPECT_EQ(others, 0u) << "only the Conv (and FP16 reformat Casts) should run";
  }
}

TEST(CudaKernels, ElementwiseBroadcast) {
  KESTREL_REQUIRE_GPU();
  GraphBuilder b;
  const int q = b.input("q", random_tensor({1, 128, 4, 320}, 20));
  const int k = b.input("k", random_tensor({1, 1, 4, 320}, 21));
  const int m = b.one("Mul", {q, k});
  const int a = b.one("Add", {m, b.constant("c", random_tensor({128, 1, 1}, 22))});
  const int d = b.one("Div", {a, b.constant("two", random_tensor({1}, 23, 1.f, 2.f))});
  const int s = b.one("Sub", {d, q});
  const int r = b.one("Relu", {s});
  const int g = b.one("Sigmoid", {r});
  Tensor lo(DataType::kFLOAT, {}), hi(DataType::kFLOAT, {});
  lo.data<float>()[0] = 0.55f;
  hi.data<float>()[0] = 0.7f;
  b.output(b.one("Clip", {g, b.constant("lo", lo), b.constant("hi", hi)}));
  expect_matches_cpu(b);
}

TEST(CudaKernels, InstanceNormGroupNorm) {
  KESTREL_REQUIRE_GPU();
  // Both paths: one launch (a cluster of blocks per instance) and statistics + normalisation
  // (only the latter where the switch is set for the whole run).
  const bool switched_off = std::getenv("KESTREL_CUDA_NO_SINGLE_PASS_NORM") != nullptr;
  for (bool single_pass : {true, false}) {
    if (single_pass && switched_off) continue;
    const ScopedEnv on("KESTREL_CUDA_SINGLE_PASS_NORM", "1");  // opt-in; the switch-off wins
    std::unique_ptr<ScopedEnv> off;
    if (!single_pass) off = std::make_unique<ScopedEnv>("KESTREL_CUDA_NO_SINGLE_PASS_NORM", "1");
    for (Shape shape : {Shape{1, 1, 163840}, Shape{2, 1, 61440}, Shape{1, 1, 32768}, Shape{2, 3, 300}, Shape{1, 5, 7}}) {
      GraphBuilder b;
      const int x = b.input("x", random_tensor(shape, 30, -2.f, 3.f));
      const int64_t c = shape[1];
      b.output(b.one("InstanceNormalization",
                     {x, b.constant("s", random_tensor({c}, 31, 0.5f, 1.5f)), b.constant("b", random_tensor({c}, 32))},
                     attrs({{"epsilon", 1e-5f}})));
      expect_matches_cpu(b);
      auto e = compile_for(b.g, DeviceType::kCUDA, false);
      EXPECT_EQ(e->graph.nodes[0].kernel, single_pass ? "cuda.instance_norm_1pass" : "cuda.instance_norm");
    }
  }
}

TEST(CudaFusion, GroupNormOneGroupWithAffine) {
  KESTREL_REQUIRE_GPU();
  // GroupNorm(1 group) as exported: Reshape -> InstanceNormalization -> Reshape -> Mul -> Add.
  for (int64_t batch : {1, 2}) {
    GraphBuilder b;
    const int x = b.input("x", random_tensor({batch, 128, 4, 320}, 33, -2.f, 3.f));
    const int flat = b.one("Reshape", {x, b.constant("s1", int64_tensor({3}, {batch, 1, -1}))});
    Tensor one(DataType::kFLOAT, {1}), zero(DataType::kFLOAT, {1});
    one.data<float>()[0] = 1.f;
    const int n = b.one("InstanceNormalization", {flat, b.constant("one", one), b.constant("zero", zero)},
                        attrs({{"epsilon", 1e-5f}}));
    const int back = b.one("Reshape", {n, b.constant("s2", int64_tensor({4}, {batch, 128, 4, 320}))});
    const int m = b.one("Mul", {back, b.constant("g", random_tensor({128, 1, 1}, 34, 0.5f, 1.5f))});
    b.output(b.one("Add", {m, b.constant("beta", random_tensor({128, 1, 1}, 35))}));
    expect_matches_cpu(b);
    auto e = compile_for(b.g, DeviceType::kCUDA, false);
    const ir::Graph lowered = cuda::lower_for_cuda(e->graph, true);
    size_t norms = 0, others = 0;
    for (const ir::Node& node : lowered.nodes) {
      if (node.op_type == "InstanceNormalization") {
        ++norms;
        EXPECT_EQ(node.fused_from.size(), 4u);
      } else if (node.op_type == "Mul" || node.op_type == "Add") {
        ++others;
      }
    }
    EXPECT_EQ(norms, 1u);
    EXPECT_EQ(others, 0u) << "the affine Mul/Add should be fused into the normalisation";
  }
}

// A pre-norm block: GroupNorm as exported (one group, or as many groups as channels through a
// plain InstanceNormalization) feeding a 1x1 convolution, optionally with a residual and ReLU.
GraphBuilder norm_then_conv_graph(int64_t batch, int64_t channels, int64_t h, int64_t w, int64_t out, bool one_group,
                                  bool residual, uint32_t seed) {
  GraphBuilder b;
  const int x = b.input("x", random_tensor({batch, channels, h, w}, seed, -2.f, 3.f));
  int normed;
  if (one_group) {
    const int flat = b.one("Reshape", {x, b.constant("s1", int64_tensor({3}, {batch, 1, -1}))});
    Tensor one(DataType::kFLOAT, {1}), zero(DataType::kFLOAT, {1});
    one.data<float>()[0] = 1.f;
    const int n = b.one("InstanceNormalization", {flat, b.constant("one", one), b.constant("zero", zero)},
                        attrs({{"epsilon", 1e-5f}}));
    const int back = b.one("Reshape", {n, b.constant("s2", int64_tensor({4}, {batch, channels, h, w}))});
    const int m = b.one("Mul", {back, b.constant("g", random_tensor({channels, 1, 1}, seed + 1, 0.5f, 1.5f))});
    normed = b.one("Add", {m, b.constant("beta", random_tensor({channels, 1, 1}, seed + 2))});
  } else {
    normed = b.one("InstanceNormalization",
                   {x, b.constant("s", random_tensor({channels}, seed + 1, 0.5f, 1.5f)),
                    b.constant("b", random_tensor({channels}, seed + 2))},
                   attrs({{"epsilon", 1e-5f}}));
  }
  int y = b.one("Conv", {normed, b.constant("w", random_tensor({out, channels, 1, 1}, seed + 3, -0.1f, 0.1f)),
                         b.constant("bias", random_tensor({out}, seed + 4, -0.5f, 0.5f))},
                conv_attrs(1, 1, 0, 1));
  if (residual) {
    y = b.one("Add", {y, b.input("r", random_tensor({batch, out, h, w}, seed + 5))});
    y = b.one("Relu", {y});
  }
  b.output(y);
  return b;
}

TEST(CudaFusion, NormalisationInsideTheGemm) {
  KESTREL_REQUIRE_GPU();
  // SMAT's transformer shapes (128 channels of 4 x 256 and 1 x 256; 192 of 4 x 64), batches, an odd
  // number of 1024-element chunks, per-channel instances, K at the 512 limit, residual and ReLU.
  struct Case {
    int64_t batch, channels, h, w, out;
    bool one_group, residual;
  };
  for (const Case& c : {Case{1, 128, 4, 256, 257, true, false}, Case{2, 128, 1, 256, 256, true, true},
                        Case{1, 192, 4, 64, 384, true, false}, Case{3, 64, 5, 24, 40, true, true},
                        Case{2, 32, 8, 8, 48, false, false}, Case{1, 512, 2, 16, 64, true, false}}) {
    SCOPED_TRACE(testing::Message() << c.batch << "x" << c.channels << "x" << c.h << "x" << c.w << " -> " << c.out);
    const GraphBuilder b = norm_then_conv_graph(c.batch, c.channels, c.h, c.w, c.out, c.one_group, c.residual, 60);
    expect_matches_cpu(b);
    // FP16 lowers the pair into the statistics launch and the normalising GEMM; FP32 keeps the norm.
    for (bool fp16 : {false, true}) {
      auto e = compile_for(b.g, DeviceType::kCUDA, fp16);
      const ir::Graph lowered = cuda::lower_for_cuda(e->graph, cuda::lowering_options(*e));
      std::map<std::string, int> kernels;
      for (const ir::Node& n : lowered.nodes) ++kernels[n.kernel];
      EXPECT_EQ(kernels["cuda.norm_statistics"], fp16 ? 1 : 0);
      EXPECT_EQ(kernels["cuda.norm_gemm_conv"], fp16 ? 1 : 0);
    }
  }
}


TEST(CudaKernels, SeparableAttentionPieces) {
  KESTREL_REQUIRE_GPU();
  const ScopedEnv unfused("KESTREL_CUDA_NO_ATTENTION_FUSION", "1");  // the separate kernels, one per layer
  expect_matches_cpu(separable_attention_graph(1, 128, 4, 320, 40));
}

TEST(CudaFusion, SeparableAttentionOneKernel) {
  KESTREL_REQUIRE_GPU();
  struct Case {
    int64_t batch, channels, positions, tokens;
  };
  // SMAT's shapes (4 positions of 2x2 patches, 64 or 256 tokens), a batch, and odd sizes.
  for (const Case c : {Case{1, 128, 4, 256}, Case{1, 256, 4, 64}, Case{2, 40, 3, 100}, Case{1, 17, 1, 1000}}) {
    GraphBuilder b = separable_attention_graph(c.batch, c.channels, c.positions, c.tokens, 41);
    expect_matches_cpu(b);
    for (bool fp16 : {false, true}) {
      auto e = compile_for(b.g, DeviceType::kCUDA, fp16);
      const ir::Graph lowered = cuda::lower_for_cuda(e->graph, cuda::lowering_options(*e));
      size_t fused = 0, others = 0;
      for (const ir::Node& n : lowered.nodes) {
        if (n.op_type == "SeparableAttention") {
          ++fused;
          EXPECT_EQ(n.kernel, "cuda.separable_attention");
          EXPECT_EQ(n.fused_from.size(), 7u);
        } else {
          others += n.op_type != "Cast";
        }
      }
      EXPECT_EQ(fused, 1u);
      EXPECT_EQ(others, 0u) << "the whole chain should run as one kernel";
    }
  }
}

// GEMM convolutions with bias, residual and ReLU as one kernel (gemm_conv.cu): tile edges in every
// dimension, both tile sizes, a batch, and the im2col path.
TEST(CudaFusion, GemmConvEpilogueOneKernel) {
  KESTREL_REQUIRE_GPU();
  const ScopedEnv on("KESTREL_CUDA_GEMM_EPILOGUE", "1");  // the kernel is opt-in
  // The kernel of the only layer (besides FP16 reformats), in FP32 and FP16.
  auto check_kernel = [](const GraphBuilder& b, const char* fp32, const char* fp16) {
    for (bool half : {false, true}) {
      auto e = compile_for(b.g, DeviceType::kCUDA, half);
      const ir::Graph lowered = cuda::lower_for_cuda(e->graph, cuda::lowering_options(*e));
      size_t launched = 0;
      for (const ir::Node& n : lowered.nodes) {
        if (n.op_type == "Cast") continue;
        ++launched;
        EXPECT_EQ(n.kernel, half ? fp16 : fp32) << n.name;
      }
      EXPECT_EQ(launched, 1u);
    }
  };
  auto check_one_kernel = [&](const GraphBuilder& b, const char* expected) { check_kernel(b, expected, expected); };
  {  // 64x64 tiles (128 blocks)
    GraphBuilder b = conv_graph({1, 64, 64, 64}, {128, 64, 1, 1}, true, conv_attrs(1, 1, 0, 1), 80, "Relu");
    expect_matches_cpu(b);
    check_one_kernel(b, "cuda.gemm_conv");
  }
  {  // above 2^26 multiply-adds FP32 stays on cuBLAS + the epilogue kernel; FP16 takes the fused kernel
    GraphBuilder b = conv_graph({1, 128, 64, 64}, {256, 128, 1, 1}, true, conv_attrs(1, 1, 0, 1), 79, "Relu");
    expect_matches_cpu(b);
    check_kernel(b, "cublas.gemm+cuda.bias_act", "cuda.gemm_conv");
  }
  {  // 32x32 tiles, m not a multiple of the tile
    GraphBuilder b = conv_graph({1, 128, 16, 16}, {96, 128, 1, 1}, true, conv_attrs(1, 1, 0, 1), 81);
    expect_matches_cpu(b);
    check_one_kernel(b, "cuda.gemm_conv");
  }
  {  // odd m, n and k, a batch of 2, residual and ReLU
    GraphBuilder b;
    const int x = b.input("x", random_tensor({2, 40, 7, 9}, 82));
    const int r = b.input("r", random_tensor({2, 24, 7, 9}, 83));
    const int y = b.one("Conv", {x, b.constant("w", random_tensor({24, 40, 1, 1}, 84, -0.2f, 0.2f)),
                                 b.constant("b", random_tensor({24}, 85))}, conv_attrs(1, 1, 0, 1));
    b.output(b.one("Relu", {b.one("Add", {y, r})}));
    expect_matches_cpu(b);
    check_one_kernel(b, "cuda.gemm_conv");
  }
  {  // residual without bias, large k (SMAT's widest 1x1 projections)
    GraphBuilder b;
    const int x = b.input("x", random_tensor({1, 512, 16, 16}, 86));
    const int r = b.input("r", random_tensor({1, 256, 16, 16}, 87));
    const int y = b.one("Conv", {x, b.constant("w", random_tensor({256, 512, 1, 1}, 88, -0.05f, 0.05f))},
                        conv_attrs(1, 1, 0, 1));
    b.output(b.one("Add", {r, y}));
    expect_matches_cpu(b);
    check_one_kernel(b, "cuda.gemm_conv");
  }
  {  // the pipelined FP16 kernel (gemm_conv_pipelined.cu) takes 1x1 convolutions whose channels and
     // pixels are multiples of 8: both tile sizes, m off the tile, k off the 32-wide K step, batches
    struct Case {
      int64_t batch, c, h, w, k;
    };
    alignas(16) static const uint8_t aligned[16] = {};
    for (const Case t : {Case{1, 128, 1, 256, 257}, Case{2, 40, 16, 20, 96}, Case{4, 64, 32, 32, 200},
                         Case{2, 128, 64, 64, 256}}) {
      GraphBuilder b;
      const int x = b.input("x", random_tensor({t.batch, t.c, t.h, t.w}, 93));
      const int r = b.input("r", random_tensor({t.batch, t.k, t.h, t.w}, 94));
      const int y = b.one("Conv", {x, b.constant("w", random_tensor({t.k, t.c, 1, 1}, 95, -0.1f, 0.1f)),
                                   b.constant("b", random_tensor({t.k}, 96))}, conv_attrs(1, 1, 0, 1));
      b.output(b.one("Relu", {b.one("Add", {y, r})}));
      expect_matches_cpu(b);
      const bool fp32_fused = t.batch * t.k * t.h * t.w * t.c <= (int64_t(1) << 26);
      check_kernel(b, fp32_fused ? "cuda.gemm_conv" : "cublas.gemm+cuda.bias_act", "cuda.gemm_conv");
      cuda::GemmConv g;
      g.batch = int(t.batch), g.m = int(t.k), g.n = int(t.h * t.w), g.k = int(t.c);
      g.x_batch_stride = t.c * t.h * t.w;
      EXPECT_TRUE(cuda::gemm_conv_pipelined_applies(cuda::DType::kF16, g, aligned, aligned, aligned, aligned));
      EXPECT_FALSE(cuda::gemm_conv_pipelined_applies(cuda::DType::kF32, g, aligned, aligned, aligned, aligned));
      g.n = 63;  // the odd case above: the plain kernel
      EXPECT_FALSE(cuda::gemm_conv_pipelined_applies(cuda::DType::kF16, g, aligned, aligned, aligned, aligned));
    }
  }
  {  // implicit-GEMM convolutions: 3x3 with padding, the stem with stride 2, dilation and odd kernels
    GraphBuilder b = conv_graph({1, 32, 16, 16}, {48, 32, 3, 3}, true, conv_attrs(3, 1, 1, 1), 89, "Relu");
    expect_matches_cpu(b);
    check_one_kernel(b, "cuda.implicit_gemm_conv");
    expect_matches_cpu(conv_graph({2, 3, 64, 64}, {32, 3, 3, 3}, true, conv_attrs(3, 2, 1, 1), 90, "Relu"));
    // dilation 2, a 5x3 kernel with asymmetric padding (no ReLU: the bias alone is an epilogue)
    ir::Attributes a = attrs({{"kernel_shape", std::vector<int64_t>{5, 3}},
                              {"strides", std::vector<int64_t>{1, 2}},
                              {"pads", std::vector<int64_t>{2, 0, 3, 1}},
                              {"dilations", std::vector<int64_t>{2, 1}}});
    GraphBuilder d = conv_graph({1, 16, 20, 18}, {24, 16, 5, 3}, true, a, 92);
    expect_matches_cpu(d);
    check_one_kernel(d, "cuda.implicit_gemm_conv");
  }
  {  // switched off at build time: cuBLAS and the separate epilogue kernel again
    const ScopedEnv off("KESTREL_CUDA_NO_GEMM_EPILOGUE", "1");
    GraphBuilder b = conv_graph({1, 64, 16, 16}, {32, 64, 1, 1}, true, conv_attrs(1, 1, 0, 1), 91, "Relu");
    auto e = compile_for(b.g, DeviceType::kCUDA, false);
    EXPECT_EQ(e->target.at("cuda.fusion.gemm_epilogue"), "off");
    EXPECT_EQ(cuda::lower_for_cuda(e->graph, cuda::lowering_options(*e)).nodes[0].kernel, "cublas.gemm+cuda.bias_act");
    expect_matches_cpu(b);
  }
}

TEST(CudaKernels, MovementOps) {
  KESTREL_REQUIRE_GPU();
  GraphBuilder b;
  const int x = b.input("x", random_tensor({1, 512, 16, 16}, 50));
  const int d2s = b.one("DepthToSpace", {x}, attrs({{"blocksize", int64_t(2)}, {"mode", std::string("CRD")}}));
  const int r = b.one("Reshape", {d2s, b.constant("s1", int64_tensor({3}, {1, 128, 1024}))});
  const int t = b.one("Transpose", {r}, attrs({{"perm", std::vector<int64_t>{0, 2, 1}}}));
  const int y = b.input("y", random_tensor({1, 1024, 64}, 51));
  const int c = b.one("Concat", {t, y}, attrs({{"axis", int64_t(2)}}));
  const int s = b.one("Slice", {c, b.constant("st", int64_tensor({1}, {3})), b.constant("en", int64_tensor({1}, {170})),
                                b.constant("ax", int64_tensor({1}, {2})), b.constant("sp", int64_tensor({1}, {2}))});
  b.output(s);
  const int dcr = b.one("DepthToSpace", {x}, attrs({{"blocksize", int64_t(2)}, {"mode", std::string("DCR")}}));
  b.output(b.one("Flatten", {dcr}, attrs({{"axis", int64_t(1)}})));
  expect_matches_cpu(b, 0.0, 1e-3);
}

// SMAT's patch fold, Slice -> Reshape -> DepthToSpace, and a Transpose of an Expand: each chain
// runs as one composed strided copy.
GraphBuilder copy_chain_graph() {
  GraphBuilder b;
  const int x = b.input("x", random_tensor({1, 128, 4, 320}, 52));
  const int s = b.one("Slice", {x, b.constant("st", int64_tensor({1}, {64})), b.constant("en", int64_tensor({1}, {320})),
                                b.constant("ax", int64_tensor({1}, {3}))});
  const int r = b.one("Reshape", {s, b.constant("shape", int64_tensor({4}, {1, 512, 16, 16}))});
  b.output(b.one("DepthToSpace", {r}, attrs({{"blocksize", int64_t(2)}, {"mode", std::string("CRD")}})));
  const int y = b.input("y", random_tensor({3, 1, 5}, 53));
  const int e = b.one("Expand", {y, b.constant("to", int64_tensor({3}, {3, 4, 5}))});
  b.output(b.one("Transpose", {e}, attrs({{"perm", std::vector<int64_t>{2, 0, 1}}})));
  return b;
}

TEST(CudaFusion, CopyChainsOneCopy) {
  KESTREL_REQUIRE_GPU();
  GraphBuilder b = copy_chain_graph();
  expect_matches_cpu(b, 0.0, 1e-3);
  auto e = compile_for(b.g, DeviceType::kCUDA, false);
  const ir::Graph lowered = cuda::lower_for_cuda(e->graph, cuda::lowering_options(*e));
  ASSERT_EQ(lowered.nodes.size(), 2u);
  for (const ir::Node& n : lowered.nodes) EXPECT_EQ(n.op_type, "StridedCopy") << n.name;
}

// ------------------------------------------------------------------------------- QDQ models


// A QDQ convolution as quantize_static and `kestrel quantize` write it: Q/DQ on the activation,
// an int8 weight with per-channel scales behind a DQ, Relu, and the next layer's Q/DQ.
GraphBuilder qdq_conv_graph(int64_t channels, int64_t out_channels, uint32_t seed) {
  GraphBuilder b;
  const int x = b.input("x", random_tensor({1, channels, 12, 10}, seed));
  const int xs = b.constant("x_scale", scalar_tensor(DataType::kFLOAT, 1.0 / 127));
  const int xz = b.constant("x_zero", scalar_tensor(DataType::kINT8, 0));
  const int xq = b.one("QuantizeLinear", {x, xs, xz});
  const int xd = b.one("DequantizeLinear", {xq, xs, xz});
  Tensor w(DataType::kINT8, {out_channels, channels, 3, 3});
  std::mt19937 rng(seed + 1);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = int8_t(int(rng() % 255) - 127);
  Tensor ws = random_tensor({out_channels}, seed + 2, 0.0005f, 0.002f);
  Tensor wz(DataType::kINT8, {out_channels});
  const int wd = b.one("DequantizeLinear", {b.constant("w", w), b.constant("w_scale", ws), b.constant("w_zero", wz)},
                       attrs({{"axis", int64_t(0)}}));
  const int y = b.one("Conv", {xd, wd, b.constant("bias", random_tensor({out_channels}, seed + 3, -0.2f, 0.2f))},
                      conv_attrs(3, 1, 1, 1));
  const int r = b.one("Relu", {y});
  const int ys = b.constant("y_scale", scalar_tensor(DataType::kFLOAT, 0.02));
  const int yz = b.constant("y_zero", scalar_tensor(DataType::kINT8, 0));
  b.output(b.one("DequantizeLinear", {b.one("QuantizeLinear", {r, ys, yz}), ys, yz}));
  return b;
}

TEST(CudaKernels, QuantizeDequantizeMatchTheReferenceExactly) {
  KESTREL_REQUIRE_GPU();
  {  // uint8 with a zero point, per tensor; values on rounding boundaries and past saturation
    GraphBuilder b;
    Tensor x = random_tensor({2, 3, 7, 5}, 60, -3.f, 3.f);
    for (int64_t i = 0; i < 20; ++i) x.data<float>()[i] = 0.005f * float(i - 10);  // ties at scale 0.01
    const int xi = b.input("x", std::move(x));
    const int s = b.constant("s", scalar_tensor(DataType::kFLOAT, 0.01));
    const int z = b.constant("z", scalar_tensor(DataType::kUINT8, 128));
    b.output(b.one("DequantizeLinear", {b.one("QuantizeLinear", {xi, s, z}), s, z}));
    expect_matches_cpu(b, 0.0, 0.0);
  }
  {  // int8 per axis (scales and zero points per channel of axis 1)
    GraphBuilder b;
    const int xi = b.input("x", random_tensor({2, 4, 6, 5}, 61, -2.f, 2.f));
    const int s = b.constant("s", random_tensor({4}, 62, 0.005f, 0.02f));
    Tensor z(DataType::kINT8, {4});
    for (int i = 0; i < 4; ++i) z.data<int8_t>()[i] = int8_t(i * 5 - 7);
    const int zi = b.constant("z", std::move(z));
    b.output(b.one("DequantizeLinear", {b.one("QuantizeLinear", {xi, s, zi}, attrs({{"axis", int64_t(1)}})), s, zi},
                   attrs({{"axis", int64_t(1)}})));
    expect_matches_cpu(b, 0.0, 0.0);
  }
}

// A QDQ model runs on CUDA in float with its weights dequantized once, at load (no
// DequantizeLinear of a constant is left to launch), or with KESTREL_CUDA_INT8_KERNELS=1 on the
// integer kernels; both match the CPU engine's integer kernels within one step of the output scale
// (the float and integer sums may round to neighbouring steps).
TEST(CudaKernels, QdqConvolutionWithinOneOutputStep) {
  KESTREL_REQUIRE_GPU();
  const GraphBuilder b = qdq_conv_graph(32, 24, 63);
  expect_matches_cpu(b, 0.02 + 1e-6, 0.02 + 1e-6);
  const ScopedEnv integer_path("KESTREL_CUDA_INT8_KERNELS", "1");
  expect_matches_cpu(b, 0.02 + 1e-6, 0.02 + 1e-6);
}

// The QDQ path in float (the default; the integer convolutions take the weights as they are,
// test_cuda_int8.cpp).
TEST(CudaLowering, WeightDequantizeIsFoldedAtLoad) {
  for (bool fp16 : {false, true}) {  // in FP16 only the folded weight's FP16 copy is read
  const GraphBuilder b = qdq_conv_graph(8, 4, 64);
  ir::Graph g = b.g;
  passes::optimize(g);
  g.sort();
  cuda::LoweringOptions options = cuda::LoweringOptions::all(true);
  options.integer_convs = false;
  cuda::compile_graph(g, fp16, options);
  for (const ir::Node& n : g.nodes)
    if (n.op_type == "DequantizeLinear" && g.values[size_t(n.inputs[0])].constant)
      EXPECT_EQ(n.kernel, "(folded at load)") << n.name;
  const ir::Graph lowered = cuda::lower_for_cuda(g, options);
  size_t dequantize = 0;
  for (const ir::Node& n : lowered.nodes) {
    if (n.op_type != "DequantizeLinear") continue;
    ++dequantize;
    EXPECT_FALSE(lowered.values[size_t(n.inputs[0])].constant.has_value()) << n.name << " dequantizes a constant";
    EXPECT_EQ(n.kernel, "cuda.dequantize_linear");
  }
  EXPECT_EQ(dequantize, 2u);  // the activation's and the output's
  }
}

TEST(CudaKernels, MatMulAndChannelAttention) {
  KESTREL_REQUIRE_GPU();
  GraphBuilder b;
  const int a = b.input("a", random_tensor({1, 64, 384}, 60));
  const int m = b.input("m", random_tensor({1, 384, 256}, 61));
  const int p = b.one("MatMul", {a, m});
  const int r = b.one("Reshape", {p, b.constant("s", int64_tensor({4}, {1, 64, 16, 16}))});
  const int g = b.one("GlobalAveragePool", {r});
  const int sg = b.one("Sigmoid", {g});
  b.output(b.one("Mul", {r, sg}));
  // The products sum 384 terms of magnitude ~0.3: FP16 storage of results near 10 is within 2e-2.
  expect_matches_cpu(b, 1e-4, 3e-2);
}

TEST(CudaKernels, BoxDecodeIntegerOps) {
  KESTREL_REQUIRE_GPU();
  GraphBuilder b;
  const int score = b.input("score", random_tensor({1, 256}, 70, 0.f, 1.f));
  const int idx = b.one("ArgMax", {score}, attrs({{"axis", int64_t(1)}, {"keepdims", int64_t(1)}}));
  const int sixteen = b.constant("sixteen", int64_tensor({}, {16}));
  const int row = b.one("Div", {idx, sixteen});
  const int col = b.node("Mod", {idx, sixteen}, 1, attrs({{"fmod", int64_t(0)}}))[0];
  const int colf = b.one("Cast", {col}, attrs({{"to", int64_t(1)}}));
  const int rowf = b.one("Cast", {row}, attrs({{"to", int64_t(1)}}));
  const int off = b.input("offset", random_tensor({1, 2, 256}, 71));
  const int gidx = b.one("Expand", {b.one("Unsqueeze", {idx, b.constant("ax", int64_tensor({1}, {1}))}),
                                    b.constant("shape", int64_tensor({3}, {1, 2, 1}))});
  const int gathered = b.one("GatherElements", {off, gidx}, attrs({{"axis", int64_t(2)}}));
  const int eq = b.one("Equal", {row, col});
  const int w = b.one("Where", {eq, rowf, colf});
  b.output(b.one("Add", {rowf, colf}));
  b.output(gathered);
  b.output(w);
  b.output(idx);
  expect_matches_cpu(b, 1e-6, 1e-2);
}

// ArgMax/ArgMin over few long lines run a block per line: ties (the first index wins, the last
// with select_last) and an inner axis must come out as from the sequential scan.
TEST(CudaKernels, ArgMaxBlockPerLine) {
  KESTREL_REQUIRE_GPU();
  Tensor ties = random_tensor({3, 300}, 95, 0.f, 5.f);
  for (int64_t i = 0; i < ties.numel(); ++i) ties.data<float>()[i] = std::floor(ties.data<float>()[i]);
  GraphBuilder b;
  const int x = b.input("x", ties);
  b.output(b.one("ArgMax", {x}, attrs({{"axis", int64_t(1)}, {"keepdims", int64_t(1)}})));
  b.output(b.one("ArgMin", {x}, attrs({{"axis", int64_t(1)}, {"keepdims", int64_t(0)}, {"select_last_index", int64_t(1)}})));
  const int z = b.input("z", random_tensor({2, 100, 3}, 96));
  b.output(b.one("ArgMax", {z}, attrs({{"axis", int64_t(1)}, {"keepdims", int64_t(1)}})));
  // FP16 storage keeps these small integers exact, so FP16 must agree exactly too.
  expect_matches_cpu(b, 0.0, 0.0, /*check_fp16=*/true);
}

// ------------------------------------------------------------------------------- lowering (no GPU needed)

std::string smat_dir_for_lowering();  // with the engine tests below

// The fusion switches recorded in an engine decide how it is lowered when loaded.
TEST(CudaLowering, OptionsFollowTheEngine) {
  engine::EngineData e;
  // Engines from before the switches: the default lowering (the opt-in kernels off).
  EXPECT_FALSE(cuda::lowering_options(e).gemm_epilogue);
  EXPECT_FALSE(cuda::lowering_options(e).single_pass_norm);
  EXPECT_TRUE(cuda::lowering_options(e).separable_attention);
  e.target["cuda.fusion"] = "on";
  e.target["cuda.fusion.gemm_epilogue"] = "off";
  e.target["cuda.fusion.separable_attention"] = "on";
  EXPECT_FALSE(cuda::lowering_options(e).gemm_epilogue);
  EXPECT_TRUE(cuda::lowering_options(e).separable_attention);
  e.target["cuda.fusion"] = "off";
  const cuda::LoweringOptions off = cuda::lowering_options(e);
  EXPECT_FALSE(off.conv_epilogue || off.gemm_epilogue || off.separable_attention || off.single_pass_norm ||
               off.copy_chains);
}

// Build-time timing records the layers it gave the fused kernels; the lowering marks only those.
TEST(CudaLowering, TunedLayerListsFollowTheEngine) {
  GraphBuilder b;
  const int x = b.input("x", random_tensor({1, 64, 16, 16}, 1));
  const int y = b.one("Conv", {x, b.constant("w1", random_tensor({64, 64, 1, 1}, 2)), b.constant("b1", random_tensor({64}, 3))},
                      conv_attrs(1, 1, 0, 1));
  b.output(b.one("Conv", {y, b.constant("w2", random_tensor({64, 64, 1, 1}, 4)), b.constant("b2", random_tensor({64}, 5))},
                 conv_attrs(1, 1, 0, 1)));
  passes::optimize(b.g);  // shapes, as the builder leaves them
  b.g.sort();
  ASSERT_EQ(b.g.nodes.size(), 2u);
  const std::string first = b.g.nodes[0].name, second = b.g.nodes[1].name;
  engine::EngineData e;
  cuda::LoweringOptions chosen;
  chosen.gemm_epilogue = true;
  chosen.gemm_epilogue_layers = {second};
  chosen.single_pass_norm = false;
  cuda::record_lowering_options(e, chosen);
  EXPECT_EQ(e.target.at("cuda.fusion.gemm_epilogue"), "tuned");
  const cuda::LoweringOptions read = cuda::lowering_options(e);
  EXPECT_TRUE(read.gemm_epilogue);
  EXPECT_EQ(read.gemm_epilogue_layers, std::set<std::string>{second});
  EXPECT_FALSE(read.single_pass_norm);
  const ir::Graph lowered = cuda::lower_for_cuda(b.g, read);
  for (const ir::Node& n : lowered.nodes) {
    if (n.op_type != "Conv") continue;
    EXPECT_EQ(n.attrs.get_int("kestrel_fused_gemm", 0), n.name == second ? 1 : 0) << n.name;
  }
  EXPECT_NE(first, second);
}

TEST(CudaLowering, TimingCacheFileRoundTripAndErrors) {
  const std::string dir = (std::filesystem::temp_directory_path() / "kestrel_timing_cache_test").string();
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/cache.txt";
  std::filesystem::remove(path);
  EXPECT_EQ(cuda::TimingCache::load(path).size(), 0u) << "a missing file is an empty cache";
  cuda::TimingCache cache;
  cache.put("H100 sm9.0 | Conv float32[1,64,16,16]", {0.012, 0.020});
  cache.put("H100 sm9.0 | InstanceNormalization float16[1,128,4,256]", {0.009, 0.007});
  cache.save(path);
  const cuda::TimingCache back = cuda::TimingCache::load(path);
  ASSERT_EQ(back.size(), 2u);
  const auto conv = back.find("H100 sm9.0 | Conv float32[1,64,16,16]");
  ASSERT_TRUE(conv.has_value());
  EXPECT_NEAR(conv->candidate_ms, 0.012, 1e-9);
  EXPECT_TRUE(conv->candidate_wins());
  EXPECT_FALSE(back.find("H100 sm9.0 | InstanceNormalization float16[1,128,4,256]")->candidate_wins());
  const auto expect_error = [&](const std::string& text, const std::string& words) {
    write_file_atomic(path, text.data(), text.size());
    try {
      cuda::TimingCache::load(path);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error("not a cache\n", "not a Kestrel timing cache");
  expect_error("kestrel-timing-cache 1\n0.1\tkey only\n", ":2:");
  expect_error("kestrel-timing-cache 1\nfast\t0.2\tkey\n", "not a time");
  std::filesystem::remove_all(dir);
}

// The composed copies of the lowering, applied on the host, give what the CPU engine computes:
// checks the composition itself without a GPU.
TEST(CudaLowering, CopyChainsComposeExactly) {
  GraphBuilder b = copy_chain_graph();
  const auto cpu = run(compile_for(b.g, DeviceType::kCPU, false), b.feeds);
  engine::EngineData e;
  e.graph = b.g;
  passes::optimize(e.graph);
  e.graph.sort();
  cuda::compile_graph(e.graph, false, true);
  const ir::Graph lowered = cuda::lower_for_cuda(e.graph, true);
  ASSERT_EQ(lowered.nodes.size(), 2u);
  for (size_t o = 0; o < lowered.outputs.size(); ++o) {
    const ir::Node* node = nullptr;
    for (const ir::Node& n : lowered.nodes)
      if (n.outputs[0] == lowered.outputs[o]) node = &n;
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(node->op_type, "StridedCopy");
    const std::optional<cuda::CopyMap> m = cuda::copy_map(lowered, *node);
    ASSERT_TRUE(m.has_value());
    const size_t feed = size_t(std::find(lowered.inputs.begin(), lowered.inputs.end(), node->inputs[0]) -
                               lowered.inputs.begin());
    ASSERT_LT(feed, b.feeds.size());
    const Tensor& in = b.feeds[feed];
    Tensor out(DataType::kFLOAT, lowered.values[size_t(lowered.outputs[o])].shape);
    std::vector<int64_t> c(m->dims.size(), 0);
    for (int64_t i = 0; i < out.numel(); ++i) {
      int64_t src = m->base;
      for (size_t d = 0; d < c.size(); ++d) src += c[d] * m->in_strides[d];
      out.data<float>()[i] = in.data<float>()[src];
      for (size_t d = c.size(); d-- > 0;) {
        if (++c[d] < m->dims[d]) break;
        c[d] = 0;
      }
    }
    EXPECT_EQ(max_abs_diff(out, cpu[o]), 0.0) << "output " << o;
  }
  // A slice that breaks a reshape's carries is no single strided map: no composition.
  const cuda::CopyMap slice{{4, 3}, {5, 1}, 1};    // columns 1..3 of a [4, 5] matrix
  const cuda::CopyMap flat{{12}, {1}, 0};           // ... seen as 12 elements
  const cuda::CopyMap every_other{{6}, {2}, 0};     // elements 0, 2, ..., 10 of those
  EXPECT_FALSE(cuda::compose(flat, slice).has_value());
  EXPECT_FALSE(cuda::compose(every_other, slice).has_value());
  const cuda::CopyMap first_column{{4}, {3}, 0};    // element 0 of each row of the slice
  const std::optional<cuda::CopyMap> column = cuda::compose(first_column, slice);
  ASSERT_TRUE(column.has_value());
  EXPECT_EQ(column->base, 1);
  EXPECT_EQ(column->in_strides, std::vector<int64_t>{5});
}

// Kernel launches of a lowered graph as a CUDA graph replays them: the reshape-like copies alias
// their input and launch nothing (see the executor), a kernel name "a+b+c" is three launches, the
// instance norm is two (partial statistics, then the normalisation).
size_t launches_of(const ir::Graph& lowered, const ir::Node& node) {
  if (node.kernel == "cuda.copy" && !node.inputs.empty()) {
    const int in = node.inputs[0];
    const ir::Value& v = lowered.values[size_t(in)];
    const std::vector<int> producer = lowered.producers();
    if (producer[size_t(in)] >= 0 && !v.constant && !lowered.is_graph_output(in) &&
        !lowered.is_graph_output(node.outputs[0]))
      return 0;
  }
  if (node.kernel == "cuda.instance_norm") return 2;
  return size_t(std::count(node.kernel.begin(), node.kernel.end(), '+')) + 1;
}

// The SMAT tracking network's lowering with and without the fusions of this backend, counted on
// the host: the number of kernels is what a CUDA graph costs (about 1 us each on an H100).
TEST(CudaLowering, SmatKernelCount) {
  const std::string model = smat_dir_for_lowering();
  if (model.empty()) GTEST_SKIP() << "SMAT export not found (set KESTREL_SMAT_DIR)";
  const std::vector<uint8_t> bytes = read_file(model);
  ir::Graph source = onnx_import::import_model(bytes.data(), bytes.size(), model);
  for (int id : source.inputs) {  // the builder's static shapes: batch 1 for a dynamic first dimension
    ir::Value& v = source.values[size_t(id)];
    if (!v.shape.empty() && v.shape[0] < 0) v.shape[0] = 1;
    v.shape_known = true;
  }
  passes::optimize(source);
  passes::optimize(source, DeviceType::kCUDA);  // as the builder and cuda::compile do
  source.sort();
  for (bool fp16 : {false, true}) {
    size_t totals[2] = {};
    for (int fused = 0; fused < 2; ++fused) {
      cuda::LoweringOptions options;  // before: only the Conv-epilogue and GroupNorm fusions
      options.gemm_epilogue = options.separable_attention = options.single_pass_norm = options.copy_chains = fused == 1;
      ir::Graph g = source;
      cuda::compile_graph(g, fp16, options);
      const ir::Graph lowered = cuda::lower_for_cuda(g, options);
      std::map<std::string, std::pair<size_t, size_t>> per_kernel;  // op + kernel -> layers, launches
      size_t total = 0;
      for (const ir::Node& n : lowered.nodes) {
        const size_t l = launches_of(lowered, n);
        auto& [layers, launches] = per_kernel[n.op_type + " " + (l == 0 ? std::string("(alias)") : n.kernel)];
        ++layers;
        launches += l;
        total += l;
      }
      std::printf("SMAT %s, %s: %zu layers, %zu kernel launches\n", fp16 ? "FP16" : "FP32",
                  fused ? "with the GEMM-epilogue, attention, single-pass norm and copy-chain fusions" : "before them", lowered.nodes.size(), total);
      for (const auto& [name, counts] : per_kernel)
        std::printf("  %-60s %3zu layers %3zu launches\n", name.c_str(), counts.first, counts.second);
      if (std::getenv("KESTREL_SMAT_PRINT_LAYERS")) {  // the whole lowered graph, for bisecting
        for (const ir::Node& n : lowered.nodes) {
          const ir::Value& out = lowered.values[size_t(n.outputs[0])];
          std::printf("    %-22s %-32s %-5s %-18s %s\n", n.op_type.c_str(), n.kernel.c_str(), dtype_name(out.dtype),
                      shape_str(out.shape).c_str(), n.name.c_str());
        }
      }
      totals[fused] = total;
      if (fused) {
        for (const ir::Node& n : lowered.nodes) {
          // FP32 keeps its largest GEMMs on cuBLAS + the epilogue kernel (see fused_gemm in ops_nn.cpp).
          if (fp16) EXPECT_EQ(n.kernel.find("cuda.bias_act"), std::string::npos) << n.name << " " << n.kernel;
          EXPECT_NE(n.op_type, "Softmax") << n.name << ": the attention should be fused";
        }
      }
    }
    EXPECT_LT(totals[1], totals[0]);
  }
}

// ------------------------------------------------------------------------------- engines

std::string smat_dir() {
  const char* dir = std::getenv("KESTREL_SMAT_DIR");
  return dir ? dir : "/tmp/smat_cuda";
}

// The SMAT tracking export for the host-only lowering test: $KESTREL_SMAT_DIR, else the trained
// model in the source tree; empty when neither is there.
std::string smat_dir_for_lowering() {
  for (const std::string& path : {smat_dir() + "/smat_track.onnx", std::string(KESTREL_SOURCE_DIR) +
                                                                       "/models/smat_synthetic/smat_track.onnx"})
    if (std::filesystem::exists(path)) return path;
  return "";
}

struct SmatFiles {
  std::string track, templ, reference;
  bool present() const { return std::filesystem::exists(track) && std::filesystem::exists(reference); }
};

SmatFiles smat_files() {
  const std::string d = smat_dir();
  return {d + "/smat_track.onnx", d + "/smat_template.onnx", d + "/reference.npz"};
}

struct Quiet : ILogger {
  void log(Severity s, const char* m) noexcept override {
    if (s <= Severity::kERROR) std::fprintf(stderr, "%s\n", m);
  }
};

std::vector<uint8_t> build_engine(const std::string& model, DeviceType device, bool fp16) {
  Quiet logger;
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  EXPECT_TRUE(parser.parse_from_file(model).ok());
  BuilderConfig config;
  config.set_device(device);
  if (fp16) config.set_flag(BuilderFlag::kFP16);
  auto built = builder.build_serialized_network(*network, config);
  EXPECT_TRUE(built.ok()) << built.status().message();
  return built.ok() ? built.value() : std::vector<uint8_t>{};
}

NamedTensors run_engine(const std::vector<uint8_t>& bytes, const NamedTensors& feed) {
  Quiet logger;
  Runtime runtime(logger);
  auto engine = runtime.deserialize(bytes.data(), bytes.size());
  EXPECT_TRUE(engine.ok()) << engine.status().message();
  if (!engine.ok()) return {};
  auto context = engine.value()->create_execution_context();
  NamedTensors outputs;
  for (const TensorDesc& in : engine.value()->inputs()) {
    auto it = std::find_if(feed.begin(), feed.end(), [&](const auto& kv) { return kv.first == in.name; });
    EXPECT_NE(it, feed.end()) << in.name;
    EXPECT_TRUE(context->set_tensor_address(in.name, const_cast<uint8_t*>(it->second.bytes.data())).ok());
  }
  for (const TensorDesc& out : engine.value()->outputs()) {
    HostTensor t;
    t.dtype = out.dtype;
    t.shape = out.shape;
    t.bytes.resize(size_t(t.numel()) * element_size(t.dtype));
    outputs.emplace_back(out.name, std::move(t));
  }
  for (auto& [name, t] : outputs) EXPECT_TRUE(context->set_tensor_address(name, t.bytes.data()).ok());
  EXPECT_TRUE(context->infer().ok());
  EXPECT_TRUE(context->infer().ok());  // the second run replays the CUDA graph
  return outputs;
}

double max_abs(const HostTensor& a, const HostTensor& b) {
  return max_abs_diff(from_host_tensor(a), from_host_tensor(b));
}

// FP32 must match the CPU engine within fp32_tol absolute. FP16 must match within fp16_tol times
// the output's range (max(1, max |value|)): FP16 storage rounds each layer's tensors to 11
// significant bits, so end-to-end errors scale with the magnitudes (z reaches 9, offsets 2.2).
void compare_smat(const std::string& model, double fp32_tol, double fp16_tol) {
  const SmatFiles f = smat_files();
  auto feed = load_npz(f.reference);
  ASSERT_TRUE(feed.ok());
  const NamedTensors cpu = run_engine(build_engine(model, DeviceType::kCPU, false), *feed);
  for (bool fp16 : {false, true}) {
    const NamedTensors gpu = run_engine(build_engine(model, DeviceType::kCUDA, fp16), *feed);
    ASSERT_EQ(gpu.size(), cpu.size());
    for (size_t i = 0; i < cpu.size(); ++i) {
      const double d = max_abs(gpu[i].second, cpu[i].second);
      const Tensor ref = from_host_tensor(cpu[i].second);
      double range = 1;
      for (int64_t j = 0; j < ref.numel(); ++j) range = std::max(range, std::fabs(ref.double_at(j)));
      std::printf("%s %s %s: max abs error vs CPU %.3g (output range %.3g)\n",
                  std::filesystem::path(model).filename().c_str(), fp16 ? "FP16" : "FP32", cpu[i].first.c_str(), d,
                  range);
      if (fp16 && cpu[i].first == "pred_boxes") continue;  // arg-max of an FP16 score map may pick a near-tie
      EXPECT_LE(d, fp16 ? fp16_tol * range : fp32_tol) << cpu[i].first << (fp16 ? " FP16" : " FP32");
    }
  }
}

TEST(CudaEngines, SmatTrackingNetworkMatchesCpu) {
  KESTREL_REQUIRE_GPU();
  if (!smat_files().present()) GTEST_SKIP() << "SMAT exports not found in " << smat_dir() << " (set KESTREL_SMAT_DIR)";
  compare_smat(smat_files().track, 1e-4, 3e-2);
}

TEST(CudaEngines, SmatTemplateEncoderMatchesCpu) {
  KESTREL_REQUIRE_GPU();
  if (!smat_files().present()) GTEST_SKIP() << "SMAT exports not found in " << smat_dir() << " (set KESTREL_SMAT_DIR)";
  compare_smat(smat_files().templ, 1e-4, 3e-2);
}

TEST(CudaEngines, RoundTripAndGraphReplay) {
  KESTREL_REQUIRE_GPU();
  if (!smat_files().present()) GTEST_SKIP() << "SMAT exports not found in " << smat_dir() << " (set KESTREL_SMAT_DIR)";
  const SmatFiles f = smat_files();
  auto feed = load_npz(f.reference);
  ASSERT_TRUE(feed.ok());
  for (bool fp16 : {false, true}) {
    const std::vector<uint8_t> bytes = build_engine(f.track, DeviceType::kCUDA, fp16);
    Quiet logger;
    Runtime runtime(logger);
    auto engine = runtime.deserialize(bytes.data(), bytes.size());
    ASSERT_TRUE(engine.ok()) << engine.status().message();
    auto again = engine.value()->serialize();
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value(), bytes) << "serialize(deserialize(engine)) must give the same bytes";
    EXPECT_EQ(engine.value()->summary().device, DeviceType::kCUDA);
    EXPECT_TRUE(engine.value()->summary().target.count("cuda.compute_capability"));
    // Graph replay equals plain launches, bit for bit, also after rebinding.
    auto data = std::make_shared<engine::EngineData>(engine::deserialize_engine(bytes.data(), bytes.size()));
    std::vector<Tensor> feeds;
    for (int id : data->graph.inputs) {
      const std::string& name = data->graph.values[size_t(id)].name;
      auto it = std::find_if(feed->begin(), feed->end(), [&](const auto& kv) { return kv.first == name; });
      ASSERT_NE(it, feed->end());
      feeds.push_back(from_host_tensor(it->second));
    }
    const auto plain = run(data, feeds, false);
    const auto graphed = run(data, feeds, true, 3);
    for (size_t i = 0; i < plain.size(); ++i) EXPECT_EQ(max_abs_diff(plain[i], graphed[i]), 0.0) << i;
    // Kernels launched ahead of their predecessor's end (programmatic dependent launch, on by
    // default on Hopper) must give the same bits as strictly serialised launches: a kernel that
    // touched memory before waiting for its predecessor would differ here.
    cuda::set_programmatic_launch(false);
    const auto serial_plain = run(data, feeds, false);
    const auto serial_graphed = run(data, feeds, true, 3);
    cuda::set_programmatic_launch(true);
    for (size_t i = 0; i < plain.size(); ++i) {
      EXPECT_EQ(max_abs_diff(plain[i], serial_plain[i]), 0.0) << i;
      EXPECT_EQ(max_abs_diff(graphed[i], serial_graphed[i]), 0.0) << i;
    }
  }
}

// The builder times the two-kernel layers, writes the timings, and a rebuild takes them from the
// file: same choices, no new timing runs.
TEST(CudaEngines, KernelTimingUsesTheCache) {
  KESTREL_REQUIRE_GPU();
  if (!smat_files().present()) GTEST_SKIP() << "SMAT exports not found in " << smat_dir() << " (set KESTREL_SMAT_DIR)";
  const std::string dir = (std::filesystem::temp_directory_path() / "kestrel_kernel_timing_test").string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string cache = dir + "/smat.timing";
  const auto build = [&] {
    Quiet logger;
    Builder builder(logger);
    auto network = builder.create_network();
    OnnxParser parser(*network, logger);
    EXPECT_TRUE(parser.parse_from_file(smat_files().track).ok());
    BuilderConfig config;
    config.set_device(DeviceType::kCUDA);
    config.set_flag(BuilderFlag::kFP16);
    config.set_timing_cache_path(cache);
    auto built = builder.build_serialized_network(*network, config);
    EXPECT_TRUE(built.ok()) << built.status().message();
    return engine::deserialize_engine(built.value().data(), built.value().size());
  };
  const engine::EngineData first = build();
  ASSERT_TRUE(std::filesystem::exists(cache));
  const size_t entries = cuda::TimingCache::load(cache).size();
  EXPECT_GT(entries, 0u);
  const std::string note = first.target.at("cuda.kernel_timing");
  std::printf("first build: %s\n", note.c_str());
  EXPECT_NE(note.find("(0 timings from the cache"), std::string::npos) << note;
  const engine::EngineData second = build();
  std::printf("rebuild: %s\n", second.target.at("cuda.kernel_timing").c_str());
  EXPECT_EQ(second.target.at("cuda.kernel_timing").find("(0 timings"), std::string::npos);
  EXPECT_EQ(cuda::lowering_options(first).gemm_epilogue_layers, cuda::lowering_options(second).gemm_epilogue_layers);
  EXPECT_EQ(cuda::lowering_options(first).single_pass_norm_layers,
            cuda::lowering_options(second).single_pass_norm_layers);
  EXPECT_EQ(cuda::TimingCache::load(cache).size(), entries);
  std::filesystem::remove_all(dir);
}

TEST(CudaEngines, RefusesOtherComputeCapability) {
  KESTREL_REQUIRE_GPU();
  GraphBuilder b;
  b.output(b.one("Relu", {b.input("x", random_tensor({4}, 1))}));
  auto e = compile_for(b.g, DeviceType::kCUDA, false);
  e->target["cuda.compute_capability"] = "1.0";
  try {
    cuda::check_compatible(*e);
    FAIL() << "an engine for compute capability 1.0 was accepted";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("compute capability 1.0"), std::string::npos) << err.what();
  }
  e = compile_for(b.g, DeviceType::kCUDA, false);
  e->target["cublas.version"] = "1.0.0";
  EXPECT_THROW(cuda::check_compatible(*e), Error);
}

TEST(CudaEngines, UnsupportedOpIsNamed) {
  KESTREL_REQUIRE_GPU();
  GraphBuilder b;
  const int x = b.input("x", random_tensor({1, 3, 8, 8}, 1));
  b.output(b.one("LRN", {x}, attrs({{"size", int64_t(3)}})));
  auto e = std::make_shared<engine::EngineData>();
  e->device = DeviceType::kCUDA;
  e->graph = b.g;
  passes::optimize(e->graph);
  try {
    cuda::compile_graph(e->graph, false, true);
    FAIL() << "LRN has no CUDA kernel";
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find("no CUDA kernel for LRN"), std::string::npos) << err.what();
  }
}

}  // namespace
}  // namespace kestrel
