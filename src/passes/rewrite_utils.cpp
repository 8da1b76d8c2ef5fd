#include "passes/rewrite_utils.h"

#include <algorithm>

namespace kestrel::passes {

bool redirect_value(ir::Graph& graph, int from, int to) {
  if (graph.is_graph_output(from)) {
    const bool to_is_interface = graph.is_graph_output(to) || graph.values[size_t(to)].constant ||
                                 std::find(graph.inputs.begin(), graph.inputs.end(), to) != graph.inputs.end();
    if (to_is_interface) return false;
    std::swap(graph.values[size_t(from)].name, graph.values[size_t(to)].name);
  }
  graph.replace_uses(from, to);
  return true;
}

void remove_nodes(ir::Graph& graph, const std::vector<bool>& remove) {
  std::vector<ir::Node> kept;
  kept.reserve(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (!remove[i]) kept.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(kept);
}

void give_outputs_producers(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  for (int& out : graph.outputs) {
    if (producer[size_t(out)] >= 0) continue;
    const int source = out;
    ir::Value copy = graph.values[size_t(source)];
    copy.constant.reset();
    graph.values[size_t(source)].name = graph.unique_name(copy.name + "_source");
    const int copy_id = graph.add_value(std::move(copy));
    ir::Node node;
    node.name = graph.unique_name(graph.values[size_t(copy_id)].name + "_copy");
    node.op_type = "Identity";
    node.opset = graph.opset;
    node.inputs = {source};
    node.outputs = {copy_id};
    graph.nodes.push_back(std::move(node));
    out = copy_id;
  }
}

}  // namespace kestrel::passes
