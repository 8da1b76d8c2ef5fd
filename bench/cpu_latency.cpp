// kestrel_cpu_latency MODEL [--threads N] [--runs N] [--warmup N] [--inputs IN.npz]
//
// Times single inferences of an ONNX model (built in memory for the CPU) or a CPU engine file
// and prints one line: "kestrel cpu threads=N runs=N median_ms=.. mean_ms=.. p90_ms=.. min_ms=..".
// Inputs come from an .npz when given (arrays named like the model inputs), else are random.
// bench/peers/cpu_peers.sh uses it when `kestrel bench` is not available.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kestrel/kestrel.h"

namespace {

int usage() {
  std::fprintf(stderr, "usage: kestrel_cpu_latency MODEL [--threads N] [--runs N] [--warmup N] [--inputs IN.npz]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string model = argv[1], inputs_path;
  int threads = 0, runs = 100, warmup = 10;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--threads")
      threads = std::atoi(argv[++i]);
    else if (arg == "--runs")
      runs = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--warmup")
      warmup = std::max(0, std::atoi(argv[++i]));
    else if (arg == "--inputs")
      inputs_path = argv[++i];
    else
      return usage();
  }
  kestrel::Logger logger;
  kestrel::RunnerOptions options;
  options.config.set_cpu_threads(threads);
  options.execution.cpu_threads = threads;
  auto bytes = kestrel::load_file(model);
  if (!bytes) {
    std::fprintf(stderr, "%s\n", bytes.status().message().c_str());
    return 1;
  }
  std::vector<uint8_t> engine_bytes;
  if (kestrel::is_engine_file(bytes->data(), bytes->size())) {
    engine_bytes = std::move(*bytes);
  } else {
    kestrel::Builder builder(logger);
    auto network = builder.create_network();
    kestrel::OnnxParser parser(*network, logger);
    if (!parser.parse_from_file(model)) return 1;
    auto built = builder.build_serialized_network(*network, options.config);
    if (!built) return 1;
    engine_bytes = std::move(*built);
  }
  kestrel::Runtime runtime(logger);
  auto engine = runtime.deserialize(engine_bytes.data(), engine_bytes.size(), model);
  if (!engine) return 1;
  auto context = (*engine)->create_execution_context(options.execution);
  if (!context) return 1;

  // Inputs: from the .npz, else uniform random in [-1, 1); outputs in buffers of the context.
  kestrel::NamedTensors feed;
  if (!inputs_path.empty()) {
    auto loaded = kestrel::load_npz(inputs_path);
    if (!loaded) {
      std::fprintf(stderr, "%s\n", loaded.status().message().c_str());
      return 1;
    }
    feed = std::move(*loaded);
  }
  std::vector<std::vector<uint8_t>> owned;
  std::mt19937 rng(0);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const kestrel::TensorDesc& input : (*engine)->inputs()) {
    auto it = std::find_if(feed.begin(), feed.end(), [&](const auto& kv) { return kv.first == input.name; });
    int64_t n = 1;
    for (int64_t d : input.shape) n *= d;
    owned.emplace_back(size_t(n) * kestrel::element_size(input.dtype));
    if (it != feed.end() && it->second.bytes.size() == owned.back().size()) {
      std::memcpy(owned.back().data(), it->second.bytes.data(), owned.back().size());
    } else if (input.dtype == kestrel::DataType::kFLOAT) {
      float* f = reinterpret_cast<float*>(owned.back().data());
      for (int64_t i = 0; i < n; ++i) f[i] = dist(rng);
    }
    if (!context->set_tensor_address(input.name, owned.back().data())) return 1;
  }
  for (int i = 0; i < warmup; ++i)
    if (!context->infer()) return 1;
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (!context->infer()) return 1;
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  double mean = 0;
  for (double m : ms) mean += m / double(ms.size());
  std::printf("kestrel cpu threads=%d runs=%d median_ms=%.3f mean_ms=%.3f p90_ms=%.3f min_ms=%.3f\n", threads, runs,
              sorted[sorted.size() / 2], mean, sorted[std::min(sorted.size() - 1, sorted.size() * 9 / 10)], sorted[0]);
  return 0;
}
