// kestrel.SeparableAttention and kestrel.LinearAttention (src/ir/ops/fused.cpp) on the row
// kernels of vector_ops.h. AVX-512 and portable registrations, like eltwise.cpp.
//
// SeparableAttention: per position, the query row's softmax, then per channel one dot product
// with the key row and one scaled ReLU of the value row.
// LinearAttention: the query is a dot product per token (C multiply-adds), the context
// W_k (X s) + B_k a matrix-vector product per position, so only the values go through a full
// 1x1 projection (cpu.onednn.pointwise, prepared here on the value rows of W and B): half the work
// of projecting query, keys and values.
#include <algorithm>

#include "backend/cpu/fast/kernel.h"
#include "backend/cpu/fast/parallel.h"
#include "backend/cpu/fast/vector_ops.h"

namespace kestrel::cpu::fast {
namespace {

bool accepts(const ir::Graph& graph, const ir::Node& node) {
  return node.inputs.size() == 1 && node.outputs.size() == 1 && is_float(graph, node.inputs[0]) &&
         value_of(graph, node.inputs[0]).shape.size() >= 3;
}

class SeparableAttentionKernel final : public Kernel {
 public:
  SeparableAttentionKernel(const PrepareContext& ctx, const VectorOps& ops) : ops_(ops) {
    const Shape& qkv = ctx.input(0).shape;
    batch_ = qkv[0];
    channels_ = (qkv[1] - 1) / 2;
    tokens_ = qkv.back();
    positions_ = tokens_ == 0 || qkv[1] == 0 ? 0 : shape_numel(qkv) / (batch_ * qkv[1] * tokens_);
    scores_.resize(size_t(std::max<int64_t>(1, batch_ * positions_ * tokens_)));
  }

  void run(const RunContext& ctx) override {
    const float* qkv = ctx.in<float>(0);
    float* y = ctx.out<float>(0);
    const int64_t plane = positions_ * tokens_, in_per_batch = (1 + 2 * channels_) * plane;
    for (int64_t b = 0; b < batch_; ++b)
      ops_.softmax_rows(qkv + b * in_per_batch, scores_.data() + b * plane, positions_, tokens_);
    const int64_t work = batch_ * channels_;
    const int64_t grain = std::max<int64_t>(1, kMemoryGrain / std::max<int64_t>(1, plane));
    parallel_for(work, ctx.threads, grain, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t b = item / channels_, c = item % channels_;
        const float* k = qkv + b * in_per_batch + (1 + c) * plane;
        const float* v = qkv + b * in_per_batch + (1 + channels_ + c) * plane;
        const float* s = scores_.data() + b * plane;
        float* out = y + (b * channels_ + c) * plane;
        for (int64_t p = 0; p < positions_; ++p) {
          const float context = ops_.dot(k + p * tokens_, s + p * tokens_, tokens_);
          ops_.relu_scale(v + p * tokens_, out + p * tokens_, tokens_, context);
        }
      }
    });
  }

 private:
  const VectorOps& ops_;
  int64_t batch_ = 0, channels_ = 0, positions_ = 0, tokens_ = 0;
  std::vector<float> scores_;  // prepared once
};

template <Isa isa>
std::unique_ptr<Kernel> create(const PrepareContext& ctx) {
  return std::make_unique<SeparableAttentionKernel>(ctx, ops_for(isa));
}

bool linear_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() != 3 || node.outputs.size() != 1) return false;
  for (int v : node.inputs)
    if (!is_float(graph, v)) return false;
  const Shape& x = value_of(graph, node.inputs[0]).shape;
  return is_constant(graph, node.inputs[1]) && is_constant(graph, node.inputs[2]) && x.size() >= 3 &&
         shape_numel(x) > 0 && find_kernel_impl("Conv", "cpu.onednn.conv") != nullptr;
}

class LinearAttentionKernel final : public Kernel {
 public:
  LinearAttentionKernel(const PrepareContext& ctx, const VectorOps& ops) : ops_(ops) {
    const Shape& x = ctx.input(0).shape;
    batch_ = x[0];
    channels_ = x[1];
    tokens_ = x.back();
    positions_ = tokens_ == 0 || channels_ == 0 ? 0 : shape_numel(x) / (batch_ * channels_ * tokens_);
    const int64_t c = channels_;
    const float* w = ctx.input(1).constant->data<float>();
    const float* b = ctx.input(2).constant->data<float>();
    w_query_.assign(w, w + c);
    b_query_ = b[0];
    // The keys' weights transposed: column ch of W_k contiguous, for axpy over output channels.
    w_key_t_.resize(size_t(c * c));
    for (int64_t k = 0; k < c; ++k)
      for (int64_t ch = 0; ch < c; ++ch) w_key_t_[size_t(ch * c + k)] = w[(1 + k) * c + ch];
    b_key_.assign(b + 1, b + 1 + c);

    // The value projection: a 1x1 Conv on the value rows, prepared by cpu.onednn.conv, on the
    // 4-D view [B, C, positions, N] of X.
    ir::Graph graph;
    ir::Value in;
    in.name = "x";
    in.shape = {batch_, c, positions_, tokens_};
    in.shape_known = true;
    const int x_id = graph.add_value(in);
    const Shape w_shape{c, c, 1, 1};
    Tensor w_value(DataType::kFLOAT, w_shape), b_value(DataType::kFLOAT, {c});
    std::copy(w + (1 + c) * c, w + (1 + 2 * c) * c, w_value.data<float>());
    std::copy(b + 1 + c, b + 1 + 2 * c, b_value.data<float>());
    const int w_id = graph.add_constant("w_value", std::move(w_value));
    const int b_id = graph.add_constant("b_value", std::move(b_value));
    ir::Value out = in;
    out.name = "v";
    const int out_id = graph.add_value(out);
    ir::Node conv;
    conv.name = ctx.node().name + "_values";
    conv.op_type = "Conv";
    conv.opset = 17;
    conv.inputs = {x_id, w_id, b_id};
    conv.outputs = {out_id};
    // The matmul form of the 1x1 conv where this build has it: on these plain [B, C, P, N]
    // tensors it beat oneDNN's GEMM-based convolution on every SMAT layer timed (10-20%).
    const KernelImpl* impl = find_kernel_impl("Conv", "cpu.onednn.pointwise");
    if (!impl) impl = find_kernel_impl("Conv", "cpu.onednn.conv");
    values_ = impl->create(PrepareContext(graph, conv, {Layout::kPlain, Layout::kPlain, Layout::kPlain},
                                          {Layout::kPlain}, ctx.threads()));

    ScratchPlan plan;
    conv_scratch_ = plan.add(values_->scratch_bytes());
    v_ = plan.add(size_t(shape_numel(x)) * sizeof(float));
    q_ = plan.add(size_t(positions_ * tokens_) * sizeof(float));
    scores_ = plan.add(size_t(positions_ * tokens_) * sizeof(float));
    mean_ = plan.add(size_t(c * positions_) * sizeof(float));
    context_ = plan.add(size_t(c * positions_) * sizeof(float));  // [position][channel]
    scratch_bytes_ = plan.total;
  }

  size_t scratch_bytes() const override { return scratch_bytes_; }
  std::string detail() const override { return "values: " + values_->detail(); }

  void run(const RunContext& ctx) override {
    char* scratch = static_cast<char*>(ctx.scratch);
    float* v = reinterpret_cast<float*>(scratch + v_);
    float* q = reinterpret_cast<float*>(scratch + q_);
    float* scores = reinterpret_cast<float*>(scratch + scores_);
    float* mean = reinterpret_cast<float*>(scratch + mean_);
    float* context = reinterpret_cast<float*>(scratch + context_);
    const float* x = ctx.in<float>(0);
    float* y = ctx.out<float>(0);

    RunContext conv_ctx;
    const void* conv_inputs[3] = {x, nullptr, nullptr};
    void* conv_outputs[1] = {v};
    conv_ctx.inputs = conv_inputs;
    conv_ctx.outputs = conv_outputs;
    conv_ctx.scratch = scratch + conv_scratch_;
    conv_ctx.threads = ctx.threads;
    values_->run(conv_ctx);

    const int64_t c = channels_, plane = positions_ * tokens_;
    for (int64_t b = 0; b < batch_; ++b) {
      const float* xb = x + b * c * plane;
      // Query per token, its softmax per position.
      std::fill(q, q + plane, b_query_);
      for (int64_t ch = 0; ch < c; ++ch) ops_.axpy(w_query_[size_t(ch)], xb + ch * plane, q, plane);
      ops_.softmax_rows(q, scores, positions_, tokens_);
      // The softmax-weighted mean token per position, then the keys' projection of it.
      for (int64_t ch = 0; ch < c; ++ch)
        for (int64_t p = 0; p < positions_; ++p)
          mean[ch * positions_ + p] = ops_.dot(xb + ch * plane + p * tokens_, scores + p * tokens_, tokens_);
      for (int64_t p = 0; p < positions_; ++p) {
        float* ctx_p = context + p * c;
        std::copy(b_key_.begin(), b_key_.end(), ctx_p);
        for (int64_t ch = 0; ch < c; ++ch) ops_.axpy(mean[ch * positions_ + p], w_key_t_.data() + ch * c, ctx_p, c);
      }
      const float* vb = v + b * c * plane;
      float* yb = y + b * c * plane;
      const int64_t grain = std::max<int64_t>(1, kMemoryGrain / std::max<int64_t>(1, plane));
      parallel_for(c, ctx.threads, grain, [&](int64_t begin, int64_t end) {
        for (int64_t ch = begin; ch < end; ++ch)
          for (int64_t p = 0; p < positions_; ++p)
            ops_.relu_scale(vb + ch * plane + p * tokens_, yb + ch * plane + p * tokens_, tokens_,
                            context[p * c + ch]);
      });
    }
  }

 private:
  struct ScratchPlan {
    size_t total = 0;
    size_t add(size_t bytes) {
      const size_t offset = total;
      total += (bytes + 63) / 64 * 64;
      return offset;
    }
  };

  const VectorOps& ops_;
  int64_t batch_ = 0, channels_ = 0, positions_ = 0, tokens_ = 0;
  std::vector<float> w_query_, w_key_t_, b_key_;
  float b_query_ = 0;
  std::unique_ptr<Kernel> values_;
  size_t conv_scratch_ = 0, v_ = 0, q_ = 0, scores_ = 0, mean_ = 0, context_ = 0, scratch_bytes_ = 0;
};

template <Isa isa>
std::unique_ptr<Kernel> create_linear(const PrepareContext& ctx) {
  return std::make_unique<LinearAttentionKernel>(ctx, ops_for(isa));
}

}  // namespace

KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.avx512.attention", "kestrel.SeparableAttention", Isa::kAvx512Core, accepts,
                                        nullptr, create<Isa::kAvx512Core>, 1});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.generic.attention", "kestrel.SeparableAttention", Isa::kBaseline, accepts,
                                        nullptr, create<Isa::kBaseline>, 0});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.avx512.attention", "kestrel.LinearAttention", Isa::kAvx512Core,
                                        linear_accepts, nullptr, create_linear<Isa::kAvx512Core>, 1});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.generic.attention", "kestrel.LinearAttention", Isa::kBaseline,
                                        linear_accepts, nullptr, create_linear<Isa::kBaseline>, 0});

}  // namespace kestrel::cpu::fast
