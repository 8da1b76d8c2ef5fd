// The fast CPU kernels: the interface every implementation follows and the registry the CPU
// backend chooses from at build time.
//
// A kernel implementation (KernelImpl) names itself ("cpu.onednn.conv", "cpu.avx512.binary"),
// the instruction set it needs, the op types it runs and, per node, whether it accepts the node
// (dtype, shapes, attributes, constant weights). At build time the backend records the chosen
// implementation's name in Node.kernel; an execution context then creates one Kernel object per
// layer (prepare once: primitives, reordered weights, constants) and runs it per inference with
// the current data addresses and a scratch buffer that the executor owns. Nothing is allocated
// per inference.
//
// Layouts: values are stored plain (row-major NCHW), or, between layers that gain from it,
// channel-blocked nChw16c (Layout::kBlocked16: [N, C/16, H, W, 16], only for 4-D float values
// whose channel count is a multiple of 16, so the byte size is the plain one). A KernelImpl says
// which of its inputs and outputs may be blocked and which must share one layout; the layout
// planner (layout_plan.h) decides per value, and kernels read their layouts while preparing.
// A blockable int8 port means channels-last instead (Layout::kChannelsLast).
// Reference kernels only ever see plain values.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kestrel::cpu::fast {

// kChannelsLast (NHWC): 4-D int8 values, which oneDNN's int8 convolutions (VNNI, brgemm) run on
// (no padding whatever the channel count), and float values that only int8 layers and
// quantize/dequantize touch (LayoutRules::channels_last), so that no transpose sits between them.
enum class Layout : uint8_t { kPlain = 0, kBlocked16 = 1, kChannelsLast = 2 };

// Instruction sets, ordered: a CPU that has one has the ones before it.
enum class Isa : uint8_t { kBaseline = 0, kAvx2 = 1, kAvx512Core = 2 };

const char* isa_name(Isa isa);  // "x86_64", "avx2", "avx512_core"
bool parse_isa(const std::string& name, Isa& isa);
// The best instruction set this CPU (and OS) supports.
Isa host_isa();

// An input (output = false) or output of a node, by index.
struct Port {
  bool output = false;
  int index = 0;
};

// Which values of a node may be stored channel-blocked, and which must share one layout.
struct LayoutRules {
  std::vector<Port> blockable;
  std::vector<std::vector<Port>> tied;
  // Pairs (an input, an output) that, both blocked, let the kernel run entirely on blocked data
  // (oneDNN's direct convolutions: source and destination). Blocked values are only kept in
  // regions that contain such a kernel; elsewhere a blocked value would only cost reorders.
  std::vector<std::pair<Port, Port>> blocked_paths;
  // Float ports that may also be channels-last (a float value is stored so when every port that
  // touches it is listed here by its kernel).
  std::vector<Port> channels_last;
};

// What a kernel reads while it is prepared.
class PrepareContext {
 public:
  PrepareContext(const ir::Graph& graph, const ir::Node& node, std::vector<Layout> input_layouts,
                 std::vector<Layout> output_layouts, int threads)
      : graph_(graph), node_(node), input_layouts_(std::move(input_layouts)),
        output_layouts_(std::move(output_layouts)), threads_(threads) {}

  const ir::Graph& graph() const { return graph_; }
  const ir::Node& node() const { return node_; }
  size_t num_inputs() const { return node_.inputs.size(); }
  bool has_input(size_t i) const { return i < node_.inputs.size() && node_.inputs[i] != ir::kNoValue; }
  const ir::Value& input(size_t i) const { return graph_.values[size_t(node_.inputs.at(i))]; }
  const ir::Value& output(size_t i) const { return graph_.values[size_t(node_.outputs.at(i))]; }
  Layout input_layout(size_t i) const { return i < input_layouts_.size() ? input_layouts_[i] : Layout::kPlain; }
  Layout output_layout(size_t i) const { return i < output_layouts_.size() ? output_layouts_[i] : Layout::kPlain; }
  int threads() const { return threads_; }

 private:
  const ir::Graph& graph_;
  const ir::Node& node_;
  std::vector<Layout> input_layouts_, output_layouts_;
  int threads_;
};

// What a kernel gets per run: the data of its inputs and outputs (nullptr for absent optional
// ones), a scratch buffer of at least scratch_bytes() (64-byte aligned) and the thread count.
struct RunContext {
  const void* const* inputs = nullptr;
  void* const* outputs = nullptr;
  void* scratch = nullptr;
  int threads = 1;

  template <typename T>
  const T* in(size_t i) const { return static_cast<const T*>(inputs[i]); }
  template <typename T>
  T* out(size_t i) const { return static_cast<T*>(outputs[i]); }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Scratch memory one run needs; the executor shares one buffer between all layers.
  virtual size_t scratch_bytes() const { return 0; }
  virtual void run(const RunContext& ctx) = 0;
  // What it runs, for profiles and tests (e.g. oneDNN's implementation name).
  virtual std::string detail() const { return ""; }
};

struct KernelImpl {
  const char* name;     // recorded in Node.kernel
  const char* op_type;  // the qualified op type it runs ("Conv", "kestrel.FusedConv")
  Isa isa;              // instruction set it needs
  // Whether it runs this node (shapes, dtypes, attributes, constant inputs). Called at build
  // time and again when an engine is loaded.
  bool (*accepts)(const ir::Graph& graph, const ir::Node& node);
  // Layout freedom for an accepted node; nullptr: every value plain.
  LayoutRules (*layouts)(const ir::Graph& graph, const ir::Node& node);
  std::unique_ptr<Kernel> (*create)(const PrepareContext& ctx);
  // Higher wins when several accept a node and none is timed (see cpu_backend.cpp).
  int priority = 0;
};

struct KernelImplRegistrar {
  explicit KernelImplRegistrar(KernelImpl impl);
};

// Implementations that run `qualified_op_type`, highest priority first.
std::vector<const KernelImpl*> kernel_impls_for(const std::string& qualified_op_type);
// The implementation called `name` for the op type, or nullptr.
const KernelImpl* find_kernel_impl(const std::string& qualified_op_type, const std::string& name);

// Helpers for accepts() functions.
bool is_float(const ir::Graph& graph, int value);
bool is_constant(const ir::Graph& graph, int value);
const ir::Value& value_of(const ir::Graph& graph, int value);

}  // namespace kestrel::cpu::fast

#ifndef KESTREL_CONCAT
#define KESTREL_CONCAT_INNER(a, b) a##b
#define KESTREL_CONCAT(a, b) KESTREL_CONCAT_INNER(a, b)
#endif
#define KESTREL_REGISTER_FAST_KERNEL(...) \
  static ::kestrel::cpu::fast::KernelImplRegistrar KESTREL_CONCAT(kestrel_fast_kernel_, __COUNTER__)(__VA_ARGS__)
