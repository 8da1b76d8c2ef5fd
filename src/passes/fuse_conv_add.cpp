// Conv -> Add(residual) becomes kestrel.FusedConv(X, W, B, R): Y = Conv(X, W, B) + R.
// The residual R must have the Add's output shape (no broadcasting), the Conv's output must have
// no other reader and not be a graph output, and the Conv must not have an activation yet (the
// fused op applies its activation after the sum). CPU only: the fused op is a Kestrel-internal op
// that the CPU backends implement (oneDNN's sum/binary post-op).
#include "ir/op_registry.h"
#include "passes/pass.h"
#include "passes/rewrite_utils.h"

namespace kestrel::passes {
namespace {

bool is_plain_conv(const ir::Node& node) {
  if (node.domain.empty() && node.op_type == "Conv") return true;
  return node.domain == ir::kKestrelDomain && node.op_type == "FusedConv" && node.inputs.size() < 4 &&
         node.attrs.get_string("activation", "").empty();
}

bool fuse_conv_add(ir::Graph& graph) {
  const std::vector<int> producer = graph.producers();
  const std::vector<int> uses = graph.use_counts();
  std::vector<bool> removed(graph.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& add = graph.nodes[n];
    if (!add.domain.empty() || add.op_type != "Add" || add.inputs.size() != 2 || add.outputs.size() != 1) continue;
    const ir::Value& out = graph.values[size_t(add.outputs[0])];
    if (out.dtype != DataType::kFLOAT) continue;
    for (int side = 0; side < 2; ++side) {
      const int conv_out = add.inputs[size_t(side)], residual = add.inputs[size_t(1 - side)];
      if (conv_out == ir::kNoValue || residual == ir::kNoValue || conv_out == residual) continue;
      const int p = producer[size_t(conv_out)];
      if (p < 0 || removed[size_t(p)] || !is_plain_conv(graph.nodes[size_t(p)])) continue;
      if (uses[size_t(conv_out)] != 1 || graph.is_graph_output(conv_out)) continue;
      const ir::Value& r = graph.values[size_t(residual)];
      if (r.dtype != DataType::kFLOAT || r.shape != out.shape || graph.values[size_t(conv_out)].shape != out.shape)
        continue;
      ir::Node& conv = graph.nodes[size_t(p)];
      conv.domain = ir::kKestrelDomain;
      conv.op_type = "FusedConv";
      conv.inputs.resize(4, ir::kNoValue);
      conv.inputs[3] = residual;
      conv.outputs[0] = add.outputs[0];
      conv.fused_from.push_back(add.name);
      removed[n] = true;
      changed = true;
      break;
    }
  }
  // The residual may be produced after the Conv in node order: the caller sorts the graph.
  if (changed) remove_nodes(graph, removed);
  return changed;
}

KESTREL_REGISTER_PASS(Pass{"fuse_conv_add", 40, fuse_conv_add, device_bit(DeviceType::kCPU)});

}  // namespace
}  // namespace kestrel::passes
