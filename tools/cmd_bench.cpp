// kestrel bench MODEL|ENGINE [--device cuda|cpu] [--fp16] [--batch N] [--warmup-ms 200]
//   [--duration-s 3] [--iterations N] [--no-cuda-graph] [--per-layer] [--threads N] [--json OUT.json]
// A trtexec-like summary: throughput; latency min/mean/median/p90/p95/p99; host-to-device copy,
// GPU compute and device-to-host copy timed separately with CUDA events; enqueue (host) time.
// On the CPU, --per-layer times each layer with the host clock (the layers run one after another).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "core/file_io.h"
#include "engine/backend.h"
#include "engine/engine_data.h"
#include "subcommand.h"

#if KESTREL_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace kestrel::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string model;
  int64_t batch = 0;  // 0: the model's own
  double warmup_ms = 200;
  double duration_s = 3;
  int64_t iterations = 0;  // 0: run for duration_s
  bool no_cuda_graph = false;
  bool per_layer = false;
  std::string json;
  BuildOptions build;
};

struct Stats {
  double min = 0, mean = 0, median = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto pct = [&](double p) { return v[std::min(v.size() - 1, size_t(p / 100.0 * double(v.size() - 1) + 0.5))]; };
  s.min = v.front();
  s.max = v.back();
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  s.median = pct(50);
  s.p90 = pct(90);
  s.p95 = pct(95);
  s.p99 = pct(99);
  return s;
}

nlohmann::json to_json(const Stats& s) {
  return {{"min_ms", s.min}, {"mean_ms", s.mean}, {"median_ms", s.median}, {"p90_ms", s.p90},
          {"p95_ms", s.p95}, {"p99_ms", s.p99},   {"max_ms", s.max}};
}

void print_stats(const char* what, const Stats& s) {
  fmt::print("{:<14} min {:.4f} ms, mean {:.4f} ms, median {:.4f} ms, p90 {:.4f} ms, p95 {:.4f} ms, p99 {:.4f} ms\n",
             what, s.min, s.mean, s.median, s.p90, s.p95, s.p99);
}

// Loads the engine bytes: an engine file as is, or an ONNX model built with the options.
Result<std::vector<uint8_t>> engine_bytes(const BenchOptions& opt, ILogger& logger, double& build_s) {
  auto bytes = load_file(opt.model);
  if (!bytes) return bytes.status();
  if (is_engine_file(bytes->data(), bytes->size())) return bytes;
  RunnerOptions runner;
  try {
    runner = make_runner_options(opt.build);
  } catch (const std::invalid_argument& e) {
    return Status::error(e.what());
  }
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  if (Status parsed = parser.parse(bytes->data(), bytes->size(), opt.model); !parsed) return parsed;
  if (opt.batch > 0) {
    for (const TensorDesc& in : network->inputs()) {
      if (in.shape.empty()) continue;
      if (in.shape[0] < 0) {
        runner.config.set_batch_profile({1, opt.batch, std::max<int64_t>(opt.batch, 64)});
      } else if (in.shape[0] != opt.batch) {
        return Status::error(fmt::format("{}: input '{}' has the fixed batch {}, so --batch {} cannot apply (export "
                                         "the model with a dynamic batch dimension)",
                                         opt.model, in.name, in.shape[0], opt.batch));
      }
    }
  }
  const auto start = Clock::now();
  auto built = builder.build_serialized_network(*network, runner.config);
  build_s = std::chrono::duration<double>(Clock::now() - start).count();
  return built;
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Prints a per-layer profile (by op and kernel, then the slowest layers); returns it as JSON.
nlohmann::json print_per_layer(const std::vector<engine::LayerTime>& sum, const char* how) {
  std::map<std::string, std::pair<int, double>> by_op;
  nlohmann::json layers = nlohmann::json::array();
  double total = 0;
  for (const engine::LayerTime& t : sum) {
    by_op[t.op_type + " " + t.kernel].first += 1;
    by_op[t.op_type + " " + t.kernel].second += t.ms;
    total += t.ms;
    layers.push_back({{"name", t.name}, {"op", t.op_type}, {"kernel", t.kernel}, {"ms", t.ms}});
  }
  fmt::print("per-layer profile ({}, {} layers after fusion, sum {:.4f} ms):\n", how, sum.size(), total);
  std::vector<std::pair<std::string, std::pair<int, double>>> ops(by_op.begin(), by_op.end());
  std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second.second > b.second.second; });
  for (const auto& [name, v] : ops)
    fmt::print("  {:<48} {:>4} layers {:>9.4f} ms ({:.1f}%)\n", name, v.first, v.second, 100 * v.second / total);
  std::vector<size_t> order(sum.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sum[a].ms > sum[b].ms; });
  fmt::print("  slowest layers:\n");
  for (size_t k = 0; k < std::min<size_t>(15, order.size()); ++k)
    fmt::print("    {:>8.4f} ms  {} ({}, {})\n", sum[order[k]].ms, sum[order[k]].name, sum[order[k]].op_type,
               sum[order[k]].kernel);
  return layers;
}

// The average of `runs` per-layer profiles after one warm-up profile.
std::vector<engine::LayerTime> average_profiles(engine::Executor& exec, void* stream, int runs) {
  std::vector<engine::LayerTime> sum;
  for (int r = 0; r < runs + 1; ++r) {
    std::vector<engine::LayerTime> times = exec.profile_layers(stream);
    if (r == 0) {
      sum = times;
      for (engine::LayerTime& t : sum) t.ms = 0;
      continue;
    }
    for (size_t i = 0; i < times.size() && i < sum.size(); ++i) sum[i].ms += times[i].ms / runs;
  }
  return sum;
}

int run(BenchOptions opt) {
  CliLogger logger(opt.build.verbose);
  if (opt.no_cuda_graph) setenv("KESTREL_CUDA_GRAPH", "0", 1);
  double build_s = 0;
  auto bytes = engine_bytes(opt, logger, build_s);
  if (!bytes) return report_error(bytes.status().message());
  Runtime runtime(logger);
  auto engine = runtime.deserialize(bytes->data(), bytes->size(), opt.model);
  if (!engine) return report_error(engine.status().message());
  // --threads applies to engine files too (else a CPU context takes the engine's default).
  ExecutionOptions execution;
  try {
    execution = make_runner_options(opt.build).execution;
  } catch (const std::invalid_argument& e) {
    return report_error(e.what());
  }
  auto context = engine.value()->create_execution_context(execution);
  if (!context) return report_error(fmt::format("{}: cannot create an execution context", opt.model));
  const EngineSummary summary = engine.value()->summary();
  const bool cuda = summary.device == DeviceType::kCUDA;
  const std::vector<TensorDesc> inputs = engine.value()->inputs(), outputs = engine.value()->outputs();
  const int64_t batch = inputs.empty() || inputs[0].shape.empty() ? 1 : inputs[0].shape[0];

  fmt::print("model: {}\nengine: {} device, {} layers, {} weight bytes, {} activation bytes{}\n", opt.model,
             to_string(summary.device), engine.value()->layers().size(), summary.weight_bytes, summary.activation_bytes,
             build_s > 0 ? fmt::format(", built in {:.2f} s", build_s) : std::string());
  for (const auto& [k, v] : summary.target) fmt::print("  {} = {}\n", k, format_target_value(v));

  // Host buffers hold the inputs (deterministic values in [0, 1)); pinned for CUDA copies.
  std::vector<void*> host_in, host_out, dev_in, dev_out;
  std::vector<size_t> in_bytes, out_bytes;
  auto bytes_of = [](const TensorDesc& d) {
    int64_t n = 1;
    for (int64_t x : d.shape) n *= x;
    return size_t(n) * element_size(d.dtype);
  };
  std::vector<std::vector<uint8_t>> cpu_storage;
  for (const TensorDesc& d : inputs) in_bytes.push_back(bytes_of(d));
  for (const TensorDesc& d : outputs) out_bytes.push_back(bytes_of(d));
#if KESTREL_WITH_CUDA
  cudaStream_t stream = nullptr;
  if (cuda) {
    if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess)
      return report_error("cannot create a CUDA stream");
    for (size_t i = 0; i < inputs.size(); ++i) {
      void *h = nullptr, *d = nullptr;
      cudaMallocHost(&h, std::max<size_t>(in_bytes[i], 1));
      cudaMalloc(&d, std::max<size_t>(in_bytes[i], 1));
      host_in.push_back(h);
      dev_in.push_back(d);
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      void *h = nullptr, *d = nullptr;
      cudaMallocHost(&h, std::max<size_t>(out_bytes[i], 1));
      cudaMalloc(&d, std::max<size_t>(out_bytes[i], 1));
      host_out.push_back(h);
      dev_out.push_back(d);
    }
  }
#endif
  if (!cuda) {
    for (size_t b : in_bytes) cpu_storage.emplace_back(std::max<size_t>(b, 1));
    for (auto& s : cpu_storage) host_in.push_back(s.data());
    for (size_t b : out_bytes) cpu_storage.emplace_back(std::max<size_t>(b, 1));
    for (size_t i = 0; i < outputs.size(); ++i) host_out.push_back(cpu_storage[inputs.size() + i].data());
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].dtype == DataType::kFLOAT) {
      float* f = static_cast<float*>(host_in[i]);
      for (size_t j = 0; j < in_bytes[i] / 4; ++j) f[j] = float((j * 2654435761u) % 1000) / 1000.f;
    } else {
      std::fill_n(static_cast<uint8_t*>(host_in[i]), in_bytes[i], uint8_t(0));
    }
  }
  const std::vector<void*>& bind_in = cuda ? dev_in : host_in;
  const std::vector<void*>& bind_out = cuda ? dev_out : host_out;
  for (size_t i = 0; i < inputs.size(); ++i)
    if (Status s = context->set_tensor_address(inputs[i].name, bind_in[i]); !s) return report_error(s.message());
  for (size_t i = 0; i < outputs.size(); ++i)
    if (Status s = context->set_tensor_address(outputs[i].name, bind_out[i]); !s) return report_error(s.message());

  std::vector<double> latency, h2d, compute, d2h, enqueue_ms;
  double total_wall_ms = 0;
  int64_t iterations = 0;

  // One inference: copy in, enqueue, copy out, wait. Returns false on error.
  std::string error;
#if KESTREL_WITH_CUDA
  cudaEvent_t ev[4] = {};
  if (cuda)
    for (cudaEvent_t& e : ev) cudaEventCreate(&e);
#endif
  auto infer_once = [&](bool record) -> bool {
    const auto start = Clock::now();
    if (!cuda) {
      const auto e0 = Clock::now();
      Status s = context->enqueue(nullptr);
      if (!s) return error = s.message(), false;
      const double ms = ms_since(e0);
      if (record) {
        enqueue_ms.push_back(ms);
        compute.push_back(ms);
        latency.push_back(ms_since(start));
      }
      return true;
    }
#if KESTREL_WITH_CUDA
    cudaEventRecord(ev[0], stream);
    for (size_t i = 0; i < inputs.size(); ++i)
      cudaMemcpyAsync(dev_in[i], host_in[i], in_bytes[i], cudaMemcpyHostToDevice, stream);
    cudaEventRecord(ev[1], stream);
    const auto e0 = Clock::now();
    Status s = context->enqueue(stream);
    const double enq = ms_since(e0);
    if (!s) return error = s.message(), false;
    cudaEventRecord(ev[2], stream);
    for (size_t i = 0; i < outputs.size(); ++i)
      cudaMemcpyAsync(host_out[i], dev_out[i], out_bytes[i], cudaMemcpyDeviceToHost, stream);
    cudaEventRecord(ev[3], stream);
    const cudaError_t synced = cudaStreamSynchronize(stream);
    if (synced != cudaSuccess) return error = cudaGetErrorString(synced), false;
    if (record) {
      float a = 0, b = 0, c = 0, total = 0;
      cudaEventElapsedTime(&a, ev[0], ev[1]);
      cudaEventElapsedTime(&b, ev[1], ev[2]);
      cudaEventElapsedTime(&c, ev[2], ev[3]);
      cudaEventElapsedTime(&total, ev[0], ev[3]);
      h2d.push_back(a);
      compute.push_back(b);
      d2h.push_back(c);
      enqueue_ms.push_back(enq);
      latency.push_back(ms_since(start));
    }
#endif
    return true;
  };

  // Warm-up (the first enqueue captures the CUDA graph).
  const auto warm_start = Clock::now();
  do {
    if (!infer_once(false)) return report_error(fmt::format("{}: {}", opt.model, error));
  } while (ms_since(warm_start) < opt.warmup_ms);

  const auto bench_start = Clock::now();
  while (true) {
    if (!infer_once(true)) return report_error(fmt::format("{}: {}", opt.model, error));
    ++iterations;
    if (opt.iterations > 0 ? iterations >= opt.iterations : ms_since(bench_start) >= opt.duration_s * 1000) break;
  }
  total_wall_ms = ms_since(bench_start);

  // Back-to-back compute: many enqueues, one wait (the steady-state GPU throughput).
  double back_to_back_ms = 0;
#if KESTREL_WITH_CUDA
  if (cuda) {
    const int reps = int(std::clamp<int64_t>(iterations, 10, 1000));
    cudaEventRecord(ev[0], stream);
    for (int i = 0; i < reps; ++i) context->enqueue(stream);
    cudaEventRecord(ev[1], stream);
    cudaEventSynchronize(ev[1]);
    float ms = 0;
    cudaEventElapsedTime(&ms, ev[0], ev[1]);
    back_to_back_ms = ms / reps;
  }
#endif

  const double qps = double(iterations) / (total_wall_ms / 1000.0);
  const Stats lat = stats_of(latency), comp = stats_of(compute), enq = stats_of(enqueue_ms), in_copy = stats_of(h2d),
              out_copy = stats_of(d2h);
  fmt::print("device {}, precision {}, batch {}, CUDA graph {}\n", cuda ? "cuda" : "cpu",
             (summary.builder_flags & 1u) ? "fp16" : "fp32", batch, cuda ? (opt.no_cuda_graph ? "off" : "on") : "n/a");
  fmt::print("iterations {} in {:.3f} s: throughput {:.1f} qps ({:.1f} frames/s)\n", iterations, total_wall_ms / 1000,
             qps, qps * double(batch));
  print_stats("latency", lat);
  if (cuda) {
    print_stats("H2D copy", in_copy);
    print_stats("GPU compute", comp);
    print_stats("D2H copy", out_copy);
  } else {
    print_stats("compute", comp);
  }
  print_stats("enqueue", enq);
  if (cuda)
    fmt::print("GPU compute back to back: {:.4f} ms per inference ({:.1f} frames/s)\n", back_to_back_ms,
               double(batch) * 1000.0 / std::max(back_to_back_ms, 1e-9));

  nlohmann::json report = {{"model", opt.model},
                           {"device", cuda ? "cuda" : "cpu"},
                           {"precision", (summary.builder_flags & 1u) ? "fp16" : "fp32"},
                           {"batch", batch},
                           {"cuda_graph", cuda && !opt.no_cuda_graph},
                           {"iterations", iterations},
                           {"throughput_qps", qps},
                           {"frames_per_s", qps * double(batch)},
                           {"latency", to_json(lat)},
                           {"gpu_compute", to_json(comp)},
                           {"enqueue", to_json(enq)},
                           {"target", summary.target}};
  if (build_s > 0) report["build_s"] = build_s;
  if (cuda) {
    report["h2d"] = to_json(in_copy);
    report["d2h"] = to_json(out_copy);
    report["gpu_compute_back_to_back_ms"] = back_to_back_ms;
  }

  // CPU: the executor of a fresh context with the same threads, each layer timed on the host.
  if (!cuda && opt.per_layer) {
    try {
      auto data = std::make_shared<engine::EngineData>(engine::deserialize_engine(bytes->data(), bytes->size()));
      auto exec = engine::require_backend(DeviceType::kCPU).create_executor(data);
      exec->configure(execution);
      for (size_t i = 0; i < data->graph.inputs.size() && i < host_in.size(); ++i)
        exec->bind(data->graph.inputs[i], host_in[i]);
      report["per_layer"] = print_per_layer(average_profiles(*exec, nullptr, 20), "host clock around each layer");
    } catch (const std::exception& e) {
      fmt::print(stderr, "kestrel: per-layer profile failed: {}\n", e.what());
    }
  }
#if KESTREL_WITH_CUDA
  if (cuda && opt.per_layer) {
    try {
      auto data = std::make_shared<engine::EngineData>(engine::deserialize_engine(bytes->data(), bytes->size()));
      auto exec = engine::require_backend(DeviceType::kCUDA).create_executor(data);
      for (int id : data->graph.inputs) {
        auto it = std::find(data->graph.inputs.begin(), data->graph.inputs.end(), id);
        exec->bind(id, dev_in[size_t(it - data->graph.inputs.begin())]);
      }
      const std::vector<engine::LayerTime> sum = average_profiles(*exec, stream, 20);
      report["per_layer"] = print_per_layer(sum, "plain launches with events");
    } catch (const std::exception& e) {
      fmt::print(stderr, "kestrel: per-layer profile failed: {}\n", e.what());
    }
  }
  if (cuda) {
    for (cudaEvent_t e : ev) cudaEventDestroy(e);
    for (void* p : host_in) cudaFreeHost(p);
    for (void* p : host_out) cudaFreeHost(p);
    for (void* p : dev_in) cudaFree(p);
    for (void* p : dev_out) cudaFree(p);
    context.reset();
    cudaStreamDestroy(stream);
  }
#endif

  if (!opt.json.empty()) {
    try {
      const std::string text = report.dump(2) + "\n";
      write_file_atomic(opt.json, text.data(), text.size());
    } catch (const std::exception& e) {
      return report_error(fmt::format("cannot write {}: {}", opt.json, e.what()));
    }
  }
  return kExitOk;
}

std::function<int()> setup(CLI::App& app) {
  auto opt = std::make_shared<BenchOptions>();
  app.add_option("model", opt->model, "ONNX model (built in memory) or engine file")->required();
  app.add_option("--batch", opt->batch, "Batch size (models with a dynamic batch dimension)")->check(CLI::PositiveNumber);
  app.add_option("--warmup-ms", opt->warmup_ms, "Warm-up time in milliseconds")->check(CLI::NonNegativeNumber);
  app.add_option("--duration-s", opt->duration_s, "Timed duration in seconds")->check(CLI::NonNegativeNumber);
  app.add_option("--iterations", opt->iterations, "Timed iterations (overrides --duration-s)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--no-cuda-graph", opt->no_cuda_graph, "Launch layers one by one instead of replaying a CUDA graph");
  app.add_flag("--per-layer", opt->per_layer, "Also time each layer");
  app.add_option("--json", opt->json, "Write the results as JSON");
  add_build_options(app, opt->build);
  return [opt] { return run(*opt); };
}

KESTREL_REGISTER_SUBCOMMAND(Subcommand{"bench", "Benchmark a model or engine (trtexec-like timing)", setup});

}  // namespace
}  // namespace kestrel::cli
