// Planner of kestrel.SeparableAttention (src/ir/ops/fused.cpp), which the CUDA lowering creates
// from MobileViTv2's Split -> Softmax -> Mul -> ReduceSum -> Expand -> Relu -> Mul chain
// (fuse_separable_attention.cpp beside this file). One kernel, separable_attention.cu.
#include "backend/cuda/cuda_ops.h"

namespace kestrel::cuda {
namespace {

// QKV [B, 1 + 2C, S1..Sk, N] seen as [B, 1 + 2C, positions, N].
SeparableAttentionShape attention_shape(const ir::Graph& g, const ir::Node& node) {
  const ir::Value& qkv = g.values[size_t(node.inputs[0])];
  const Shape& s = qkv.shape;
  KESTREL_CHECK(qkv.dtype == DataType::kFLOAT || qkv.dtype == DataType::kHALF, "{}: float input expected",
                ir::describe(node));
  KESTREL_CHECK(s.size() >= 3 && s[1] >= 1 && (s[1] - 1) % 2 == 0, "{}: QKV must be [B, 1 + 2C, ..., N], got {}",
                ir::describe(node), shape_str(s));
  int64_t positions = 1;
  for (size_t d = 2; d + 1 < s.size(); ++d) positions *= s[d];
  KESTREL_CHECK(s.back() <= kSeparableAttentionMaxTokens, "{}: at most {} tokens, got {}", ir::describe(node),
                kSeparableAttentionMaxTokens, s.back());
  KESTREL_CHECK(positions <= 65535 && s[0] <= 65535, "{}: too many positions or batches for one launch ({})",
                ir::describe(node), shape_str(s));
  SeparableAttentionShape p;
  p.batch = int(s[0]);
  p.channels = int((s[1] - 1) / 2);
  p.positions = int(positions);
  p.tokens = int(s.back());
  return p;
}

std::string choose_separable_attention(const ir::Graph& g, const ir::Node& node) {
  attention_shape(g, node);
  return "cuda.separable_attention";
}

Launch plan_separable_attention(PlanContext& ctx, const ir::Node& node) {
  const SeparableAttentionShape p = attention_shape(ctx.graph, node);
  const DType dtype = to_dtype(ctx.value(node.inputs[0]).dtype);
  void* const* qkv = ctx.slot(node.inputs[0]);
  void* const* y = ctx.slot(node.outputs[0]);
  const QuantizedOutput out = quantized_output(ctx.graph, node);
  return [=](cudaStream_t s) { launch_separable_attention(dtype, p, *qkv, *y, s, out); };
}

}  // namespace

KESTREL_REGISTER_CUDA_KERNEL("SeparableAttention", CudaKernel{choose_separable_attention, plan_separable_attention});

}  // namespace kestrel::cuda
