#include "backend/cpu/fast/layout_plan.h"

#include <algorithm>
#include <numeric>

#include "ir/op_registry.h"

namespace kestrel::cpu::fast {
namespace {

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int x) {
    while (parent[size_t(x)] != x) x = parent[size_t(x)] = parent[size_t(parent[size_t(x)])];
    return x;
  }
  void unite(int a, int b) { parent[size_t(find(a))] = find(b); }
};

bool is_int8(DataType t) { return t == DataType::kINT8 || t == DataType::kUINT8; }

int value_at(const ir::Node& node, const Port& port) {
  const std::vector<int>& ids = port.output ? node.outputs : node.inputs;
  return port.index < int(ids.size()) ? ids[size_t(port.index)] : ir::kNoValue;
}

bool blockable_value(const ir::Graph& graph, int v, const std::vector<int>& producer) {
  const ir::Value& value = graph.values[size_t(v)];
  if (value.shape.size() != 4 || value.constant) return false;
  if (is_int8(value.dtype)) {
    if (value.shape[1] <= 0) return false;
  } else if (value.dtype != DataType::kFLOAT || value.shape[1] <= 0 || value.shape[1] % 16 != 0) {
    return false;
  }
  if (producer[size_t(v)] < 0 || graph.is_graph_output(v)) return false;
  return true;
}

// A float value between int8 layers (their float output, a residual, a quantize's input).
bool channels_last_float(const ir::Graph& graph, int v, const std::vector<int>& producer) {
  const ir::Value& value = graph.values[size_t(v)];
  return value.dtype == DataType::kFLOAT && value.shape.size() == 4 && !value.constant && producer[size_t(v)] >= 0 &&
         !graph.is_graph_output(v);
}

}  // namespace

const KernelImpl* recorded_impl(const ir::Node& node) {
  if (node.kernel.empty() || node.kernel == "reference") return nullptr;
  return find_kernel_impl(ir::qualified_op_type(node), node.kernel);
}

std::vector<Layout> plan_layouts(const ir::Graph& graph) {
  const size_t n_values = graph.values.size();
  const std::vector<int> producer = graph.producers();
  std::vector<int> ports(n_values, 0), blockable_ports(n_values, 0), channels_last_ports(n_values, 0);
  std::vector<LayoutRules> rules(graph.nodes.size());
  UnionFind tied(n_values);

  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    for (int v : node.inputs)
      if (v != ir::kNoValue) ++ports[size_t(v)];
    for (int v : node.outputs)
      if (v != ir::kNoValue) ++ports[size_t(v)];
    const KernelImpl* impl = recorded_impl(node);
    if (!impl || !impl->layouts) continue;
    rules[n] = impl->layouts(graph, node);
    for (const Port& port : rules[n].blockable) {
      const int v = value_at(node, port);
      if (v != ir::kNoValue) ++blockable_ports[size_t(v)];
    }
    for (const Port& port : rules[n].channels_last) {
      const int v = value_at(node, port);
      if (v != ir::kNoValue) ++channels_last_ports[size_t(v)];
    }
    for (const std::vector<Port>& group : rules[n].tied) {
      int first = ir::kNoValue;
      for (const Port& port : group) {
        const int v = value_at(node, port);
        if (v == ir::kNoValue) continue;
        if (first == ir::kNoValue)
          first = v;
        else
          tied.unite(first, v);
      }
    }
  }

  // Values that may be blocked: every member of their tied set can be.
  std::vector<char> set_ok(n_values, 1);
  for (size_t v = 0; v < n_values; ++v) {
    const bool ok = ports[v] > 0 && ports[v] == blockable_ports[v] && blockable_value(graph, int(v), producer);
    if (ports[v] > 0 && !ok) set_ok[size_t(tied.find(int(v)))] = 0;
  }
  std::vector<bool> may(n_values, false);
  for (size_t v = 0; v < n_values; ++v) may[v] = ports[v] > 0 && set_ok[size_t(tied.find(int(v)))];

  // Regions of such values; keep those with a kernel that runs entirely blocked inside.
  UnionFind regions = tied;
  std::vector<std::pair<int, int>> inner;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (const auto& [in, out] : rules[n].blocked_paths) {
      const int a = value_at(graph.nodes[n], in), b = value_at(graph.nodes[n], out);
      if (a == ir::kNoValue || b == ir::kNoValue || !may[size_t(a)] || !may[size_t(b)]) continue;
      regions.unite(a, b);
      inner.emplace_back(a, b);
    }
  }
  std::vector<char> region_kept(n_values, 0);
  for (const auto& [a, b] : inner) region_kept[size_t(regions.find(a))] = 1;
  std::vector<Layout> layouts(n_values, Layout::kPlain);
  for (size_t v = 0; v < n_values; ++v)
    // int8 values go channels-last wherever every reader and writer takes it: only int8 kernels
    // touch them, and those want it (no region needs to pay for a reorder first).
    if (may[v] && is_int8(graph.values[v].dtype))
      layouts[v] = Layout::kChannelsLast;
    else if (ports[v] > 0 && ports[v] == channels_last_ports[v] && channels_last_float(graph, int(v), producer))
      layouts[v] = Layout::kChannelsLast;
    else if (may[v] && region_kept[size_t(regions.find(int(v)))])
      layouts[v] = Layout::kBlocked16;
  return layouts;
}

}  // namespace kestrel::cpu::fast
