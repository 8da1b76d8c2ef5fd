// The fast CPU backend on whole networks: the SMAT tracking network (exported by our PyTorch
// model code when Debian's Python with torch is there) through fast kernels and fusions versus
// an engine of reference kernels only, with one and two threads; the per-context thread option;
// and the load-time refusal of engines built for a CPU with another instruction set.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "backend/cpu/fast/kernel.h"
#include "engine/backend.h"
#include "engine/engine_data.h"
#include "kestrel/kestrel.h"
#include "support/op_test.h"
#include "support/tiny_models.h"

namespace kestrel::testing {
namespace {

namespace fs = std::filesystem;

class QuietLogger : public ILogger {
 public:
  void log(Severity severity, const char* message) noexcept override {
    if (severity <= Severity::kERROR) last_error = message;
  }
  std::string last_error;
};

// Builds an engine from ONNX bytes; `env_disable` set: with KESTREL_CPU_DISABLE set to it.
std::vector<uint8_t> build(const std::string& onnx, const char* env_disable = nullptr, int threads = 0) {
  QuietLogger logger;
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  EXPECT_TRUE(parser.parse(onnx.data(), onnx.size(), "model").ok()) << logger.last_error;
  BuilderConfig config;
  config.set_cpu_threads(threads);
  if (env_disable) setenv("KESTREL_CPU_DISABLE", env_disable, 1);
  auto bytes = builder.build_serialized_network(*network, config);
  if (env_disable) unsetenv("KESTREL_CPU_DISABLE");
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  return bytes.ok() ? bytes.value() : std::vector<uint8_t>{};
}

std::unique_ptr<Engine> load(const std::vector<uint8_t>& bytes, std::string* error = nullptr) {
  QuietLogger logger;
  Runtime runtime(logger);
  auto engine = runtime.deserialize(bytes.data(), bytes.size(), "engine");
  if (!engine.ok()) {
    if (error) *error = engine.status().message();
    return nullptr;
  }
  return std::move(engine.value());
}

// Runs the engine on the named inputs with a context of `threads` threads; returns the outputs.
NamedTensors infer(const Engine& engine, const NamedTensors& feed, int threads) {
  ExecutionOptions options;
  options.cpu_threads = threads;
  auto context = engine.create_execution_context(options);
  EXPECT_NE(context, nullptr);
  NamedTensors outputs;
  if (!context) return outputs;
  for (const TensorDesc& input : engine.inputs()) {
    auto it = std::find_if(feed.begin(), feed.end(), [&](const auto& kv) { return kv.first == input.name; });
    EXPECT_NE(it, feed.end()) << input.name;
    if (it == feed.end()) return outputs;
    EXPECT_TRUE(context->set_tensor_address(input.name, const_cast<uint8_t*>(it->second.bytes.data())).ok());
  }
  for (const TensorDesc& output : engine.outputs()) {
    HostTensor t;
    t.dtype = output.dtype;
    t.shape = output.shape;
    t.bytes.resize(size_t(t.numel()) * element_size(t.dtype));
    outputs.emplace_back(output.name, std::move(t));
  }
  for (auto& [name, t] : outputs) EXPECT_TRUE(context->set_tensor_address(name, t.bytes.data()).ok());
  // Twice: the second inference must not depend on state the first left behind.
  EXPECT_TRUE(context->infer().ok());
  EXPECT_TRUE(context->infer().ok());
  return outputs;
}

void expect_close(const NamedTensors& actual, const NamedTensors& expected, double atol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    SCOPED_TRACE(actual[i].first);
    EXPECT_TRUE(tensors_near(from_host_tensor(actual[i].second), from_host_tensor(expected[i].second), atol, 0.0));
  }
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Exports SMAT once per test process (about 15 s); empty when Python or torch is missing.
const fs::path& smat_dir() {
  static const fs::path dir = [] {
    const fs::path repo = fs::path(__FILE__).parent_path().parent_path().parent_path();
    const fs::path out = fs::temp_directory_path() / ("kestrel_cpu_fast_smat_" + std::to_string(getpid()));
    const std::string command = "/usr/bin/python3 " + (repo / "python" / "smat" / "export.py").string() +
                                " --seed 0 --opset 17 --out-dir " + out.string() + " > /dev/null 2>&1";
    if (!fs::exists("/usr/bin/python3") || std::system(command.c_str()) != 0) return fs::path();
    return out;
  }();
  return dir;
}

TEST(CpuFastSmat, TrackingNetworkFastMatchesReference) {
  const fs::path& dir = smat_dir();
  if (dir.empty()) GTEST_SKIP() << "no Python with torch to export SMAT";
  const std::string onnx = read_bytes(dir / "smat_track.onnx");
  auto feed = load_npz((dir / "reference.npz").string());
  ASSERT_TRUE(feed.ok()) << feed.status().message();

  const std::vector<uint8_t> fast_bytes = build(onnx);
  const std::vector<uint8_t> reference_bytes = build(onnx, "all");
  auto fast = load(fast_bytes);
  auto reference = load(reference_bytes);
  ASSERT_TRUE(fast && reference);

  // The fast engine really is fast: fused, few reference layers, AVX-512 recorded where used.
  size_t reference_layers = 0, fused = 0;
  for (const LayerInfo& layer : fast->layers()) {
    reference_layers += layer.kernel == "reference";
    fused += !layer.fused_from.empty();
  }
  EXPECT_LT(fast->layers().size(), reference->layers().size() / 2);
  EXPECT_LT(reference_layers, 15u);
  EXPECT_GT(fused, 50u);
  EXPECT_EQ(fast->summary().target.count("cpu.isa"), 1u);
  for (const LayerInfo& layer : reference->layers()) EXPECT_EQ(layer.kernel, "reference") << layer.name;

  const NamedTensors expected = infer(*reference, *feed, 1);
  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    expect_close(infer(*fast, *feed, threads), expected, 1e-4);
  }
  // And the exporter's PyTorch outputs.
  NamedTensors torch;
  for (const auto& [name, tensor] : expected) {
    auto it = std::find_if(feed->begin(), feed->end(), [&](const auto& kv) { return kv.first == name; });
    ASSERT_NE(it, feed->end());
    torch.emplace_back(name, it->second);
  }
  expect_close(infer(*fast, *feed, 2), torch, 1e-4);
  fs::remove_all(dir);
}

TEST(CpuFastEngine, ThreadCountsGiveTheSameOutputs) {
  const std::string onnx = tiny_conv_model_bytes();
  auto engine = load(build(onnx, nullptr, 1));
  ASSERT_TRUE(engine);
  NamedTensors feed;
  for (const TensorDesc& input : engine->inputs()) feed.emplace_back(input.name, to_host_tensor(random_float(input.shape, 7)));
  const NamedTensors one = infer(*engine, feed, 1);
  expect_close(infer(*engine, feed, 2), one, 1e-6);
  expect_close(infer(*engine, feed, 0), one, 1e-6);
  ExecutionOptions bad;
  bad.cpu_threads = -1;
  EXPECT_EQ(engine->create_execution_context(bad), nullptr);
}

// kestrel bench --per-layer on the CPU: one timed entry per layer, named and with its kernel, and
// the profiled run computes the same outputs as an inference.
TEST(CpuFastEngine, ProfilesEveryLayerWithItsKernel) {
  std::vector<uint8_t> bytes = build(tiny_conv_model_bytes(), nullptr, 2);
  ASSERT_FALSE(bytes.empty());
  auto data = std::make_shared<engine::EngineData>(engine::deserialize_engine(bytes.data(), bytes.size()));
  auto exec = engine::require_backend(DeviceType::kCPU).create_executor(data);
  ExecutionOptions options;
  options.cpu_threads = 2;
  exec->configure(options);
  const ir::Value& x = data->graph.values[size_t(data->graph.inputs[0])];
  const Tensor input = random_float(x.shape, 11);
  exec->bind(data->graph.inputs[0], const_cast<void*>(input.raw()));
  const ir::Value& y = data->graph.values[size_t(data->graph.outputs[0])];
  Tensor profiled(y.dtype, y.shape), inferred(y.dtype, y.shape);
  exec->bind(data->graph.outputs[0], profiled.raw());

  const std::vector<engine::LayerTime> times = exec->profile_layers(nullptr);
  ASSERT_EQ(times.size(), data->graph.nodes.size());
  for (size_t i = 0; i < times.size(); ++i) {
    EXPECT_EQ(times[i].name, data->graph.nodes[i].name);
    EXPECT_EQ(times[i].kernel.rfind(data->graph.nodes[i].kernel, 0), 0u) << times[i].kernel;
    EXPECT_GE(times[i].ms, 0.0);
  }
  exec->bind(data->graph.outputs[0], inferred.raw());
  exec->enqueue(nullptr);
  EXPECT_TRUE(tensors_near(profiled, inferred, 0.0, 0.0));
}

TEST(CpuFastEngine, RefusesEnginesForAnotherInstructionSet) {
  std::vector<uint8_t> bytes = build(tiny_conv_model_bytes());
  ASSERT_FALSE(bytes.empty());
  engine::EngineData data = engine::deserialize_engine(bytes.data(), bytes.size());
  ASSERT_EQ(data.target.count("cpu.isa"), 1u);

  data.target["cpu.isa"] = "avx1024";
  std::string error;
  EXPECT_EQ(load(engine::serialize_engine(data), &error), nullptr);
  EXPECT_NE(error.find("avx1024"), std::string::npos) << error;

  // A kernel this build does not have.
  data.target["cpu.isa"] = "x86_64";
  data.graph.nodes[0].kernel = "cpu.future.kernel";
  error.clear();
  EXPECT_EQ(load(engine::serialize_engine(data), &error), nullptr);
  EXPECT_NE(error.find("cpu.future.kernel"), std::string::npos) << error;

  if (cpu::fast::host_isa() < cpu::fast::Isa::kAvx512Core) {
    data = engine::deserialize_engine(bytes.data(), bytes.size());
    data.target["cpu.isa"] = "avx512_core";
    error.clear();
    EXPECT_EQ(load(engine::serialize_engine(data), &error), nullptr);
    EXPECT_NE(error.find("build the engine on this machine"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace kestrel::testing
