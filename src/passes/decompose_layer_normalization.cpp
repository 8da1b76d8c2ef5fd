// LayerNormalization on CUDA as the ops it has kernels for: X [.., normalized dims] is seen as
// [1, R, D] (R rows of the D values from `axis` on), normalised per row by InstanceNormalization
// (R instances, unit scale, zero bias, the same epsilon and population variance), reshaped back
// and scaled and shifted by Scale and B. The CUDA lowering fuses the Reshape, Mul and Add back
// into the norm's per-channel affine when Scale and B vary along one axis (the usual last-axis
// LayerNorm), so it stays one launch. Only the Y output (Mean and InvStdDev unread). CUDA only.
#include "ir/shape_utils.h"
#include "passes/decompose_for_cuda.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

bool decompose_layer_normalization(ir::Graph& graph) {
  std::vector<std::vector<ir::Node>> replacements(graph.nodes.size());
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& norm = graph.nodes[n];
    if (!norm.domain.empty() || norm.op_type != "LayerNormalization" || norm.inputs.size() < 2) continue;
    bool extra_outputs = false;
    for (size_t o = 1; o < norm.outputs.size(); ++o) extra_outputs |= norm.outputs[o] != ir::kNoValue;
    if (extra_outputs || norm.outputs.empty()) continue;
    if (graph.values[size_t(norm.inputs[0])].dtype != DataType::kFLOAT) continue;
    const Shape x_shape = graph.values[size_t(norm.inputs[0])].shape;  // a copy: values grow below
    if (x_shape.empty()) continue;
    const int rank = int(x_shape.size());
    int64_t axis = norm.attrs.get_int("axis", -1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) continue;  // shape inference names the error
    int64_t rows = 1, row = 1;
    for (int d = 0; d < rank; ++d) (d < axis ? rows : row) *= x_shape[size_t(d)];
    if (rows == 0 || row == 0) continue;

    const int out = norm.outputs[0];
    const bool has_bias = norm.inputs.size() > 2 && norm.inputs[2] != ir::kNoValue;
    ir::Attributes eps;
    eps.set("epsilon", norm.attrs.get_float("epsilon", 1e-5f));
    Decomposition d(graph, norm);
    const int rows_view = d.add("Reshape", {norm.inputs[0], d.constant("rows_shape", int64_tensor({1, rows, row}))},
                                "rows");
    const int normalised = d.add("InstanceNormalization",
                                 {rows_view, d.constant("unit_scale", filled_floats(rows, 1.f)),
                                  d.constant("zero_bias", filled_floats(rows, 0.f))},
                                 "", eps);
    const int back = d.add("Reshape", {normalised, d.constant("shape", int64_tensor(x_shape))}, "unrows");
    const int scaled = d.add("Mul", {back, norm.inputs[1]}, "scale", {}, has_bias ? ir::kNoValue : out);
    if (has_bias) d.add("Add", {scaled, norm.inputs[2]}, "bias", {}, out);
    replacements[n] = d.take();
    changed = true;
  }
  if (changed) splice(graph, replacements);
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"decompose_layer_normalization", 26, decompose_layer_normalization,
                           device_bit(DeviceType::kCUDA)});

}  // namespace kestrel::passes
