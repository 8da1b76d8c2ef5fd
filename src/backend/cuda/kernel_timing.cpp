#include "backend/cuda/kernel_timing.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/timing_cache.h"
#include "core/dtype.h"
#include "engine/backend.h"
#include "engine/memory_plan.h"

namespace kestrel::cuda {

namespace {

constexpr int kWarmupRuns = 2;
constexpr int kTimedRuns = 9;  // per-layer medians: one slow run does not decide

// What a layer computes, independent of its name: a cache entry is valid for any layer of any
// model with the same op, shapes, types and attributes (the fusion marks excluded).
std::string layer_signature(const ir::Graph& graph, const ir::Node& node) {
  std::string s = node.op_type;
  for (int v : node.inputs) {
    if (v == ir::kNoValue) {
      s += " -";
      continue;
    }
    const ir::Value& value = graph.values[size_t(v)];
    s += fmt::format(" {}{}", dtype_name(value.dtype), shape_str(value.shape));
  }
  for (const auto& [name, attr] : node.attrs.all()) {
    if (name == kAttrFusedGemm || name == kAttrSinglePassNorm) continue;
    if (const auto* i = std::get_if<int64_t>(&attr)) s += fmt::format(" {}={}", name, *i);
    if (const auto* f = std::get_if<float>(&attr)) s += fmt::format(" {}={}", name, *f);
    if (const auto* t = std::get_if<std::string>(&attr)) s += fmt::format(" {}={}", name, *t);
    if (const auto* is = std::get_if<std::vector<int64_t>>(&attr)) s += fmt::format(" {}={}", name, fmt::join(*is, ","));
  }
  return s;
}

enum class Choice { kGemmEpilogue, kSinglePassNorm };

struct Candidate {
  std::string name, key;
  Choice choice;
};

// The engine compiled with `options` and its lowered graph, as an executor would run it.
struct Variant {
  std::shared_ptr<engine::EngineData> engine;
  ir::Graph lowered;
};

Variant make_variant(const engine::EngineData& source, bool fp16, const LoweringOptions& options) {
  Variant v;
  v.engine = std::make_shared<engine::EngineData>(source);
  record_lowering_options(*v.engine, options);
  compile_graph(v.engine->graph, fp16, options);
  v.engine->plan = engine::plan_memory(v.engine->graph);
  v.lowered = lower_for_cuda(v.engine->graph, options);
  return v;
}

// Median time of each layer over kTimedRuns plain-launch runs (no CUDA graph, events between layers).
std::map<std::string, double> layer_medians(const Variant& variant) {
  ExecutorOptions options;
  options.cuda_graph = false;
  std::unique_ptr<engine::Executor> executor = create_executor(variant.engine, options);
  for (int i = 0; i < kWarmupRuns; ++i) executor->profile_layers(nullptr);
  std::map<std::string, std::vector<double>> samples;
  for (int i = 0; i < kTimedRuns; ++i)
    for (const engine::LayerTime& t : executor->profile_layers(nullptr)) samples[t.name].push_back(t.ms);
  std::map<std::string, double> medians;
  for (auto& [name, ms] : samples) {
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    medians[name] = ms[ms.size() / 2];
  }
  return medians;
}

}  // namespace

TunedLayers time_kernel_choices(const engine::EngineData& engine, bool fp16, const LoweringOptions& base,
                                const DeviceFacts& device, const std::string& cache_path) {
  const auto start = std::chrono::steady_clock::now();
  LoweringOptions with = base, without = base;
  with.gemm_epilogue = with.single_pass_norm = true;
  with.gemm_epilogue_layers.clear(), with.single_pass_norm_layers.clear();
  without.gemm_epilogue = without.single_pass_norm = false;
  const Variant fused = make_variant(engine, fp16, with);
  const Variant plain = make_variant(engine, fp16, without);

  std::map<std::string, const ir::Node*> plain_nodes;
  for (const ir::Node& node : plain.lowered.nodes) plain_nodes[node.name] = &node;
  const std::string prefix = fmt::format("{} sm{} cuda{} cublas{} |", device.device_name, device.compute_capability,
                                         device.runtime_version, device.cublas_version);
  std::vector<Candidate> candidates;
  for (const ir::Node& node : fused.lowered.nodes) {
    const bool gemm = node.attrs.get_int(kAttrFusedGemm, 0) != 0;
    const bool norm = node.attrs.get_int(kAttrSinglePassNorm, 0) != 0;
    if (!gemm && !norm) continue;
    auto it = plain_nodes.find(node.name);
    if (it == plain_nodes.end() || it->second->kernel == node.kernel) continue;  // the mark changed nothing
    candidates.push_back({node.name,
                          fmt::format("{} {} vs {} | {}", prefix, node.kernel, it->second->kernel,
                                      layer_signature(fused.lowered, node)),
                          gemm ? Choice::kGemmEpilogue : Choice::kSinglePassNorm});
  }

  TimingCache cache = cache_path.empty() ? TimingCache() : TimingCache::load(cache_path);
  TunedLayers tuned;
  tuned.candidates = int(candidates.size());
  tuned.from_cache = int(std::count_if(candidates.begin(), candidates.end(),
                                       [&](const Candidate& c) { return cache.find(c.key).has_value(); }));
  if (tuned.from_cache < tuned.candidates) {  // one profile of each variant times every missing layer
    const std::map<std::string, double> fused_ms = layer_medians(fused), plain_ms = layer_medians(plain);
    for (const Candidate& c : candidates) {
      if (cache.find(c.key)) continue;
      auto f = fused_ms.find(c.name), p = plain_ms.find(c.name);
      KESTREL_CHECK(f != fused_ms.end() && p != plain_ms.end(), "kernel timing: layer '{}' was not profiled", c.name);
      cache.put(c.key, KernelTiming{f->second, p->second});
    }
    if (!cache_path.empty()) cache.save(cache_path);
  }
  for (const Candidate& c : candidates) {
    if (!cache.find(c.key)->candidate_wins()) continue;
    (c.choice == Choice::kGemmEpilogue ? tuned.gemm_epilogue : tuned.single_pass_norm).insert(c.name);
  }
  tuned.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return tuned;
}

}  // namespace kestrel::cuda
