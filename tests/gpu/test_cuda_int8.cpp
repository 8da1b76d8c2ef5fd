// The integer kernels of CUDA INT8 engines (kestrel.QConv, qconv.cu, and the layers that quantize
// their own output; docs/int8.md, "INT8 on CUDA", opt-in with KESTREL_CUDA_INT8_KERNELS=1): how QDQ
// models are lowered (host only), and each kernel against the CPU engine (its own int8 kernels)
// within one step of the output scale, or 1e-4 (FP32) / 2e-2 (FP16) for float outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "backend/cuda/cuda_backend.h"
#include "gpu/cuda_test_support.h"

namespace kestrel {
namespace {

// One QDQ convolution as quantize_static and `kestrel quantize` write it: Q/DQ on the activation
// (int8, or uint8 with zero point 0), an int8 weight with per-channel scales behind a DQ, bias,
// optionally a float residual Add and Relu, and optionally the next layer's Q/DQ on the output.
struct QdqConvCase {
  Shape x;
  int64_t out_channels = 16, kernel = 1, stride = 1, pad = 0, group = 1;
  bool relu = true, residual = false, quantized_output = true, uint8_input = false;
  uint32_t seed = 1;
};

constexpr double kXScale = 1.0 / 127, kYScale = 0.05;

GraphBuilder qdq_conv(const QdqConvCase& c) {
  GraphBuilder b;
  const int x = b.input("x", random_tensor(c.x, c.seed, c.uint8_input ? 0.f : -1.f, 1.f));
  const DataType q = c.uint8_input ? DataType::kUINT8 : DataType::kINT8;
  const int xs = b.constant("x_scale", scalar_tensor(DataType::kFLOAT, c.uint8_input ? 1.0 / 255 : kXScale));
  const int xz = b.constant("x_zero", scalar_tensor(q, 0));
  const int xd = b.one("DequantizeLinear", {b.one("QuantizeLinear", {x, xs, xz}), xs, xz});
  const int64_t in_per_group = c.x[1] / c.group;
  Tensor w(DataType::kINT8, {c.out_channels, in_per_group, c.kernel, c.kernel});
  std::mt19937 rng(c.seed + 1);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = int8_t(int(rng() % 255) - 127);
  const float fan_in = float(in_per_group * c.kernel * c.kernel);
  Tensor ws = random_tensor({c.out_channels}, c.seed + 2, 0.5f / fan_in, 2.f / fan_in);
  const int wd = b.one("DequantizeLinear",
                       {b.constant("w", w), b.constant("w_scale", ws), b.constant("w_zero", Tensor(DataType::kINT8, {c.out_channels}))},
                       attrs({{"axis", int64_t(0)}}));
  int y = b.one("Conv", {xd, wd, b.constant("bias", random_tensor({c.out_channels}, c.seed + 3, -0.2f, 0.2f))},
                conv_attrs(c.kernel, c.stride, c.pad, c.group));
  if (c.residual) {
    const int64_t oh = (c.x[2] + 2 * c.pad - c.kernel) / c.stride + 1, ow = (c.x[3] + 2 * c.pad - c.kernel) / c.stride + 1;
    y = b.one("Add", {y, b.input("r", random_tensor({c.x[0], c.out_channels, oh, ow}, c.seed + 4))});
  }
  if (c.relu) y = b.one("Relu", {y});
  if (c.quantized_output) {
    const int ys = b.constant("y_scale", scalar_tensor(DataType::kFLOAT, kYScale));
    const int yz = b.constant("y_zero", scalar_tensor(DataType::kINT8, 0));
    y = b.one("DequantizeLinear", {b.one("QuantizeLinear", {y, ys, yz}), ys, yz});
  }
  b.output(y);
  return b;
}

// GroupNorm-like InstanceNormalization whose output is quantized for a QDQ 1x1 convolution, the
// pattern of SMAT's transformer blocks: norm -> Q -> DQ -> Conv -> Q -> DQ.
GraphBuilder norm_then_qdq_conv(Shape x, int64_t out_channels, uint32_t seed) {
  GraphBuilder b;
  const int xi = b.input("x", random_tensor(x, seed, -2.f, 3.f));
  const int norm = b.one("InstanceNormalization", {xi, b.constant("g", random_tensor({x[1]}, seed + 1, 0.5f, 1.5f)),
                                                   b.constant("b", random_tensor({x[1]}, seed + 2, -0.3f, 0.3f))});
  const int ns = b.constant("n_scale", scalar_tensor(DataType::kFLOAT, 4.0 / 127));
  const int nz = b.constant("n_zero", scalar_tensor(DataType::kINT8, 0));
  const int nd = b.one("DequantizeLinear", {b.one("QuantizeLinear", {norm, ns, nz}), ns, nz});
  Tensor w(DataType::kINT8, {out_channels, x[1], 1, 1});
  std::mt19937 rng(seed + 3);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = int8_t(int(rng() % 255) - 127);
  const int wd = b.one("DequantizeLinear", {b.constant("w", w), b.constant("w_scale", random_tensor({out_channels}, seed + 4, 1e-3f, 3e-3f)),
                                            b.constant("w_zero", Tensor(DataType::kINT8, {out_channels}))},
                       attrs({{"axis", int64_t(0)}}));
  const int y = b.one("Conv", {nd, wd}, conv_attrs(1, 1, 0, 1));
  const int ys = b.constant("y_scale", scalar_tensor(DataType::kFLOAT, kYScale));
  const int yz = b.constant("y_zero", scalar_tensor(DataType::kINT8, 0));
  b.output(b.one("DequantizeLinear", {b.one("QuantizeLinear", {y, ys, yz}), ys, yz}));
  return b;
}

// The separable attention core with its output quantized (the next layer's Q/DQ).
GraphBuilder quantized_attention(int64_t batch, int64_t channels, int64_t positions, int64_t tokens, uint32_t seed) {
  GraphBuilder b = separable_attention_graph(batch, channels, positions, tokens, seed);
  const int y = b.g.outputs.back();
  b.g.outputs.pop_back();
  const int ys = b.constant("y_scale", scalar_tensor(DataType::kFLOAT, 1.0 / 64));
  const int yz = b.constant("y_zero", scalar_tensor(DataType::kINT8, 0));
  b.output(b.one("DequantizeLinear", {b.one("QuantizeLinear", {y, ys, yz}), ys, yz}));
  return b;
}

ir::Graph lowered(const GraphBuilder& b, bool fp16) {
  ir::Graph g = b.g;
  passes::optimize(g);
  g.sort();
  cuda::compile_graph(g, fp16, cuda::LoweringOptions::all(true));
  return cuda::lower_for_cuda(g, cuda::LoweringOptions::all(true));
}

std::map<std::string, int> kernel_counts(const ir::Graph& g) {
  std::map<std::string, int> counts;
  for (const ir::Node& n : g.nodes) ++counts[n.kernel];
  return counts;
}

// ------------------------------------------------------------------------------- no GPU

TEST(CudaLowering, QdqConvolutionsRunOnIntegerKernels) {
  struct Expect {
    QdqConvCase c;
    const char* kernel;
  };
  const Expect cases[] = {
      {{{1, 32, 8, 6}, 48}, "cuda.qconv_gemm"},                                       // 1x1, K and N % 16 == 0
      {{{1, 16, 8, 8}, 32, 3, 1, 1}, "cuda.im2col+cuda.qconv_gemm"},                  // dense 3x3
      {{{1, 32, 8, 8}, 32, 3, 2, 1, 32}, "cuda.qconv_depthwise3x3"},                  // depthwise, stride 2
      {{{1, 32, 7, 5}, 16}, "cuda.qconv_gemm"},                                       // N = 35: byte loads
      {{{1, 32, 8, 6}, 16, 1, 1, 0, 1, true, false, true, true}, "cuda.qconv_direct"},  // uint8 input
  };
  for (bool fp16 : {false, true}) {
    for (const Expect& e : cases) {
      const ir::Graph g = lowered(qdq_conv(e.c), fp16);
      const std::map<std::string, int> counts = kernel_counts(g);
      EXPECT_EQ(counts.count(e.kernel) ? counts.at(e.kernel) : 0, 1) << e.kernel << (fp16 ? " FP16" : " FP32");
      for (const ir::Node& n : g.nodes) {
        if (n.op_type == "QConv") {
          EXPECT_EQ(g.values[size_t(n.outputs[0])].dtype, DataType::kINT8) << "the output Q is absorbed";
          EXPECT_EQ(n.attrs.get_string("activation", ""), "Relu");
          EXPECT_EQ(g.values[size_t(n.inputs[1])].dtype, DataType::kINT8) << "the weight stays int8";
        }
        if (n.op_type == "DequantizeLinear")
          EXPECT_FALSE(g.values[size_t(n.inputs[0])].constant.has_value()) << "a weight is dequantized per inference";
      }
      // Only the input's quantizer and the output's dequantizer are left around the layer.
      EXPECT_EQ(counts.count("cuda.quantize_linear") ? counts.at("cuda.quantize_linear") : 0, 1);
      EXPECT_EQ(counts.count("cuda.dequantize_linear") ? counts.at("cuda.dequantize_linear") : 0, 1);
    }
  }
}

TEST(CudaLowering, IntegerConvolutionsCanBeSwitchedOff) {
  const GraphBuilder b = qdq_conv({{1, 32, 8, 6}, 48});
  ir::Graph g = b.g;
  passes::optimize(g);
  g.sort();
  cuda::LoweringOptions off = cuda::LoweringOptions::all(true);
  off.integer_convs = false;
  cuda::compile_graph(g, true, off);
  const ir::Graph l = cuda::lower_for_cuda(g, off);
  for (const ir::Node& n : l.nodes) EXPECT_NE(n.op_type, "QConv");
  const std::map<std::string, int> counts = kernel_counts(l);
  EXPECT_EQ(counts.at("cuda.dequantize_linear"), 2);  // the activation's and the output's
}

// The engine's own layers say what ran them: the Conv its integer kernel, the activation's
// dequantizer and the output's quantizer "(fused)", the weight's "(folded at load)".
TEST(CudaLowering, IntegerConvolutionLayersAreNamedInTheEngine) {
  ir::Graph g = qdq_conv({{1, 32, 8, 6}, 48}).g;
  passes::optimize(g);
  g.sort();
  cuda::compile_graph(g, true, cuda::LoweringOptions::all(true));
  std::map<std::string, int> counts = kernel_counts(g);
  EXPECT_EQ(counts["cuda.qconv_gemm"], 1);
  EXPECT_EQ(counts["(folded at load)"], 1);
  EXPECT_EQ(counts["(fused)"], 3);  // the activation's DQ, the Relu and the output's Q
  EXPECT_EQ(counts["cuda.quantize_linear"], 1);
  EXPECT_EQ(counts["cuda.dequantize_linear"], 1);
}

// The quantizer between a normalisation and a quantized convolution goes into the norm kernel.
TEST(CudaLowering, NormalisationWritesInt8ForTheQuantizedConvolution) {
  for (bool fp16 : {false, true}) {
    const ir::Graph g = lowered(norm_then_qdq_conv({1, 32, 8, 8}, 32, 21), fp16);
    const std::map<std::string, int> counts = kernel_counts(g);
    EXPECT_EQ(counts.count("cuda.quantize_linear"), 0u) << "every quantizer is inside a layer";
    for (const ir::Node& n : g.nodes)
      if (n.op_type == "InstanceNormalization") EXPECT_EQ(g.values[size_t(n.outputs[0])].dtype, DataType::kINT8);
  }
}

TEST(CudaLowering, SeparableAttentionWritesInt8) {
  for (bool fp16 : {false, true}) {
    const ir::Graph g = lowered(quantized_attention(1, 64, 4, 64, 24), fp16);
    const std::map<std::string, int> counts = kernel_counts(g);
    EXPECT_EQ(counts.count("cuda.quantize_linear"), 0u);
    EXPECT_EQ(counts.count("cuda.separable_attention") ? counts.at("cuda.separable_attention") : 0, 1);
    for (const ir::Node& n : g.nodes)
      if (n.op_type == "SeparableAttention") EXPECT_EQ(g.values[size_t(n.outputs[0])].dtype, DataType::kINT8);
  }
}

// ------------------------------------------------------------------------------- kernels

// The kernel tests build their engines with the integer kernels switched on.
#define KESTREL_USE_INT8_KERNELS() const ScopedEnv int8_kernels_("KESTREL_CUDA_INT8_KERNELS", "1")

void expect_qconv_matches_cpu(const QdqConvCase& c, const char* what) {
  SCOPED_TRACE(what);
  const GraphBuilder b = qdq_conv(c);
  const auto engine = compile_for(b.g, DeviceType::kCUDA, false);
  const ir::Graph g = cuda::lower_for_cuda(engine->graph, cuda::lowering_options(*engine));
  EXPECT_EQ(std::count_if(g.nodes.begin(), g.nodes.end(), [](const ir::Node& n) { return n.op_type == "QConv"; }), 1)
      << "the engine does not run the convolution on integers";
  if (c.quantized_output) {
    // Integer sums scaled once against float sums of dequantized values: a tie may round to the
    // neighbouring step.
    expect_matches_cpu(b, kYScale + 1e-6, kYScale + 1e-6);
  } else {
    expect_matches_cpu(b, 1e-4, 2e-2);
  }
}

TEST(CudaKernels, IntegerConvolutionGemm) {
  KESTREL_REQUIRE_GPU();
  KESTREL_USE_INT8_KERNELS();
  expect_qconv_matches_cpu({{1, 32, 8, 6}, 48}, "1x1, one tile");
  expect_qconv_matches_cpu({{2, 80, 12, 12}, 72, 1, 1, 0, 1, false, false, true, false, 5},
                           "1x1, batch 2, K = 64 + 16, partial M and N tiles, no ReLU");
  expect_qconv_matches_cpu({{1, 128, 16, 16}, 256, 1, 1, 0, 1, true, false, true, false, 6}, "1x1, SMAT's layer 3");
  expect_qconv_matches_cpu({{1, 64, 8, 8}, 32, 1, 1, 0, 1, true, true, false, false, 7},
                           "1x1, residual, float output");
  expect_qconv_matches_cpu({{1, 64, 8, 8}, 32, 1, 1, 0, 1, false, true, true, false, 8},
                           "1x1, residual, int8 output");
}

TEST(CudaKernels, IntegerConvolutionIm2colGemm) {
  KESTREL_REQUIRE_GPU();
  KESTREL_USE_INT8_KERNELS();
  expect_qconv_matches_cpu({{1, 16, 8, 8}, 32, 3, 1, 1}, "3x3, padding 1");
  expect_qconv_matches_cpu({{2, 128, 16, 16}, 64, 3, 1, 1, 1, true, false, false, false, 9},
                           "3x3, SMAT's head, batch 2, float output");
  expect_qconv_matches_cpu({{1, 16, 16, 16}, 16, 3, 2, 1, 1, true, false, true, false, 10}, "3x3, stride 2");
}

TEST(CudaKernels, IntegerConvolutionDepthwise) {
  KESTREL_REQUIRE_GPU();
  KESTREL_USE_INT8_KERNELS();
  expect_qconv_matches_cpu({{1, 32, 8, 8}, 32, 3, 2, 1, 32}, "depthwise 3x3, stride 2");
  expect_qconv_matches_cpu({{2, 48, 9, 7}, 48, 3, 1, 1, 48, false, true, false, false, 11},
                           "depthwise 3x3, residual, float output");
  expect_qconv_matches_cpu({{1, 64, 64, 64}, 64, 3, 1, 1, 64, true, false, true, false, 13}, "depthwise 3x3, SMAT's layer 2");
  expect_qconv_matches_cpu({{1, 16, 10, 12}, 16, 3, 1, 1, 16, true, false, true, true, 14}, "depthwise 3x3, uint8 input");
}

TEST(CudaKernels, IntegerConvolutionDirect) {
  KESTREL_REQUIRE_GPU();
  KESTREL_USE_INT8_KERNELS();
  expect_qconv_matches_cpu({{1, 16, 9, 9}, 16, 5, 2, 2, 16}, "depthwise 5x5: the generic kernel");
  expect_qconv_matches_cpu({{1, 32, 8, 6}, 16, 1, 1, 0, 1, true, false, true, true}, "uint8 input");
  expect_qconv_matches_cpu({{1, 32, 6, 6}, 16, 3, 1, 1, 4}, "grouped, 4 groups");
  expect_qconv_matches_cpu({{1, 3, 20, 20}, 16, 3, 2, 1, 1, true, false, true, false, 12}, "RGB stem, K = 27");
}

// The GEMM with byte loads: K or the pixel count not a multiple of 16 (ImageNet's 7x7 and 14x14
// planes, the RGB stem's K = 27), partial tiles, residual and float output.
TEST(CudaKernels, IntegerConvolutionGemmUnaligned) {
  KESTREL_REQUIRE_GPU();
  KESTREL_USE_INT8_KERNELS();
  expect_qconv_matches_cpu({{1, 32, 7, 5}, 16}, "1x1, N = 35");
  expect_qconv_matches_cpu({{2, 40, 7, 7}, 72, 1, 1, 0, 1, true, false, true, false, 15}, "1x1, K = 40, N = 49, batch 2");
  expect_qconv_matches_cpu({{1, 96, 14, 14}, 24, 1, 1, 0, 1, false, true, false, false, 16},
                           "1x1, N = 196, residual, float output");
  expect_qconv_matches_cpu({{1, 20, 9, 11}, 24, 3, 1, 1, 1, true, false, true, false, 17}, "3x3, K = 180, N = 99");
  expect_qconv_matches_cpu({{1, 4, 10, 10}, 16, 3, 1, 1, 1, true, false, true, false, 18}, "3x3, K = 36");
}

TEST(CudaKernels, NormalisationWithItsQuantizer) {
  KESTREL_REQUIRE_GPU();
  KESTREL_USE_INT8_KERNELS();
  // The norm's int8 output may differ from the CPU's by one step where float rounding ties; the
  // convolution then sees it as one step of the norm's scale times a weight.
  expect_matches_cpu(norm_then_qdq_conv({2, 64, 16, 16}, 64, 22), 3 * kYScale, 3 * kYScale);
  expect_matches_cpu(norm_then_qdq_conv({1, 32, 64, 64}, 16, 23), 3 * kYScale, 3 * kYScale);  // the two-kernel norm
}

TEST(CudaKernels, SeparableAttentionWithItsQuantizer) {
  KESTREL_REQUIRE_GPU();
  KESTREL_USE_INT8_KERNELS();
  // Within one step of the output scale (a float tie may round either way).
  expect_matches_cpu(quantized_attention(1, 128, 4, 256, 25), 1.0 / 64 + 1e-6, 1.0 / 64 + 1e-6);
  expect_matches_cpu(quantized_attention(2, 40, 3, 100, 26), 1.0 / 64 + 1e-6, 1.0 / 64 + 1e-6);
}

}  // namespace
}  // namespace kestrel
