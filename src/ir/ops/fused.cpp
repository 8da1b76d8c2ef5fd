// Kestrel's own operators (domain "kestrel"): fusions that passes create for backends that run
// them faster as one layer. Each keeps an exact definition in terms of ONNX operators, and the
// CPU reference kernels implement it (src/backend/cpu/reference/fused.cpp), so a fused graph
// stays checkable against the unfused one.
//
// kestrel.FusedConv(X, W, B?, R?) -> Y
//   Y = act(Conv(X, W, B) + R). The attributes are Conv's plus
//     activation: "" (none), "Relu", or "Clip" (with activation_min / activation_max).
//   R, when present, has Y's shape (a residual: no broadcasting). B may be absent (kNoValue)
//   while R is present.
// kestrel.GroupNorm(X, scale, bias) -> Y
//   X is [N, C, D1..Dn] (n >= 0); scale and bias are [C]; attributes num_groups (G, dividing C)
//   and epsilon. For each n and group g, the mean and (biased) variance are taken over the C/G
//   channels of the group and all spatial positions, and
//     Y[n, c, ...] = (X[n, c, ...] - mean) / sqrt(var + epsilon) * scale[c] + bias[c],
//   i.e. ONNX GroupNormalization-21. It replaces the Reshape -> InstanceNormalization ->
//   Reshape -> Mul -> Add chain that exporters emit for torch.nn.GroupNorm.
// kestrel.SeparableAttention(QKV) -> Y
//   MobileViTv2's separable self-attention core. QKV is [B, 1 + 2C, S1..Sk, N] (k >= 0): the
//   query (channel 0), keys (channels 1..C) and values (channels C+1..2C). With s = softmax of
//   the query over N,
//     context[b, c, s..] = sum over n of K[b, c, s.., n] * s[b, s.., n]
//     Y[b, c, s.., n]    = relu(V[b, c, s.., n]) * context[b, c, s..]
//   It replaces Split -> Softmax -> Mul -> ReduceSum -> (Expand) -> Relu -> Mul.
// kestrel.LinearAttention(X, W, B) -> Y
//   SeparableAttention(Conv(X, W, B)) for a 1x1 convolution (stride 1, no padding, one group):
//   X is [B, C, S1..Sk, N], W is [1 + 2C, C, 1.., 1], B is [1 + 2C]. Since the softmax weights
//   sum to one, the context equals W_k (sum over n of X s) + B_k: a kernel need not project the
//   keys of every token (the same result up to rounding).
#include <algorithm>

#include "core/error.h"
#include "ir/op_registry.h"

namespace kestrel::ir {
namespace {

void check_float(const InferContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i))
      KESTREL_CHECK(ctx.input_dtype(i) == DataType::kFLOAT, "supports float32 only, input {} is {}", i,
                    dtype_name(ctx.input_dtype(i)));
}

void infer_fused_conv(InferContext& ctx) {
  check_float(ctx);
  const OpSchema* conv = find_op_schema("Conv");
  KESTREL_CHECK(conv != nullptr, "the Conv schema is not registered");
  // Conv's own inference on X, W, B, into a scratch value, so that R can be checked against it.
  Value out;
  std::vector<const Value*> conv_inputs;
  for (size_t i = 0; i < std::min<size_t>(3, ctx.num_inputs()); ++i)
    conv_inputs.push_back(ctx.has_input(i) ? &ctx.input(i) : nullptr);
  InferContext conv_ctx(ctx.node(), std::move(conv_inputs), {&out});
  conv->infer(conv_ctx);
  const std::string activation = ctx.attrs().get_string("activation", "");
  KESTREL_CHECK(activation.empty() || activation == "Relu" || activation == "Clip",
                "unknown activation '{}' (expected Relu or Clip)", activation);
  if (ctx.has_input(3))
    KESTREL_CHECK(ctx.input_shape(3) == out.shape, "the residual R {} must have the output's shape {}",
                  shape_str(ctx.input_shape(3)), shape_str(out.shape));
  ctx.set_output(0, out.dtype, out.shape);
}

void infer_group_norm(InferContext& ctx) {
  check_float(ctx);
  const Shape& x = ctx.input_shape(0);
  KESTREL_CHECK(x.size() >= 2, "X must be [N, C, ...], got {}", shape_str(x));
  const int64_t groups = ctx.attrs().get_int("num_groups");
  KESTREL_CHECK(groups >= 1 && x[1] % groups == 0, "num_groups {} must divide the {} channels", groups, x[1]);
  for (size_t i = 1; i <= 2; ++i)
    KESTREL_CHECK(ctx.input_shape(i) == Shape{x[1]}, "{} must be [{}], got {}", i == 1 ? "scale" : "bias", x[1],
                  shape_str(ctx.input_shape(i)));
  ctx.set_output(0, DataType::kFLOAT, x);
}

void infer_separable_attention(InferContext& ctx) {
  check_float(ctx);
  const Shape& qkv = ctx.input_shape(0);
  KESTREL_CHECK(qkv.size() >= 3, "QKV must be [B, 1 + 2C, ..., N], got {}", shape_str(qkv));
  KESTREL_CHECK(qkv[1] >= 1 && (qkv[1] - 1) % 2 == 0, "QKV must have 1 + 2C channels, got {}", qkv[1]);
  Shape out = qkv;
  out[1] = (qkv[1] - 1) / 2;
  ctx.set_output(0, DataType::kFLOAT, out);
}

void infer_linear_attention(InferContext& ctx) {
  check_float(ctx);
  const Shape& x = ctx.input_shape(0);
  const Shape& w = ctx.input_shape(1);
  KESTREL_CHECK(x.size() >= 3, "X must be [B, C, ..., N], got {}", shape_str(x));
  KESTREL_CHECK(w.size() == x.size() && w[0] == 1 + 2 * x[1] && w[1] == x[1],
                "W must be [1 + 2C, C, 1, ...] for X {}, got {}", shape_str(x), shape_str(w));
  for (size_t i = 2; i < w.size(); ++i) KESTREL_CHECK(w[i] == 1, "W must be a 1x1 kernel, got {}", shape_str(w));
  KESTREL_CHECK(ctx.input_shape(2) == Shape{w[0]}, "B must be [{}], got {}", w[0], shape_str(ctx.input_shape(2)));
  ctx.set_output(0, DataType::kFLOAT, x);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"kestrel.LinearAttention", 3, 3, 1, 1, infer_linear_attention});
KESTREL_REGISTER_OP(OpSchema{"kestrel.SeparableAttention", 1, 1, 1, 1, infer_separable_attention});
KESTREL_REGISTER_OP(OpSchema{"kestrel.FusedConv", 2, 4, 1, 1, infer_fused_conv});
KESTREL_REGISTER_OP(OpSchema{"kestrel.GroupNorm", 3, 3, 1, 1, infer_group_norm});

}  // namespace kestrel::ir
