// Helpers of the GPU tests (test_cuda_*.cpp): small graphs built in code, engines compiled for a
// device and run on host tensors, and the comparison of a CUDA engine with the CPU engine. The
// GPU tests skip, saying why, where no GPU is present (KESTREL_REQUIRE_GPU).
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "backend/cuda/cuda_backend.h"
#include "core/tensor.h"
#include "engine/backend.h"
#include "engine/engine_data.h"
#include "engine/memory_plan.h"
#include "kestrel/kestrel.h"
#include "passes/pass.h"

namespace kestrel {

inline std::string skip_reason() {
  const std::string reason = cuda::unavailable_reason();
  return reason.empty() ? "" : "no GPU here, CUDA test skipped: " + reason;
}

#define KESTREL_REQUIRE_GPU()                          \
  do {                                                 \
    const std::string reason_ = skip_reason();         \
    if (!reason_.empty()) GTEST_SKIP() << reason_;     \
  } while (0)

inline Tensor random_tensor(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t(DataType::kFLOAT, std::move(shape));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

inline Tensor int64_tensor(Shape shape, std::vector<int64_t> values) {
  Tensor t(DataType::kINT64, std::move(shape));
  std::memcpy(t.raw(), values.data(), values.size() * sizeof(int64_t));
  return t;
}

// A one-or-few-node graph under construction.
struct GraphBuilder {
  ir::Graph g;
  std::vector<Tensor> feeds;  // in the order of g.inputs

  GraphBuilder() { g.opset = 17; g.name = "test"; }
  int input(const std::string& name, Tensor t) {
    ir::Value v;
    v.name = name;
    v.dtype = t.dtype();
    v.shape = t.shape();
    v.shape_known = true;
    const int id = g.add_value(std::move(v));
    g.inputs.push_back(id);
    feeds.push_back(std::move(t));
    return id;
  }
  int constant(const std::string& name, Tensor t) { return g.add_constant(name, std::move(t)); }
  std::vector<int> node(const std::string& op, std::vector<int> inputs, int outputs = 1, ir::Attributes attrs = {},
                        int opset = 17) {
    ir::Node n;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.op_type = op;
    n.opset = opset;
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    for (int i = 0; i < outputs; ++i) {
      ir::Value v;
      v.name = n.name + "_out" + std::to_string(i);
      n.outputs.push_back(g.add_value(std::move(v)));
    }
    g.nodes.push_back(std::move(n));
    return g.nodes.back().outputs;
  }
  int one(const std::string& op, std::vector<int> inputs, ir::Attributes attrs = {}) {
    return node(op, std::move(inputs), 1, std::move(attrs))[0];
  }
  void output(int v) { g.outputs.push_back(v); }
};

inline ir::Attributes attrs(std::initializer_list<std::pair<const char*, ir::AttributeValue>> list) {
  ir::Attributes a;
  for (const auto& [k, v] : list) a.set(k, v);
  return a;
}

// Sets an environment variable for the scope (the CUDA backend reads its fusion switches at build
// time), then restores it, so that switches set for the whole run still hold for later tests.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> previous;
  ScopedEnv(const char* n, const char* value) : name(n) {
    if (const char* old = std::getenv(n)) previous = old;
    setenv(n, value, 1);
  }
  ~ScopedEnv() {
    if (previous) setenv(name.c_str(), previous->c_str(), 1);
    else unsetenv(name.c_str());
  }
};

inline std::shared_ptr<engine::EngineData> compile_for(const ir::Graph& source, DeviceType device, bool fp16) {
  auto e = std::make_shared<engine::EngineData>();
  e->device = device;
  e->graph = source;
  passes::optimize(e->graph);
  e->graph.sort();
  BuilderConfig config;
  config.set_device(device);
  if (fp16) config.set_flag(BuilderFlag::kFP16);
  engine::find_backend(device)->compile(*e, config);
  e->plan = engine::plan_memory(e->graph);
  return e;
}

// Runs an engine on host tensors (inputs in graph order); returns the outputs.
inline std::vector<Tensor> run(std::shared_ptr<const engine::EngineData> e, const std::vector<Tensor>& feeds,
                        bool cuda_graph = true, int repeats = 1) {
  std::unique_ptr<engine::Executor> exec =
      e->device == DeviceType::kCUDA ? cuda::create_executor(e, cuda::ExecutorOptions{cuda_graph})
                                     : engine::find_backend(DeviceType::kCPU)->create_executor(e);
  for (size_t i = 0; i < e->graph.inputs.size(); ++i)
    exec->bind(e->graph.inputs[i], const_cast<void*>(feeds[i].raw()));
  std::vector<Tensor> outs;
  for (int id : e->graph.outputs) {
    const ir::Value& v = e->graph.values[size_t(id)];
    outs.emplace_back(v.dtype, v.shape);
  }
  for (size_t i = 0; i < outs.size(); ++i) exec->bind(e->graph.outputs[i], outs[i].raw());
  for (int r = 0; r < repeats; ++r) {
    exec->enqueue(nullptr);
    exec->synchronize(nullptr);
  }
  return outs;
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double m = 0;
  for (int64_t i = 0; i < std::min(a.numel(), b.numel()); ++i) {
    const double x = a.double_at(i), y = b.double_at(i);
    if (std::isnan(x) && std::isnan(y)) continue;
    const double d = std::fabs(x - y);
    m = std::isnan(d) ? INFINITY : std::max(m, d);
  }
  return m;
}

// Compares the CUDA engine (FP32 and FP16) with the CPU engine on the graph.
inline void expect_matches_cpu(const GraphBuilder& b, double fp32_tol = 1e-4, double fp16_tol = 2e-2,
                        bool check_fp16 = true) {
  const auto cpu = run(compile_for(b.g, DeviceType::kCPU, false), b.feeds);
  for (bool fp16 : {false, true}) {
    if (fp16 && !check_fp16) continue;
    const auto gpu = run(compile_for(b.g, DeviceType::kCUDA, fp16), b.feeds);
    ASSERT_EQ(gpu.size(), cpu.size());
    for (size_t i = 0; i < cpu.size(); ++i) {
      const double diff = max_abs_diff(gpu[i], cpu[i]);
      EXPECT_LE(diff, fp16 ? fp16_tol : fp32_tol) << (fp16 ? "FP16" : "FP32") << " output " << i;
    }
  }
}


inline ir::Attributes conv_attrs(int64_t k, int64_t stride, int64_t pad, int64_t group) {
  return attrs({{"kernel_shape", std::vector<int64_t>{k, k}},
                {"strides", std::vector<int64_t>{stride, stride}},
                {"pads", std::vector<int64_t>{pad, pad, pad, pad}},
                {"group", group}});
}

inline Tensor scalar_tensor(DataType t, double v) {
  Tensor s(t, {});
  if (t == DataType::kFLOAT) s.data<float>()[0] = float(v);
  if (t == DataType::kINT8) s.data<int8_t>()[0] = int8_t(v);
  if (t == DataType::kUINT8) s.data<uint8_t>()[0] = uint8_t(v);
  return s;
}

// MobileViTv2's separable attention core as exported: qkv split, softmax over tokens, weighted key
// sum, expand, ReLU(value) x context.
inline GraphBuilder separable_attention_graph(int64_t batch, int64_t channels, int64_t positions, int64_t tokens,
                                       uint32_t seed) {
  GraphBuilder b;
  const int qkv = b.input("qkv", random_tensor({batch, 1 + 2 * channels, positions, tokens}, seed));
  Tensor split(DataType::kINT64, {3});
  split.data<int64_t>()[0] = 1, split.data<int64_t>()[1] = channels, split.data<int64_t>()[2] = channels;
  const auto parts = b.node("Split", {qkv, b.constant("split", split)}, 3, attrs({{"axis", int64_t(1)}}));
  const int scores = b.one("Softmax", {parts[0]}, attrs({{"axis", int64_t(-1)}}));
  const int weighted = b.one("Mul", {parts[1], scores});
  const int context = b.one("ReduceSum", {weighted, b.constant("axes", int64_tensor({1}, {-1}))}, attrs({{"keepdims", int64_t(1)}}));
  const int expanded =
      b.one("Expand", {context, b.constant("shape", int64_tensor({4}, {batch, channels, positions, tokens}))});
  const int value = b.one("Relu", {parts[2]});
  b.output(b.one("Mul", {value, expanded}));
  return b;
}

}  // namespace kestrel
