// The CUDA backend's kernel registry: for each ONNX op type, a build-time chooser that validates the
// node and names the implementation (recorded in Node.kernel), and a load-time planner that turns
// the node into a launch closure over the executor's device addresses.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "backend/cuda/kernels.h"
#include "core/error.h"
#include "ir/graph.h"

namespace kestrel::cuda {

#define KESTREL_CUDA_CHECK(expr)                                                                   \
  do {                                                                                             \
    const cudaError_t kestrel_cuda_status_ = (expr);                                               \
    if (kestrel_cuda_status_ != cudaSuccess)                                                       \
      ::kestrel::fail("CUDA error {} ({}) in {}", int(kestrel_cuda_status_),                     \
                      cudaGetErrorString(kestrel_cuda_status_), #expr);                            \
  } while (0)

#define KESTREL_CUBLAS_CHECK(expr)                                                                 \
  do {                                                                                             \
    const cublasStatus_t kestrel_cublas_status_ = (expr);                                          \
    if (kestrel_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                           \
      ::kestrel::fail("cuBLAS error {} ({}) in {}", int(kestrel_cublas_status_),                 \
                      cublasGetStatusString(kestrel_cublas_status_), #expr);                       \
  } while (0)

DType to_dtype(DataType t);
int element_bytes(DType t);

using Launch = std::function<void(cudaStream_t)>;

// What a planner needs from the executor. `slot(v)` is where the executor keeps value v's device
// address: closures read it at launch time, so rebinding an input or output needs no re-planning.
struct PlanContext {
  const ir::Graph& graph;
  std::vector<void*>& addresses;
  cublasHandle_t cublas = nullptr;
  void** scratch = nullptr;     // executor-owned device scratch shared by all layers (sequential)
  size_t scratch_bytes = 0;     // planners raise it to what they need

  void* const* slot(int value) const { return &addresses[size_t(value)]; }
  const ir::Value& value(int v) const { return graph.values[size_t(v)]; }
  void need_scratch(size_t bytes) { scratch_bytes = std::max(scratch_bytes, bytes); }
};

struct CudaKernel {
  // Validates the node for this backend and returns the implementation name; throws (naming
  // what is unsupported) when the node cannot run on CUDA.
  std::string (*choose)(const ir::Graph& graph, const ir::Node& node) = nullptr;
  Launch (*plan)(PlanContext& ctx, const ir::Node& node) = nullptr;
};

const CudaKernel* find_cuda_kernel(const std::string& op_type);
std::vector<std::string> cuda_kernel_ops();

struct CudaKernelRegistrar {
  CudaKernelRegistrar(const char* op_type, CudaKernel kernel);
};

// Fusion attributes the backend adds to Conv nodes (see fusion in cuda_backend.cpp).
constexpr const char* kAttrActivation = "kestrel_activation";  // "Relu"
constexpr const char* kAttrResidual = "kestrel_residual";      // 1: input 3 is added before the activation
// 1: a GEMM convolution with an epilogue runs as one kernel (gemm_conv.cu) instead of cuBLAS and
// the separate epilogue kernel (set by the lowering, see fuse_gemm_epilogue.cpp).
constexpr const char* kAttrFusedGemm = "kestrel_fused_gemm";
// 1: InstanceNormalization runs in one launch where the instance fits (instance_norm_cluster.cu).
constexpr const char* kAttrSinglePassNorm = "kestrel_single_pass";
// InstanceNormalization followed by a per-channel affine (inputs 3 and 4): channel of flat index i
// is (i / inner) % channels.
constexpr const char* kAttrAffineInner = "kestrel_affine_inner";
constexpr const char* kAttrAffineChannels = "kestrel_affine_channels";
// Set by fuse_norm_into_gemm: on the InstanceNormalization, 1 = it writes only the statistics
// (its output is their float tensor); on the Conv, the instances per image and the epsilon of the
// normalisation it applies to its input (inputs 4..6: statistics, scale, bias; 7..8: the channel
// affine, when present).
constexpr const char* kAttrNormStatistics = "kestrel_norm_statistics";
constexpr const char* kAttrNormGroups = "kestrel_norm_groups";
constexpr const char* kAttrNormEpsilon = "kestrel_norm_epsilon";
// Set by fuse_quantizers_into_producers on a layer whose output it quantizes (int8 or uint8, the
// output's type) with this scale, as the absorbed QuantizeLinear did.
constexpr const char* kAttrOutputScale = "kestrel_y_scale";

// Helpers for planners.
// How a layer that may have absorbed its output's quantizer writes (kAttrOutputScale).
QuantizedOutput quantized_output(const ir::Graph& graph, const ir::Node& node);
// The 2-D geometry of a Conv-like node (X input 0, W input 1; strides, pads, dilations, group,
// auto_pad), without the activation (ops_nn.cpp).
Conv2d conv_geometry(const ir::Graph& graph, const ir::Node& node);
// `pads` [top, left, bottom, right] from a 2-D window op's auto_pad (SAME_UPPER / SAME_LOWER
// split the total the output size needs, the odd element at the end for SAME_UPPER; VALID: none;
// NOTSET: left as given). Arrays are (H, W).
void resolve_auto_pad(const std::string& auto_pad, const int64_t in[2], const int64_t out[2], const int64_t kernel[2],
                      const int64_t stride[2], const int64_t dilation[2], std::vector<int64_t>& pads);
// How the scales (input 1) and zero points (input 2) of a QuantizeLinear / DequantizeLinear
// follow its data tensor `data_value`: one value, or one per channel of `axis` (ops_quantize.cpp).
QuantAxis quant_axis(const ir::Graph& graph, const ir::Node& node, int data_value);
// Whether optional input i is present (not past the end, not an empty name).
inline bool has_input(const ir::Node& node, size_t i) { return i < node.inputs.size() && node.inputs[i] != ir::kNoValue; }
std::vector<int64_t> constant_ints(const ir::Graph& graph, const ir::Node& node, size_t input);
bool input_is_constant(const ir::Graph& graph, const ir::Node& node, size_t input);
Broadcast make_broadcast(const Shape& out, const std::vector<const Shape*>& inputs);
StridedCopy make_strided_copy(const Shape& dims, const std::vector<int64_t>& in_strides, int64_t in_base,
                              const std::vector<int64_t>& out_strides, int64_t out_base);

}  // namespace kestrel::cuda

#ifndef KESTREL_CONCAT
#define KESTREL_CONCAT_INNER(a, b) a##b
#define KESTREL_CONCAT(a, b) KESTREL_CONCAT_INNER(a, b)
#endif
#define KESTREL_REGISTER_CUDA_KERNEL(op_type, ...)                                                  \
  static ::kestrel::cuda::CudaKernelRegistrar KESTREL_CONCAT(kestrel_cuda_kernel_, __LINE__)(op_type, \
                                                                                             __VA_ARGS__)
