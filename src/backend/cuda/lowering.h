// Fusions of the CUDA lowering (lower_for_cuda in cuda_backend.cpp) that live in files of their
// own. Each rewrites the lowered graph only; the engine file keeps the plain ONNX layers, and the
// lowering runs them again, in the same order, when an execution context is created.
#pragma once
#include <set>
#include <string>

#include "ir/graph.h"

namespace kestrel::cuda {

// Marks one-group 2-D convolutions (1x1 GEMMs and im2col convolutions) so that those with an
// epilogue (bias, residual, ReLU) run as one GEMM kernel with the epilogue inside
// (gemm_conv.cu) instead of cuBLAS plus the epilogue kernel; only the layers named in `only` when
// it is not empty. Returns the number marked.
int mark_fused_gemm_convs(ir::Graph& graph, const std::set<std::string>& only = {});

// Marks InstanceNormalization layers to run in one launch (a cluster of blocks per instance,
// instance_norm_cluster.cu) where the instance fits; only those named in `only` when it is not
// empty. Returns the number marked.
int mark_single_pass_norms(ir::Graph& graph, const std::set<std::string>& only = {});

// Chains of data-movement layers (Slice, Transpose, Expand, DepthToSpace, SpaceToDepth, through
// reshapes) whose composed element map is one strided map become one kestrel.StridedCopy layer
// (lower_copy_chains.cpp). Returns the number of layers folded away.
int fold_copy_chains(ir::Graph& graph);

// DequantizeLinear layers of constants (the int8 weights of QDQ models) become float constants
// (lower_weight_dequantize.cpp), except, with `keep_integer_conv_weights`, those that only feed
// convolutions lower_qdq_convs will run on integers. Returns the number folded.
int fold_weight_dequantize(ir::Graph& graph, bool keep_integer_conv_weights = false);

// Convolutions between a DequantizeLinear of an int8/uint8 activation and of an int8 weight (QDQ
// models) become kestrel.QConv layers run on integers (lower_qdq_conv.cpp, qconv.cu), absorbing the
// QuantizeLinear that is their output's only reader. Runs after the epilogue fusion and before the
// FP16 rewrite. Returns the number lowered.
int lower_qdq_convs(ir::Graph& graph);
// A per-tensor QuantizeLinear (zero point 0) that is the only reader of the output of an
// InstanceNormalization or a kestrel.SeparableAttention goes into that layer, which then writes
// int8 (lower_quantize_into_producers.cpp): one launch and one float tensor less each. Runs
// before the FP16 rewrite. Returns the number absorbed.
int fuse_quantizers_into_producers(ir::Graph& graph);
// Whether every reader of the DequantizeLinear `dq` is the weight of a convolution that
// lower_qdq_convs takes.
bool feeds_integer_conv(const ir::Graph& graph, const ir::Node& dq);

// Convolutions with one-hot filters and no padding (exported patch unfolds) become
// kestrel.StridedCopy layers (lower_unfold_copies.cpp), before the copy chains are folded.
// Returns the number lowered.
int lower_unfold_copies(ir::Graph& graph);

// InstanceNormalization layers whose only reader is a 1x1 convolution (FP16, shapes the pipelined
// GEMM takes) keep only their statistics launch; the convolution reads the raw tensor and
// normalises it while loading (lower_norm_into_gemm.cpp). Runs after the FP16 rewrite. Returns
// the number of normalisations moved into GEMMs.
int fuse_norm_into_gemm(ir::Graph& graph);

// MobileViTv2's separable attention core (Split -> Softmax -> Mul -> ReduceSum -> Expand -> Relu
// -> Mul) becomes one kestrel.SeparableAttention layer, through the same rewrite that the CPU
// backend uses (src/passes/fuse_separable_attention.cpp). The fused layer takes the name and
// precision of the chain's last Mul and Split. Runs before the FP16 rewrite (the pass matches
// FP32 values). Returns the number of chains fused.
int fuse_separable_attention(ir::Graph& graph);

}  // namespace kestrel::cuda
