// INT8 kernels on the CPU against the float reference of the same QDQ graph.
//
// Each case builds X -> Q -> DQ -> Conv(DQ(int8 W, per-channel scales), B) [-> Relu | Clip]
// [+ residual] [-> Q -> DQ] as an IR graph; the reference runs it node by node on the reference
// kernels (the QDQ definition), the engine path runs it through the builder's passes and the
// CPU backend, where fuse_qdq_conv makes a kestrel.QConv that cpu.onednn.qconv computes in
// integers. The bound: an int8 output may differ by one quantization step of its scale (the
// integer kernel scales once, by multiplication, where the reference sums dequantized floats
// and divides), a float output by 1e-4 relative to the output's range.
#include <cmath>
#include <limits>
#include <cstring>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "backend/cpu/fast/kernel.h"
#include "backend/cpu/fast/quantize_transpose.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "engine/backend.h"
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"
#include "quant/int8_math.h"
#include "support/graph_run.h"
#include "support/op_test.h"

namespace kestrel::testing {
namespace {

struct ConvCase {
  Shape x;                      // [N, C, H, W]
  int64_t out_channels = 8;
  int64_t kernel = 1, stride = 1, pad = 0, group = 1;
  std::string activation;       // "", "Relu", "Clip"
  bool residual = false;
  bool quantized_out = true;    // a Q -> DQ after the layer (int8 output), else float output
  bool uint8_in = false;
  uint32_t seed = 1;
};

std::string describe(const ConvCase& c) {
  return fmt::format("x {} -> {} k{} s{} p{} g{} {}{}{}{}", shape_str(c.x), c.out_channels, c.kernel, c.stride, c.pad,
                     c.group, c.activation, c.residual ? " +residual" : "", c.quantized_out ? " int8 out" : " float out",
                     c.uint8_in ? " u8 in" : "");
}

// The shared graph builder (support/graph_run.h) with the QDQ pieces these tests need.
class Builder : public GraphBuilder {
 public:
  int node(const std::string& op, std::vector<int> inputs, ir::Attributes attrs = {}) {
    return one(op, std::move(inputs), std::move(attrs));
  }
  int scalar(float s) { return constant(make_float({}, {s})); }
  int zero_point(bool uint8) {
    Tensor t(uint8 ? DataType::kUINT8 : DataType::kINT8, {});
    std::memset(t.raw(), 0, 1);
    return constant(std::move(t));
  }
  // Q then DQ with one scale: the activation quantization the QDQ rewrite writes.
  int qdq(int x, float scale, bool uint8 = false) {
    const int q = node("QuantizeLinear", {x, scalar(scale), zero_point(uint8)});
    return node("DequantizeLinear", {q, scalar(scale), zero_point(uint8)});
  }
};

// The layer's weight as int8 with per-output-channel scales max|W_c| / 127, like the quantizer.
struct QuantWeight {
  Tensor q, scales, zero_points;
};

QuantWeight quantize_weight(const Tensor& w) {
  const int64_t m = w.dim(0), per = w.numel() / m;
  QuantWeight out{Tensor(DataType::kINT8, w.shape()), Tensor(DataType::kFLOAT, {m}), Tensor(DataType::kINT8, {m})};
  for (int64_t c = 0; c < m; ++c) {
    float amax = 0;
    for (int64_t i = 0; i < per; ++i) amax = std::max(amax, std::fabs(w.data<float>()[c * per + i]));
    const float s = amax > 0 ? amax / 127.f : 1.f;
    out.scales.data<float>()[c] = s;
    out.zero_points.data<int8_t>()[c] = 0;
    for (int64_t i = 0; i < per; ++i)
      out.q.data<int8_t>()[c * per + i] = int8_t(std::lrint(std::clamp(w.data<float>()[c * per + i] / s, -127.f, 127.f)));
  }
  return out;
}

struct Built {
  ir::Graph graph;
  std::vector<Tensor> inputs;
  float y_scale = 0;
};

Built build_case(const ConvCase& c) {
  Builder b;
  Built out;
  std::mt19937 rng(c.seed);
  const int64_t cin = c.x[1];
  const int x = b.input("x", c.x);
  // Activations in [0, 4) for a uint8 input (after a ReLU), [-2, 2) otherwise.
  out.inputs.push_back(random_float(c.x, c.seed, c.uint8_in ? 0.f : -2.f, c.uint8_in ? 4.f : 2.f));
  const float x_scale = (c.uint8_in ? 4.f / 255.f : 2.f / 127.f);
  const int dq_x = b.qdq(x, x_scale, c.uint8_in);

  const Shape w_shape{c.out_channels, cin / c.group, c.kernel, c.kernel};
  const Tensor w = random_float(w_shape, c.seed + 1, -0.5f, 0.5f);
  QuantWeight qw = quantize_weight(w);
  ir::Attributes wa;
  wa.set("axis", int64_t(0));
  const int dq_w = b.node("DequantizeLinear", {b.constant(qw.q), b.constant(qw.scales), b.constant(qw.zero_points)}, wa);
  const int bias = b.constant(random_float({c.out_channels}, c.seed + 2, -0.5f, 0.5f));

  ir::Attributes ca;
  ca.set("strides", std::vector<int64_t>{c.stride, c.stride});
  ca.set("pads", std::vector<int64_t>{c.pad, c.pad, c.pad, c.pad});
  ca.set("group", c.group);
  int y = b.node("Conv", {dq_x, dq_w, bias}, ca);
  const int64_t oh = (c.x[2] + 2 * c.pad - c.kernel) / c.stride + 1, ow = (c.x[3] + 2 * c.pad - c.kernel) / c.stride + 1;
  const Shape y_shape{c.x[0], c.out_channels, oh, ow};
  if (c.residual) {
    const int r = b.input("r", y_shape);
    out.inputs.push_back(random_float(y_shape, c.seed + 3, -1.f, 1.f));
    y = b.node("Add", {y, r});
  }
  if (c.activation == "Relu") y = b.node("Relu", {y});
  if (c.activation == "Clip") y = b.node("Clip", {y, b.scalar(-0.5f), b.scalar(1.5f)});
  if (c.quantized_out) {
    out.y_scale = 0.05f;
    y = b.qdq(y, out.y_scale);
  }
  b.graph.outputs.push_back(y);
  out.graph = std::move(b.graph);
  return out;
}

// Node by node on the reference kernels, after the device-independent passes (shapes, folding).
std::vector<Tensor> run_reference(ir::Graph graph, const std::vector<Tensor>& inputs) {
  passes::optimize(graph);
  return run_graph(graph, inputs);
}

// Through the builder's steps and the CPU backend (fusions, kernel choice, executor).
struct EngineRun {
  std::vector<Tensor> outputs;
  std::vector<std::string> kernels;  // "op kernel" per layer
};

EngineRun run_engine(ir::Graph graph, const std::vector<Tensor>& inputs, int threads) {
  auto engine = std::make_shared<engine::EngineData>();
  engine->graph = std::move(graph);
  passes::optimize(engine->graph);
  passes::give_outputs_producers(engine->graph);
  engine->graph.sort();
  BuilderConfig config;
  config.set_cpu_threads(threads);
  const engine::Backend& backend = engine::require_backend(DeviceType::kCPU);
  backend.compile(*engine, config);
  EngineRun run;
  for (const ir::Node& node : engine->graph.nodes) run.kernels.push_back(ir::qualified_op_type(node) + " " + node.kernel);
  std::unique_ptr<engine::Executor> executor = backend.create_executor(engine);
  ExecutionOptions options;
  options.cpu_threads = threads;
  executor->configure(options);
  std::vector<Tensor> in = inputs;
  for (size_t i = 0; i < in.size(); ++i) executor->bind(engine->graph.inputs[i], in[i].raw());
  for (int id : engine->graph.outputs) {
    const ir::Value& v = engine->graph.values[size_t(id)];
    run.outputs.emplace_back(v.dtype, v.shape);
    executor->bind(id, run.outputs.back().raw());
  }
  executor->enqueue(nullptr);
  executor->synchronize(nullptr);
  return run;
}

bool has_kernel(const EngineRun& run, const std::string& text) {
  for (const std::string& k : run.kernels)
    if (k == text) return true;
  return false;
}

void check_case(const ConvCase& c, int threads) {
  SCOPED_TRACE(describe(c) + fmt::format(", {} threads", threads));
  Built built = build_case(c);
  const std::vector<Tensor> ref = run_reference(built.graph, built.inputs);
  const EngineRun fast = run_engine(built.graph, built.inputs, threads);
  ASSERT_TRUE(has_kernel(fast, "kestrel.QConv cpu.onednn.qconv")) << fmt::format("{}", fmt::join(fast.kernels, ", "));
  ASSERT_EQ(ref.size(), fast.outputs.size());
  const std::vector<float> r = to_floats(ref[0]), f = to_floats(fast.outputs[0]);
  ASSERT_EQ(r.size(), f.size());
  float range = 0;
  for (float v : r) range = std::max(range, std::fabs(v));
  // One step of the output scale (plus float slack); float outputs: 1e-4 of the range.
  const float bound = c.quantized_out ? built.y_scale * 1.001f : 1e-4f * std::max(range, 1.f);
  size_t off_by_step = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    ASSERT_LE(std::fabs(r[i] - f[i]), bound) << "element " << i << ": reference " << r[i] << ", int8 kernel " << f[i];
    off_by_step += r[i] != f[i];
  }
  // Off-by-one-step results are rare rounding ties, never the rule.
  if (c.quantized_out) EXPECT_LE(off_by_step, r.size() / 20 + 2);
}

TEST(Int8Conv, PointwiseAroundSmat) {
  for (int threads : {1, 2}) {
    check_case({{1, 32, 16, 16}, 64, 1, 1, 0, 1, "Relu"}, threads);
    check_case({{1, 64, 8, 8}, 32, 1, 1, 0, 1, ""}, threads);
    check_case({{1, 24, 7, 9}, 40, 1, 1, 0, 1, "Relu", false, false}, threads);  // odd sizes, float out
    check_case({{2, 17, 5, 3}, 9, 1, 1, 0, 1, "Clip"}, threads);                 // odd channels, batch 2
    check_case({{1, 96, 4, 33}, 96, 1, 1, 0, 1, "", false, false}, threads);      // transformer [1, C, P, N]
  }
}

TEST(Int8Conv, DepthwiseThreeByThree) {
  for (int threads : {1, 2}) {
    check_case({{1, 64, 16, 16}, 64, 3, 1, 1, 64, "Relu"}, threads);
    check_case({{1, 32, 15, 17}, 32, 3, 2, 1, 32, "Relu"}, threads);  // stride 2, odd sizes
    check_case({{1, 24, 9, 9}, 24, 3, 1, 1, 24, "", false, false}, threads);
  }
}

TEST(Int8Conv, DenseThreeByThreeStrideOneAndTwo) {
  for (int threads : {1, 2}) {
    check_case({{1, 3, 32, 32}, 16, 3, 2, 1, 1, "Relu"}, threads);  // the stem: 3 input channels
    check_case({{1, 32, 13, 11}, 48, 3, 1, 1, 1, "Relu"}, threads);
    check_case({{1, 16, 8, 8}, 16, 3, 1, 0, 1, "", false, false}, threads);
  }
}

TEST(Int8Conv, ResidualAndUint8) {
  for (int threads : {1, 2}) {
    check_case({{1, 32, 8, 8}, 32, 1, 1, 0, 1, "", true, true}, threads);    // residual, int8 out
    check_case({{1, 64, 4, 16}, 64, 1, 1, 0, 1, "", true, false}, threads);  // residual, float out
    check_case({{1, 16, 6, 6}, 16, 1, 1, 0, 1, "Relu", true, true}, threads);
    check_case({{1, 40, 5, 7}, 40, 1, 1, 0, 1, "Relu", true, false}, threads);   // act after the sum, tails
    check_case({{1, 32, 4, 20}, 48, 1, 1, 0, 1, "Clip", false, false}, threads);
    check_case({{1, 48, 4, 20}, 48, 1, 1, 0, 1, "Clip", true, false}, threads);
    ConvCase u8{{1, 32, 8, 8}, 16, 3, 1, 1, 1, "Relu"};
    u8.uint8_in = true;
    check_case(u8, threads);
  }
}

TEST(Int8Conv, ChainsStayInt8BetweenLayers) {
  // conv -> relu -> Q -> DQ -> conv -> Q -> DQ: the first layer writes int8, no QuantizeLinear
  // is left between the two, and the result still matches the reference.
  Builder b;
  const int x = b.input("x", {1, 32, 10, 10});
  int y = b.qdq(x, 2.f / 127.f);
  ir::Attributes wa;
  wa.set("axis", int64_t(0));
  for (int layer = 0; layer < 2; ++layer) {
    QuantWeight qw = quantize_weight(random_float({32, 32, 1, 1}, 10 + layer, -0.3f, 0.3f));
    const int w = b.node("DequantizeLinear", {b.constant(qw.q), b.constant(qw.scales), b.constant(qw.zero_points)}, wa);
    y = b.node("Relu", {b.node("Conv", {y, w})});
    y = b.qdq(y, 0.03f);
  }
  b.graph.outputs.push_back(y);
  const std::vector<Tensor> inputs{random_float({1, 32, 10, 10}, 3, -2.f, 2.f)};
  const std::vector<Tensor> ref = run_reference(b.graph, inputs);
  const EngineRun fast = run_engine(b.graph, inputs, 2);
  size_t qconvs = 0, quantizes = 0;
  for (const std::string& k : fast.kernels) {
    qconvs += k.rfind("kestrel.QConv", 0) == 0;
    quantizes += k.rfind("QuantizeLinear", 0) == 0;
  }
  EXPECT_EQ(qconvs, 2u);
  EXPECT_EQ(quantizes, 1u);  // only the input's
  const std::vector<float> r = to_floats(ref[0]), f = to_floats(fast.outputs[0]);
  // Two requantizations in a row: a one-step difference after the first can move the second
  // by about the weights' gain; allow two steps.
  for (size_t i = 0; i < r.size(); ++i) ASSERT_LE(std::fabs(r[i] - f[i]), 2 * 0.03f * 1.001f) << i;
}

TEST(Int8Conv, ResidualFromAnInt8LayerWithInt8Output) {
  // MobileNet's residual block as SMAT's int8 engine has it: the block input is the float output
  // of an int8 layer (kept channels-last for its int8 readers), and the block's last convolution
  // adds it and requantizes. Its accumulator and residual share a layout, so the residual is added
  // in the requantizing pass; with ReLU, Clip and no activation, one and two threads.
  for (const char* activation : {"", "Relu", "Clip"}) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(fmt::format("activation '{}', {} threads", activation, threads));
      Builder b;
      const int x = b.input("x", {1, 32, 12, 20});
      ir::Attributes wa;
      wa.set("axis", int64_t(0));
      auto conv = [&](int in, uint32_t seed) {
        QuantWeight qw = quantize_weight(random_float({32, 32, 1, 1}, seed, -0.3f, 0.3f));
        const int w = b.node("DequantizeLinear", {b.constant(qw.q), b.constant(qw.scales), b.constant(qw.zero_points)}, wa);
        return b.node("Conv", {in, w, b.constant(random_float({32}, seed + 1, -0.5f, 0.5f))});
      };
      const int block_in = conv(b.qdq(x, 2.f / 127.f), 20);  // an int8 layer with a float output
      int y = b.node("Add", {conv(b.qdq(block_in, 0.04f), 30), block_in});
      if (std::string(activation) == "Relu") y = b.node("Relu", {y});
      if (std::string(activation) == "Clip") y = b.node("Clip", {y, b.scalar(-0.5f), b.scalar(1.5f)});
      y = b.qdq(y, 0.05f);
      b.graph.outputs.push_back(y);
      const std::vector<Tensor> inputs{random_float({1, 32, 12, 20}, 7, -2.f, 2.f)};
      const std::vector<Tensor> ref = run_reference(b.graph, inputs);
      const EngineRun fast = run_engine(b.graph, inputs, threads);
      size_t qconvs = 0;
      for (const std::string& k : fast.kernels) qconvs += k.rfind("kestrel.QConv", 0) == 0;
      EXPECT_EQ(qconvs, 2u) << fmt::format("{}", fmt::join(fast.kernels, ", "));
      const std::vector<float> r = to_floats(ref[0]), f = to_floats(fast.outputs[0]);
      ASSERT_EQ(r.size(), f.size());
      size_t off_by_step = 0;
      for (size_t i = 0; i < r.size(); ++i) {
        // The residual went through the first layer's requantization in the reference's QDQ
        // graph only where it feeds the second convolution: two steps of slack, rarely used.
        ASSERT_LE(std::fabs(r[i] - f[i]), 2 * 0.05f * 1.001f) << "element " << i;
        off_by_step += r[i] != f[i];
      }
      EXPECT_LE(off_by_step, r.size() / 20 + 2);
    }
  }
}

TEST(Int8Conv, PassLeavesUnsupportedPatternsAlone) {
  // A non-zero activation zero point: the QDQ nodes stay and the float kernels run them.
  Builder b;
  const int x = b.input("x", {1, 8, 6, 6});
  Tensor zp(DataType::kUINT8, {});
  zp.data<uint8_t>()[0] = 128;
  const int q = b.node("QuantizeLinear", {x, b.scalar(0.02f), b.constant(zp)});
  const int dq = b.node("DequantizeLinear", {q, b.scalar(0.02f), b.constant(zp)});
  QuantWeight qw = quantize_weight(random_float({8, 8, 1, 1}, 5));
  ir::Attributes wa;
  wa.set("axis", int64_t(0));
  const int w = b.node("DequantizeLinear", {b.constant(qw.q), b.constant(qw.scales), b.constant(qw.zero_points)}, wa);
  b.graph.outputs.push_back(b.node("Conv", {dq, w}));
  const std::vector<Tensor> inputs{random_float({1, 8, 6, 6}, 4)};
  const EngineRun fast = run_engine(b.graph, inputs, 1);
  for (const std::string& k : fast.kernels) EXPECT_EQ(k.rfind("kestrel.QConv", 0), std::string::npos) << k;
  const std::vector<float> r = to_floats(run_reference(b.graph, inputs)[0]), f = to_floats(fast.outputs[0]);
  for (size_t i = 0; i < r.size(); ++i) ASSERT_NEAR(r[i], f[i], 1e-4f) << i;
}

TEST(Int8Conv, QConvRefusesBadScales) {
  // Shape inference names the problem instead of crashing on an edited graph.
  Builder b;
  const int x = b.input("x", {1, 4, 4, 4});
  Tensor xq(DataType::kINT8, {1, 4, 4, 4});
  (void)xq;
  QuantWeight qw = quantize_weight(random_float({4, 4, 1, 1}, 6));
  ir::Node n;
  n.name = "qconv";
  n.op_type = "QConv";
  n.domain = ir::kKestrelDomain;
  n.opset = 1;
  const int q = b.node("QuantizeLinear", {x, b.scalar(0.1f), b.zero_point(false)});
  n.inputs = {q, b.constant(qw.q), b.constant(qw.scales)};
  n.attrs.set("x_scale", -1.0f);
  ir::Value v;
  v.name = "y";
  n.outputs = {b.graph.add_value(v)};
  b.graph.nodes.push_back(n);
  b.graph.outputs.push_back(n.outputs[0]);
  try {
    passes::optimize(b.graph);
    FAIL() << "a negative x_scale was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x_scale"), std::string::npos) << e.what();
  }
}

// X [..., M, K] -> Q -> DQ -> MatMul(DQ(int8 W [K, N], per-column scales, axis 1)) [-> Q -> DQ].
void check_matmul(Shape x_shape, int64_t n, bool quantized_out, int threads, uint32_t seed) {
  SCOPED_TRACE(fmt::format("matmul x {} N {} {}, {} threads", shape_str(x_shape), n,
                           quantized_out ? "int8 out" : "float out", threads));
  Builder b;
  const int64_t k = x_shape.back();
  const int x = b.input("x", x_shape);
  const int dq_x = b.qdq(x, 2.f / 127.f);
  const Tensor w = random_float({k, n}, seed, -0.5f, 0.5f);
  Tensor q(DataType::kINT8, {k, n}), scales(DataType::kFLOAT, {n}), zps(DataType::kINT8, {n});
  for (int64_t c = 0; c < n; ++c) {
    float amax = 0;
    for (int64_t r = 0; r < k; ++r) amax = std::max(amax, std::fabs(w.data<float>()[r * n + c]));
    scales.data<float>()[c] = amax > 0 ? amax / 127.f : 1.f;
    zps.data<int8_t>()[c] = 0;
    for (int64_t r = 0; r < k; ++r)
      q.data<int8_t>()[r * n + c] = int8_t(std::lrint(w.data<float>()[r * n + c] / scales.data<float>()[c]));
  }
  ir::Attributes wa;
  wa.set("axis", int64_t(1));
  const int dq_w = b.node("DequantizeLinear", {b.constant(q), b.constant(scales), b.constant(zps)}, wa);
  int y = b.node("MatMul", {dq_x, dq_w});
  const float y_scale = 0.05f;
  if (quantized_out) y = b.qdq(y, y_scale);
  b.graph.outputs.push_back(y);
  const std::vector<Tensor> inputs{random_float(x_shape, seed + 1, -2.f, 2.f)};
  const std::vector<Tensor> ref = run_reference(b.graph, inputs);
  const EngineRun fast = run_engine(b.graph, inputs, threads);
  ASSERT_TRUE(has_kernel(fast, "kestrel.QMatMul cpu.onednn.qmatmul")) << fmt::format("{}", fmt::join(fast.kernels, ", "));
  const std::vector<float> r = to_floats(ref[0]), f = to_floats(fast.outputs[0]);
  float range = 0;
  for (float v : r) range = std::max(range, std::fabs(v));
  const float bound = quantized_out ? y_scale * 1.001f : 1e-4f * std::max(range, 1.f);
  for (size_t i = 0; i < r.size(); ++i)
    ASSERT_LE(std::fabs(r[i] - f[i]), bound) << "element " << i << ": reference " << r[i] << ", int8 kernel " << f[i];
}

TEST(Int8MatMul, RanksAndOddSizes) {
  for (int threads : {1, 2}) {
    check_matmul({64, 96}, 128, true, threads, 21);
    check_matmul({7, 33}, 17, false, threads, 22);
    check_matmul({2, 50, 64}, 40, true, threads, 23);   // a batch of rows, like a transformer's tokens
    check_matmul({1, 4, 9, 24}, 31, false, threads, 24);
  }
}

TEST(Int8Quantize, TransposingKernelIsQuantizeLinearExactly) {
  // The AVX-512 tile kernel (float [C, P] -> int8 [P, C]) against the scalar definition, on
  // sizes with and without 16-tails, with ties, saturation and NaN.
  if (cpu::fast::host_isa() < cpu::fast::Isa::kAvx512Core) GTEST_SKIP() << "no AVX-512";
  for (const auto& [channels, pixels] : std::vector<std::pair<int64_t, int64_t>>{{16, 16}, {96, 1024}, {17, 33}, {3, 70}, {40, 5}}) {
    for (bool is_uint8 : {false, true}) {
      const float scale = 0.25f;
      Tensor x = random_float({channels, pixels}, uint32_t(channels * pixels), -40.f, 40.f);
      float* v = x.data<float>();
      v[0] = 0.125f;                                    // a tie: rounds to even (0)
      v[1 % x.numel()] = 0.375f;                        // a tie: rounds to even (2)
      v[2 % x.numel()] = 1e30f;                         // saturates
      v[3 % x.numel()] = std::numeric_limits<float>::quiet_NaN();  // to the zero point
      std::vector<uint8_t> same(size_t(channels * pixels), 0xAB);
      cpu::fast::quantize_contiguous_avx512(v, same.data(), is_uint8, scale, 0, channels * pixels);
      for (int64_t i = 0; i < channels * pixels; ++i) {
        const uint8_t want = is_uint8 ? quant::quantize_value<uint8_t>(v[i], scale, 0)
                                      : uint8_t(quant::quantize_value<int8_t>(v[i], scale, 0));
        ASSERT_EQ(same[size_t(i)], want) << "contiguous, element " << i << " x " << v[i];
      }
      std::vector<uint8_t> got(size_t(channels * pixels), 0xAB);
      cpu::fast::quantize_to_channels_last_avx512(v, got.data(), is_uint8, channels, pixels, scale, 0, pixels);
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t p = 0; p < pixels; ++p) {
          const float in = v[c * pixels + p];
          const uint8_t want = is_uint8 ? quant::quantize_value<uint8_t>(in, scale, 0)
                                        : uint8_t(quant::quantize_value<int8_t>(in, scale, 0));
          ASSERT_EQ(got[size_t(p * channels + c)], want)
              << channels << "x" << pixels << (is_uint8 ? " u8" : " s8") << " c " << c << " p " << p << " x " << in;
        }
    }
  }
}

}  // namespace
}  // namespace kestrel::testing
