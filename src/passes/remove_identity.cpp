// Removes Identity nodes and inference-mode Dropout (whose mask output nobody reads): both pass
// their input through unchanged.
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool is_pass_through(const ir::Graph& graph, const ir::Node& node, const std::vector<int>& uses) {
  if (node.op_type == "Identity") return true;
  if (node.op_type != "Dropout") return false;
  const bool mask_read = node.outputs.size() > 1 && node.outputs[1] != ir::kNoValue && uses[size_t(node.outputs[1])] > 0;
  return !mask_read;
}

bool remove_identity(ir::Graph& graph) {
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& node = graph.nodes[n];
    if (!is_pass_through(graph, node, uses) || node.inputs.empty() || node.inputs[0] == ir::kNoValue) continue;
    if (redirect_value(graph, node.outputs[0], node.inputs[0])) {
      removed[n] = true;
      changed = true;
    }
  }
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"remove_identity", 20, remove_identity});

}  // namespace
}  // namespace kestrel::passes
