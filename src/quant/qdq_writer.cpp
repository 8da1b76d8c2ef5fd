#include "quant/qdq_writer.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"
#include "ir/shape_utils.h"
#include "onnx/tensor_proto.h"
#include "quant/int8_math.h"

namespace kestrel::quant {
namespace {

onnx::TensorProto to_proto(const std::string& name, const Tensor& t) {
  onnx::TensorProto p;
  p.set_name(name);
  p.set_data_type(onnx_import::to_onnx_elem_type(t.dtype()));
  for (int64_t d : t.shape()) p.add_dims(d);
  p.set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
  return p;
}

class Names {
 public:
  explicit Names(const onnx::GraphProto& g) {
    for (const auto& i : g.initializer()) used_.insert(i.name());
    for (const auto& i : g.input()) used_.insert(i.name());
    for (const auto& n : g.node()) {
      used_.insert(n.name());
      for (const auto& o : n.output()) used_.insert(o);
    }
  }
  std::string make(const std::string& base) {
    std::string name = base;
    for (int k = 1; used_.count(name); ++k) name = fmt::format("{}_{}", base, k);
    used_.insert(name);
    return name;
  }

 private:
  std::set<std::string> used_;
};

onnx::NodeProto make_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
                          const std::string& output, int axis = -1000) {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  for (auto& i : inputs) n.add_input(i);
  n.add_output(output);
  if (axis != -1000) {
    auto* a = n.add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(axis);
  }
  return n;
}

// Drops Identity/Constant nodes nobody reads and initializers nobody reads.
void remove_unused(onnx::GraphProto& g) {
  for (bool changed = true; changed;) {
    changed = false;
    std::set<std::string> read;
    for (const auto& n : g.node())
      for (const auto& i : n.input()) read.insert(i);
    for (const auto& o : g.output()) read.insert(o.name());
    for (int i = g.node_size() - 1; i >= 0; --i) {
      const auto& n = g.node(i);
      if ((n.op_type() != "Identity" && n.op_type() != "Constant") || n.output_size() != 1 || read.count(n.output(0)))
        continue;
      g.mutable_node()->DeleteSubrange(i, 1);
      changed = true;
    }
    if (changed) continue;
    for (int i = g.initializer_size() - 1; i >= 0; --i) {
      const std::string name = g.initializer(i).name();
      if (read.count(name)) continue;
      g.mutable_initializer()->DeleteSubrange(i, 1);
      for (int k = g.input_size() - 1; k >= 0; --k)
        if (g.input(k).name() == name) g.mutable_input()->DeleteSubrange(k, 1);
    }
  }
}

}  // namespace

void quantize_weight(const Tensor& w, int axis, bool per_channel, Tensor* q, std::vector<float>* scales) {
  const int64_t channels = per_channel ? w.dim(axis) : 1;
  int64_t inner = 1;
  if (per_channel)
    for (int d = axis + 1; d < w.rank(); ++d) inner *= w.dim(d);
  const float* x = w.data<float>();
  auto channel_of = [&](int64_t i) { return (i / inner) % channels; };
  std::vector<float> max_abs(size_t(channels), 0.f);
  for (int64_t i = 0; i < w.numel(); ++i)
    if (std::isfinite(x[i])) max_abs[size_t(channel_of(i))] = std::max(max_abs[size_t(channel_of(i))], std::fabs(x[i]));
  scales->assign(size_t(channels), 1.f);
  for (int64_t c = 0; c < channels; ++c)
    if (max_abs[size_t(c)] > 0) (*scales)[size_t(c)] = max_abs[size_t(c)] / 127.f;
  *q = Tensor(DataType::kINT8, w.shape());
  int8_t* out = q->data<int8_t>();
  for (int64_t i = 0; i < w.numel(); ++i) out[i] = quantize_value<int8_t>(x[i], (*scales)[size_t(channel_of(i))], 0);
}

std::vector<std::string> rewrite_to_qdq(onnx::ModelProto& model, const ModelAnalysis& analysis, const QdqRewrite& rewrite,
                                        std::vector<std::string>* missing_scale) {
  onnx::GraphProto& g = *model.mutable_graph();
  const bool per_axis_allowed = model_opset(model) >= 13;
  Names names(g);
  std::map<int, const LayerCandidate*> by_node;
  for (const LayerCandidate& c : analysis.layers) {
    auto it = rewrite.int8.find(c.name);
    if (it != rewrite.int8.end() && it->second) by_node[c.node_index] = &c;
  }

  std::map<std::string, std::string> dequantized;  // activation or weight key -> DQ output
  std::vector<std::string> int8_layers;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (int i = 0; i < g.node_size(); ++i) {
    onnx::NodeProto node = g.node(i);
    auto found = by_node.find(i);
    if (found == by_node.end()) {
      *nodes.Add() = std::move(node);
      continue;
    }
    const LayerCandidate& c = *found->second;
    bool have_scales = true;
    for (int k : c.activation_inputs) have_scales = have_scales && rewrite.scales.count(node.input(k));
    if (!have_scales) {
      if (missing_scale) missing_scale->push_back(c.name);
      *nodes.Add() = std::move(node);
      continue;
    }
    for (int k : c.activation_inputs) {
      const std::string t = node.input(k);
      if (!dequantized.count(t)) {
        const std::string scale = names.make(t + "_scale"), zero = names.make(t + "_zero_point");
        *g.add_initializer() = to_proto(scale, [&] {
          Tensor s(DataType::kFLOAT, {});
          *s.data<float>() = rewrite.scales.at(t);
          return s;
        }());
        *g.add_initializer() = to_proto(zero, Tensor(DataType::kINT8, {}));
        const std::string q = names.make(t + "_quantized"), dq = names.make(t + "_dequantized");
        *nodes.Add() = make_node("QuantizeLinear", names.make(t + "_QuantizeLinear"), {t, scale, zero}, q);
        *nodes.Add() = make_node("DequantizeLinear", names.make(t + "_DequantizeLinear"), {q, scale, zero}, dq);
        dequantized[t] = dq;
      }
      node.set_input(k, dequantized[t]);
    }
    if (c.weight_input >= 0) {
      const bool per_channel = rewrite.per_channel_weights && per_axis_allowed;
      const std::string key = fmt::format("{}|{}|{}|{}", c.weight_source, c.weight_axis, per_channel, rewrite.weights_as_float);
      if (!dequantized.count(key)) {
        const Tensor w = *constant_tensor(model, c.weight_source);
        Tensor q;
        std::vector<float> scales;
        quantize_weight(w, c.weight_axis, per_channel, &q, &scales);
        if (rewrite.weights_as_float) {
          Tensor f(DataType::kFLOAT, w.shape());
          int64_t inner = 1;
          for (int d = c.weight_axis + 1; d < w.rank(); ++d) inner *= w.dim(d);
          for (int64_t e = 0; e < w.numel(); ++e) {
            const size_t ch = scales.size() == 1 ? 0 : size_t((e / inner) % int64_t(scales.size()));
            f.data<float>()[e] = dequantize_value<int8_t>(q.data<int8_t>()[e], scales[ch], 0);
          }
          const std::string name = names.make(c.weight_source + "_fake_quantized");
          *g.add_initializer() = to_proto(name, f);
          dequantized[key] = name;
        } else {
          const std::string qname = names.make(c.weight_source + "_quantized");
          const std::string sname = names.make(c.weight_source + "_scale"), zname = names.make(c.weight_source + "_zero_point");
          const Shape scale_shape = per_channel ? Shape{int64_t(scales.size())} : Shape{};
          Tensor s(DataType::kFLOAT, scale_shape);
          std::copy(scales.begin(), scales.end(), s.data<float>());
          *g.add_initializer() = to_proto(qname, q);
          *g.add_initializer() = to_proto(sname, s);
          *g.add_initializer() = to_proto(zname, Tensor(DataType::kINT8, scale_shape));
          const std::string dq = names.make(c.weight_source + "_dequantized");
          *nodes.Add() = make_node("DequantizeLinear", names.make(c.weight_source + "_DequantizeLinear"),
                                   {qname, sname, zname}, dq, per_channel ? c.weight_axis : -1000);
          dequantized[key] = dq;
        }
      }
      node.set_input(c.weight_input, dequantized[key]);
    }
    int8_layers.push_back(c.name);
    *nodes.Add() = std::move(node);
  }
  g.mutable_node()->Swap(&nodes);
  remove_unused(g);
  return int8_layers;
}

}  // namespace kestrel::quant
