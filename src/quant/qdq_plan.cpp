#include "quant/qdq_plan.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "core/error.h"
#include "onnx/model_proto.h"
#include "onnx/tensor_proto.h"

namespace kestrel::quant {
namespace {

// Follows Identity nodes back to the initializer or Constant output they forward (exporters
// route weights shared by two branches through Identity). Empty when the value is computed.
std::string constant_source(const onnx::GraphProto& g, const std::unordered_map<std::string, int>& producer,
                            const std::set<std::string>& initializers, std::string name) {
  for (int hops = 0; hops < 16; ++hops) {
    if (initializers.count(name)) return name;
    auto it = producer.find(name);
    if (it == producer.end()) return "";
    const onnx::NodeProto& n = g.node(it->second);
    if (n.op_type() == "Constant") return name;
    if (n.op_type() != "Identity") return "";
    name = n.input(0);
  }
  return "";
}

// One 1 per output channel and zeros elsewhere: a convolution that only moves pixels (the
// exported unfold of MobileViT). INT8 would only add rounding to it.
bool is_one_hot(const Tensor& w) {
  if (w.rank() < 1 || w.dim(0) == 0) return false;
  const int64_t per_channel = w.numel() / w.dim(0);
  const float* p = w.data<float>();
  for (int64_t c = 0; c < w.dim(0); ++c) {
    int ones = 0;
    for (int64_t k = 0; k < per_channel; ++k) {
      const float v = p[c * per_channel + k];
      if (v == 1.f) ++ones;
      else if (v != 0.f) return false;
    }
    if (ones != 1) return false;
  }
  return true;
}

}  // namespace

onnx::ModelProto parse_onnx_model(const void* data, size_t size, const std::string& source) {
  return onnx_import::parse_model_proto(data, size, source);
}

std::string node_name(const onnx::ModelProto& model, int index) {
  const onnx::NodeProto& n = model.graph().node(index);
  if (n.name().empty()) return fmt::format("{}_{}", n.op_type(), index);
  for (int k = 0; k < index; ++k)  // a duplicate name: the importer renames the later one
    if (model.graph().node(k).name() == n.name()) return fmt::format("{}_{}", n.op_type(), index);
  return n.name();
}

int model_opset(const onnx::ModelProto& model) {
  int opset = 0;
  for (const auto& entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx") opset = int(entry.version());
  return opset;
}

std::optional<Tensor> constant_tensor(const onnx::ModelProto& model, const std::string& name) {
  const onnx::GraphProto& g = model.graph();
  for (const auto& init : g.initializer())
    if (init.name() == name) return onnx_import::tensor_from_proto(init);
  for (const auto& n : g.node())
    if (n.op_type() == "Constant" && n.output_size() == 1 && n.output(0) == name)
      for (const auto& a : n.attribute())
        if (a.name() == "value" && a.has_t()) return onnx_import::tensor_from_proto(a.t());
  return std::nullopt;
}

ModelAnalysis analyse_model(const onnx::ModelProto& model) {
  const onnx::GraphProto& g = model.graph();
  std::set<std::string> initializers;
  for (const auto& init : g.initializer()) initializers.insert(init.name());
  std::unordered_map<std::string, int> producer;
  for (int i = 0; i < g.node_size(); ++i)
    for (const auto& out : g.node(i).output()) producer[out] = i;
  auto is_constant = [&](const std::string& v) { return !constant_source(g, producer, initializers, v).empty(); };

  ModelAnalysis analysis;
  std::set<std::string> observed;
  for (int i = 0; i < g.node_size(); ++i) analysis.all_layers.push_back(node_name(model, i));
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
    const std::string& op = n.op_type();
    if (op != "Conv" && op != "MatMul" && op != "Gemm") continue;
    if (n.input_size() < 2) continue;
    LayerCandidate c;
    c.node_index = i;
    c.name = node_name(model, i);
    c.op_type = op;
    if (is_constant(n.input(0))) continue;  // nothing to observe
    c.activation_inputs.push_back(0);
    if (is_constant(n.input(1))) {
      c.weight_input = 1;
      c.weight_source = constant_source(g, producer, initializers, n.input(1));
    } else if (op == "MatMul") {
      c.activation_inputs.push_back(1);
    } else {
      continue;  // a Conv or Gemm with a computed weight: leave it alone
    }
    std::optional<Tensor> w;
    if (c.weight_input >= 0) w = constant_tensor(model, c.weight_source);
    if (c.weight_input >= 0 && (!w || w->dtype() != DataType::kFLOAT)) {
      c.can_int8 = false;
      c.reason = "its weight is not a float32 constant";
    } else if (op == "Conv") {
      c.weight_axis = 0;
      if (is_one_hot(*w))
        c.reason = "one-hot weights: it only rearranges pixels (an unfold)";
      else {
        c.default_int8 = true;
        c.reason = "convolution with a constant weight";
      }
    } else if (op == "Gemm") {
      int64_t trans_b = 0;
      for (const auto& a : n.attribute())
        if (a.name() == "transB") trans_b = a.i();
      c.weight_axis = trans_b ? 0 : 1;
      c.default_int8 = true;
      c.reason = "Gemm with a constant weight";
    } else if (c.weight_input >= 0) {
      c.weight_axis = w->rank() - 1;
      c.default_int8 = w->rank() == 2;
      c.reason = c.default_int8 ? "MatMul with a constant 2-D weight" : "MatMul with a batched constant weight";
    } else {
      c.reason = "product of two activations (e.g. the correlation): their ranges differ per sample";
    }
    for (int k : c.activation_inputs)
      if (observed.insert(n.input(k)).second) analysis.observed_tensors.push_back(n.input(k));
    analysis.layers.push_back(std::move(c));
  }
  return analysis;
}

std::map<std::string, bool> decide_precisions(const ModelAnalysis& analysis,
                                              const std::map<std::string, std::string>& overrides) {
  std::map<std::string, bool> int8;
  for (const LayerCandidate& c : analysis.layers) int8[c.name] = c.default_int8;
  for (const auto& [name, precision] : overrides) {
    KESTREL_CHECK(precision == "fp32" || precision == "fp16" || precision == "int8",
                  "--layer-precision {}={}: the precision must be fp32, fp16 or int8", name, precision);
    // "PREFIX*" names every quantizable layer whose name starts with PREFIX (a block of layers).
    if (!name.empty() && name.back() == '*') {
      const std::string prefix = name.substr(0, name.size() - 1);
      int matched = 0;
      for (const LayerCandidate& c : analysis.layers) {
        if (c.name.rfind(prefix, 0) != 0) continue;
        ++matched;
        if (precision != "int8") int8[c.name] = false;
        else if (c.can_int8) int8[c.name] = true;
      }
      KESTREL_CHECK(matched > 0, "--layer-precision {}={}: no Conv, MatMul or Gemm layer name starts with '{}'", name,
                    precision, prefix);
      continue;
    }
    auto it = int8.find(name);
    if (it == int8.end()) {
      KESTREL_CHECK(std::find(analysis.all_layers.begin(), analysis.all_layers.end(), name) != analysis.all_layers.end(),
                    "--layer-precision {}={}: the model has no layer of that name", name, precision);
      KESTREL_CHECK(precision != "int8", "--layer-precision {}=int8: there is no Conv, MatMul or Gemm layer of that "
                    "name with an activation input (only those run in INT8)", name);
      continue;  // a float precision for a layer that is float anyway (Softmax, ...)
    }
    const LayerCandidate& c = *std::find_if(analysis.layers.begin(), analysis.layers.end(),
                                            [&](const LayerCandidate& l) { return l.name == name; });
    KESTREL_CHECK(precision != "int8" || c.can_int8,
                  "--layer-precision {}=int8: {}", name, c.reason);
    it->second = precision == "int8";
  }
  return int8;
}

}  // namespace kestrel::quant
