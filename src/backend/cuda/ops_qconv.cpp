// Planner of kestrel.QConv (the integer convolutions that lower_qdq_conv.cpp makes of QDQ
// convolutions): validates the node and picks the kernel of qconv.cu by shape.
#include "backend/cuda/cuda_ops.h"
#include "ir/shape_utils.h"

namespace kestrel::cuda {
namespace {

bool is_float(DataType t) { return t == DataType::kFLOAT || t == DataType::kHALF; }

QConv qconv_params(const ir::Graph& g, const ir::Node& node) {
  const DataType x = g.values[size_t(node.inputs.at(0))].dtype;
  const DataType w = g.values[size_t(node.inputs.at(1))].dtype;
  const DataType y = g.values[size_t(node.outputs.at(0))].dtype;
  KESTREL_CHECK(x == DataType::kINT8 || x == DataType::kUINT8, "{}: X must be int8 or uint8, got {}", ir::describe(node),
                dtype_name(x));
  KESTREL_CHECK(w == DataType::kINT8, "{}: W must be int8, got {}", ir::describe(node), dtype_name(w));
  KESTREL_CHECK(g.values[size_t(node.inputs.at(2))].dtype == DataType::kFLOAT, "{}: w_scale must be float32",
                ir::describe(node));
  if (has_input(node, 3))
    KESTREL_CHECK(g.values[size_t(node.inputs[3])].dtype == DataType::kFLOAT, "{}: the bias must be float32",
                  ir::describe(node));
  KESTREL_CHECK(y == DataType::kINT8 || y == DataType::kUINT8 || is_float(y),
                "{}: the output must be int8, uint8, float32 or float16, got {}", ir::describe(node), dtype_name(y));
  QConv p;
  p.conv = conv_geometry(g, node);
  const std::string activation = node.attrs.get_string("activation", "");
  KESTREL_CHECK(activation.empty() || activation == "Relu", "{}: activation '{}' is not supported on CUDA",
                ir::describe(node), activation);
  if (activation == "Relu") p.conv.act = Activation::kRelu;
  p.x_scale = node.attrs.get_float("x_scale", 0.f);
  p.y_scale = node.attrs.get_float("y_scale", 0.f);
  KESTREL_CHECK(p.x_scale > 0.f, "{}: x_scale must be positive", ir::describe(node));
  KESTREL_CHECK(is_float(y) == (p.y_scale == 0.f), "{}: y_scale must be set exactly when the output is int8 or uint8",
                ir::describe(node));
  p.per_channel_scale = shape_numel(g.values[size_t(node.inputs[2])].shape) > 1;
  p.x = to_dtype(x);
  p.y = to_dtype(y);
  if (has_input(node, 4)) {
    const DataType r = g.values[size_t(node.inputs[4])].dtype;
    KESTREL_CHECK(is_float(r), "{}: the residual must be float, got {}", ir::describe(node), dtype_name(r));
    p.residual = to_dtype(r);
  }
  return p;
}

std::string choose_qconv(const ir::Graph& g, const ir::Node& node) {
  return qconv_kernel_name(choose_qconv_kernel(qconv_params(g, node)));
}

Launch plan_qconv(PlanContext& ctx, const ir::Node& node) {
  const QConv p = qconv_params(ctx.graph, node);
  const QConvKernel kernel = choose_qconv_kernel(p);
  ctx.need_scratch(qconv_scratch_bytes(p, kernel));
  void* const* x = ctx.slot(node.inputs[0]);
  void* const* w = ctx.slot(node.inputs[1]);
  void* const* w_scale = ctx.slot(node.inputs[2]);
  void* const* bias = has_input(node, 3) ? ctx.slot(node.inputs[3]) : nullptr;
  void* const* residual = has_input(node, 4) ? ctx.slot(node.inputs[4]) : nullptr;
  void* const* y = ctx.slot(node.outputs[0]);
  void** scratch = ctx.scratch;
  return [=](cudaStream_t s) {
    launch_qconv(p, kernel, *x, *w, *w_scale, bias ? *bias : nullptr, residual ? *residual : nullptr, *y,
                 scratch ? *scratch : nullptr, s);
  };
}

}  // namespace

KESTREL_REGISTER_CUDA_KERNEL("QConv", CudaKernel{choose_qconv, plan_qconv});

}  // namespace kestrel::cuda
