// The normalisation-into-GEMM lowering (lowering.h). A pre-norm transformer block normalises a
// tensor only to feed it to a 1x1 convolution: the normalisation layer wrote the whole tensor and
// the GEMM read it back. Here the InstanceNormalization layer keeps only its first launch (the
// Welford partials of each instance, a few bytes per 1024 elements) and the GEMM normalises the
// raw tensor as its tiles land in shared memory (GemmNorm in kernels.h).
#include "backend/cuda/copy_maps.h"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/lowering.h"
#include "ir/shape_utils.h"

namespace kestrel::cuda {
namespace {

bool is_plain_1x1(const ir::Graph& graph, const ir::Node& conv) {
  if (!conv.domain.empty() || conv.op_type != "Conv" || !has_input(conv, 1)) return false;
  const Shape& w = graph.values[size_t(conv.inputs[1])].shape;
  if (w.size() != 4 || w[2] != 1 || w[3] != 1 || conv.attrs.get_int("group", 1) != 1) return false;
  for (const char* name : {"strides", "dilations"})
    for (int64_t v : conv.attrs.get_ints(name, {1, 1}))
      if (v != 1) return false;
  for (int64_t v : conv.attrs.get_ints("pads", {0, 0, 0, 0}))
    if (v != 0) return false;
  const std::string auto_pad = conv.attrs.get_string("auto_pad", "NOTSET");
  return auto_pad == "NOTSET" || auto_pad == "VALID";
}

}  // namespace

int fuse_norm_into_gemm(ir::Graph& graph) {
  const std::vector<int> uses = graph.use_counts();
  const std::vector<int> producer = graph.producers();
  int fused = 0;
  for (ir::Node& norm : graph.nodes) {
    if (!norm.domain.empty() || norm.op_type != "InstanceNormalization" || norm.outputs.size() != 1) continue;
    const int normed = norm.outputs[0], raw = norm.inputs[0];
    if (uses[size_t(normed)] != 1 || graph.is_graph_output(normed)) continue;
    ir::Node* conv = nullptr;
    for (ir::Node& n : graph.nodes)
      if (!n.inputs.empty() && n.inputs[0] == normed) conv = &n;
    if (conv == nullptr || !is_plain_1x1(graph, *conv)) continue;
    const ir::Value& y = graph.values[size_t(normed)];
    const ir::Value& x = graph.values[size_t(raw)];
    if (y.dtype != DataType::kHALF || x.dtype != DataType::kHALF || y.shape.size() != 4 || x.shape.size() < 2) continue;
    if (graph.values[size_t(conv->outputs[0])].dtype != DataType::kHALF) continue;
    // The GEMM reads the raw tensor in the normalised tensor's [n, k, h, w] layout: the norm's own
    // input if it has that shape, or what a view layer (GroupNorm's reshape to [n, groups, -1])
    // made it from.
    int source = -1;
    if (x.shape == y.shape) {
      source = raw;
    } else if (producer[size_t(raw)] >= 0) {
      const ir::Node& view = graph.nodes[size_t(producer[size_t(raw)])];
      if (is_reshape_like(view) && graph.values[size_t(view.inputs[0])].shape == y.shape) source = view.inputs[0];
    }
    if (source < 0 || graph.values[size_t(source)].constant) continue;
    const int64_t n = y.shape[0], k = y.shape[1], pixels = y.shape[2] * y.shape[3], groups = x.shape[1];
    if (x.shape[0] != n || shape_numel(x.shape) != shape_numel(y.shape) || groups <= 0 || k % groups != 0) continue;
    if (!gemm_norm_applies(int(k), int(pixels), int(groups))) continue;
    const bool affine = has_input(norm, 3) && has_input(norm, 4);
    if (affine && (norm.attrs.get_int(kAttrAffineInner, 1) != pixels || norm.attrs.get_int(kAttrAffineChannels, 1) != k))
      continue;
    const int64_t spatial = k / groups * pixels;
    ir::Value statistics;
    statistics.name = norm.name + "_statistics";
    statistics.dtype = DataType::kFLOAT;
    statistics.shape = {n * groups * norm_chunks(spatial), 3};  // Moments: count, mean, m2
    statistics.shape_known = true;
    const int stats = graph.add_value(std::move(statistics));
    // graph.nodes may not grow below, so `conv` stays valid
    conv->inputs[0] = source;
    conv->inputs.resize(std::max<size_t>(conv->inputs.size(), 4), ir::kNoValue);
    conv->inputs.push_back(stats);
    for (size_t i = 1; i < (affine ? 5u : 3u); ++i) conv->inputs.push_back(norm.inputs[i]);
    conv->attrs.set(kAttrNormGroups, groups);
    conv->attrs.set(kAttrNormEpsilon, norm.attrs.get_float("epsilon", 1e-5f));
    norm.outputs[0] = stats;
    norm.attrs.set(kAttrNormStatistics, int64_t(1));
    ++fused;
  }
  return fused;
}

}  // namespace kestrel::cuda
