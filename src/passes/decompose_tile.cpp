// Tile with constant repeats on CUDA as data movement it has kernels for: each repeated axis d
// becomes Reshape (a new axis of 1 before d) -> Expand (to the repeat count) -> Reshape (merged
// back), i.e. out[.., j * n + k, ..] = x[.., k, ..]; the lowering folds each chain into one
// strided copy. CUDA only.
#include "passes/decompose_for_cuda.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

bool decompose_tile(ir::Graph& graph) {
  std::vector<std::vector<ir::Node>> replacements(graph.nodes.size());
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& tile = graph.nodes[n];
    if (!tile.domain.empty() || tile.op_type != "Tile" || tile.inputs.size() != 2 || tile.outputs.size() != 1) continue;
    const ir::Value& repeats_value = graph.values[size_t(tile.inputs[1])];
    Shape shape = graph.values[size_t(tile.inputs[0])].shape;  // a copy: values grow below
    if (!repeats_value.constant || int64_t(shape.size()) != repeats_value.constant->numel()) continue;
    std::vector<int64_t> repeats;
    bool valid = true;
    for (int64_t i = 0; i < repeats_value.constant->numel(); ++i) {
      repeats.push_back(repeats_value.constant->int_at(i));
      valid = valid && repeats.back() >= 1;
    }
    if (!valid) continue;  // zero or negative repeats: shape inference names the error
    const int out = tile.outputs[0];
    Decomposition d(graph, tile);
    int value = tile.inputs[0];
    std::vector<size_t> axes;
    for (size_t a = 0; a < repeats.size(); ++a)
      if (repeats[a] > 1) axes.push_back(a);
    if (axes.empty()) d.add("Identity", {value}, "", {}, out);
    for (size_t i = 0; i < axes.size(); ++i) {
      const size_t a = axes[i];
      Shape split = shape;
      split.insert(split.begin() + int64_t(a), 1);
      Shape expanded = split;
      expanded[a] = repeats[a];
      shape[a] *= repeats[a];
      const std::string tag = "axis" + std::to_string(a);
      value = d.add("Reshape", {value, d.constant(tag + "_split", int64_tensor(split))}, tag + "_split");
      value = d.add("Expand", {value, d.constant(tag + "_repeats", int64_tensor(expanded))}, tag + "_repeat");
      const bool last = i + 1 == axes.size();
      value = d.add("Reshape", {value, d.constant(tag + "_merged", int64_tensor(shape))}, last ? "" : tag + "_merge", {},
                    last ? out : ir::kNoValue);
    }
    replacements[n] = d.take();
    changed = true;
  }
  if (changed) splice(graph, replacements);
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"decompose_tile", 28, decompose_tile, device_bit(DeviceType::kCUDA)});

}  // namespace kestrel::passes
