// Removes nodes whose results nobody reads and values nothing refers to any more (folded
// constants, replaced weights), then renumbers the remaining values densely.
#include <algorithm>

#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool remove_dead_nodes(ir::Graph& graph) {
  bool changed = false;
  std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  // Reverse order: removing a consumer can make its producers dead in the same sweep.
  for (size_t n = graph.nodes.size(); n-- > 0;) {
    const ir::Node& node = graph.nodes[n];
    const bool used = std::any_of(node.outputs.begin(), node.outputs.end(),
                                  [&](int out) { return out != ir::kNoValue && uses[size_t(out)] > 0; });
    if (used) continue;
    removed[n] = true;
    changed = true;
    for (int in : node.inputs)
      if (in != ir::kNoValue) --uses[size_t(in)];
  }
  if (changed) remove_nodes(graph, removed);
  return changed;
}

bool compact_values(ir::Graph& graph) {
  std::vector<bool> referenced(graph.values.size(), false);
  for (const ir::Node& node : graph.nodes) {
    for (int v : node.inputs) if (v != ir::kNoValue) referenced[size_t(v)] = true;
    for (int v : node.outputs) if (v != ir::kNoValue) referenced[size_t(v)] = true;
  }
  for (int v : graph.inputs) referenced[size_t(v)] = true;
  for (int v : graph.outputs) referenced[size_t(v)] = true;
  if (std::all_of(referenced.begin(), referenced.end(), [](bool r) { return r; })) return false;

  std::vector<int> remap(graph.values.size(), ir::kNoValue);
  std::vector<ir::Value> kept;
  for (size_t v = 0; v < graph.values.size(); ++v) {
    if (!referenced[v]) continue;
    remap[v] = int(kept.size());
    kept.push_back(std::move(graph.values[v]));
  }
  graph.values = std::move(kept);
  auto apply = [&](std::vector<int>& ids) {
    for (int& id : ids)
      if (id != ir::kNoValue) id = remap[size_t(id)];
  };
  for (ir::Node& node : graph.nodes) {
    apply(node.inputs);
    apply(node.outputs);
  }
  apply(graph.inputs);
  apply(graph.outputs);
  return true;
}

bool eliminate_dead_code(ir::Graph& graph) {
  const bool nodes_removed = remove_dead_nodes(graph);
  const bool values_removed = compact_values(graph);
  return nodes_removed || values_removed;
}

KESTREL_REGISTER_PASS(Pass{"eliminate_dead_code", 90, eliminate_dead_code});

}  // namespace
}  // namespace kestrel::passes
