// Planners of MaxPool and AveragePool on 2-D NCHW values (pool.cu). The output size comes from
// shape inference (ceil_mode included); auto_pad is resolved against it as the reference does.
// Other ranks, LpPool and MaxPool's Indices output are refused naming the layer.
#include "backend/cuda/cuda_ops.h"

namespace kestrel::cuda {
namespace {

std::vector<int64_t> ints_or(const ir::Node& node, const char* name, size_t count, int64_t fill) {
  std::vector<int64_t> v = node.attrs.get_ints(name, {});
  return v.empty() ? std::vector<int64_t>(count, fill) : v;
}

Pool2d pool_params(const ir::Graph& g, const ir::Node& node) {
  const ir::Value& x = g.values[size_t(node.inputs.at(0))];
  const ir::Value& y = g.values[size_t(node.outputs.at(0))];
  KESTREL_CHECK(x.dtype == DataType::kFLOAT || x.dtype == DataType::kHALF, "{}: float input expected on CUDA, got {}",
                ir::describe(node), dtype_name(x.dtype));
  KESTREL_CHECK(x.shape.size() == 4, "{}: the CUDA backend pools 2-D images only (input rank {})", ir::describe(node),
                x.shape.size());
  KESTREL_CHECK(node.outputs.size() < 2 || node.outputs[1] == ir::kNoValue,
                "{}: MaxPool's Indices output is not supported on CUDA", ir::describe(node));
  const std::vector<int64_t> kernel = node.attrs.get_ints("kernel_shape", {});
  KESTREL_CHECK(kernel.size() == 2, "{}: kernel_shape must have 2 values", ir::describe(node));
  const std::vector<int64_t> strides = ints_or(node, "strides", 2, 1);
  const std::vector<int64_t> dilations = ints_or(node, "dilations", 2, 1);
  std::vector<int64_t> pads = ints_or(node, "pads", 4, 0);
  Pool2d p;
  p.planes = int(x.shape[0] * x.shape[1]);
  p.h = int(x.shape[2]), p.w = int(x.shape[3]), p.oh = int(y.shape[2]), p.ow = int(y.shape[3]);
  p.kh = int(kernel[0]), p.kw = int(kernel[1]);
  p.sh = int(strides[0]), p.sw = int(strides[1]), p.dh = int(dilations[0]), p.dw = int(dilations[1]);
  const int64_t in[2] = {p.h, p.w}, out[2] = {p.oh, p.ow}, st[2] = {p.sh, p.sw}, k[2] = {p.kh, p.kw},
                dl[2] = {p.dh, p.dw};
  resolve_auto_pad(node.attrs.get_string("auto_pad", "NOTSET"), in, out, k, st, dl, pads);
  p.pad_top = int(pads[0]), p.pad_left = int(pads[1]), p.pad_bottom = int(pads[2]), p.pad_right = int(pads[3]);
  p.max = node.op_type == "MaxPool";
  p.count_include_pad = node.attrs.get_int("count_include_pad", 0) != 0;
  return p;
}

std::string choose_pool(const ir::Graph& g, const ir::Node& node) {
  pool_params(g, node);
  return "cuda.pool2d";
}

Launch plan_pool(PlanContext& ctx, const ir::Node& node) {
  const Pool2d p = pool_params(ctx.graph, node);
  const DType dtype = to_dtype(ctx.value(node.inputs[0]).dtype);
  void* const* x = ctx.slot(node.inputs[0]);
  void* const* y = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) { launch_pool2d(dtype, p, *x, *y, s); };
}

}  // namespace

KESTREL_REGISTER_CUDA_KERNEL("MaxPool", CudaKernel{choose_pool, plan_pool});
KESTREL_REGISTER_CUDA_KERNEL("AveragePool", CudaKernel{choose_pool, plan_pool});

}  // namespace kestrel::cuda
