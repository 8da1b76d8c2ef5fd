// Definitions of decompose_for_cuda.h.
#include "passes/decompose_for_cuda.h"

#include "ir/op_registry.h"

namespace kestrel::passes {

int Decomposition::add(const std::string& op_type, std::vector<int> inputs, const std::string& suffix,
                       ir::Attributes attrs, int output) {
  ir::Node node;
  node.name = suffix.empty() ? original_.name : graph_.unique_name(original_.name + "/" + suffix);
  node.op_type = op_type;
  node.opset = original_.opset;
  node.inputs = std::move(inputs);
  node.attrs = std::move(attrs);
  node.precision = original_.precision;
  if (output == ir::kNoValue) {
    ir::Value v;
    v.name = graph_.unique_name(node.name + "_output");
    output = graph_.add_value(std::move(v));
  }
  node.outputs = {output};
  ir::infer_node(graph_, node);
  nodes_.push_back(std::move(node));
  return output;
}

int Decomposition::constant(const std::string& suffix, Tensor tensor) {
  return graph_.add_constant(graph_.unique_name(original_.name + "/" + suffix), std::move(tensor));
}

Tensor int64_tensor(const std::vector<int64_t>& values) {
  Tensor t(DataType::kINT64, {int64_t(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<int64_t>()[i] = values[i];
  return t;
}

Tensor filled_floats(int64_t n, float value) {
  Tensor t(DataType::kFLOAT, {n});
  for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = value;
  return t;
}

Tensor float_scalar(float value) {
  Tensor t(DataType::kFLOAT, {});
  t.data<float>()[0] = value;
  return t;
}

void splice(ir::Graph& graph, std::vector<std::vector<ir::Node>>& replacements) {
  std::vector<ir::Node> nodes;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (n < replacements.size() && !replacements[n].empty()) {
      for (ir::Node& node : replacements[n]) nodes.push_back(std::move(node));
    } else {
      nodes.push_back(std::move(graph.nodes[n]));
    }
  }
  graph.nodes = std::move(nodes);
}

}  // namespace kestrel::passes
