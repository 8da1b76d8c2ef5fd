#include "onnx/importer.h"

#include <unordered_map>
#include <unordered_set>

#include <onnx/onnx_pb.h>

#include "core/error.h"
#include "onnx/model_proto.h"
#include "onnx/tensor_proto.h"

namespace kestrel::onnx_import {
namespace {

int default_opset(const onnx::ModelProto& model) {
  int opset = 0;
  for (const auto& entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = int(entry.version());
  KESTREL_CHECK(opset != 0, "the model imports no default-domain opset");
  KESTREL_CHECK(opset >= kMinOpset, "opset {} is older than the supported {}..{}; upgrade it with "
                "onnx.version_converter", opset, kMinOpset, kMaxOpset);
  // Operators change meaning between opsets (new attributes, inputs, rules), so a newer opset is
  // refused rather than read with the rules of an older one.
  KESTREL_CHECK(opset <= kMaxOpset, "opset {} is newer than the supported {}..{}; convert it down with "
                "onnx.version_converter or export with opset {}", opset, kMinOpset, kMaxOpset, kMaxOpset);
  return opset;
}

ir::AttributeValue convert_attribute(const onnx::AttributeProto& a, const std::string& base_dir) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: return int64_t(a.i());
    case onnx::AttributeProto::FLOAT: return a.f();
    case onnx::AttributeProto::STRING: return a.s();
    case onnx::AttributeProto::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case onnx::AttributeProto::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case onnx::AttributeProto::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    case onnx::AttributeProto::TENSOR: return tensor_from_proto(a.t(), base_dir);
    default: fail("attribute '{}' has type {}, which is not supported (subgraphs and sparse tensors are not)",
                  a.name(), onnx::AttributeProto::AttributeType_Name(a.type()));
  }
}

// A Constant node's payload, in whichever attribute it was given.
Tensor constant_node_value(const ir::Attributes& attrs) {
  if (attrs.has("value")) return attrs.get_tensor("value");
  if (attrs.has("value_float")) {
    Tensor t(DataType::kFLOAT, {});
    *t.data<float>() = attrs.get_float("value_float");
    return t;
  }
  if (attrs.has("value_int")) {
    Tensor t(DataType::kINT64, {});
    *t.data<int64_t>() = attrs.get_int("value_int");
    return t;
  }
  if (attrs.has("value_floats")) {
    const auto values = attrs.get_floats("value_floats");
    Tensor t(DataType::kFLOAT, {int64_t(values.size())});
    std::copy(values.begin(), values.end(), t.data<float>());
    return t;
  }
  if (attrs.has("value_ints")) {
    const auto values = attrs.get_ints("value_ints");
    Tensor t(DataType::kINT64, {int64_t(values.size())});
    std::copy(values.begin(), values.end(), t.data<int64_t>());
    return t;
  }
  fail("a Constant needs one of value, value_float, value_floats, value_int, value_ints (sparse and string "
       "constants are not supported)");
}

class GraphBuilder {
 public:
  GraphBuilder(const std::string& source, const std::string& base_dir) : source_(source), base_dir_(base_dir) {}

  ir::Graph build(const onnx::ModelProto& model) {
    graph_.opset = default_opset(model);
    const onnx::GraphProto& g = model.graph();
    graph_.name = g.name();
    add_initializers(g);
    add_inputs(g);
    add_nodes(g);
    add_outputs(g);
    graph_.sort();  // also rejects cycles and reads of values nothing provides
    return std::move(graph_);
  }

 private:
  void add_initializers(const onnx::GraphProto& g) {
    for (const auto& init : g.initializer()) {
      KESTREL_CHECK(!init.name().empty(), "an initializer has no name");
      KESTREL_CHECK(!by_name_.count(init.name()), "initializer '{}' is defined twice", init.name());
      by_name_[init.name()] = graph_.add_constant(init.name(), tensor_from_proto(init, base_dir_));
    }
    KESTREL_CHECK(g.sparse_initializer_size() == 0, "sparse initializers are not supported");
  }

  void add_inputs(const onnx::GraphProto& g) {
    for (const auto& input : g.input()) {
      // Older exporters also list initializers as inputs: those stay constants.
      if (by_name_.count(input.name())) continue;
      KESTREL_CHECK(!input.name().empty(), "a graph input has no name");
      const std::string what = fmt::format("graph input '{}'", input.name());
      KESTREL_CHECK(input.type().has_tensor_type(), "{} is not a tensor", what);
      const auto& tensor_type = input.type().tensor_type();
      ir::Value v;
      v.name = input.name();
      v.dtype = to_data_type(tensor_type.elem_type(), what);
      KESTREL_CHECK(tensor_type.has_shape(), "{} has no shape: Kestrel needs the rank of every input", what);
      for (const auto& dim : tensor_type.shape().dim()) {
        // Symbolic or missing sizes are dynamic (-1): the builder resolves them from the profile.
        v.shape.push_back(dim.has_dim_value() ? dim.dim_value() : -1);
        KESTREL_CHECK(v.shape.back() >= -1, "{} has a negative dimension", what);
      }
      const int id = graph_.add_value(std::move(v));
      by_name_[input.name()] = id;
      graph_.inputs.push_back(id);
    }
  }

  void add_nodes(const onnx::GraphProto& g) {
    // First create every produced value, so that nodes may be listed in any order.
    std::vector<int> node_ids;
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& n = g.node(i);
      for (const auto& out : n.output()) {
        if (out.empty()) continue;
        KESTREL_CHECK(!by_name_.count(out), "value '{}' is produced twice (by node '{}' and before)", out, n.name());
        ir::Value v;
        v.name = out;
        by_name_[out] = graph_.add_value(std::move(v));
      }
    }
    std::unordered_set<std::string> node_names;
    for (int i = 0; i < g.node_size(); ++i) {
      const auto& n = g.node(i);
      ir::Node node;
      node.op_type = n.op_type();
      node.domain = n.domain() == "ai.onnx" ? "" : n.domain();
      node.opset = graph_.opset;
      node.name = n.name().empty() || node_names.count(n.name()) ? fmt::format("{}_{}", n.op_type(), i) : n.name();
      node_names.insert(node.name);
      try {
        for (const auto& a : n.attribute()) node.attrs.set(a.name(), convert_attribute(a, base_dir_));
        for (const auto& in : n.input()) {
          if (in.empty()) {
            node.inputs.push_back(ir::kNoValue);
            continue;
          }
          auto it = by_name_.find(in);
          KESTREL_CHECK(it != by_name_.end(), "input '{}' is not produced by any node, initializer or graph input", in);
          node.inputs.push_back(it->second);
        }
        for (const auto& out : n.output()) node.outputs.push_back(out.empty() ? ir::kNoValue : by_name_.at(out));
        if (node.op_type == "Constant" && node.domain.empty()) {
          KESTREL_CHECK(node.outputs.size() == 1 && node.outputs[0] != ir::kNoValue, "a Constant needs one output");
          ir::Value& v = graph_.values[size_t(node.outputs[0])];
          Tensor t = constant_node_value(node.attrs);
          v.dtype = t.dtype();
          v.shape = t.shape();
          v.shape_known = true;
          v.constant = std::move(t);
          continue;
        }
      } catch (const Error& e) {
        fail("{}", fmt::format("{}: {}", ir::describe(node), e.what()));
      }
      graph_.nodes.push_back(std::move(node));
    }
  }

  void add_outputs(const onnx::GraphProto& g) {
    KESTREL_CHECK(g.output_size() > 0, "the graph has no outputs");
    for (const auto& out : g.output()) {
      auto it = by_name_.find(out.name());
      KESTREL_CHECK(it != by_name_.end(), "graph output '{}' is not produced by any node", out.name());
      graph_.outputs.push_back(it->second);
    }
  }

  std::string source_;
  std::string base_dir_;
  ir::Graph graph_;
  std::unordered_map<std::string, int> by_name_;
};

}  // namespace

ir::Graph import_model(const void* data, size_t size, const std::string& source, const std::string& base_dir) {
  const onnx::ModelProto model = parse_model_proto(data, size, source);
  try {
    return GraphBuilder(source, base_dir).build(model);
  } catch (const Error& e) {
    fail("{}: {}", source, e.what());
  }
}

}  // namespace kestrel::onnx_import
