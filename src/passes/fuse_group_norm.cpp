// torch.nn.GroupNorm as exporters write it,
//   Reshape(X -> [N, G, -1]) -> InstanceNormalization(scale s[G], bias b[G]) -> Reshape(-> X's shape)
//   [-> Mul(gamma) [-> Add(beta)]]        (gamma, beta: constants that vary along the channels only)
// becomes kestrel.GroupNorm(X, scale'[C], bias'[C]) with
//   scale'[c] = s[g(c)] * gamma[c],  bias'[c] = b[g(c)] * gamma[c] + beta[c].
// One layer instead of five, and no copies for the reshapes. Every intermediate value must have
// exactly one reader and not be a graph output. CPU only (a Kestrel-internal op).
#include <optional>

#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool is_op(const ir::Node& node, const char* op_type) { return node.domain.empty() && node.op_type == op_type; }

// The values of a float constant that varies along axis 1 of `shape` only (broadcasting to
// it), expanded to one value per channel; nullopt otherwise.
std::optional<std::vector<float>> per_channel_constant(const ir::Graph& graph, int value, const Shape& shape) {
  if (value == ir::kNoValue) return std::nullopt;
  const ir::Value& v = graph.values[size_t(value)];
  if (!v.constant || v.dtype != DataType::kFLOAT || v.shape.size() > shape.size()) return std::nullopt;
  const int64_t channels = shape[1];
  const size_t offset = shape.size() - v.shape.size();
  bool per_channel = false;
  for (size_t i = 0; i < v.shape.size(); ++i) {
    const size_t axis = i + offset;
    if (axis == 1 && v.shape[i] == channels) {
      per_channel = true;
      continue;
    }
    if (v.shape[i] != 1) return std::nullopt;
  }
  const float* data = v.constant->data<float>();
  std::vector<float> out(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) out[size_t(c)] = per_channel ? data[c] : data[0];
  return out;
}

struct Chain {
  std::vector<size_t> nodes;  // matched nodes, in chain order
  int input = ir::kNoValue, output = ir::kNoValue;
  int64_t groups = 0;
  float epsilon = 1e-5f;
  std::vector<float> scale, bias;
};

// The single reader of `value` when it has exactly one and is not a graph output.
int only_reader(const ir::Graph& graph, int value, const std::vector<int>& uses,
                const std::vector<std::vector<size_t>>& readers) {
  if (uses[size_t(value)] != 1 || graph.is_graph_output(value) || readers[size_t(value)].size() != 1) return -1;
  return int(readers[size_t(value)][0]);
}

std::optional<Chain> match(const ir::Graph& graph, size_t first, const std::vector<int>& uses,
                           const std::vector<std::vector<size_t>>& readers) {
  const ir::Node& reshape1 = graph.nodes[first];
  if (!is_op(reshape1, "Reshape") || reshape1.inputs.empty() || reshape1.outputs.size() != 1) return std::nullopt;
  Chain chain;
  chain.input = reshape1.inputs[0];
  const ir::Value& x = graph.values[size_t(chain.input)];
  if (x.dtype != DataType::kFLOAT || x.shape.size() < 2 || x.shape[0] == 0 || x.shape[1] == 0) return std::nullopt;
  const Shape& grouped = graph.values[size_t(reshape1.outputs[0])].shape;
  if (grouped.size() != 3 || grouped[0] != x.shape[0] || grouped[1] < 1 || x.shape[1] % grouped[1] != 0)
    return std::nullopt;
  chain.groups = grouped[1];
  chain.nodes.push_back(first);

  const int norm_index = only_reader(graph, reshape1.outputs[0], uses, readers);
  if (norm_index < 0) return std::nullopt;
  const ir::Node& norm = graph.nodes[size_t(norm_index)];
  if (!is_op(norm, "InstanceNormalization") || norm.inputs.size() != 3 || norm.inputs[0] != reshape1.outputs[0])
    return std::nullopt;
  const ir::Value& s = graph.values[size_t(norm.inputs[1])];
  const ir::Value& b = graph.values[size_t(norm.inputs[2])];
  if (!s.constant || !b.constant || s.constant->numel() != chain.groups || b.constant->numel() != chain.groups)
    return std::nullopt;
  chain.epsilon = norm.attrs.get_float("epsilon", 1e-5f);
  chain.nodes.push_back(size_t(norm_index));

  const int reshape2_index = only_reader(graph, norm.outputs[0], uses, readers);
  if (reshape2_index < 0) return std::nullopt;
  const ir::Node& reshape2 = graph.nodes[size_t(reshape2_index)];
  if (!is_op(reshape2, "Reshape") || reshape2.inputs[0] != norm.outputs[0] ||
      graph.values[size_t(reshape2.outputs[0])].shape != x.shape)
    return std::nullopt;
  chain.nodes.push_back(size_t(reshape2_index));
  chain.output = reshape2.outputs[0];

  const int64_t channels = x.shape[1], per_group = channels / chain.groups;
  chain.scale.resize(size_t(channels));
  chain.bias.resize(size_t(channels));
  for (int64_t c = 0; c < channels; ++c) {
    chain.scale[size_t(c)] = s.constant->data<float>()[c / per_group];
    chain.bias[size_t(c)] = b.constant->data<float>()[c / per_group];
  }

  // Optional per-channel Mul, then optional per-channel Add.
  for (const char* op : {"Mul", "Add"}) {
    const int next = only_reader(graph, chain.output, uses, readers);
    if (next < 0) break;
    const ir::Node& node = graph.nodes[size_t(next)];
    if (!is_op(node, op) || node.inputs.size() != 2) continue;
    const int other = node.inputs[0] == chain.output ? node.inputs[1] : node.inputs[0];
    if (graph.values[size_t(node.outputs[0])].shape != x.shape) continue;
    const auto values = per_channel_constant(graph, other, x.shape);
    if (!values) continue;
    for (int64_t c = 0; c < channels; ++c) {
      if (std::string(op) == "Mul") {
        chain.scale[size_t(c)] *= (*values)[size_t(c)];
        chain.bias[size_t(c)] *= (*values)[size_t(c)];
      } else {
        chain.bias[size_t(c)] += (*values)[size_t(c)];
      }
    }
    chain.nodes.push_back(size_t(next));
    chain.output = node.outputs[0];
  }
  return chain;
}

bool fuse_group_norm(ir::Graph& graph) {
  const std::vector<int> uses = graph.use_counts();
  std::vector<std::vector<size_t>> readers(graph.values.size());
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (int in : graph.nodes[n].inputs)
      if (in != ir::kNoValue && (readers[size_t(in)].empty() || readers[size_t(in)].back() != n))
        readers[size_t(in)].push_back(n);
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    if (removed[n]) continue;
    const std::optional<Chain> chain = match(graph, n, uses, readers);
    if (!chain) continue;
    bool free = true;
    for (size_t i : chain->nodes) free &= !removed[i];
    if (!free) continue;
    const int64_t channels = graph.values[size_t(chain->input)].shape[1];
    Tensor scale(DataType::kFLOAT, {channels}), bias(DataType::kFLOAT, {channels});
    std::copy(chain->scale.begin(), chain->scale.end(), scale.data<float>());
    std::copy(chain->bias.begin(), chain->bias.end(), bias.data<float>());
    const size_t last = chain->nodes.back();
    const std::string base = graph.nodes[n].name;
    const int scale_id = graph.add_constant(graph.unique_name(base + "_group_norm_scale"), std::move(scale));
    const int bias_id = graph.add_constant(graph.unique_name(base + "_group_norm_bias"), std::move(bias));
    ir::Node fused;
    fused.name = graph.unique_name(base + "_group_norm");
    fused.op_type = "GroupNorm";
    fused.domain = ir::kKestrelDomain;
    fused.opset = 1;
    fused.inputs = {chain->input, scale_id, bias_id};
    fused.outputs = {chain->output};
    fused.attrs.set("num_groups", chain->groups);
    fused.attrs.set("epsilon", chain->epsilon);
    for (size_t i : chain->nodes) {
      fused.fused_from.push_back(graph.nodes[i].name);
      removed[i] = true;
    }
    // The fused node takes the place of the chain's last node; the others go.
    graph.nodes[last] = std::move(fused);
    removed[last] = false;
    changed = true;
  }
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fuse_group_norm", 42, fuse_group_norm, device_bit(DeviceType::kCPU)});

}  // namespace
}  // namespace kestrel::passes
