// The CPU backend.
//
// Build time (compile): the CPU-only rewrites (fusions into kestrel.* ops), then for every layer
// the fast kernel that accepts it (src/backend/cpu/fast/), else the reference kernel; where
// several fast kernels accept a layer they are timed on random data and the fastest is kept.
// The choice is recorded in Node.kernel, the instruction set the engine needs in the target
// facts ("cpu.isa"), which check_compatible() verifies when the engine is loaded.
//
// Run time: one executor per execution context. It plans its own activation arena (views share
// their input's storage), decides each value's layout (plain or channel-blocked, identically to
// the build), prepares every kernel once (oneDNN primitives, reordered weights) with the
// context's thread count, and then runs the layers in order: nothing is allocated per
// inference. Reference kernels run on plain tensor views, as before.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "backend/cpu/fast/arena_plan.h"
#include "backend/cpu/fast/kernel.h"
#include "backend/cpu/fast/layout_plan.h"
#include "backend/cpu/fast/runtime_info.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "engine/backend.h"
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::cpu {
namespace {

constexpr const char* kReferenceKernel = "reference";
constexpr const char* kIsaTarget = "cpu.isa";

constexpr const char* kDefaultThreadsTarget = "cpu.default_threads";

int default_threads() { return std::max(1, int(std::thread::hardware_concurrency())); }

int engine_default_threads(const engine::EngineData& engine) {
  auto it = engine.target.find(kDefaultThreadsTarget);
  if (it != engine.target.end()) {
    const int threads = std::atoi(it->second.c_str());
    if (threads > 0) return threads;
  }
  return default_threads();
}

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<std::byte, AlignedFree>;

AlignedBuffer aligned_buffer(size_t bytes) {
  if (bytes == 0) return nullptr;
  const size_t rounded = (bytes + 63) / 64 * 64;
  AlignedBuffer buffer(static_cast<std::byte*>(std::aligned_alloc(64, rounded)));
  KESTREL_CHECK(buffer != nullptr, "cannot allocate {} bytes of CPU memory", rounded);
  return buffer;
}

// Per-layer wall time, summed over inferences, printed when the context goes (set
// KESTREL_CPU_PROFILE=1). A development aid: the timing itself costs a little.
struct Profile {
  bool enabled = false;
  bool all_layers = false;  // KESTREL_CPU_PROFILE=all: every layer, in order
  int runs = 0;
  std::vector<double> ms;
};

class CpuExecutor : public engine::Executor {
 public:
  explicit CpuExecutor(std::shared_ptr<const engine::EngineData> engine) : engine_(std::move(engine)) {
    const char* profile = std::getenv("KESTREL_CPU_PROFILE");
    profile_.enabled = profile != nullptr && (std::string(profile) == "1" || std::string(profile) == "all");
    profile_.all_layers = profile_.enabled && std::string(profile) == "all";
  }

  ~CpuExecutor() override { print_profile(); }

  // Threads: the context's option, else the engine's default (BuilderConfig::set_cpu_threads,
  // recorded as "cpu.default_threads"), else every hardware thread.
  void configure(const ExecutionOptions& options) override {
    threads_ = options.cpu_threads > 0 ? options.cpu_threads : engine_default_threads(*engine_);
    prepare();
  }

  void bind(int value, void* data) override {
    ensure_prepared();
    data_[size_t(root_[size_t(value)])] = data;
    refresh_views(root_[size_t(value)]);
  }

  void* address(int value) const override {
    return const_cast<void*>(data_.empty() ? nullptr : data_[size_t(root_[size_t(value)])]);
  }

  void enqueue(void*) override {
    ensure_prepared();
    omp_set_num_threads(threads_);
    for (size_t i = 0; i < layers_.size(); ++i) {
      const auto start = profile_.enabled ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      run_layer(layers_[i]);
      if (profile_.enabled)
        profile_.ms[i] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    }
    if (profile_.enabled) ++profile_.runs;
  }

  // One inference with a wall-clock timer around each layer (kestrel bench --per-layer). The CPU
  // finishes each layer before the next starts, so the times add up to the inference.
  std::vector<engine::LayerTime> profile_layers(void*) override {
    ensure_prepared();
    omp_set_num_threads(threads_);
    std::vector<engine::LayerTime> times;
    times.reserve(layers_.size());
    for (Layer& layer : layers_) {
      const auto start = std::chrono::steady_clock::now();
      run_layer(layer);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      const std::string detail = layer.fast ? layer.fast->detail() : "";
      times.push_back({layer.node->name, ir::qualified_op_type(*layer.node),
                       detail.empty() ? layer.node->kernel : layer.node->kernel + ": " + detail, ms});
    }
    return times;
  }

  void synchronize(void*) override {}

 private:
  struct Layer {
    const ir::Node* node = nullptr;
    std::vector<int> inputs, outputs;
    std::unique_ptr<fast::Kernel> fast;
    std::vector<const void*> input_data;  // sized once; filled before each run
    std::vector<void*> output_data;
    ReferenceKernel reference = nullptr;
    std::unique_ptr<KernelContext> context;  // reference kernels: views into views_
  };

  void run_layer(Layer& layer) {
    try {
      if (layer.fast) {
        for (size_t k = 0; k < layer.inputs.size(); ++k)
          layer.input_data[k] = layer.inputs[k] == ir::kNoValue ? nullptr : data_[size_t(root_[size_t(layer.inputs[k])])];
        for (size_t k = 0; k < layer.outputs.size(); ++k)
          layer.output_data[k] = layer.outputs[k] == ir::kNoValue ? nullptr : data_[size_t(root_[size_t(layer.outputs[k])])];
        fast::RunContext ctx;
        ctx.inputs = layer.input_data.data();
        ctx.outputs = layer.output_data.data();
        ctx.scratch = scratch_.get();
        ctx.threads = threads_;
        layer.fast->run(ctx);
      } else {
        layer.reference(*layer.context);
      }
    } catch (const Error& e) {
      fail("{}: {}", ir::describe(*layer.node), e.what());
    }
  }

  void ensure_prepared() {
    if (!prepared_) configure(ExecutionOptions{});
  }

  void prepare() {
    const ir::Graph& graph = engine_->graph;
    const size_t n_values = graph.values.size();
    omp_set_num_threads(threads_);
    layers_.clear();
    layouts_ = fast::plan_layouts(graph);

    // Views share storage with their input unless the output is a graph output.
    std::vector<bool> aliases(graph.nodes.size(), false);
    for (size_t n = 0; n < graph.nodes.size(); ++n) {
      const ir::Node& node = graph.nodes[n];
      aliases[n] = node.kernel == "cpu.alias" && !graph.is_graph_output(node.outputs[0]) &&
                   layouts_[size_t(node.inputs[0])] == fast::Layout::kPlain;
    }
    const fast::ArenaPlan plan = fast::plan_arena(graph, aliases);
    root_ = plan.root;
    arena_ = aligned_buffer(plan.bytes);

    data_.assign(n_values, nullptr);
    io_buffers_.clear();
    for (size_t v = 0; v < n_values; ++v) {
      const ir::Value& value = graph.values[v];
      if (root_[v] != int(v)) continue;
      if (value.constant)
        data_[v] = const_cast<void*>(value.constant->raw());
      else if (plan.offsets[v] != fast::kNoOffset)
        data_[v] = arena_.get() + plan.offsets[v];
    }
    // Inputs and outputs start in buffers of their own until the caller binds its memory.
    for (const std::vector<int>* ids : {&graph.inputs, &graph.outputs}) {
      for (int id : *ids) {
        const ir::Value& value = graph.values[size_t(id)];
        io_buffers_.push_back(aligned_buffer(std::max<size_t>(1, size_t(shape_numel(value.shape)) * dtype_size(value.dtype))));
        data_[size_t(id)] = io_buffers_.back().get();
      }
    }
    views_.assign(n_values, Tensor());
    for (size_t v = 0; v < n_values; ++v) refresh_view(v);

    size_t scratch_bytes = 0;
    layers_.reserve(graph.nodes.size());
    for (const ir::Node& node : graph.nodes) {
      Layer layer;
      layer.node = &node;
      layer.inputs = node.inputs;
      layer.outputs = node.outputs;
      if (node.kernel == kReferenceKernel) {
        layer.reference = find_reference_kernel(ir::qualified_op_type(node));
        KESTREL_CHECK(layer.reference != nullptr, "{}: no CPU kernel for {}", ir::describe(node), node.op_type);
        std::vector<const Tensor*> inputs;
        std::vector<Tensor*> outputs;
        for (int in : node.inputs) {
          KESTREL_CHECK(in == ir::kNoValue || layouts_[size_t(in)] == fast::Layout::kPlain,
                        "{}: a reference kernel was given a blocked input", ir::describe(node));
          inputs.push_back(in == ir::kNoValue ? nullptr : &views_[size_t(in)]);
        }
        for (int out : node.outputs) outputs.push_back(out == ir::kNoValue ? nullptr : &views_[size_t(out)]);
        layer.context = std::make_unique<KernelContext>(node, std::move(inputs), std::move(outputs));
      } else {
        const fast::KernelImpl* impl = fast::recorded_impl(node);
        KESTREL_CHECK(impl != nullptr, "{} uses kernel '{}', which this build of Kestrel does not have",
                      ir::describe(node), node.kernel);
        std::vector<fast::Layout> in_layouts, out_layouts;
        for (int in : node.inputs) in_layouts.push_back(in == ir::kNoValue ? fast::Layout::kPlain : layouts_[size_t(in)]);
        for (int out : node.outputs) out_layouts.push_back(out == ir::kNoValue ? fast::Layout::kPlain : layouts_[size_t(out)]);
        try {
          layer.fast = impl->create(fast::PrepareContext(graph, node, in_layouts, out_layouts, threads_));
        } catch (const Error& e) {
          fail("{}: {}", ir::describe(node), e.what());
        }
        scratch_bytes = std::max(scratch_bytes, layer.fast->scratch_bytes());
        layer.input_data.resize(node.inputs.size());
        layer.output_data.resize(node.outputs.size());
      }
      layers_.push_back(std::move(layer));
    }
    scratch_ = aligned_buffer(scratch_bytes);
    profile_.ms.assign(layers_.size(), 0.0);
    profile_.runs = 0;
    prepared_ = true;
  }

  // Points the tensor view of value v (a plain value) at its current storage.
  void refresh_view(size_t v) {
    const ir::Value& value = engine_->graph.values[v];
    void* data = data_[size_t(root_[v])];
    views_[v] = data || shape_numel(value.shape) == 0 ? Tensor::view(value.dtype, value.shape, data) : Tensor();
  }

  void refresh_views(int root) {
    for (size_t v = 0; v < root_.size(); ++v)
      if (root_[v] == root) refresh_view(v);
  }

  void print_profile() const {
    if (!profile_.enabled || profile_.runs == 0) return;
    std::map<std::string, std::pair<double, int>> by_kind;
    double total = 0;
    for (size_t i = 0; i < layers_.size(); ++i) {
      const ir::Node& node = *layers_[i].node;
      auto& entry = by_kind[ir::qualified_op_type(node) + " [" + node.kernel + "]"];
      entry.first += profile_.ms[i] / profile_.runs;
      entry.second += 1;
      total += profile_.ms[i] / profile_.runs;
    }
    std::vector<std::pair<double, std::string>> rows;
    for (const auto& [name, entry] : by_kind) rows.emplace_back(entry.first, fmt::format("{:4d}x {}", entry.second, name));
    std::sort(rows.rbegin(), rows.rend());
    fmt::print(stderr, "kestrel cpu profile: {} runs, {} threads, {:.3f} ms per run in layers\n", profile_.runs, threads_, total);
    for (const auto& [ms, name] : rows) fmt::print(stderr, "  {:8.3f} ms  {:5.1f}%  {}\n", ms, 100 * ms / total, name);
    std::vector<size_t> order(layers_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return profile_.ms[a] > profile_.ms[b]; });
    fmt::print(stderr, "  {}:\n", profile_.all_layers ? "layers" : "slowest layers");
    if (profile_.all_layers)
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    for (size_t k = 0; k < std::min<size_t>(profile_.all_layers ? order.size() : 25, order.size()); ++k) {
      const ir::Node& node = *layers_[order[k]].node;
      const ir::Value& out = engine_->graph.values[size_t(node.outputs[0])];
      const std::string detail = layers_[order[k]].fast ? layers_[order[k]].fast->detail() : "";
      fmt::print(stderr, "  {:8.3f} ms  {} [{}{}{}] {} {}\n", profile_.ms[order[k]] / profile_.runs,
                 ir::qualified_op_type(node), node.kernel, detail.empty() ? "" : ": ", detail, shape_str(out.shape),
                 node.name);
    }
  }

  std::shared_ptr<const engine::EngineData> engine_;
  int threads_ = 1;
  bool prepared_ = false;
  std::vector<fast::Layout> layouts_;
  std::vector<int> root_;          // per value: the value whose storage it shares
  std::vector<void*> data_;        // per root value: its current storage
  std::vector<Tensor> views_;      // per value: a plain view for reference kernels (never resized after prepare)
  AlignedBuffer arena_, scratch_;
  std::vector<AlignedBuffer> io_buffers_;
  std::vector<Layer> layers_;
  Profile profile_;
};

std::string unavailable_reason() { return ""; }

// ------------------------------------------------------------------ kernel choice

// A candidate kernel prepared on random data with the given layouts, ready to be timed.
class TimedCandidate {
 public:
  TimedCandidate(const ir::Graph& graph, const ir::Node& node, const fast::KernelImpl& impl, int threads,
                 const std::vector<fast::Layout>& in_layouts, const std::vector<fast::Layout>& out_layouts) {
    std::mt19937 rng(1234);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    auto fresh = [&](const ir::Value& v) {
      const size_t bytes = std::max<size_t>(1, size_t(shape_numel(v.shape)) * dtype_size(v.dtype));
      buffers_.push_back(aligned_buffer(bytes));
      std::memset(buffers_.back().get(), 0, bytes);
      if (v.dtype == DataType::kFLOAT) {
        float* f = reinterpret_cast<float*>(buffers_.back().get());
        for (int64_t i = 0; i < shape_numel(v.shape); ++i) f[i] = dist(rng);
      }
      return static_cast<void*>(buffers_.back().get());
    };
    for (int in : node.inputs) {
      if (in == ir::kNoValue)
        inputs_.push_back(nullptr);
      else if (graph.values[size_t(in)].constant)
        inputs_.push_back(graph.values[size_t(in)].constant->raw());
      else
        inputs_.push_back(fresh(graph.values[size_t(in)]));
    }
    for (int out : node.outputs) outputs_.push_back(out == ir::kNoValue ? nullptr : fresh(graph.values[size_t(out)]));
    kernel_ = impl.create(fast::PrepareContext(graph, node, in_layouts, out_layouts, threads));
    scratch_ = aligned_buffer(kernel_->scratch_bytes());
    ctx_.inputs = inputs_.data();
    ctx_.outputs = outputs_.data();
    ctx_.scratch = scratch_.get();
    ctx_.threads = threads;
    kernel_->run(ctx_);  // warm-up
  }

  // Runs the kernel at least 3 times and for at least ~1 ms; returns the fastest run seen so far.
  double measure() {
    double spent = 0;
    for (int i = 0; i < 100 && (i < 3 || spent < 1.0); ++i) {
      const auto start = std::chrono::steady_clock::now();
      kernel_->run(ctx_);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      best_ = std::min(best_, ms);
      spent += ms;
    }
    return best_;
  }

 private:
  std::vector<AlignedBuffer> buffers_;
  std::vector<const void*> inputs_;
  std::vector<void*> outputs_;
  std::unique_ptr<fast::Kernel> kernel_;
  AlignedBuffer scratch_;
  fast::RunContext ctx_;
  double best_ = 1e30;
};


// KESTREL_CPU_DISABLE=name,name: kernel implementations the builder must not choose (for
// ablations and for bisecting a wrong result); "fusions" also skips the CPU-only rewrites, and
// "all" builds an engine of reference kernels only, without fusions.
std::vector<std::string> disabled_kernels() {
  std::vector<std::string> names;
  const char* env = std::getenv("KESTREL_CPU_DISABLE");
  if (!env) return names;
  std::string list = env;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t end = std::min(list.find(',', start), list.size());
    if (end > start) names.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return names;
}

// Whether `impl` may read and write the node's values in these layouts.
bool supports_layouts(const ir::Graph& graph, const ir::Node& node, const fast::KernelImpl& impl,
                      const std::vector<fast::Layout>& in_layouts, const std::vector<fast::Layout>& out_layouts) {
  const fast::LayoutRules rules = impl.layouts ? impl.layouts(graph, node) : fast::LayoutRules{};
  auto blockable = [&](bool output, size_t index) {
    for (const fast::Port& port : rules.blockable)
      if (port.output == output && size_t(port.index) == index) return true;
    return false;
  };
  auto channels_last = [&](bool output, size_t index, fast::Layout layout) {
    if (layout != fast::Layout::kChannelsLast) return false;
    for (const fast::Port& port : rules.channels_last)
      if (port.output == output && size_t(port.index) == index) return true;
    return false;
  };
  for (size_t i = 0; i < in_layouts.size(); ++i)
    if (in_layouts[i] != fast::Layout::kPlain && !blockable(false, i) && !channels_last(false, i, in_layouts[i])) return false;
  for (size_t i = 0; i < out_layouts.size(); ++i)
    if (out_layouts[i] != fast::Layout::kPlain && !blockable(true, i) && !channels_last(true, i, out_layouts[i])) return false;
  return true;
}

void compile(engine::EngineData& engine, const BuilderConfig& config) {
  ir::Graph& graph = engine.graph;
  const std::vector<std::string> disabled = disabled_kernels();
  const bool reference_only = std::find(disabled.begin(), disabled.end(), "all") != disabled.end();
  auto is_disabled = [&](const std::string& name) {
    return reference_only || std::find(disabled.begin(), disabled.end(), name) != disabled.end();
  };
  if (!is_disabled("fusions")) {
    passes::optimize(graph, DeviceType::kCPU);
    passes::give_outputs_producers(graph);
  }
  graph.sort();

  const fast::Isa host = fast::host_isa();
  const int threads = config.cpu_threads() > 0 ? config.cpu_threads() : default_threads();
  omp_set_num_threads(threads);
  // First every layer gets the highest-priority kernel that accepts it; the layouts follow from
  // those. Then, where several kernels accept a layer, each that can work with those layouts is
  // timed on random data and the fastest kept (a lower priority must win by 3%).
  std::vector<std::vector<const fast::KernelImpl*>> candidates(graph.nodes.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    ir::Node& node = graph.nodes[n];
    const std::string op = ir::qualified_op_type(node);
    for (const fast::KernelImpl* impl : fast::kernel_impls_for(op))
      if (impl->isa <= host && !is_disabled(impl->name) && impl->accepts(graph, node)) candidates[n].push_back(impl);
    if (!candidates[n].empty()) {
      node.kernel = candidates[n][0]->name;
    } else {
      KESTREL_CHECK(find_reference_kernel(op) != nullptr, "{}: no CPU kernel for {} (opset {})", ir::describe(node),
                    node.op_type, node.opset);
      node.kernel = kReferenceKernel;
    }
    // kestrel.QConv / QMatMul compute in integers (src/passes/fuse_qdq_*.cpp made them from QDQ nodes).
    node.precision = op == "kestrel.QConv" || op == "kestrel.QMatMul" ? ir::Precision::kINT8 : ir::Precision::kFP32;
  }
  const std::vector<fast::Layout> planned = fast::plan_layouts(graph);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (candidates[n].size() < 2 || std::getenv("KESTREL_CPU_NO_TIMING")) continue;
    ir::Node& node = graph.nodes[n];
    std::vector<fast::Layout> in_layouts, out_layouts;
    for (int v : node.inputs) in_layouts.push_back(v == ir::kNoValue ? fast::Layout::kPlain : planned[size_t(v)]);
    for (int v : node.outputs) out_layouts.push_back(v == ir::kNoValue ? fast::Layout::kPlain : planned[size_t(v)]);
    // The candidates take turns, a few rounds, and each keeps its fastest run: on a shared
    // machine a run is often slowed by other work (a thread waiting for a time slice), rarely
    // sped up.
    std::vector<std::pair<const fast::KernelImpl*, std::unique_ptr<TimedCandidate>>> timed;
    for (const fast::KernelImpl* impl : candidates[n]) {
      if (!supports_layouts(graph, node, *impl, in_layouts, out_layouts)) continue;
      try {
        timed.emplace_back(impl, std::make_unique<TimedCandidate>(graph, node, *impl, threads, in_layouts, out_layouts));
      } catch (const std::exception&) {
      }
    }
    std::vector<double> best(timed.size(), 1e30);
    for (int round = 0; round < 4; ++round)
      for (size_t i = 0; i < timed.size(); ++i) best[i] = timed[i].second->measure();
    const fast::KernelImpl* chosen = nullptr;
    double fastest = 0;
    for (size_t i = 0; i < timed.size(); ++i) {
      if (std::getenv("KESTREL_CPU_TIMING"))
        fmt::print(stderr, "kestrel cpu timing: {} {} {:.4f} ms\n", node.name, timed[i].first->name, best[i]);
      if (!chosen || best[i] < fastest * 0.97) {
        chosen = timed[i].first;
        fastest = best[i];
      }
    }
    if (chosen) node.kernel = chosen->name;
  }
  fast::Isa needed = fast::Isa::kBaseline;
  for (const ir::Node& node : graph.nodes)
    if (const fast::KernelImpl* impl = fast::recorded_impl(node)) needed = std::max(needed, impl->isa);
  // Channel-blocked layouts are laid out for AVX-512's 16 floats: engines that use them are
  // meant for such CPUs (they would run elsewhere, slowly).
  const std::vector<fast::Layout> layouts = fast::plan_layouts(graph);
  if (std::find(layouts.begin(), layouts.end(), fast::Layout::kBlocked16) != layouts.end())
    needed = std::max(needed, fast::Isa::kAvx512Core);
  engine.target[kIsaTarget] = fast::isa_name(needed);
  // Not a requirement: the thread count contexts use unless they ask for another.
  if (config.cpu_threads() > 0) engine.target[kDefaultThreadsTarget] = std::to_string(config.cpu_threads());
  engine.target["cpu.onednn"] = fast::onednn_runtime_version();
}

void check_compatible(const engine::EngineData& engine) {
  const fast::Isa host = fast::host_isa();
  auto it = engine.target.find(kIsaTarget);
  if (it != engine.target.end()) {
    fast::Isa needed;
    KESTREL_CHECK(fast::parse_isa(it->second, needed), "the engine needs the unknown CPU instruction set '{}'",
                  it->second);
    KESTREL_CHECK(needed <= host,
                  "the engine was built for CPUs with {}, this CPU supports only {}: build the engine on this machine",
                  it->second, fast::isa_name(host));
  }
  for (const ir::Node& node : engine.graph.nodes) {
    const std::string op = ir::qualified_op_type(node);
    if (node.kernel == kReferenceKernel) {
      KESTREL_CHECK(find_reference_kernel(op) != nullptr,
                    "{} uses kernel 'reference', which this build of Kestrel does not have for {}", ir::describe(node), op);
      continue;
    }
    const fast::KernelImpl* impl = fast::find_kernel_impl(op, node.kernel);
    KESTREL_CHECK(impl != nullptr, "{} uses kernel '{}', which this build of Kestrel does not have", ir::describe(node),
                  node.kernel);
    KESTREL_CHECK(impl->isa <= host, "{} uses kernel '{}', which needs {}; this CPU supports only {}", ir::describe(node),
                  node.kernel, fast::isa_name(impl->isa), fast::isa_name(host));
    KESTREL_CHECK(impl->accepts(engine.graph, node), "{}: kernel '{}' of this build does not accept the layer",
                  ir::describe(node), node.kernel);
  }
}

std::unique_ptr<engine::Executor> create_executor(std::shared_ptr<const engine::EngineData> engine) {
  return std::make_unique<CpuExecutor>(std::move(engine));
}

KESTREL_REGISTER_BACKEND(engine::Backend{DeviceType::kCPU, unavailable_reason, compile, check_compatible, create_executor});

}  // namespace
}  // namespace kestrel::cpu
