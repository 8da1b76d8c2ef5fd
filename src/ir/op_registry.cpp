#include "ir/op_registry.h"

#include <map>

#include "core/error.h"

namespace kestrel::ir {
namespace {

std::map<std::string, OpSchema>& schemas() {
  static std::map<std::string, OpSchema> table;
  return table;
}

}  // namespace

OpRegistrar::OpRegistrar(OpSchema schema) { schemas()[schema.op_type] = std::move(schema); }

std::string qualified_op_type(const Node& node) {
  return node.domain == kKestrelDomain ? std::string(kKestrelDomain) + "." + node.op_type : node.op_type;
}

const OpSchema* find_op_schema(const std::string& op_type) {
  auto it = schemas().find(op_type);
  return it == schemas().end() ? nullptr : &it->second;
}

std::vector<std::string> registered_op_types() {
  std::vector<std::string> names;
  for (const auto& [name, schema] : schemas()) names.push_back(name);
  return names;
}

const Value& InferContext::input(size_t i) const {
  KESTREL_CHECK(has_input(i), "input {} is required", i);
  return *inputs_[i];
}

const Tensor* InferContext::constant(size_t i) const {
  if (!has_input(i) || !inputs_[i]->constant) return nullptr;
  return &*inputs_[i]->constant;
}

const Tensor& InferContext::require_constant(size_t i, const char* what) const {
  const Tensor* t = constant(i);
  KESTREL_CHECK(t != nullptr, "input {} ('{}', the {}) must be a constant or computable at build time",
                i, has_input(i) ? inputs_[i]->name : "", what);
  return *t;
}

void InferContext::set_output(size_t i, DataType dtype, Shape shape) {
  KESTREL_CHECK(i < outputs_.size(), "output {} does not exist", i);
  if (outputs_[i] == nullptr) return;  // an unused optional output
  for (int64_t d : shape) KESTREL_CHECK(d >= 0, "inferred a negative dimension for output {}: {}", i, shape_str(shape));
  outputs_[i]->dtype = dtype;
  outputs_[i]->shape = std::move(shape);
  outputs_[i]->shape_known = true;
}

void infer_node(Graph& graph, const Node& node) {
  try {
    KESTREL_CHECK(node.domain.empty() || node.domain == "ai.onnx" || node.domain == kKestrelDomain,
                  "unsupported operator domain '{}' (opset {})", node.domain, node.opset);
    const OpSchema* schema = find_op_schema(qualified_op_type(node));
    KESTREL_CHECK(schema != nullptr, "unsupported operator {} (opset {})", node.op_type, node.opset);
    const int n_in = int(node.inputs.size());
    const int n_out = int(node.outputs.size());
    KESTREL_CHECK(n_in >= schema->min_inputs && n_in <= schema->max_inputs, "takes {} to {} inputs, got {}",
                  schema->min_inputs, schema->max_inputs, n_in);
    KESTREL_CHECK(n_out >= schema->min_outputs && n_out <= schema->max_outputs, "makes {} to {} outputs, got {}",
                  schema->min_outputs, schema->max_outputs, n_out);
    std::vector<const Value*> inputs;
    for (int in : node.inputs) {
      const Value* v = in == kNoValue ? nullptr : &graph.values[size_t(in)];
      KESTREL_CHECK(v == nullptr || v->shape_known, "the shape of input '{}' is unknown", v ? v->name : "");
      inputs.push_back(v);
    }
    std::vector<Value*> outputs;
    for (int out : node.outputs) outputs.push_back(out == kNoValue ? nullptr : &graph.values[size_t(out)]);
    InferContext ctx(node, std::move(inputs), std::move(outputs));
    schema->infer(ctx);
    for (int out : node.outputs)
      KESTREL_CHECK(out == kNoValue || graph.values[size_t(out)].shape_known, "shape inference left output '{}' unset",
                    graph.values[size_t(out)].name);
  } catch (const Error& e) {
    fail("{}: {}", describe(node), e.what());
  }
}

}  // namespace kestrel::ir
