// Planners of the compute ops: Conv (cuBLAS GEMM for 1x1, direct kernels otherwise, with the fused
// bias/residual/ReLU epilogue), MatMul (cuBLAS), InstanceNormalization, Softmax, reductions,
// global pools and ArgMax/ArgMin.
#include <algorithm>
#include <map>
#include <numeric>

#include "backend/cuda/cuda_ops.h"
#include "ir/shape_utils.h"

namespace kestrel::cuda {

Conv2d conv_geometry(const ir::Graph& g, const ir::Node& node) {
  const Shape& x = g.values[size_t(node.inputs[0])].shape;
  const Shape& w = g.values[size_t(node.inputs[1])].shape;
  const Shape& y = g.values[size_t(node.outputs[0])].shape;
  KESTREL_CHECK(x.size() == 4, "{}: the CUDA backend runs 2-D convolutions only (input rank {})", ir::describe(node),
                x.size());
  Conv2d p;
  p.n = int(x[0]), p.c = int(x[1]), p.h = int(x[2]), p.w = int(x[3]);
  p.k = int(y[1]), p.oh = int(y[2]), p.ow = int(y[3]);
  p.kh = int(w[2]), p.kw = int(w[3]);
  const std::vector<int64_t> strides = node.attrs.get_ints("strides", {1, 1});
  const std::vector<int64_t> dilations = node.attrs.get_ints("dilations", {1, 1});
  std::vector<int64_t> pads = node.attrs.get_ints("pads", {0, 0, 0, 0});
  p.sh = int(strides[0]), p.sw = int(strides[1]);
  p.dh = int(dilations[0]), p.dw = int(dilations[1]);
  p.groups = int(node.attrs.get_int("group", 1));
  const int64_t in[2] = {p.h, p.w}, out[2] = {p.oh, p.ow}, k[2] = {p.kh, p.kw}, st[2] = {p.sh, p.sw},
                dl[2] = {p.dh, p.dw};
  resolve_auto_pad(node.attrs.get_string("auto_pad", "NOTSET"), in, out, k, st, dl, pads);
  p.ph = int(pads[0]), p.pw = int(pads[1]);
  return p;
}

void resolve_auto_pad(const std::string& auto_pad, const int64_t in[2], const int64_t out[2], const int64_t kernel[2],
                      const int64_t stride[2], const int64_t dilation[2], std::vector<int64_t>& pads) {
  if (pads.size() < 4) pads.resize(4, 0);
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (int i = 0; i < 2; ++i) {
      const int64_t total = std::max<int64_t>(0, (out[i] - 1) * stride[i] + (kernel[i] - 1) * dilation[i] + 1 - in[i]);
      pads[size_t(i)] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pads[size_t(i) + 2] = total - pads[size_t(i)];
    }
  } else if (auto_pad == "VALID") {
    pads.assign(4, 0);
  }
}

namespace {

cudaDataType cuda_type(DType t) {
  switch (t) {
    case DType::kF32: return CUDA_R_32F;
    case DType::kF16: return CUDA_R_16F;
    default: fail("cuBLAS: float32 or float16 expected");
  }
}

bool is_float(DataType t) { return t == DataType::kFLOAT || t == DataType::kHALF; }

// ---- Conv

struct ConvShape {
  Conv2d p;
  bool gemm = false;         // 1x1, stride 1, no padding, one group
  bool im2col = false;       // any other convolution with one group: im2col + GEMM
  bool depthwise3x3 = false;
  bool small_reduction = false;  // one group, C x KH x KW <= kSmallReduction: a direct kernel
};

ConvShape conv_shape(const ir::Graph& g, const ir::Node& node) {
  ConvShape s;
  s.p = conv_geometry(g, node);
  Conv2d& p = s.p;
  if (node.attrs.get_string(kAttrActivation, "") == "Relu") p.act = Activation::kRelu;
  s.gemm = p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.ph == 0 && p.pw == 0 && p.groups == 1 &&
           p.oh == p.h && p.ow == p.w;
  s.small_reduction = !s.gemm && small_reduction_conv(p);
  s.im2col = !s.gemm && !s.small_reduction && p.groups == 1;
  s.depthwise3x3 = p.groups == p.c && p.groups == p.k && p.kh == 3 && p.kw == 3 && p.dh == 1 && p.dw == 1;
  return s;
}

// The one-kernel GEMM with its epilogue (gemm_conv.cu) where the lowering asked for it (also without
// an epilogue: cuBLAS may split small GEMMs into a GEMM and a reduction launch). In FP32 it runs on
// the CUDA cores like cuBLAS (no TF32) but with simpler tiles, so the largest GEMMs (SMAT's
// high-resolution stages) stay on cuBLAS, whose extra epilogue launch costs less than its speed
// gains there; FP16 runs on tensor cores and takes every size.
bool fused_gemm(const ir::Graph& g, const ir::Node& node, const ConvShape& s) {
  if (node.attrs.get_int(kAttrFusedGemm, 0) == 0) return false;
  if (!(s.gemm || s.im2col)) return false;
  constexpr int64_t kMaxFloatMacs = int64_t(1) << 26;
  const int64_t macs = int64_t(s.p.n) * s.p.k * s.p.oh * s.p.ow * s.p.c * s.p.kh * s.p.kw;
  return g.values[size_t(node.inputs[0])].dtype == DataType::kHALF || macs <= kMaxFloatMacs;
}

// A Conv that normalises its input itself (fuse_norm_into_gemm): inputs 4..6 (statistics, scale,
// bias) and optionally 7..8 (the channel affine).
bool normalises_input(const ir::Node& node) { return node.attrs.has(kAttrNormGroups); }

std::string choose_conv(const ir::Graph& g, const ir::Node& node) {
  KESTREL_CHECK(is_float(g.values[size_t(node.inputs[0])].dtype), "{}: float input expected", ir::describe(node));
  const ConvShape s = conv_shape(g, node);
  if (normalises_input(node)) {
    KESTREL_CHECK(s.gemm && g.values[size_t(node.inputs[0])].dtype == DataType::kHALF && has_input(node, 6),
                  "{}: a normalising convolution must be an FP16 1x1 GEMM", ir::describe(node));
    return "cuda.norm_gemm_conv";
  }
  if (s.gemm || s.im2col) {
    const bool epilogue = has_input(node, 2) || has_input(node, 3) || s.p.act != Activation::kNone;
    if (fused_gemm(g, node, s)) return s.gemm ? "cuda.gemm_conv" : "cuda.implicit_gemm_conv";
    const std::string gemm = s.gemm ? "cublas.gemm" : "cuda.im2col+cublas.gemm";
    return epilogue ? gemm + "+cuda.bias_act" : gemm;
  }
  if (s.small_reduction) return "cuda.conv2d_small_reduction";
  return s.depthwise3x3 ? "cuda.conv2d_depthwise3x3" : "cuda.conv2d_direct";
}

// The GEMM with the normalisation of its input inside (GemmNorm); where the pipelined kernel does
// not apply at launch (a bound pointer that is not 16-byte aligned), the statistics are applied
// into the scratch first and the plain GEMM reads that.
Launch plan_normalising_gemm(PlanContext& ctx, const ir::Node& node, const ConvShape& s) {
  const Conv2d p = s.p;
  const ir::Value& x = ctx.value(node.inputs[0]);
  const int groups = int(node.attrs.get_int(kAttrNormGroups, 1));
  const float epsilon = node.attrs.get_float(kAttrNormEpsilon, 1e-5f);
  const int64_t pixels = int64_t(p.h) * p.w, spatial = int64_t(p.c) / groups * pixels;
  void* const* px = ctx.slot(node.inputs[0]);
  void* const* w = ctx.slot(node.inputs[1]);
  void* const* bias = has_input(node, 2) ? ctx.slot(node.inputs[2]) : nullptr;
  void* const* residual = has_input(node, 3) ? ctx.slot(node.inputs[3]) : nullptr;
  void* const* stats = ctx.slot(node.inputs[4]);
  void* const* scale = ctx.slot(node.inputs[5]);
  void* const* shift = ctx.slot(node.inputs[6]);
  void* const* cscale = has_input(node, 7) ? ctx.slot(node.inputs[7]) : nullptr;
  void* const* cbias = has_input(node, 8) ? ctx.slot(node.inputs[8]) : nullptr;
  void* const* y = ctx.slot(node.outputs[0]);
  ctx.need_scratch(size_t(shape_numel(x.shape)) * 2);
  void** scratch = ctx.scratch;
  GemmConv g;
  g.batch = p.n, g.m = p.k, g.n = int(pixels), g.k = p.c;
  g.x_batch_stride = int64_t(p.c) * pixels;
  g.act = p.act;
  g.norm.groups = groups;
  g.norm.chunks = norm_chunks(spatial);
  g.norm.epsilon = epsilon;
  return [=](cudaStream_t st) {
    GemmConv run = g;
    run.norm.partials = *stats;
    run.norm.scale = *scale;
    run.norm.bias = *shift;
    run.norm.channel_scale = cscale ? *cscale : nullptr;
    run.norm.channel_bias = cbias ? *cbias : nullptr;
    const void* b = bias ? *bias : nullptr;
    const void* r = residual ? *residual : nullptr;
    if (gemm_conv_pipelined_applies(DType::kF16, run, *w, *px, r, *y)) {
      launch_gemm_conv(DType::kF16, run, *w, *px, b, r, *y, st);
      return;
    }
    ChannelAffine affine;
    if (cscale && cbias) affine = ChannelAffine{*cscale, *cbias, pixels, p.c};
    launch_norm_apply(DType::kF16, *px, *scale, *shift, *scratch, p.n, groups, spatial, epsilon, *stats, affine, st);
    run.norm = GemmNorm{};
    launch_gemm_conv(DType::kF16, run, *w, *scratch, b, r, *y, st);
  };
}

Launch plan_conv(PlanContext& ctx, const ir::Node& node) {
  const ConvShape s = conv_shape(ctx.graph, node);
  const DType dtype = to_dtype(ctx.value(node.inputs[0]).dtype);
  void* const* x = ctx.slot(node.inputs[0]);
  void* const* w = ctx.slot(node.inputs[1]);
  void* const* bias = has_input(node, 2) ? ctx.slot(node.inputs[2]) : nullptr;
  void* const* residual = has_input(node, 3) ? ctx.slot(node.inputs[3]) : nullptr;
  void* const* y = ctx.slot(node.outputs[0]);
  const Conv2d p = s.p;
  if (!s.gemm && !s.im2col) {
    return [=](cudaStream_t st) {
      launch_conv2d(dtype, p, *x, *w, bias ? *bias : nullptr, residual ? *residual : nullptr, *y, st);
    };
  }
  // Y_n[K, OHW] = W[K, CKK] X_n[CKK, OHW] (row-major), i.e. column-major Y^T = X^T W^T, where X is
  // the input itself for 1x1 convolutions and its im2col matrix (in the shared scratch) otherwise.
  cublasHandle_t handle = ctx.cublas;
  const int ohw = p.oh * p.ow;
  const int ckk = p.c * p.kh * p.kw;
  const cudaDataType type = cuda_type(dtype);
  const bool epilogue = bias || residual || p.act != Activation::kNone;
  const bool im2col = s.im2col;
  if (normalises_input(node)) return plan_normalising_gemm(ctx, node, s);
  if (fused_gemm(ctx.graph, node, s)) {
    // One kernel: the GEMM with the epilogue, reading the im2col matrix on the fly if needed.
    GemmConv g;
    g.batch = p.n, g.m = p.k, g.n = ohw, g.k = ckk;
    g.x_batch_stride = int64_t(p.c) * p.h * p.w;
    g.act = p.act;
    g.implicit = s.im2col;
    g.conv = p;
    return [=](cudaStream_t st) {
      launch_gemm_conv(dtype, g, *w, *x, bias ? *bias : nullptr, residual ? *residual : nullptr, *y, st);
    };
  }
  if (im2col) ctx.need_scratch(size_t(p.n) * size_t(ckk) * size_t(ohw) * size_t(element_bytes(dtype)));
  void** scratch = ctx.scratch;
  return [=](cudaStream_t st) {
    const float one = 1.f, zero = 0.f;
    const void* a = *x;
    if (im2col) {
      launch_im2col(dtype, p, *x, *scratch, st);
      a = *scratch;
    }
    KESTREL_CUBLAS_CHECK(cublasSetStream(handle, st));
    KESTREL_CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, ohw, p.k, ckk, &one, a, type, ohw,
                                                    int64_t(ckk) * ohw, *w, type, ckk, 0, &zero, *y, type, ohw,
                                                    int64_t(p.k) * ohw, p.n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    if (epilogue)
      launch_bias_act(dtype, *y, bias ? *bias : nullptr, residual ? *residual : nullptr, p.n, p.k, ohw, p.act, st);
  };
}

// ---- MatMul

struct MatMulShape {
  int64_t m = 0, n = 0, k = 0, batch = 1, stride_a = 0, stride_b = 0, stride_c = 0;
};

MatMulShape matmul_shape(const ir::Graph& g, const ir::Node& node) {
  Shape a = g.values[size_t(node.inputs[0])].shape;
  Shape b = g.values[size_t(node.inputs[1])].shape;
  const Shape& c = g.values[size_t(node.outputs[0])].shape;
  if (a.size() == 1) a.insert(a.begin(), 1);
  if (b.size() == 1) b.push_back(1);
  MatMulShape s;
  s.m = a[a.size() - 2];
  s.k = a.back();
  s.n = b.back();
  const Shape batch_a(a.begin(), a.end() - 2), batch_b(b.begin(), b.end() - 2);
  const int64_t count_a = shape_numel(batch_a), count_b = shape_numel(batch_b);
  s.batch = std::max(count_a, count_b);
  KESTREL_CHECK((count_a == s.batch || count_a == 1) && (count_b == s.batch || count_b == 1) &&
                    (count_a == 1 || count_b == 1 || batch_a == batch_b),
                "{}: the CUDA backend supports MatMul batch broadcasting only from a single matrix ({} x {})",
                ir::describe(node), shape_str(a), shape_str(b));
  s.stride_a = count_a == 1 ? 0 : s.m * s.k;
  s.stride_b = count_b == 1 ? 0 : s.k * s.n;
  s.stride_c = s.m * s.n;
  KESTREL_CHECK(shape_numel(c) == s.batch * s.m * s.n, "{}: unexpected output shape {}", ir::describe(node), shape_str(c));
  return s;
}

std::string choose_matmul(const ir::Graph& g, const ir::Node& node) {
  KESTREL_CHECK(is_float(g.values[size_t(node.inputs[0])].dtype), "{}: the CUDA backend runs float MatMul only",
                ir::describe(node));
  matmul_shape(g, node);
  return "cublas.gemm_batched";
}

Launch plan_matmul(PlanContext& ctx, const ir::Node& node) {
  const MatMulShape s = matmul_shape(ctx.graph, node);
  const cudaDataType type = cuda_type(to_dtype(ctx.value(node.inputs[0]).dtype));
  void* const* a = ctx.slot(node.inputs[0]);
  void* const* b = ctx.slot(node.inputs[1]);
  void* const* c = ctx.slot(node.outputs[0]);
  cublasHandle_t handle = ctx.cublas;
  // Row-major C[M,N] = A[M,K] B[K,N] is column-major C^T = B^T A^T.
  return [=](cudaStream_t st) {
    const float one = 1.f, zero = 0.f;
    KESTREL_CUBLAS_CHECK(cublasSetStream(handle, st));
    KESTREL_CUBLAS_CHECK(cublasGemmStridedBatchedEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, int(s.n), int(s.m), int(s.k), &one,
                                                    *b, type, int(s.n), s.stride_b, *a, type, int(s.k), s.stride_a,
                                                    &zero, *c, type, int(s.n), s.stride_c, int(s.batch),
                                                    CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  };
}

// ---- InstanceNormalization

struct NormShape {
  int n = 0, c = 0;
  int64_t spatial = 0;
};

NormShape norm_shape(const ir::Value& x) {
  NormShape s;
  s.n = int(x.shape[0]), s.c = int(x.shape[1]);
  s.spatial = shape_numel(x.shape) / std::max<int64_t>(1, int64_t(s.n) * s.c);
  return s;
}

bool single_pass_norm(const ir::Graph& g, const ir::Node& node) {
  const NormShape s = norm_shape(g.values[size_t(node.inputs[0])]);
  return node.attrs.get_int(kAttrSinglePassNorm, 0) != 0 && instance_norm_single_pass_fits(s.n, s.c, s.spatial);
}

std::string choose_instance_norm(const ir::Graph& g, const ir::Node& node) {
  KESTREL_CHECK(is_float(g.values[size_t(node.inputs[0])].dtype), "{}: float input expected", ir::describe(node));
  KESTREL_CHECK(g.values[size_t(node.inputs[0])].shape.size() >= 2, "{}: rank >= 2 expected", ir::describe(node));
  if (node.attrs.get_int(kAttrNormStatistics, 0) != 0) return "cuda.norm_statistics";
  return single_pass_norm(g, node) ? "cuda.instance_norm_1pass" : "cuda.instance_norm";
}

Launch plan_instance_norm(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& x = ctx.value(node.inputs[0]);
  const int n = int(x.shape[0]), c = int(x.shape[1]);
  const int64_t spatial = shape_numel(x.shape) / std::max<int64_t>(1, int64_t(n) * c);
  const float epsilon = node.attrs.get_float("epsilon", 1e-5f);
  const DType dtype = to_dtype(x.dtype);
  if (node.attrs.get_int(kAttrNormStatistics, 0) != 0) {  // the reading GEMM normalises (fuse_norm_into_gemm)
    void* const* px = ctx.slot(node.inputs[0]);
    void* const* stats = ctx.slot(node.outputs[0]);
    return [=](cudaStream_t s) { launch_norm_statistics(dtype, *px, int64_t(n) * c, spatial, *stats, s); };
  }
  ctx.need_scratch(size_t(instance_norm_workspace_bytes(n, c, spatial)));
  void* const* px = ctx.slot(node.inputs[0]);
  void* const* scale = ctx.slot(node.inputs[1]);
  void* const* bias = ctx.slot(node.inputs[2]);
  void* const* y = ctx.slot(node.outputs[0]);
  void** scratch = ctx.scratch;
  void* const* cscale = has_input(node, 3) ? ctx.slot(node.inputs[3]) : nullptr;
  void* const* cbias = has_input(node, 4) ? ctx.slot(node.inputs[4]) : nullptr;
  const int64_t inner = node.attrs.get_int(kAttrAffineInner, 1), channels = node.attrs.get_int(kAttrAffineChannels, 1);
  const QuantizedOutput out = quantized_output(ctx.graph, node);
  if (single_pass_norm(ctx.graph, node))
    return [=](cudaStream_t s) {
      ChannelAffine affine;
      if (cscale && cbias) affine = ChannelAffine{*cscale, *cbias, inner, channels};
      launch_instance_norm_single_pass(dtype, *px, *scale, *bias, *y, n, c, spatial, epsilon, affine, s, out);
    };
  return [=](cudaStream_t s) {
    ChannelAffine affine;
    if (cscale && cbias) affine = ChannelAffine{*cscale, *cbias, inner, channels};
    launch_instance_norm_ws(dtype, *px, *scale, *bias, *y, n, c, spatial, epsilon, *scratch, affine, s, out);
  };
}

// ---- Softmax

std::string choose_softmax(const ir::Graph& g, const ir::Node& node) {
  KESTREL_CHECK(is_float(g.values[size_t(node.inputs[0])].dtype), "{}: float input expected", ir::describe(node));
  return "cuda.softmax";
}

Launch plan_softmax(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& x = ctx.value(node.inputs[0]);
  const int rank = int(x.shape.size());
  const int axis = ir::normalize_axis(node.attrs.get_int("axis", node.opset < 13 ? 1 : -1), rank);
  int64_t outer = 1, length = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.shape[size_t(i)];
  if (node.opset < 13) {
    for (int i = axis; i < rank; ++i) length *= x.shape[size_t(i)];
  } else {
    length = x.shape[size_t(axis)];
    for (int i = axis + 1; i < rank; ++i) inner *= x.shape[size_t(i)];
  }
  const bool log = node.op_type == "LogSoftmax";
  const DType dtype = to_dtype(x.dtype);
  void* const* in = ctx.slot(node.inputs[0]);
  void* const* out = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) { launch_softmax(dtype, *in, *out, outer, length, inner, log, s); };
}

// ---- reductions: the reduced axes must form one block [outer, length, inner] once size-1 axes
// are ignored.

struct ReduceShape {
  int64_t outer = 1, length = 1, inner = 1;
  bool noop = false;
};

std::vector<bool> reduced_axes(const ir::Graph& g, const ir::Node& node, int rank, bool& noop) {
  std::vector<int64_t> axes;
  bool noop_with_empty = false;
  const bool axes_as_input = node.op_type == "ReduceSum" ? node.opset >= 13 : node.opset >= 18;
  if (axes_as_input) {
    if (node.inputs.size() > 1 && node.inputs[1] != ir::kNoValue) axes = constant_ints(g, node, 1);
    noop_with_empty = node.attrs.get_int("noop_with_empty_axes", 0) != 0;
  } else {
    axes = node.attrs.get_ints("axes", {});
  }
  noop = axes.empty() && noop_with_empty;
  std::vector<bool> reduced(size_t(rank), axes.empty() && !noop_with_empty);
  for (int64_t a : axes) reduced[size_t(ir::normalize_axis(a, rank))] = true;
  return reduced;
}

ReduceShape reduce_shape(const ir::Graph& g, const ir::Node& node, const std::vector<bool>& reduced, bool noop) {
  const Shape& x = g.values[size_t(node.inputs[0])].shape;
  ReduceShape s;
  s.noop = noop;
  if (noop) return s;
  int first = -1, last = -1;
  for (size_t d = 0; d < x.size(); ++d)
    if (reduced[d] && x[d] != 1) {
      if (first < 0) first = int(d);
      last = int(d);
    }
  if (first < 0) {  // only size-1 axes reduced: a copy
    s.outer = shape_numel(x);
    return s;
  }
  for (int d = first; d <= last; ++d)
    KESTREL_CHECK(reduced[size_t(d)] || x[size_t(d)] == 1,
                  "{}: the CUDA backend reduces one contiguous block of axes only", ir::describe(node));
  for (int d = 0; d < first; ++d) s.outer *= x[size_t(d)];
  for (int d = first; d <= last; ++d) s.length *= x[size_t(d)];
  for (size_t d = size_t(last) + 1; d < x.size(); ++d) s.inner *= x[d];
  return s;
}

ReduceOp reduce_op_of(const std::string& op) {
  static const std::map<std::string, ReduceOp> ops = {
      {"ReduceSum", ReduceOp::kSum},       {"ReduceMean", ReduceOp::kMean},    {"ReduceMax", ReduceOp::kMax},
      {"ReduceMin", ReduceOp::kMin},       {"ReduceProd", ReduceOp::kProd},    {"ReduceSumSquare", ReduceOp::kSumSquare},
      {"ReduceL1", ReduceOp::kL1},         {"ReduceL2", ReduceOp::kL2},        {"ReduceLogSum", ReduceOp::kLogSum},
      {"ReduceLogSumExp", ReduceOp::kLogSumExp}, {"GlobalAveragePool", ReduceOp::kMean},
      {"GlobalMaxPool", ReduceOp::kMax}};
  return ops.at(op);
}

ReduceShape any_reduce_shape(const ir::Graph& g, const ir::Node& node) {
  const Shape& x = g.values[size_t(node.inputs[0])].shape;
  if (node.op_type == "GlobalAveragePool" || node.op_type == "GlobalMaxPool") {
    ReduceShape s;
    s.outer = x[0] * x[1];
    s.length = shape_numel(x) / std::max<int64_t>(1, s.outer);
    return s;
  }
  bool noop = false;
  const std::vector<bool> reduced = reduced_axes(g, node, int(x.size()), noop);
  return reduce_shape(g, node, reduced, noop);
}

std::string choose_reduce(const ir::Graph& g, const ir::Node& node) {
  const DataType t = g.values[size_t(node.inputs[0])].dtype;
  KESTREL_CHECK(is_float(t) || t == DataType::kINT64 || t == DataType::kINT32, "{}: no CUDA kernel for {}",
                ir::describe(node), dtype_name(t));
  any_reduce_shape(g, node);
  return "cuda.reduce";
}

Launch plan_reduce(PlanContext& ctx, const ir::Node& node) {
  const ReduceShape s = any_reduce_shape(ctx.graph, node);
  const ir::Value& x = ctx.value(node.inputs[0]);
  const DType dtype = to_dtype(x.dtype);
  void* const* in = ctx.slot(node.inputs[0]);
  void* const* out = ctx.slot(node.outputs[0]);
  if (s.noop || s.length == 1) {
    const ReduceOp op = reduce_op_of(node.op_type);
    // Reducing nothing (or only size-1 axes) is the element-wise finish of each element.
    const size_t bytes = size_t(shape_numel(x.shape)) * size_t(element_bytes(dtype));
    if (op == ReduceOp::kSum || op == ReduceOp::kMean || op == ReduceOp::kMax || op == ReduceOp::kMin ||
        op == ReduceOp::kProd || s.noop)
      return [=](cudaStream_t st) {
        if (bytes && *in != *out) KESTREL_CUDA_CHECK(cudaMemcpyAsync(*out, *in, bytes, cudaMemcpyDeviceToDevice, st));
      };
  }
  const ReduceOp op = reduce_op_of(node.op_type);
  return [=](cudaStream_t st) { launch_reduce(op, dtype, *in, *out, s.outer, s.length, s.inner, st); };
}

// ---- ArgMax / ArgMin

std::string choose_argmax(const ir::Graph& g, const ir::Node& node) {
  const DataType t = g.values[size_t(node.inputs[0])].dtype;
  KESTREL_CHECK(is_float(t) || t == DataType::kINT64 || t == DataType::kINT32, "{}: no CUDA kernel for {}",
                ir::describe(node), dtype_name(t));
  return "cuda.argmax";
}

Launch plan_argmax(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& x = ctx.value(node.inputs[0]);
  const int rank = int(x.shape.size());
  const int axis = ir::normalize_axis(node.attrs.get_int("axis", 0), rank);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= x.shape[size_t(i)];
  for (int i = axis + 1; i < rank; ++i) inner *= x.shape[size_t(i)];
  const int64_t length = x.shape[size_t(axis)];
  const bool is_min = node.op_type == "ArgMin";
  const bool select_last = node.attrs.get_int("select_last_index", 0) != 0;
  const DType dtype = to_dtype(x.dtype);
  void* const* in = ctx.slot(node.inputs[0]);
  void* const* out = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) {
    launch_argmax(dtype, *in, static_cast<int64_t*>(*out), outer, length, inner, is_min, select_last, s);
  };
}

}  // namespace

KESTREL_REGISTER_CUDA_KERNEL("Conv", CudaKernel{choose_conv, plan_conv});
KESTREL_REGISTER_CUDA_KERNEL("MatMul", CudaKernel{choose_matmul, plan_matmul});
KESTREL_REGISTER_CUDA_KERNEL("InstanceNormalization", CudaKernel{choose_instance_norm, plan_instance_norm});
KESTREL_REGISTER_CUDA_KERNEL("Softmax", CudaKernel{choose_softmax, plan_softmax});
KESTREL_REGISTER_CUDA_KERNEL("LogSoftmax", CudaKernel{choose_softmax, plan_softmax});
#define KESTREL_REDUCE(op) KESTREL_REGISTER_CUDA_KERNEL(op, CudaKernel{choose_reduce, plan_reduce})
KESTREL_REDUCE("ReduceSum");
KESTREL_REDUCE("ReduceMean");
KESTREL_REDUCE("ReduceMax");
KESTREL_REDUCE("ReduceMin");
KESTREL_REDUCE("ReduceProd");
KESTREL_REDUCE("ReduceSumSquare");
KESTREL_REDUCE("ReduceL1");
KESTREL_REDUCE("ReduceL2");
KESTREL_REDUCE("ReduceLogSum");
KESTREL_REDUCE("ReduceLogSumExp");
KESTREL_REDUCE("GlobalAveragePool");
KESTREL_REDUCE("GlobalMaxPool");
#undef KESTREL_REDUCE
KESTREL_REGISTER_CUDA_KERNEL("ArgMax", CudaKernel{choose_argmax, plan_argmax});
KESTREL_REGISTER_CUDA_KERNEL("ArgMin", CudaKernel{choose_argmax, plan_argmax});

}  // namespace kestrel::cuda
