// CUDA kernels of the CUDA backend, as plain host-callable launch functions with POD parameters.
// The .cu files hold the kernels (compiled by nvcc); the planning code that turns a graph node
// into these parameters lives in .cpp files (compiled by the host compiler). Every launch goes on
// the given stream and never synchronises. Element storage types are those of the graph values:
// float32 or float16 for float tensors (float16 kernels compute in float32), and the integer and
// bool types natively.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace kestrel::cuda {

enum class DType : uint8_t { kF32 = 0, kF16 = 1, kI8 = 2, kI32 = 3, kI64 = 4, kU8 = 5, kBool = 6 };

constexpr int kMaxRank = 8;

// ---------------------------------------------------------------- element-wise
enum class UnaryOp : uint8_t {
  kIdentity, kRelu, kLeakyRelu, kSigmoid, kTanh, kExp, kLog, kSqrt, kNeg, kAbs, kReciprocal, kFloor, kCeil,
  kClip, kErf, kHardSigmoid, kHardSwish, kSoftplus, kGelu, kElu, kSelu, kSoftsign, kRound, kSign, kSin, kCos
};
// y = op(x) over n elements (float32/float16; kIdentity, kNeg, kAbs, kRelu also on int32/int64).
// alpha/beta: LeakyRelu and Elu alpha; Clip min/max; HardSigmoid alpha/beta; Selu alpha/gamma.
void launch_unary(UnaryOp op, DType dtype, const void* x, void* y, int64_t n, float alpha, float beta,
                  cudaStream_t stream);

enum class BinaryOp : uint8_t {
  kAdd, kSub, kMul, kDiv, kMod, kFMod, kPow, kMax, kMin,                  // same type out
  kEqual, kLess, kLessOrEqual, kGreater, kGreaterOrEqual, kAnd, kOr, kXor  // bool out
};

// Up to three inputs broadcast numpy-style against the output; strides in elements (0 where
// broadcast). `contiguous[k]` means input k has exactly the output's shape.
struct Broadcast {
  int rank = 0;
  int64_t n = 0;
  int64_t dims[kMaxRank] = {};
  int64_t strides[3][kMaxRank] = {};
  bool contiguous[3] = {};
};

// y = a op b; `in` is the type of a and b. The output type is `in` for arithmetic, bool for
// comparisons and logic.
void launch_binary(BinaryOp op, DType in, const Broadcast& b, const void* a, const void* bb, void* y,
                   cudaStream_t stream);
// y = cond ? a : b (cond bool; a, b, y of `dtype`).
void launch_where(DType dtype, const Broadcast& b, const void* cond, const void* a, const void* bb, void* y,
                  cudaStream_t stream);
// y = cast(x) between any two of float32, float16, int8, int32, int64, uint8, bool.
void launch_cast(DType from, DType to, const void* x, void* y, int64_t n, cudaStream_t stream);

// ---------------------------------------------------------------- data movement
// out[out_base + sum c_d * out_strides[d]] = in[in_base + sum c_d * in_strides[d]] for every
// coordinate c of `dims` (row-major). Elements are moved as raw bytes of `element_size`.
struct StridedCopy {
  int rank = 0;
  int64_t n = 0;
  int64_t dims[kMaxRank] = {};
  int64_t in_strides[kMaxRank] = {};
  int64_t out_strides[kMaxRank] = {};
  int64_t in_base = 0, out_base = 0;
};
void launch_strided_copy(int element_size, const StridedCopy& p, const void* in, void* out, cudaStream_t stream);

// Pad (pad.cu): out[c] = in[source(c)] along every axis, source = c - begin where inside, else
// by mode: constant (the element `fill`, raw bytes), edge (clamped), reflect (mirrored about the
// edge elements), wrap (modulo). Negative begins crop. Elements are raw bytes of `element_size`.
enum class PadMode : uint8_t { kConstant, kEdge, kReflect, kWrap };
struct Pad {
  int rank = 0;
  int64_t n = 0;  // output elements
  int64_t out_dims[kMaxRank] = {}, in_dims[kMaxRank] = {}, begin[kMaxRank] = {};
  PadMode mode = PadMode::kConstant;
  uint64_t fill = 0;  // the constant's bytes (the low element_size of them)
};
void launch_pad(int element_size, const Pad& p, const void* in, void* out, cudaStream_t stream);

// GatherElements: out[c] = data[c with c[axis] := index[c]]; `index` is contiguous with the
// output's shape, data read through `data_strides`.
struct GatherElements {
  int rank = 0;
  int64_t n = 0;
  int axis = 0;
  int64_t axis_size = 0;
  int64_t dims[kMaxRank] = {};
  int64_t data_strides[kMaxRank] = {};
};
void launch_gather_elements(int element_size, DType index_type, const GatherElements& p, const void* data,
                            const void* index, void* out, cudaStream_t stream);

// Gather: out[o, j, r] = data[o, index[j], r] over [outer, count, inner], data being
// [outer, axis_size, inner]; negative indices count from the end, out-of-range ones clamp (as
// GatherElements here).
struct Gather {
  int64_t n = 0, outer = 1, count = 1, inner = 1, axis_size = 1;
};
void launch_gather(int element_size, DType index_type, const Gather& p, const void* data, const void* index, void* out,
                   cudaStream_t stream);

// ---------------------------------------------------------------- convolution
enum class Activation : uint8_t { kNone = 0, kRelu = 1 };

struct Conv2d {
  int n = 0, c = 0, h = 0, w = 0;  // input
  int k = 0, oh = 0, ow = 0;       // output channels and size
  int kh = 0, kw = 0, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1, dw = 1;
  int groups = 1;
  Activation act = Activation::kNone;
};
// Direct convolution, NCHW, float accumulation: y = act(conv(x, w) + bias + residual).
// bias (length k) and residual (y's shape) may be null. Depthwise 3x3 and dense convolutions with
// a short reduction (small_reduction_conv) have kernels of their own.
void launch_conv2d(DType dtype, const Conv2d& p, const void* x, const void* w, const void* bias,
                   const void* residual, void* y, cudaStream_t stream);
// One group and C x KH x KW <= kSmallReduction, other than a plain 1x1 (a GEMM): launch_conv2d's
// small-reduction kernel, which beats im2col + GEMM there (SMAT's RGB stem: 27).
constexpr int kSmallReduction = 32;
bool small_reduction_conv(const Conv2d& p);
// im2col for the GEMM convolution: col[n][c*kh*kw][oh*ow] (zeros where the taps fall in padding);
// float32/float16, and int8/uint8 for the integer convolutions.
void launch_im2col(DType dtype, const Conv2d& p, const void* x, void* col, cudaStream_t stream);
// In place on y [n, c, spatial]: y = act(y + bias[c] + residual).
void launch_bias_act(DType dtype, void* y, const void* bias, const void* residual, int n, int c, int64_t spatial,
                     Activation act, cudaStream_t stream);

// One-kernel GEMM convolution with its epilogue:
//   Y_b[m, j] = act(sum_k W[m, k] X_b[k, j] + bias[m] + residual_b[m, j])
// W is [m, k] row-major, Y and the residual [batch, m, n]; bias and residual may be null. X_b is
// the [k, n] row-major matrix at x + b * x_batch_stride (1x1 convolutions), or with `implicit`
// the im2col matrix of the convolution `conv` read straight from its NCHW input (k = c*kh*kw,
// n = oh*ow; no im2col launch, no scratch). FP16 runs on tensor cores (FP32 accumulation), FP32 on
// the CUDA cores in FP32 (no TF32, so it matches the CPU reference like cuBLAS does).
//
// With `norm.partials`, X_b is normalised while the GEMM loads it (the pipelined kernel only, see
// gemm_norm_applies): its k rows are `norm.groups` instances of k / groups rows each, whose
// statistics are the Welford partials that launch_norm_statistics wrote, and element x of row r of
// instance i becomes (x * g_i + b_i) * channel_scale[r] + channel_bias[r] with g_i = scale[i] *
// inv_std_i and b_i = bias[i] - mean_i * g_i: the arithmetic of the InstanceNormalization
// kernels, so the GEMM sees the bits the normalisation layer would have written.
struct GemmNorm {
  const void* partials = nullptr;       // null: no normalisation
  const void* scale = nullptr;          // [groups]
  const void* bias = nullptr;           // [groups]
  const void* channel_scale = nullptr;  // [k] or null (GroupNorm's affine as exported)
  const void* channel_bias = nullptr;   // [k] or null
  int groups = 1, chunks = 1;           // instances per image, partials per instance
  float epsilon = 1e-5f;
};
constexpr int kMaxGemmNormRows = 512;  // k of a normalised GEMM: its per-row factors live in shared memory
struct GemmConv {
  int batch = 1, m = 0, n = 0, k = 0;
  int64_t x_batch_stride = 0;
  Activation act = Activation::kNone;
  bool implicit = false;
  Conv2d conv;  // with `implicit`
  GemmNorm norm;
};
void launch_gemm_conv(DType dtype, const GemmConv& p, const void* w, const void* x, const void* bias,
                      const void* residual, void* y, cudaStream_t stream);
// The pipelined FP16 1x1 kernel (gemm_conv_pipelined.cu) that launch_gemm_conv takes when it
// applies: FP16, not implicit, K, N and the batch stride multiples of 8, 16-byte aligned pointers.
bool gemm_conv_pipelined_applies(DType dtype, const GemmConv& p, const void* w, const void* x, const void* residual,
                                 const void* y);
void launch_gemm_conv_pipelined(const GemmConv& p, const void* w, const void* x, const void* bias, const void* residual,
                                void* y, cudaStream_t stream);
// Shapes a normalised GEMM takes (the pointers' alignment is checked at launch by
// gemm_conv_pipelined_applies): FP16, a 1x1 GEMM with K and N multiples of 8, K <= kMaxGemmNormRows
// and a multiple of the groups.
bool gemm_norm_applies(int k, int n, int groups);

// ---------------------------------------------------------------- pooling
// MaxPool / AveragePool over 2-D windows of NCHW values (pool.cu), one thread per output, with
// the reference's rules (src/backend/cpu/reference/pool.cpp): padding never takes part in a
// maximum or a sum; the average divides by the in-bounds taps, or with count_include_pad by the
// taps inside the padded input; a window with nothing to reduce gives the type's lowest value
// (max) or 0 (average).
struct Pool2d {
  int planes = 0, h = 0, w = 0, oh = 0, ow = 0;  // planes = batch x channels
  int kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool max = true, count_include_pad = false;
};
void launch_pool2d(DType dtype, const Pool2d& p, const void* x, void* y, cudaStream_t stream);

// ---------------------------------------------------------------- resize
// Resize of the last two axes of NCHW values (resize.cu), with the reference's coordinate maps,
// rounding and tap weights (src/backend/cpu/reference/resize.cpp): nearest (four rounding modes),
// linear and cubic (Keys, cubic_a, exclude_outside), every coordinate_transformation_mode;
// coordinates and weights in double as there.
enum class ResizeMode : uint8_t { kNearest, kLinear, kCubic };
enum class NearestRounding : uint8_t { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };
enum class CoordinateTransform : uint8_t {
  kHalfPixel, kHalfPixelSymmetric, kPytorchHalfPixel, kAlignCorners, kAsymmetric, kTfHalfPixelForNn, kTfCropAndResize
};
struct ResizeAxis {
  int in = 1, out = 1;
  double scale = 1, length_resized = 1, roi_start = 0, roi_end = 1;
};
struct Resize2d {
  int planes = 0;  // batch x channels
  ResizeAxis y, x;
  ResizeMode mode = ResizeMode::kNearest;
  NearestRounding rounding = NearestRounding::kRoundPreferFloor;
  CoordinateTransform transform = CoordinateTransform::kHalfPixel;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  float extrapolation_value = 0.f;
};
void launch_resize2d(DType dtype, const Resize2d& p, const void* x, void* y, cudaStream_t stream);

// ---------------------------------------------------------------- quantization
// QuantizeLinear (float32/float16 `f` -> int8/uint8) and DequantizeLinear (int8/uint8/int32 ->
// float32/float16 `f`), per tensor or per axis: element i uses scale and zero point
// (i / inner) % channels (quantize.cu). Scales are float32.
struct QuantAxis {
  int64_t n = 0, inner = 1, channels = 1;
  bool per_channel_scale = false, per_channel_zp = false;  // else one value
};
void launch_quantize_linear(DType q, DType f, const QuantAxis& axis, const void* x, const void* scales,
                            const void* zero_points, void* y, cudaStream_t stream);
void launch_dequantize_linear(DType q, DType f, const QuantAxis& axis, const void* x, const void* scales,
                              const void* zero_points, void* y, cudaStream_t stream);

// ---------------------------------------------------------------- integer convolution
// kestrel.QConv (src/ir/ops/qconv.cpp) on integers (qconv.cu): int8 or uint8 X (one scale, zero
// point 0) and int8 W, accumulated exactly in int32, then once per output
//   f = act(acc * x_scale * w_scale[m] + bias[m] + residual)
// written as float32/float16, or requantized as QuantizeLinear(f, y_scale) does (division, half to
// even, saturation, NaN to 0) into int8/uint8. bias (float32) and residual (the output's shape,
// float32 or float16) may be null; w_scale has one value or one per output channel.
struct QConv {
  Conv2d conv;  // shapes, strides, pads, groups and the activation
  float x_scale = 1.f;
  float y_scale = 0.f;  // 0: float output
  bool per_channel_scale = false;
  DType x = DType::kI8, y = DType::kF32, residual = DType::kF32;
};
enum class QConvKernel : uint8_t {
  kGemm,        // 1x1, stride 1, no padding, one group, int8 X: one tensor-core GEMM (cp.async tiles where
                // K, the pixel count and the pointers are 16-byte aligned, byte loads otherwise)
  kIm2colGemm,  // other one-group convolutions: an int8 im2col, then that GEMM
  kDepthwise3x3,  // depthwise 3x3 (any stride and padding, no dilation): a 2-D tile of outputs per block
  kDirect       // everything else (grouped, uint8 X, C x KH x KW <= kSmallReduction): one thread per output
};
QConvKernel choose_qconv_kernel(const QConv& p);
const char* qconv_kernel_name(QConvKernel kernel);
// Device scratch the kernel needs (the im2col matrix), in bytes.
size_t qconv_scratch_bytes(const QConv& p, QConvKernel kernel);
void launch_qconv(const QConv& p, QConvKernel kernel, const void* x, const void* w, const void* w_scale,
                  const void* bias, const void* residual, void* y, void* scratch, cudaStream_t stream);

// Where a layer that absorbed the QuantizeLinear reading its output writes (the normalisation and
// the separable attention, lower_quantize_into_producers.cpp): with `quantized`, int8 (uint8 with
// `is_unsigned`) as QuantizeLinear(y, scale) computes them; otherwise its input's float type.
struct QuantizedOutput {
  bool quantized = false, is_unsigned = false;
  float scale = 0.f;
};
// Calls f.template operator()<Y>() with the output's storage type: the float type T, or int8_t /
// uint8_t when quantized.
template <typename T, typename F>
void dispatch_quantized_output(const QuantizedOutput& out, F&& f) {
  if (!out.quantized) return f.template operator()<T>();
  if (out.is_unsigned) return f.template operator()<uint8_t>();
  return f.template operator()<int8_t>();
}

// ---------------------------------------------------------------- fused attention
// kestrel.SeparableAttention (src/ir/ops/fused.cpp) on QKV [batch, 1 + 2C, positions, tokens]:
// softmax of the query over the tokens, context[c] = sum_t K[c, t] softmax[t], and
// Y[batch, c, positions, tokens] = relu(V[c, t]) * context[c], all in one kernel (FP32 inside).
struct SeparableAttentionShape {
  int batch = 1, channels = 0, positions = 1, tokens = 0;
};
constexpr int kSeparableAttentionMaxTokens = 8192;  // the softmax weights live in shared memory
void launch_separable_attention(DType dtype, const SeparableAttentionShape& p, const void* qkv, void* y,
                                cudaStream_t stream, const QuantizedOutput& out = {});

// ---------------------------------------------------------------- normalisation and reductions
// InstanceNormalization on [n, c, spatial]: statistics in float32 (Welford partials over chunks of
// each instance, merged), then y = (x - mean) / sqrt(var + eps) * scale[c] + bias[c]. `workspace`
// holds instance_norm_workspace_bytes(n, c, spatial) bytes of device memory.
// Optional per-channel affine after the normalisation (GroupNorm with one group, exported as
// InstanceNormalization -> Reshape -> Mul -> Add): y = norm(x) * scale[ch] + bias[ch] with
// ch = (flat index / inner) % channels.
struct ChannelAffine {
  const void* scale = nullptr;
  const void* bias = nullptr;
  int64_t inner = 1, channels = 1;
};
int64_t instance_norm_workspace_bytes(int n, int c, int64_t spatial);
// The two launches of launch_instance_norm_ws one by one: the Welford partials of each instance of
// [instances, spatial] (norm_chunks(spatial) per instance, into `partials`, the workspace), then
// the normalisation from them. A GEMM may apply the second itself (GemmNorm).
int norm_chunks(int64_t spatial);
void launch_norm_statistics(DType dtype, const void* x, int64_t instances, int64_t spatial, void* partials,
                            cudaStream_t stream);
void launch_norm_apply(DType dtype, const void* x, const void* scale, const void* bias, void* y, int n, int c,
                       int64_t spatial, float epsilon, const void* partials, const ChannelAffine& affine,
                       cudaStream_t stream, const QuantizedOutput& out = {});
void launch_instance_norm_ws(DType dtype, const void* x, const void* scale, const void* bias, void* y, int n, int c,
                             int64_t spatial, float epsilon, void* workspace, const ChannelAffine& affine,
                             cudaStream_t stream, const QuantizedOutput& out = {});
// The same in one launch: a cluster of 8 blocks per instance (instance_norm_cluster.cu). For
// instances that fit (instance_norm_single_pass_fits); needs no workspace.
bool instance_norm_single_pass_fits(int n, int c, int64_t spatial);
void launch_instance_norm_single_pass(DType dtype, const void* x, const void* scale, const void* bias, void* y, int n,
                                      int c, int64_t spatial, float epsilon, const ChannelAffine& affine,
                                      cudaStream_t stream, const QuantizedOutput& out = {});

// Softmax (or LogSoftmax) over the middle axis of [outer, length, inner], in float32.
void launch_softmax(DType dtype, const void* x, void* y, int64_t outer, int64_t length, int64_t inner, bool log,
                    cudaStream_t stream);

enum class ReduceOp : uint8_t { kSum, kMean, kMax, kMin, kProd, kSumSquare, kL1, kL2, kLogSum, kLogSumExp };
// Reduces the middle axis of [outer, length, inner] in float32 (native for integers: sum/max/min).
void launch_reduce(ReduceOp op, DType dtype, const void* x, void* y, int64_t outer, int64_t length, int64_t inner,
                   cudaStream_t stream);
// ArgMax/ArgMin over the middle axis of [outer, length, inner], int64 result.
void launch_argmax(DType dtype, const void* x, int64_t* y, int64_t outer, int64_t length, int64_t inner, bool is_min,
                   bool select_last, cudaStream_t stream);

}  // namespace kestrel::cuda
