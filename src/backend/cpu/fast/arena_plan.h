// The CPU executor's activation memory plan. Like engine::plan_memory, but values produced by
// pure views (Reshape, Flatten, Squeeze, Unsqueeze, Identity on the "cpu.alias" kernel) share
// the storage of their input instead of getting a copy: a set of aliases lives as long as its
// longest-lived member.
#pragma once
#include <cstdint>
#include <vector>

#include "ir/graph.h"

namespace kestrel::cpu::fast {

constexpr int64_t kNoOffset = -1;

struct ArenaPlan {
  std::vector<int> root;         // per value: the value whose storage it uses (itself if none)
  std::vector<int64_t> offsets;  // per root value in the arena, else kNoOffset
  uint64_t bytes = 0;
};

// `aliases[n]` is true when node n's output 0 may share the storage of its input 0 (the caller
// decides: same bytes, plain layout, output not a graph output).
ArenaPlan plan_arena(const ir::Graph& graph, const std::vector<bool>& aliases);

}  // namespace kestrel::cpu::fast
