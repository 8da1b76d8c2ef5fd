// Reference kernels for Kestrel's own fused operators (src/ir/ops/fused.cpp defines them). They
// are written as the chain they replace: the reference Conv, then the residual and the
// activation. kestrel.GroupNorm shares GroupNormalization's kernel (normalization.cpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"

namespace kestrel::cpu {
namespace {

void fused_conv_kernel(const KernelContext& ctx) {
  static const ReferenceKernel conv = find_reference_kernel("Conv");
  KESTREL_CHECK(conv != nullptr, "no reference Conv kernel");
  std::vector<const Tensor*> conv_inputs{&ctx.input(0), &ctx.input(1)};
  if (ctx.has_input(2)) conv_inputs.push_back(&ctx.input(2));
  Tensor& y = ctx.output(0);
  conv(KernelContext(ctx.node(), conv_inputs, {&y}));

  float* out = y.data<float>();
  const int64_t n = y.numel();
  if (ctx.has_input(3)) {
    const float* r = ctx.input(3).data<float>();
    for (int64_t i = 0; i < n; ++i) out[i] += r[i];
  }
  const std::string activation = ctx.attrs().get_string("activation", "");
  if (activation == "Relu") {
    for (int64_t i = 0; i < n; ++i) out[i] = out[i] < 0 ? 0.0f : out[i];
  } else if (activation == "Clip") {
    const float lo = ctx.attrs().get_float("activation_min", -std::numeric_limits<float>::infinity());
    const float hi = ctx.attrs().get_float("activation_max", std::numeric_limits<float>::infinity());
    for (int64_t i = 0; i < n; ++i) out[i] = std::min(std::max(out[i], lo), hi);
  } else {
    KESTREL_CHECK(activation.empty(), "unknown activation '{}'", activation);
  }
}

// The attention core on QKV [B, 1 + 2C, S.., N] into Y [B, C, S.., N].
void separable_attention(const Tensor& qkv, Tensor& y) {
  const int64_t batch = qkv.dim(0), channels = y.dim(1), tokens = qkv.dim(-1);
  const int64_t rows = tokens == 0 ? 0 : qkv.numel() / (batch * qkv.dim(1) * tokens);  // positions S1..Sk
  const float* in = qkv.data<float>();
  float* out = y.data<float>();
  std::vector<float> scores(static_cast<size_t>(tokens));
  for (int64_t b = 0; b < batch; ++b) {
    const float* base = in + b * qkv.dim(1) * rows * tokens;
    for (int64_t r = 0; r < rows; ++r) {
      const float* q = base + r * tokens;
      float max = -std::numeric_limits<float>::infinity();
      for (int64_t n = 0; n < tokens; ++n) max = std::max(max, q[n]);
      double total = 0;
      for (int64_t n = 0; n < tokens; ++n) total += scores[size_t(n)] = std::exp(q[n] - max);
      for (int64_t n = 0; n < tokens; ++n) scores[size_t(n)] = float(scores[size_t(n)] / total);
      for (int64_t c = 0; c < channels; ++c) {
        const float* k = base + ((1 + c) * rows + r) * tokens;
        const float* v = base + ((1 + channels + c) * rows + r) * tokens;
        double context = 0;
        for (int64_t n = 0; n < tokens; ++n) context += double(k[n]) * scores[size_t(n)];
        float* o = out + ((b * channels + c) * rows + r) * tokens;
        for (int64_t n = 0; n < tokens; ++n) o[n] = std::max(v[n], 0.0f) * float(context);
      }
    }
  }
}

void separable_attention_kernel(const KernelContext& ctx) { separable_attention(ctx.input(0), ctx.output(0)); }

// As defined: the 1x1 projection with the reference Conv, then the core.
void linear_attention_kernel(const KernelContext& ctx) {
  static const ReferenceKernel conv = find_reference_kernel("Conv");
  KESTREL_CHECK(conv != nullptr, "no reference Conv kernel");
  const Tensor& x = ctx.input(0);
  Shape qkv_shape = x.shape();
  qkv_shape[1] = ctx.input(1).dim(0);
  Tensor qkv(DataType::kFLOAT, qkv_shape);
  ir::Node node = ctx.node();
  node.attrs = ir::Attributes();
  conv(KernelContext(node, {&x, &ctx.input(1), &ctx.input(2)}, {&qkv}));
  separable_attention(qkv, ctx.output(0));
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("kestrel.SeparableAttention", separable_attention_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("kestrel.LinearAttention", linear_attention_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("kestrel.FusedConv", fused_conv_kernel);

}  // namespace kestrel::cpu
