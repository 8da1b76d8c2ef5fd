#include "engine/memory_plan.h"

#include <algorithm>

#include "core/error.h"

namespace kestrel::engine {
namespace {

uint64_t value_bytes(const ir::Value& v) { return uint64_t(shape_numel(v.shape)) * dtype_size(v.dtype); }

uint64_t align_up(uint64_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

bool lives_in_arena(const ir::Graph& graph, int value, const std::vector<int>& producer) {
  return producer[size_t(value)] >= 0 && !graph.is_graph_output(value) && !graph.values[size_t(value)].constant;
}

}  // namespace

MemoryPlan plan_memory(const ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  std::vector<LiveInterval> intervals;
  std::vector<int> interval_of(graph.values.size(), -1);
  for (size_t v = 0; v < graph.values.size(); ++v) {
    if (!lives_in_arena(graph, int(v), producer)) continue;
    interval_of[v] = int(intervals.size());
    const size_t def = size_t(producer[v]);
    intervals.push_back({int(v), def, def, align_up(std::max<uint64_t>(value_bytes(graph.values[v]), 1))});
  }
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (int in : graph.nodes[n].inputs)
      if (in != ir::kNoValue && interval_of[size_t(in)] >= 0)
        intervals[size_t(interval_of[size_t(in)])].last = std::max(intervals[size_t(interval_of[size_t(in)])].last, n);

  MemoryPlan plan;
  plan.offsets.assign(graph.values.size(), kNotInArena);
  const std::vector<uint64_t> offsets = place_intervals(intervals, &plan.arena_bytes);
  for (size_t i = 0; i < intervals.size(); ++i) plan.offsets[size_t(intervals[i].value)] = int64_t(offsets[i]);
  return plan;
}

std::vector<uint64_t> place_intervals(const std::vector<LiveInterval>& intervals, uint64_t* arena_bytes) {
  std::vector<size_t> order(intervals.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return intervals[a].bytes > intervals[b].bytes; });
  std::vector<uint64_t> offsets(intervals.size(), 0);
  std::vector<size_t> placed;
  std::vector<std::pair<uint64_t, uint64_t>> busy;  // [begin, end) of overlapping placements
  *arena_bytes = 0;
  for (size_t i : order) {
    const LiveInterval& cur = intervals[i];
    busy.clear();
    for (size_t j : placed) {
      const LiveInterval& other = intervals[j];
      if (other.last < cur.first || cur.last < other.first) continue;
      busy.emplace_back(offsets[j], offsets[j] + other.bytes);
    }
    std::sort(busy.begin(), busy.end());
    uint64_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + cur.bytes <= begin) break;
      offset = std::max(offset, end);
    }
    offsets[i] = offset;
    *arena_bytes = std::max(*arena_bytes, offset + cur.bytes);
    placed.push_back(i);
  }
  return offsets;
}

void validate_plan(const ir::Graph& graph, const MemoryPlan& plan) {
  KESTREL_CHECK(plan.offsets.size() == graph.values.size(), "the memory plan covers {} values, the graph has {}",
                plan.offsets.size(), graph.values.size());
  const std::vector<int> producer = graph.producers();
  for (size_t v = 0; v < graph.values.size(); ++v) {
    const bool in_arena = lives_in_arena(graph, int(v), producer);
    const int64_t offset = plan.offsets[v];
    if (!in_arena) {
      KESTREL_CHECK(offset == kNotInArena, "the memory plan places '{}', which is not an intermediate value",
                    graph.values[v].name);
      continue;
    }
    KESTREL_CHECK(offset >= 0 && uint64_t(offset) + value_bytes(graph.values[v]) <= plan.arena_bytes,
                  "the memory plan puts '{}' outside the arena", graph.values[v].name);
  }
}

}  // namespace kestrel::engine
