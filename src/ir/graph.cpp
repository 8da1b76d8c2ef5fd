#include "ir/graph.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace kestrel::ir {

int Graph::add_value(Value value) {
  values.push_back(std::move(value));
  return int(values.size()) - 1;
}

int Graph::add_constant(const std::string& name, Tensor tensor) {
  Value v;
  v.name = name;
  v.dtype = tensor.dtype();
  v.shape = tensor.shape();
  v.shape_known = true;
  v.constant = std::move(tensor);
  return add_value(std::move(v));
}

int Graph::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name) return int(i);
  return kNoValue;
}

std::string Graph::unique_name(const std::string& base) const {
  std::unordered_set<std::string> taken;
  for (const Value& v : values) taken.insert(v.name);
  for (const Node& n : nodes) taken.insert(n.name);
  if (!taken.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string candidate = fmt::format("{}_{}", base, i);
    if (!taken.count(candidate)) return candidate;
  }
}

std::vector<int> Graph::producers() const {
  std::vector<int> producer(values.size(), -1);
  for (size_t n = 0; n < nodes.size(); ++n)
    for (int out : nodes[n].outputs)
      if (out != kNoValue) producer[size_t(out)] = int(n);
  return producer;
}

std::vector<size_t> Graph::topological_order() const {
  const std::vector<int> producer = producers();
  std::vector<int> pending(nodes.size(), 0);
  std::vector<std::vector<size_t>> consumers(nodes.size());
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (int in : nodes[n].inputs) {
      if (in == kNoValue) continue;
      const int p = producer[size_t(in)];
      if (p < 0) {
        const Value& v = values[size_t(in)];
        const bool is_input = std::find(inputs.begin(), inputs.end(), in) != inputs.end();
        KESTREL_CHECK(v.constant || is_input, "{} reads '{}', which no node, initializer or graph input provides",
                      describe(nodes[n]), v.name);
        continue;
      }
      ++pending[n];
      consumers[size_t(p)].push_back(n);
    }
  }
  std::vector<size_t> order, ready;
  for (size_t n = nodes.size(); n-- > 0;)
    if (pending[n] == 0) ready.push_back(n);
  while (!ready.empty()) {
    const size_t n = ready.back();
    ready.pop_back();
    order.push_back(n);
    // Push in reverse so that, among ready nodes, the original order is kept.
    for (auto it = consumers[n].rbegin(); it != consumers[n].rend(); ++it)
      if (--pending[*it] == 0) ready.push_back(*it);
  }
  if (order.size() != nodes.size()) {
    for (size_t n = 0; n < nodes.size(); ++n)
      if (pending[n] > 0) fail("the graph has a cycle through {}", describe(nodes[n]));
  }
  return order;
}

void Graph::sort() {
  std::vector<size_t> order = topological_order();
  std::vector<Node> sorted;
  sorted.reserve(nodes.size());
  for (size_t n : order) sorted.push_back(std::move(nodes[n]));
  nodes = std::move(sorted);
}

std::vector<int> Graph::use_counts() const {
  std::vector<int> uses(values.size(), 0);
  for (const Node& n : nodes)
    for (int in : n.inputs)
      if (in != kNoValue) ++uses[size_t(in)];
  for (int out : outputs) ++uses[size_t(out)];
  return uses;
}

void Graph::replace_uses(int from, int to) {
  for (Node& n : nodes)
    for (int& in : n.inputs)
      if (in == from) in = to;
  for (int& out : outputs)
    if (out == from) out = to;
}

bool Graph::is_graph_output(int value) const {
  return std::find(outputs.begin(), outputs.end(), value) != outputs.end();
}

std::string describe(const Node& node) { return fmt::format("node '{}' ({})", node.name, node.op_type); }

}  // namespace kestrel::ir
