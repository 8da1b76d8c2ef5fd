#include "support/tiny_models.h"

#include <onnx/onnx_pb.h>

namespace kestrel::testing {
namespace {

void add_float_initializer(onnx::GraphProto* graph, const std::string& name, std::vector<int64_t> dims, float base) {
  onnx::TensorProto* t = graph->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t count = 1;
  for (int64_t d : dims) {
    t->add_dims(d);
    count *= d;
  }
  for (int64_t i = 0; i < count; ++i) t->add_float_data(base + 0.01f * float(i % 17));
}

onnx::NodeProto* add_node(onnx::GraphProto* graph, const std::string& op, std::vector<std::string> inputs,
                          std::vector<std::string> outputs) {
  onnx::NodeProto* n = graph->add_node();
  n->set_op_type(op);
  n->set_name(op + "_node");
  for (const auto& in : inputs) n->add_input(in);
  for (const auto& out : outputs) n->add_output(out);
  return n;
}

void add_tensor_io(onnx::ValueInfoProto* v, const std::string& name, std::vector<int64_t> dims) {
  v->set_name(name);
  auto* type = v->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) type->mutable_shape()->add_dim()->set_dim_value(d);
}

}  // namespace

std::string tiny_conv_model_bytes() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("tiny_conv");
  add_float_initializer(graph, "w", {4, 3, 3, 3}, -0.1f);
  for (const char* name : {"scale", "bias", "mean", "var"}) add_float_initializer(graph, name, {4}, 0.5f);
  onnx::NodeProto* conv = add_node(graph, "Conv", {"x", "w"}, {"c"});
  auto* pads = conv->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  add_node(graph, "BatchNormalization", {"c", "scale", "bias", "mean", "var"}, {"b"});
  add_node(graph, "Relu", {"b"}, {"r"});
  add_node(graph, "Shape", {"r"}, {"s"});
  add_node(graph, "Reshape", {"r", "s"}, {"y"});
  add_tensor_io(graph->add_input(), "x", {1, 3, 8, 8});
  add_tensor_io(graph->add_output(), "y", {1, 4, 8, 8});
  return model.SerializeAsString();
}

}  // namespace kestrel::testing
