// Conv (or kestrel.FusedConv without an activation) -> Relu / Clip becomes one
// kestrel.FusedConv with activation "Relu" or "Clip" (activation_min / activation_max). Clip's
// bounds must be constants (inputs from opset 11, attributes before). The Conv's output must have
// no other reader and not be a graph output. CPU only (oneDNN eltwise post-ops).
#include <limits>

#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool accepts_activation(const ir::Node& node) {
  if (node.domain.empty() && node.op_type == "Conv") return true;
  return node.domain == ir::kKestrelDomain && node.op_type == "FusedConv" &&
         node.attrs.get_string("activation", "").empty();
}

// A float scalar constant input, or `fallback` when the optional input is absent. False when
// the input exists but is not a float constant of one element.
bool scalar_input(const ir::Graph& graph, const ir::Node& node, size_t index, float fallback, float& value) {
  if (index >= node.inputs.size() || node.inputs[index] == ir::kNoValue) {
    value = fallback;
    return true;
  }
  const ir::Value& v = graph.values[size_t(node.inputs[index])];
  if (!v.constant || v.dtype != DataType::kFLOAT || v.constant->numel() != 1) return false;
  value = v.constant->data<float>()[0];
  return true;
}

// Fills the activation attributes for a Relu or Clip node; false when it cannot be fused.
bool activation_of(const ir::Graph& graph, const ir::Node& act, ir::Attributes& attrs) {
  if (!act.domain.empty() || act.outputs.size() != 1) return false;
  if (act.op_type == "Relu") {
    attrs.set("activation", std::string("Relu"));
    return true;
  }
  if (act.op_type != "Clip") return false;
  constexpr float kInf = std::numeric_limits<float>::infinity();
  float lo = -kInf, hi = kInf;
  if (act.opset < 11) {
    lo = act.attrs.get_float("min", -std::numeric_limits<float>::max());
    hi = act.attrs.get_float("max", std::numeric_limits<float>::max());
  } else if (!scalar_input(graph, act, 1, -kInf, lo) || !scalar_input(graph, act, 2, kInf, hi)) {
    return false;
  }
  attrs.set("activation", std::string("Clip"));
  attrs.set("activation_min", lo);
  attrs.set("activation_max", hi);
  return true;
}

bool fuse_conv_activation(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& act = graph.nodes[n];
    if (act.inputs.empty() || act.inputs[0] == ir::kNoValue) continue;
    const int conv_out = act.inputs[0];
    const int p = producer[size_t(conv_out)];
    if (p < 0 || removed[size_t(p)] || !accepts_activation(graph.nodes[size_t(p)])) continue;
    if (uses[size_t(conv_out)] != 1 || graph.is_graph_output(conv_out)) continue;
    if (graph.values[size_t(act.outputs[0])].dtype != DataType::kFLOAT) continue;
    ir::Attributes extra;
    if (!activation_of(graph, act, extra)) continue;
    ir::Node& conv = graph.nodes[size_t(p)];
    conv.domain = ir::kKestrelDomain;
    conv.op_type = "FusedConv";
    for (const auto& [name, value] : extra.all()) conv.attrs.set(name, value);
    conv.outputs[0] = act.outputs[0];
    conv.fused_from.push_back(act.name);
    removed[n] = true;
    changed = true;
  }
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fuse_conv_activation", 41, fuse_conv_activation, device_bit(DeviceType::kCPU)});

}  // namespace
}  // namespace kestrel::passes
