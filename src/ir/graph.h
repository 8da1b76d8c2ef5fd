// The intermediate representation: values (tensors) and nodes (operators) in a flat graph.
// Values are referred to by index; an empty optional input is kNoValue. Every value has a
// static dtype and shape once shape inference has run; constants carry their data.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/attributes.h"

namespace kestrel::ir {

constexpr int kNoValue = -1;

struct Value {
  std::string name;
  DataType dtype = DataType::kFLOAT;
  Shape shape;
  bool shape_known = false;
  std::optional<Tensor> constant;  // set for initializers and folded results
};

// Precision a layer runs in; kAuto lets the builder choose. Room for per-layer overrides.
enum class Precision : uint8_t { kAuto = 0, kFP32 = 1, kFP16 = 2, kINT8 = 3 };

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" for the default ONNX domain
  int opset = 0;       // version of the node's domain that the model imports
  std::vector<int> inputs;
  std::vector<int> outputs;
  Attributes attrs;
  Precision precision = Precision::kAuto;
  std::vector<std::string> fused_from;  // names of the source nodes a fusion merged into this one
  std::string kernel;                   // implementation the backend chose at build time
};

class Graph {
 public:
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int> inputs;   // graph inputs (not initializers)
  std::vector<int> outputs;
  int opset = 0;             // default-domain opset of the source model
  std::string name;

  int add_value(Value value);
  int add_constant(const std::string& name, Tensor tensor);
  // Index of the value with this name, or kNoValue.
  int find_value(const std::string& name) const;
  std::string unique_name(const std::string& base) const;

  // Nodes in an order where every node follows the producers of its inputs. Throws on a cycle
  // or on an input that nothing produces, naming the node.
  std::vector<size_t> topological_order() const;
  // Reorders `nodes` topologically.
  void sort();
  // Producer node index for each value (or -1).
  std::vector<int> producers() const;
  // Number of node inputs and graph outputs reading each value.
  std::vector<int> use_counts() const;
  // Replaces every use of value `from` (node inputs and graph outputs) by value `to`.
  void replace_uses(int from, int to);

  bool is_graph_output(int value) const;
};

std::string describe(const Node& node);  // "node 'name' (Op)"

}  // namespace kestrel::ir
