// Operator schemas: how many inputs and outputs an op takes and how its output types and shapes
// follow from its inputs and attributes. Each op family registers its schemas from its own file
// in src/ir/ops/ with KESTREL_REGISTER_OP; nothing keeps a hand-written list.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kestrel::ir {

// What a shape-inference function sees: the node, its input values (nullptr for an absent
// optional input) and its output values, whose dtype and shape it must set.
class InferContext {
 public:
  InferContext(const Node& node, std::vector<const Value*> inputs, std::vector<Value*> outputs)
      : node_(node), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

  const Node& node() const { return node_; }
  const Attributes& attrs() const { return node_.attrs; }
  int opset() const { return node_.opset; }
  size_t num_inputs() const { return inputs_.size(); }
  size_t num_outputs() const { return outputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  const Value& input(size_t i) const;
  DataType input_dtype(size_t i) const { return input(i).dtype; }
  const Shape& input_shape(size_t i) const { return input(i).shape; }
  // The input's data when it is a constant, else nullptr.
  const Tensor* constant(size_t i) const;
  // The input's data; throws a clear error when it is not a constant (data-dependent shapes
  // are not supported by the static planner).
  const Tensor& require_constant(size_t i, const char* what) const;
  void set_output(size_t i, DataType dtype, Shape shape);

 private:
  const Node& node_;
  std::vector<const Value*> inputs_;
  std::vector<Value*> outputs_;
};

using InferFunction = std::function<void(InferContext&)>;

struct OpSchema {
  std::string op_type;
  int min_inputs = 1;
  int max_inputs = 1;
  int min_outputs = 1;
  int max_outputs = 1;
  InferFunction infer;
};

// Kestrel's own operators (fusions that passes create for some backends) live in this domain.
// Their schemas and reference kernels are registered under the qualified name "kestrel.Op".
constexpr const char* kKestrelDomain = "kestrel";

// "Op" for the default ONNX domain, "kestrel.Op" for Kestrel's own domain.
std::string qualified_op_type(const Node& node);

// Looks up the schema of an op by its qualified name; nullptr when unsupported.
const OpSchema* find_op_schema(const std::string& op_type);
std::vector<std::string> registered_op_types();

// Runs the schema's checks and shape inference for one node of `graph`, filling in the
// dtype and shape of its outputs. Errors name the node.
void infer_node(Graph& graph, const Node& node);

struct OpRegistrar {
  explicit OpRegistrar(OpSchema schema);
};

}  // namespace kestrel::ir

#define KESTREL_CONCAT_INNER(a, b) a##b
#define KESTREL_CONCAT(a, b) KESTREL_CONCAT_INNER(a, b)
#define KESTREL_REGISTER_OP(...) \
  static ::kestrel::ir::OpRegistrar KESTREL_CONCAT(kestrel_op_registrar_, __LINE__)(__VA_ARGS__)
