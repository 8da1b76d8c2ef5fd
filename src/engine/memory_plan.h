// Static activation memory plan: every intermediate value gets a fixed offset in one arena,
// reused by values whose lifetimes do not overlap. Computed once at build time, so inference
// allocates nothing.
#pragma once
#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace kestrel::engine {

constexpr uint64_t kArenaAlignment = 64;
constexpr int64_t kNotInArena = -1;

struct MemoryPlan {
  std::vector<int64_t> offsets;  // per value; kNotInArena for weights, graph inputs and outputs
  uint64_t arena_bytes = 0;
};

// `graph` must be topologically sorted with static shapes.
MemoryPlan plan_memory(const ir::Graph& graph);

// One value's lifetime (node indices of its definition and last use) and its aligned size: what the
// arena planners place (this one and the CPU executor's, which also shares storage among views).
struct LiveInterval {
  int value;
  size_t first, last;
  uint64_t bytes;
};
// Offsets of the intervals (by index), largest first, each at the lowest offset that no
// time-overlapping interval placed before it uses; `arena_bytes` receives the arena's size.
std::vector<uint64_t> place_intervals(const std::vector<LiveInterval>& intervals, uint64_t* arena_bytes);

// Checks that a plan (e.g. read from a file) fits the graph: every planned value inside the
// arena, every intermediate value planned.
void validate_plan(const ir::Graph& graph, const MemoryPlan& plan);

}  // namespace kestrel::engine
