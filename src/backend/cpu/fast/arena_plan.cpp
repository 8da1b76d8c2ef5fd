#include "backend/cpu/fast/arena_plan.h"

#include <algorithm>

#include "engine/memory_plan.h"

namespace kestrel::cpu::fast {
namespace {

constexpr uint64_t kAlignment = 64;

uint64_t align_up(uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

}  // namespace

ArenaPlan plan_arena(const ir::Graph& graph, const std::vector<bool>& aliases) {
  const size_t n_values = graph.values.size();
  const std::vector<int> producer = graph.producers();
  ArenaPlan plan;
  plan.root.resize(n_values);
  for (size_t v = 0; v < n_values; ++v) plan.root[v] = int(v);
  // Nodes are topologically sorted, so an alias's input already has its final root.
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (!aliases[n]) continue;
    const ir::Node& node = graph.nodes[n];
    plan.root[size_t(node.outputs[0])] = plan.root[size_t(node.inputs[0])];
  }

  std::vector<int> interval_of(n_values, -1);
  std::vector<engine::LiveInterval> intervals;
  for (size_t v = 0; v < n_values; ++v) {
    if (plan.root[v] != int(v)) continue;
    const ir::Value& value = graph.values[v];
    if (producer[v] < 0 || value.constant || graph.is_graph_output(int(v))) continue;
    interval_of[v] = int(intervals.size());
    const uint64_t bytes = uint64_t(shape_numel(value.shape)) * dtype_size(value.dtype);
    intervals.push_back({int(v), size_t(producer[v]), size_t(producer[v]), align_up(std::max<uint64_t>(bytes, 1))});
  }
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (int in : graph.nodes[n].inputs) {
      if (in == ir::kNoValue) continue;
      const int i = interval_of[size_t(plan.root[size_t(in)])];
      if (i >= 0) intervals[size_t(i)].last = std::max(intervals[size_t(i)].last, n);
    }
  }

  plan.offsets.assign(n_values, kNoOffset);
  const std::vector<uint64_t> offsets = engine::place_intervals(intervals, &plan.bytes);
  for (size_t i = 0; i < intervals.size(); ++i) plan.offsets[size_t(intervals[i].value)] = int64_t(offsets[i]);
  return plan;
}

}  // namespace kestrel::cpu::fast
