// A 1x1 Conv producing the QKV input of kestrel.SeparableAttention (fuse_separable_attention.cpp)
// joins it: kestrel.LinearAttention(X, W, B) (src/ir/ops/fused.cpp). The CPU kernel then projects
// only the values over every token; query and keys need a dot product per token and one
// matrix-vector product per position (the softmax weights sum to one), which halves the
// projection's work. The Conv's output must have no other reader and not be a graph output, its
// weights and bias be constants, its stride 1, padding 0, one group. CPU only.
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool all_equal(const std::vector<int64_t>& values, int64_t expected) {
  for (int64_t v : values)
    if (v != expected) return false;
  return true;
}

bool is_pointwise_projection(const ir::Graph& graph, const ir::Node& conv) {
  if (!conv.domain.empty() || conv.op_type != "Conv" || conv.inputs.size() < 2 || conv.outputs.size() != 1) return false;
  const ir::Value& x = graph.values[size_t(conv.inputs[0])];
  const ir::Value& w = graph.values[size_t(conv.inputs[1])];
  if (!w.constant || w.dtype != DataType::kFLOAT || x.dtype != DataType::kFLOAT) return false;
  if (w.shape.size() != x.shape.size() || w.shape.size() < 3 || w.shape[1] != x.shape[1] ||
      w.shape[0] != 1 + 2 * x.shape[1])
    return false;
  for (size_t i = 2; i < w.shape.size(); ++i)
    if (w.shape[i] != 1) return false;
  if (conv.inputs.size() > 2 && conv.inputs[2] != ir::kNoValue && !graph.values[size_t(conv.inputs[2])].constant)
    return false;
  const std::string auto_pad = conv.attrs.get_string("auto_pad", "NOTSET");
  return conv.attrs.get_int("group", 1) == 1 && all_equal(conv.attrs.get_ints("strides", {}), 1) &&
         all_equal(conv.attrs.get_ints("pads", {}), 0) &&
         (auto_pad == "NOTSET" || auto_pad == "VALID" || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER");
}

bool fuse_attention_projection(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    ir::Node& attention = graph.nodes[n];
    if (ir::qualified_op_type(attention) != "kestrel.SeparableAttention" || attention.inputs.size() != 1) continue;
    const int qkv = attention.inputs[0];
    const int p = producer[size_t(qkv)];
    if (p < 0 || removed[size_t(p)] || uses[size_t(qkv)] != 1 || graph.is_graph_output(qkv)) continue;
    const ir::Node& conv = graph.nodes[size_t(p)];
    if (!is_pointwise_projection(graph, conv)) continue;
    int bias = conv.inputs.size() > 2 ? conv.inputs[2] : ir::kNoValue;
    const std::vector<int> conv_inputs = conv.inputs;
    const std::string conv_name = conv.name;
    if (bias == ir::kNoValue) {
      const int64_t outputs = graph.values[size_t(conv_inputs[1])].shape[0];
      bias = graph.add_constant(graph.unique_name(conv_name + "_zero_bias"), Tensor(DataType::kFLOAT, {outputs}));
    }
    ir::Node& fused = graph.nodes[n];
    fused.op_type = "LinearAttention";
    fused.inputs = {conv_inputs[0], conv_inputs[1], bias};
    fused.fused_from.insert(fused.fused_from.begin(), conv_name);
    removed[size_t(p)] = true;
    changed = true;
  }
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fuse_attention_projection", 44, fuse_attention_projection, device_bit(DeviceType::kCPU)});

}  // namespace
}  // namespace kestrel::passes
