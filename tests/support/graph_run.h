// Small graphs built in code and run node by node on the CPU reference kernels, for tests of
// graph rewrites (a rewrite must compute what the graph computed before it).
#pragma once
#include <string>
#include <vector>

#include "backend/cpu/reference/kernel_registry.h"
#include "ir/op_registry.h"
#include "support/op_test.h"

namespace kestrel::testing {

// Values get no shapes here: passes::optimize infers them.
class GraphBuilder {
 public:
  int input(const std::string& name, Shape shape) {
    ir::Value v;
    v.name = name;
    v.shape = std::move(shape);
    v.shape_known = true;
    const int id = graph.add_value(v);
    graph.inputs.push_back(id);
    return id;
  }
  int constant(Tensor t) { return graph.add_constant(graph.unique_name("c"), std::move(t)); }
  int ints(std::vector<int64_t> v) { return constant(make_int64({int64_t(v.size())}, v)); }
  std::vector<int> node(const std::string& op, std::vector<int> inputs, ir::Attributes attrs = {}, int outputs = 1,
                        int opset = 17) {
    ir::Node n;
    n.name = graph.unique_name(op);
    n.op_type = op;
    n.opset = opset;
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    std::vector<int> ids;
    for (int o = 0; o < outputs; ++o) {
      ir::Value v;
      v.name = n.name + "_out" + std::to_string(o);
      ids.push_back(graph.add_value(v));
    }
    n.outputs = ids;
    graph.nodes.push_back(std::move(n));
    return ids;
  }
  int one(const std::string& op, std::vector<int> inputs, ir::Attributes attrs = {}, int opset = 17) {
    return node(op, std::move(inputs), std::move(attrs), 1, opset)[0];
  }
  void output(int id) { graph.outputs.push_back(id); }

  ir::Graph graph;
};

// Runs a graph on the reference kernels, node by node; returns its outputs.
inline std::vector<Tensor> run_graph(const ir::Graph& graph, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> values(graph.values.size());
  for (size_t i = 0; i < graph.inputs.size(); ++i) values[size_t(graph.inputs[i])] = inputs[i];
  for (size_t v = 0; v < graph.values.size(); ++v)
    if (graph.values[v].constant) values[v] = *graph.values[v].constant;
  for (size_t index : graph.topological_order()) {
    const ir::Node& node = graph.nodes[index];
    std::vector<const Tensor*> in;
    for (int v : node.inputs) in.push_back(v == ir::kNoValue ? nullptr : &values[size_t(v)]);
    std::vector<Tensor> out = cpu::evaluate_node(node, in);
    for (size_t o = 0; o < node.outputs.size(); ++o)
      if (node.outputs[o] != ir::kNoValue) values[size_t(node.outputs[o])] = std::move(out[o]);
  }
  std::vector<Tensor> outputs;
  for (int id : graph.outputs) outputs.push_back(values[size_t(id)]);
  return outputs;
}

inline size_t count_ops(const ir::Graph& graph, const std::string& qualified) {
  size_t n = 0;
  for (const ir::Node& node : graph.nodes) n += ir::qualified_op_type(node) == qualified;
  return n;
}

}  // namespace kestrel::testing
