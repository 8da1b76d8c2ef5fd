// Planners of the data-movement ops, all on the strided copy kernel: Transpose, Slice, Expand,
// Concat, Split, DepthToSpace, SpaceToDepth, kestrel.StridedCopy (a composed chain of them, see
// lower_copy_chains.cpp); and GatherElements.
#include <algorithm>
#include <numeric>

#include "backend/cuda/copy_maps.h"
#include "backend/cuda/cuda_ops.h"
#include "ir/shape_utils.h"

namespace kestrel::cuda {
namespace {

int value_bytes_per_element(const ir::Value& v) { return element_bytes(to_dtype(v.dtype)); }

Launch copy_launch(PlanContext& ctx, int in, int out, std::vector<StridedCopy> copies) {
  const int size = value_bytes_per_element(ctx.value(in));
  void* const* src = ctx.slot(in);
  void* const* dst = ctx.slot(out);
  return [=](cudaStream_t s) {
    for (const StridedCopy& c : copies) launch_strided_copy(size, c, *src, *dst, s);
  };
}

std::string choose_strided(const ir::Graph& g, const ir::Node& node) {
  if (node.op_type == "Slice" && node.opset >= 10)
    for (size_t i = 1; i < node.inputs.size(); ++i)
      if (node.inputs[i] != ir::kNoValue)
        KESTREL_CHECK(input_is_constant(g, node, i), "{}: Slice parameters must be constants for the CUDA backend",
                      ir::describe(node));
  if (node.op_type == "DepthToSpace" || node.op_type == "SpaceToDepth")
    KESTREL_CHECK(g.values[size_t(node.inputs[0])].shape.size() == 4, "{}: 4-D input expected", ir::describe(node));
  return "cuda.strided_copy";
}

// Transpose, Slice, Expand, DepthToSpace, SpaceToDepth and the composed kestrel.StridedCopy: one
// strided copy from the layer's element map (copy_maps.cpp).
Launch plan_mapped(PlanContext& ctx, const ir::Node& node) {
  const std::optional<CopyMap> m = copy_map(ctx.graph, node);
  KESTREL_CHECK(m.has_value(), "{}: not a strided copy", ir::describe(node));
  return copy_launch(ctx, node.inputs[0], node.outputs[0],
                     {make_strided_copy(m->dims, m->in_strides, m->base, ir::strides_of(m->dims), 0)});
}

std::string choose_composed(const ir::Graph& g, const ir::Node& node) {
  KESTREL_CHECK(copy_map(g, node).has_value(), "{}: malformed strided copy", ir::describe(node));
  return "cuda.strided_copy";
}

// Concat: one strided copy per input into its region of the output.
std::string choose_concat(const ir::Graph&, const ir::Node&) { return "cuda.strided_copy"; }

Launch plan_concat(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& y = ctx.value(node.outputs[0]);
  const int axis = ir::normalize_axis(node.attrs.get_int("axis"), int(y.shape.size()));
  const std::vector<int64_t> out_strides = ir::strides_of(y.shape);
  const int size = value_bytes_per_element(y);
  struct Part {
    void* const* src;
    StridedCopy copy;
  };
  std::vector<Part> parts;
  int64_t offset = 0;
  for (int in : node.inputs) {
    const ir::Value& x = ctx.value(in);
    parts.push_back({ctx.slot(in), make_strided_copy(x.shape, ir::strides_of(x.shape), 0, out_strides,
                                                     offset * out_strides[size_t(axis)])});
    offset += x.shape[size_t(axis)];
  }
  void* const* dst = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) {
    for (const Part& p : parts) launch_strided_copy(size, p.copy, *p.src, *dst, s);
  };
}

std::string choose_split(const ir::Graph& g, const ir::Node& node) {
  if (node.opset >= 13 && node.inputs.size() > 1 && node.inputs[1] != ir::kNoValue)
    KESTREL_CHECK(input_is_constant(g, node, 1), "{}: Split sizes must be constant", ir::describe(node));
  return "cuda.strided_copy";
}

Launch plan_split(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& x = ctx.value(node.inputs[0]);
  const int axis = ir::normalize_axis(node.attrs.get_int("axis", 0), int(x.shape.size()));
  const std::vector<int64_t> in_strides = ir::strides_of(x.shape);
  const int size = value_bytes_per_element(x);
  struct Part {
    void* const* dst;
    StridedCopy copy;
  };
  std::vector<Part> parts;
  int64_t offset = 0;
  for (int out : node.outputs) {
    if (out == ir::kNoValue) continue;  // sizes come from the outputs' inferred shapes
    const ir::Value& y = ctx.value(out);
    parts.push_back({ctx.slot(out), make_strided_copy(y.shape, in_strides, offset * in_strides[size_t(axis)],
                                                      ir::strides_of(y.shape), 0)});
    offset += y.shape[size_t(axis)];
  }
  void* const* src = ctx.slot(node.inputs[0]);
  return [=](cudaStream_t s) {
    for (const Part& p : parts) launch_strided_copy(size, p.copy, *src, *p.dst, s);
  };
}

std::string choose_gather_elements(const ir::Graph& g, const ir::Node& node) {
  const DataType t = g.values[size_t(node.inputs[1])].dtype;
  KESTREL_CHECK(t == DataType::kINT64 || t == DataType::kINT32, "{}: int32 or int64 indices expected",
                ir::describe(node));
  return "cuda.gather_elements";
}

Launch plan_gather_elements(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& data = ctx.value(node.inputs[0]);
  const ir::Value& index = ctx.value(node.inputs[1]);
  const ir::Value& y = ctx.value(node.outputs[0]);
  const int rank = int(y.shape.size());
  KESTREL_CHECK(rank <= kMaxRank, "{}: rank above {}", ir::describe(node), kMaxRank);
  GatherElements p;
  p.rank = rank;
  p.n = shape_numel(y.shape);
  p.axis = ir::normalize_axis(node.attrs.get_int("axis", 0), rank);
  p.axis_size = data.shape[size_t(p.axis)];
  const std::vector<int64_t> strides = ir::strides_of(data.shape);
  for (int d = 0; d < rank; ++d) {
    p.dims[d] = y.shape[size_t(d)];
    p.data_strides[d] = strides[size_t(d)];
  }
  const int size = value_bytes_per_element(data);
  const DType index_type = to_dtype(index.dtype);
  void* const* pd = ctx.slot(node.inputs[0]);
  void* const* pi = ctx.slot(node.inputs[1]);
  void* const* py = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) { launch_gather_elements(size, index_type, p, *pd, *pi, *py, s); };
}

std::string choose_gather(const ir::Graph& g, const ir::Node& node) {
  const DataType t = g.values[size_t(node.inputs.at(1))].dtype;
  KESTREL_CHECK(t == DataType::kINT64 || t == DataType::kINT32, "{}: int32 or int64 indices expected",
                ir::describe(node));
  KESTREL_CHECK(!g.values[size_t(node.inputs[0])].shape.empty(), "{}: data of rank 0", ir::describe(node));
  return "cuda.gather";
}

Launch plan_gather(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& data = ctx.value(node.inputs[0]);
  const ir::Value& index = ctx.value(node.inputs[1]);
  const int rank = int(data.shape.size());
  const int axis = ir::normalize_axis(node.attrs.get_int("axis", 0), rank);
  Gather p;
  for (int d = 0; d < axis; ++d) p.outer *= data.shape[size_t(d)];
  for (int d = axis + 1; d < rank; ++d) p.inner *= data.shape[size_t(d)];
  p.axis_size = data.shape[size_t(axis)];
  p.count = shape_numel(index.shape);
  p.n = p.outer * p.count * p.inner;
  const int size = value_bytes_per_element(data);
  const DType index_type = to_dtype(index.dtype);
  void* const* pd = ctx.slot(node.inputs[0]);
  void* const* pi = ctx.slot(node.inputs[1]);
  void* const* py = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) { launch_gather(size, index_type, p, *pd, *pi, *py, s); };
}

}  // namespace

KESTREL_REGISTER_CUDA_KERNEL("Transpose", CudaKernel{choose_strided, plan_mapped});
KESTREL_REGISTER_CUDA_KERNEL("Slice", CudaKernel{choose_strided, plan_mapped});
KESTREL_REGISTER_CUDA_KERNEL("Expand", CudaKernel{choose_strided, plan_mapped});
KESTREL_REGISTER_CUDA_KERNEL("DepthToSpace", CudaKernel{choose_strided, plan_mapped});
KESTREL_REGISTER_CUDA_KERNEL("SpaceToDepth", CudaKernel{choose_strided, plan_mapped});
KESTREL_REGISTER_CUDA_KERNEL("StridedCopy", CudaKernel{choose_composed, plan_mapped});
KESTREL_REGISTER_CUDA_KERNEL("Concat", CudaKernel{choose_concat, plan_concat});
KESTREL_REGISTER_CUDA_KERNEL("Split", CudaKernel{choose_split, plan_split});
KESTREL_REGISTER_CUDA_KERNEL("GatherElements", CudaKernel{choose_gather_elements, plan_gather_elements});
KESTREL_REGISTER_CUDA_KERNEL("Gather", CudaKernel{choose_gather, plan_gather});

}  // namespace kestrel::cuda
