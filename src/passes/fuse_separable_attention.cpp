// MobileViTv2's separable self-attention core,
//   q, k, v = Split(qkv, axis 1, [1, C, C])
//   Mul(Relu(v), [Expand](ReduceSum(Mul(k, Softmax(q, last axis)), last axis, keepdims)))
// becomes one kestrel.SeparableAttention(qkv) (src/ir/ops/fused.cpp): one pass over the keys and
// values instead of seven layers and four intermediate tensors. Every intermediate value must
// have exactly one reader and not be a graph output. CPU only (a Kestrel-internal op).
#include <optional>

#include "ir/op_registry.h"
#include "ir/shape_utils.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool is_op(const ir::Node& node, const char* op_type) { return node.domain.empty() && node.op_type == op_type; }

class Matcher {
 public:
  explicit Matcher(const ir::Graph& graph) : graph_(graph), uses_(graph.use_counts()), readers_(graph.values.size()) {
    for (size_t n = 0; n < graph.nodes.size(); ++n)
      for (int in : graph.nodes[n].inputs)
        if (in != ir::kNoValue && (readers_[size_t(in)].empty() || readers_[size_t(in)].back() != n))
          readers_[size_t(in)].push_back(n);
  }

  // The single reader of `value` (exactly one use, not a graph output), or -1.
  int only_reader(int value) const {
    if (value == ir::kNoValue || uses_[size_t(value)] != 1 || graph_.is_graph_output(value) ||
        readers_[size_t(value)].size() != 1)
      return -1;
    return int(readers_[size_t(value)][0]);
  }


  bool reduces_last_axis(const ir::Node& node, int rank) const {
    if (node.attrs.get_int("keepdims", 1) != 1) return false;
    std::vector<int64_t> axes;
    if (node.opset >= 13) {
      if (node.inputs.size() < 2 || node.inputs[1] == ir::kNoValue) return false;
      const ir::Value& a = graph_.values[size_t(node.inputs[1])];
      if (!a.constant) return false;
      axes = ir::to_int_vector(*a.constant);
    } else {
      axes = node.attrs.get_ints("axes", {});
    }
    return axes.size() == 1 && (axes[0] == rank - 1 || axes[0] == -1);
  }

  // The matched nodes (Split first), or nullopt.
  std::optional<std::vector<size_t>> match(size_t split_index, int& output) const {
    const ir::Node& split = graph_.nodes[split_index];
    if (!is_op(split, "Split") || split.inputs.empty() || split.outputs.size() != 3) return std::nullopt;
    const Shape& qkv = graph_.values[size_t(split.inputs[0])].shape;
    const int rank = int(qkv.size());
    if (rank < 3 || graph_.values[size_t(split.inputs[0])].dtype != DataType::kFLOAT) return std::nullopt;
    int64_t axis = split.attrs.get_int("axis", 0);
    if (axis < 0) axis += rank;
    if (axis != 1) return std::nullopt;
    for (int out : split.outputs)
      if (out == ir::kNoValue) return std::nullopt;
    const int q = split.outputs[0], k = split.outputs[1], v = split.outputs[2];
    const int64_t channels = (qkv[1] - 1) / 2;
    if (graph_.values[size_t(q)].shape[1] != 1 || graph_.values[size_t(k)].shape[1] != channels ||
        graph_.values[size_t(v)].shape[1] != channels || 1 + 2 * channels != qkv[1])
      return std::nullopt;
    std::vector<size_t> nodes{split_index};

    const int softmax = only_reader(q);
    if (softmax < 0 || !is_op(graph_.nodes[size_t(softmax)], "Softmax")) return std::nullopt;
    const ir::Node& sm = graph_.nodes[size_t(softmax)];
    const int64_t default_axis = sm.opset >= 13 ? -1 : 1;
    int64_t sm_axis = sm.attrs.get_int("axis", default_axis);
    if (sm_axis < 0) sm_axis += rank;
    if (sm_axis != rank - 1) return std::nullopt;
    nodes.push_back(size_t(softmax));

    const int weigh = only_reader(sm.outputs[0]);
    if (weigh < 0 || !is_op(graph_.nodes[size_t(weigh)], "Mul")) return std::nullopt;
    const ir::Node& mul_k = graph_.nodes[size_t(weigh)];
    if (!((mul_k.inputs[0] == k && mul_k.inputs[1] == sm.outputs[0]) ||
          (mul_k.inputs[1] == k && mul_k.inputs[0] == sm.outputs[0])))
      return std::nullopt;
    if (only_reader(k) != weigh) return std::nullopt;
    nodes.push_back(size_t(weigh));

    const int reduce = only_reader(mul_k.outputs[0]);
    if (reduce < 0 || !is_op(graph_.nodes[size_t(reduce)], "ReduceSum") ||
        !reduces_last_axis(graph_.nodes[size_t(reduce)], rank))
      return std::nullopt;
    nodes.push_back(size_t(reduce));
    int context = graph_.nodes[size_t(reduce)].outputs[0];

    int consumer = only_reader(context);
    if (consumer >= 0 && is_op(graph_.nodes[size_t(consumer)], "Expand")) {
      const ir::Node& expand = graph_.nodes[size_t(consumer)];
      if (expand.inputs[0] != context || graph_.values[size_t(expand.outputs[0])].shape != graph_.values[size_t(v)].shape)
        return std::nullopt;
      nodes.push_back(size_t(consumer));
      context = expand.outputs[0];
      consumer = only_reader(context);
    }

    const int relu = only_reader(v);
    if (relu < 0 || !is_op(graph_.nodes[size_t(relu)], "Relu")) return std::nullopt;
    nodes.push_back(size_t(relu));
    const int gated = graph_.nodes[size_t(relu)].outputs[0];
    if (consumer < 0 || consumer != only_reader(gated) || !is_op(graph_.nodes[size_t(consumer)], "Mul"))
      return std::nullopt;
    const ir::Node& mul_v = graph_.nodes[size_t(consumer)];
    if (!((mul_v.inputs[0] == gated && mul_v.inputs[1] == context) ||
          (mul_v.inputs[1] == gated && mul_v.inputs[0] == context)))
      return std::nullopt;
    if (graph_.values[size_t(mul_v.outputs[0])].shape != graph_.values[size_t(v)].shape) return std::nullopt;
    nodes.push_back(size_t(consumer));
    output = mul_v.outputs[0];
    return nodes;
  }

 private:
  const ir::Graph& graph_;
  std::vector<int> uses_;
  std::vector<std::vector<size_t>> readers_;
};

bool fuse_separable_attention(ir::Graph& graph) {
  const Matcher matcher(graph);
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    int output = ir::kNoValue;
    const std::optional<std::vector<size_t>> nodes = matcher.match(n, output);
    if (!nodes) continue;
    bool free = true;
    for (size_t i : *nodes) free &= !removed[i];
    if (!free) continue;
    ir::Node fused;
    fused.name = graph.unique_name(graph.nodes[n].name + "_separable_attention");
    fused.op_type = "SeparableAttention";
    fused.domain = ir::kKestrelDomain;
    fused.opset = 1;
    fused.inputs = {graph.nodes[n].inputs[0]};
    fused.outputs = {output};
    for (size_t i : *nodes) {
      fused.fused_from.push_back(graph.nodes[i].name);
      removed[i] = true;
    }
    // The fused node takes the place of the last matched node (the final Mul).
    const size_t last = nodes->back();
    graph.nodes[last] = std::move(fused);
    removed[last] = false;
    changed = true;
  }
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fuse_separable_attention", 43, fuse_separable_attention, device_bit(DeviceType::kCPU)});

}  // namespace
}  // namespace kestrel::passes
