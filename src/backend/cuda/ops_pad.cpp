// Planner of Pad (pad.cu): pads, axes and the constant must be constants (they are in exported
// models once folded); the output shape comes from shape inference.
#include <cstring>

#include "backend/cuda/cuda_ops.h"
#include "core/fp16.h"
#include "ir/shape_utils.h"

namespace kestrel::cuda {
namespace {

std::vector<int64_t> constant_values(const ir::Graph& g, const ir::Node& node, size_t input, const char* what) {
  KESTREL_CHECK(input_is_constant(g, node, input), "{}: the {} must be a constant on CUDA", ir::describe(node), what);
  return constant_ints(g, node, input);
}

Pad pad_params(const ir::Graph& g, const ir::Node& node) {
  const ir::Value& x = g.values[size_t(node.inputs.at(0))];
  const ir::Value& y = g.values[size_t(node.outputs.at(0))];
  const int rank = int(x.shape.size());
  KESTREL_CHECK(rank >= 1 && rank <= kMaxRank, "{}: rank {} is not supported on CUDA", ir::describe(node), rank);
  std::vector<int64_t> pads, axes;
  if (node.opset < 11) {
    pads = node.attrs.get_ints("pads", {});
  } else {
    pads = constant_values(g, node, 1, "pads");
    if (has_input(node, 3)) axes = constant_values(g, node, 3, "axes");
  }
  if (axes.empty())
    for (int d = 0; d < rank; ++d) axes.push_back(d);
  KESTREL_CHECK(pads.size() == 2 * axes.size(), "{}: {} pads for {} axes", ir::describe(node), pads.size(), axes.size());
  Pad p;
  p.rank = rank;
  p.n = shape_numel(y.shape);
  for (int d = 0; d < rank; ++d) p.in_dims[d] = x.shape[size_t(d)], p.out_dims[d] = y.shape[size_t(d)];
  for (size_t i = 0; i < axes.size(); ++i) p.begin[ir::normalize_axis(axes[i], rank)] = pads[i];
  const std::string mode = node.attrs.get_string("mode", "constant");
  p.mode = mode == "edge" ? PadMode::kEdge : mode == "reflect" ? PadMode::kReflect
           : mode == "wrap" ? PadMode::kWrap : PadMode::kConstant;
  // The constant's bytes: input 2 (opset 11+) or the float attribute `value` (before).
  const int size = element_bytes(to_dtype(x.dtype));
  if (node.opset >= 11 && has_input(node, 2)) {
    KESTREL_CHECK(input_is_constant(g, node, 2), "{}: constant_value must be a constant on CUDA", ir::describe(node));
    const Tensor& value = *g.values[size_t(node.inputs[2])].constant;
    if (value.numel() == 1) std::memcpy(&p.fill, value.raw(), size_t(size));
  } else if (node.opset < 11) {  // a float attribute: opset < 11 pads float tensors only
    const float value = node.attrs.get_float("value", 0.f);
    if (x.dtype == DataType::kHALF) {
      const Half h = float_to_half(value);
      std::memcpy(&p.fill, &h, sizeof(h));
    } else {
      std::memcpy(&p.fill, &value, sizeof(value));
    }
  }
  return p;
}

std::string choose_pad(const ir::Graph& g, const ir::Node& node) {
  pad_params(g, node);
  return "cuda.pad";
}

Launch plan_pad(PlanContext& ctx, const ir::Node& node) {
  const Pad p = pad_params(ctx.graph, node);
  const int size = element_bytes(to_dtype(ctx.value(node.inputs[0]).dtype));
  void* const* x = ctx.slot(node.inputs[0]);
  void* const* y = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) { launch_pad(size, p, *x, *y, s); };
}

}  // namespace

KESTREL_REGISTER_CUDA_KERNEL("Pad", CudaKernel{choose_pad, plan_pad});

}  // namespace kestrel::cuda
