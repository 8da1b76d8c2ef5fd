// The CUDA kernel registry and the helpers its planners share.
#include "backend/cuda/cuda_ops.h"

#include <map>

#include "ir/shape_utils.h"

namespace kestrel::cuda {
namespace {

std::map<std::string, CudaKernel>& registry() {
  static std::map<std::string, CudaKernel> table;
  return table;
}

}  // namespace

CudaKernelRegistrar::CudaKernelRegistrar(const char* op_type, CudaKernel kernel) { registry()[op_type] = kernel; }

const CudaKernel* find_cuda_kernel(const std::string& op_type) {
  auto it = registry().find(op_type);
  return it == registry().end() ? nullptr : &it->second;
}

std::vector<std::string> cuda_kernel_ops() {
  std::vector<std::string> ops;
  for (const auto& [name, kernel] : registry()) ops.push_back(name);
  return ops;
}

DType to_dtype(DataType t) {
  switch (t) {
    case DataType::kFLOAT: return DType::kF32;
    case DataType::kHALF: return DType::kF16;
    case DataType::kINT8: return DType::kI8;
    case DataType::kINT32: return DType::kI32;
    case DataType::kINT64: return DType::kI64;
    case DataType::kUINT8: return DType::kU8;
    case DataType::kBOOL: return DType::kBool;
  }
  fail("unknown data type {}", int(t));
}

int element_bytes(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kI32: return 4;
    case DType::kF16: return 2;
    case DType::kI64: return 8;
    default: return 1;
  }
}

bool input_is_constant(const ir::Graph& graph, const ir::Node& node, size_t input) {
  return input < node.inputs.size() && node.inputs[input] != ir::kNoValue &&
         graph.values[size_t(node.inputs[input])].constant.has_value();
}

std::vector<int64_t> constant_ints(const ir::Graph& graph, const ir::Node& node, size_t input) {
  KESTREL_CHECK(input_is_constant(graph, node, input), "{}: input {} must be a constant for the CUDA backend",
                ir::describe(node), input);
  return ir::to_int_vector(*graph.values[size_t(node.inputs[input])].constant);
}

Broadcast make_broadcast(const Shape& out, const std::vector<const Shape*>& inputs) {
  KESTREL_CHECK(out.size() <= size_t(kMaxRank), "rank {} is above the CUDA backend's limit of {}", out.size(), kMaxRank);
  KESTREL_CHECK(inputs.size() <= 3, "at most three broadcast inputs");
  Broadcast b;
  b.rank = int(out.size());
  b.n = shape_numel(out);
  for (size_t d = 0; d < out.size(); ++d) b.dims[d] = out[d];
  for (size_t k = 0; k < inputs.size(); ++k) {
    b.contiguous[k] = *inputs[k] == out;
    const std::vector<int64_t> strides = ir::broadcast_strides(*inputs[k], out);
    for (size_t d = 0; d < strides.size(); ++d) b.strides[k][d] = strides[d];
  }
  return b;
}

StridedCopy make_strided_copy(const Shape& dims, const std::vector<int64_t>& in_strides, int64_t in_base,
                              const std::vector<int64_t>& out_strides, int64_t out_base) {
  KESTREL_CHECK(dims.size() <= size_t(kMaxRank), "rank {} is above the CUDA backend's limit of {}", dims.size(), kMaxRank);
  StridedCopy p;
  p.rank = int(dims.size());
  p.n = shape_numel(dims);
  p.in_base = in_base;
  p.out_base = out_base;
  for (size_t d = 0; d < dims.size(); ++d) {
    p.dims[d] = dims[d];
    p.in_strides[d] = in_strides[d];
    p.out_strides[d] = out_strides[d];
  }
  return p;
}

}  // namespace kestrel::cuda
