// Gather with constant indices that pick one contiguous run along the axis (ViT's class token:
// Gather(x, 0, axis=1)) becomes, on CUDA, a Slice (a strided copy) and, for a scalar index, a
// Squeeze of the axis (a view). Other Gathers stay (and name themselves when the backend
// refuses them). CUDA only.
#include "passes/decompose_for_cuda.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

// The first index when the indices are start, start + 1, ... (negative ones counted from the end);
// -1 when they are not.
int64_t contiguous_start(const Tensor& indices, int64_t dim) {
  int64_t start = -1;
  for (int64_t i = 0; i < indices.numel(); ++i) {
    int64_t v = indices.int_at(i);
    if (v < 0) v += dim;
    if (v < 0 || v >= dim) return -1;
    if (i == 0) start = v;
    else if (v != start + i) return -1;
  }
  return start;
}

bool decompose_gather(ir::Graph& graph) {
  std::vector<std::vector<ir::Node>> replacements(graph.nodes.size());
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& gather = graph.nodes[n];
    if (!gather.domain.empty() || gather.op_type != "Gather" || gather.inputs.size() != 2 || gather.outputs.size() != 1)
      continue;
    const ir::Value& indices = graph.values[size_t(gather.inputs[1])];
    const Shape data_shape = graph.values[size_t(gather.inputs[0])].shape;  // a copy: values grow below
    if (!indices.constant || indices.constant->numel() == 0 || indices.shape.size() > 1 || data_shape.empty()) continue;
    int64_t axis = gather.attrs.get_int("axis", 0);
    if (axis < 0) axis += int64_t(data_shape.size());
    if (axis < 0 || axis >= int64_t(data_shape.size())) continue;
    const int64_t start = contiguous_start(*indices.constant, data_shape[size_t(axis)]);
    if (start < 0) continue;
    const bool scalar = indices.shape.empty();
    const int64_t count = indices.constant->numel();
    const int out = gather.outputs[0];
    Decomposition d(graph, gather);
    // Slice takes its ranges as inputs from opset 10, Squeeze its axes from opset 13; attributes before.
    std::vector<int> slice_inputs{gather.inputs[0]};
    ir::Attributes slice_attrs;
    if (gather.opset >= 10) {
      slice_inputs.push_back(d.constant("starts", int64_tensor({start})));
      slice_inputs.push_back(d.constant("ends", int64_tensor({start + count})));
      slice_inputs.push_back(d.constant("axes", int64_tensor({axis})));
    } else {
      slice_attrs.set("starts", std::vector<int64_t>{start});
      slice_attrs.set("ends", std::vector<int64_t>{start + count});
      slice_attrs.set("axes", std::vector<int64_t>{axis});
    }
    const int sliced = d.add("Slice", slice_inputs, scalar ? "slice" : "", slice_attrs, scalar ? ir::kNoValue : out);
    if (scalar) {
      std::vector<int> squeeze_inputs{sliced};
      ir::Attributes squeeze_attrs;
      if (gather.opset >= 13)
        squeeze_inputs.push_back(d.constant("squeeze_axes", int64_tensor({axis})));
      else
        squeeze_attrs.set("axes", std::vector<int64_t>{axis});
      d.add("Squeeze", squeeze_inputs, "", squeeze_attrs, out);
    }
    replacements[n] = d.take();
    changed = true;
  }
  if (changed) splice(graph, replacements);
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"decompose_gather", 27, decompose_gather, device_bit(DeviceType::kCUDA)});

}  // namespace kestrel::passes
