// Planners of the element-wise ops: unary maps, broadcasting binary operators, Where, Cast, Clip.
#include <cmath>
#include <limits>
#include <map>

#include "backend/cuda/cuda_ops.h"

namespace kestrel::cuda {
namespace {

bool is_float(DataType t) { return t == DataType::kFLOAT || t == DataType::kHALF; }

// ---- unary

UnaryOp unary_op_of(const std::string& op) {
  static const std::map<std::string, UnaryOp> ops = {
      {"Identity", UnaryOp::kIdentity}, {"Relu", UnaryOp::kRelu},         {"LeakyRelu", UnaryOp::kLeakyRelu},
      {"Sigmoid", UnaryOp::kSigmoid},   {"Tanh", UnaryOp::kTanh},         {"Exp", UnaryOp::kExp},
      {"Log", UnaryOp::kLog},           {"Sqrt", UnaryOp::kSqrt},         {"Neg", UnaryOp::kNeg},
      {"Abs", UnaryOp::kAbs},           {"Reciprocal", UnaryOp::kReciprocal}, {"Floor", UnaryOp::kFloor},
      {"Ceil", UnaryOp::kCeil},         {"Clip", UnaryOp::kClip},         {"Erf", UnaryOp::kErf},
      {"HardSigmoid", UnaryOp::kHardSigmoid}, {"HardSwish", UnaryOp::kHardSwish}, {"Softplus", UnaryOp::kSoftplus},
      {"Gelu", UnaryOp::kGelu},         {"Elu", UnaryOp::kElu},           {"Selu", UnaryOp::kSelu},
      {"Softsign", UnaryOp::kSoftsign}, {"Round", UnaryOp::kRound},       {"Sign", UnaryOp::kSign},
      {"Sin", UnaryOp::kSin},           {"Cos", UnaryOp::kCos}};
  return ops.at(op);
}

std::string choose_unary(const ir::Graph& g, const ir::Node& node) {
  const DataType t = g.values[size_t(node.inputs.at(0))].dtype;
  const UnaryOp op = unary_op_of(node.op_type);
  const bool int_ok = op == UnaryOp::kRelu || op == UnaryOp::kNeg || op == UnaryOp::kAbs;
  KESTREL_CHECK(is_float(t) || (int_ok && (t == DataType::kINT32 || t == DataType::kINT64)),
                "{}: the CUDA backend runs {} on float tensors only, not {}", ir::describe(node), node.op_type,
                dtype_name(t));
  if (node.op_type == "Gelu")
    KESTREL_CHECK(node.attrs.get_string("approximate", "none") == "none", "{}: Gelu approximate='tanh' has no CUDA kernel",
                  ir::describe(node));
  if (node.op_type == "Clip" && node.opset >= 11)
    for (size_t i = 1; i < 3; ++i)
      KESTREL_CHECK(i >= node.inputs.size() || node.inputs[i] == ir::kNoValue || input_is_constant(g, node, i),
                    "{}: Clip bounds must be constants for the CUDA backend", ir::describe(node));
  return "cuda.unary";
}

Launch plan_unary(PlanContext& ctx, const ir::Node& node) {
  const UnaryOp op = unary_op_of(node.op_type);
  const ir::Value& x = ctx.value(node.inputs[0]);
  const DType dtype = to_dtype(x.dtype);
  const int64_t n = shape_numel(x.shape);
  float alpha = 0.f, beta = 0.f;
  if (op == UnaryOp::kLeakyRelu) alpha = node.attrs.get_float("alpha", 0.01f);
  if (op == UnaryOp::kElu) alpha = node.attrs.get_float("alpha", 1.0f);
  if (op == UnaryOp::kSelu) {
    alpha = node.attrs.get_float("alpha", 1.67326319217681884765625f);
    beta = node.attrs.get_float("gamma", 1.05070102214813232421875f);
  }
  if (op == UnaryOp::kHardSigmoid) {
    alpha = node.attrs.get_float("alpha", 0.2f);
    beta = node.attrs.get_float("beta", 0.5f);
  }
  if (op == UnaryOp::kClip) {
    alpha = -std::numeric_limits<float>::infinity();
    beta = std::numeric_limits<float>::infinity();
    if (node.opset < 11) {
      alpha = node.attrs.get_float("min", alpha);
      beta = node.attrs.get_float("max", beta);
    } else {
      if (input_is_constant(ctx.graph, node, 1)) alpha = float(ctx.value(node.inputs[1]).constant->double_at(0));
      if (input_is_constant(ctx.graph, node, 2)) beta = float(ctx.value(node.inputs[2]).constant->double_at(0));
    }
  }
  void* const* in = ctx.slot(node.inputs[0]);
  void* const* out = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) { launch_unary(op, dtype, *in, *out, n, alpha, beta, s); };
}

// Identity, Dropout (inference) and the shape-only ops: a device copy of the bytes.
std::string choose_copy(const ir::Graph&, const ir::Node&) { return "cuda.copy"; }

Launch plan_copy(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& y = ctx.value(node.outputs[0]);
  const size_t bytes = size_t(shape_numel(y.shape)) * size_t(element_bytes(to_dtype(y.dtype)));
  void* const* in = ctx.slot(node.inputs[0]);
  void* const* out = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) {
    if (bytes && *in != *out) KESTREL_CUDA_CHECK(cudaMemcpyAsync(*out, *in, bytes, cudaMemcpyDeviceToDevice, s));
  };
}

// ---- binary

BinaryOp binary_op_of(const ir::Node& node) {
  static const std::map<std::string, BinaryOp> ops = {
      {"Add", BinaryOp::kAdd},         {"Sub", BinaryOp::kSub},       {"Mul", BinaryOp::kMul},
      {"Div", BinaryOp::kDiv},         {"Pow", BinaryOp::kPow},       {"Max", BinaryOp::kMax},
      {"Min", BinaryOp::kMin},         {"Equal", BinaryOp::kEqual},   {"Less", BinaryOp::kLess},
      {"LessOrEqual", BinaryOp::kLessOrEqual}, {"Greater", BinaryOp::kGreater},
      {"GreaterOrEqual", BinaryOp::kGreaterOrEqual}, {"And", BinaryOp::kAnd}, {"Or", BinaryOp::kOr},
      {"Xor", BinaryOp::kXor}};
  if (node.op_type == "Mod") return node.attrs.get_int("fmod", 0) ? BinaryOp::kFMod : BinaryOp::kMod;
  return ops.at(node.op_type);
}

std::string choose_binary(const ir::Graph& g, const ir::Node& node) {
  KESTREL_CHECK(node.inputs.size() == 2, "{}: the CUDA backend runs {} with two inputs, not {}", ir::describe(node),
                node.op_type, node.inputs.size());
  const DataType a = g.values[size_t(node.inputs[0])].dtype, b = g.values[size_t(node.inputs[1])].dtype;
  KESTREL_CHECK(a == b, "{}: inputs of different types ({} and {})", ir::describe(node), dtype_name(a), dtype_name(b));
  const BinaryOp op = binary_op_of(node);
  if (op >= BinaryOp::kAnd) {
    KESTREL_CHECK(a == DataType::kBOOL, "{}: bool inputs expected", ir::describe(node));
  } else {
    KESTREL_CHECK(is_float(a) || a == DataType::kINT64 || a == DataType::kINT32 ||
                      (op == BinaryOp::kEqual && (a == DataType::kBOOL || a == DataType::kUINT8)),
                  "{}: the CUDA backend has no {} kernel for {}", ir::describe(node), node.op_type, dtype_name(a));
  }
  return "cuda.binary_broadcast";
}

Launch plan_binary(PlanContext& ctx, const ir::Node& node) {
  const BinaryOp op = binary_op_of(node);
  const ir::Value& a = ctx.value(node.inputs[0]);
  const ir::Value& b = ctx.value(node.inputs[1]);
  const ir::Value& y = ctx.value(node.outputs[0]);
  const DType dtype = to_dtype(a.dtype);
  const Broadcast p = make_broadcast(y.shape, {&a.shape, &b.shape});
  void* const* pa = ctx.slot(node.inputs[0]);
  void* const* pb = ctx.slot(node.inputs[1]);
  void* const* py = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) { launch_binary(op, dtype, p, *pa, *pb, *py, s); };
}

std::string choose_where(const ir::Graph&, const ir::Node&) { return "cuda.where"; }

Launch plan_where(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& y = ctx.value(node.outputs[0]);
  const Broadcast p = make_broadcast(
      y.shape, {&ctx.value(node.inputs[0]).shape, &ctx.value(node.inputs[1]).shape, &ctx.value(node.inputs[2]).shape});
  const DType dtype = to_dtype(y.dtype);
  void* const* c = ctx.slot(node.inputs[0]);
  void* const* a = ctx.slot(node.inputs[1]);
  void* const* b = ctx.slot(node.inputs[2]);
  void* const* out = ctx.slot(node.outputs[0]);
  return [=](cudaStream_t s) { launch_where(dtype, p, *c, *a, *b, *out, s); };
}

std::string choose_cast(const ir::Graph&, const ir::Node&) { return "cuda.cast"; }

Launch plan_cast(PlanContext& ctx, const ir::Node& node) {
  const ir::Value& x = ctx.value(node.inputs[0]);
  const ir::Value& y = ctx.value(node.outputs[0]);
  const DType from = to_dtype(x.dtype), to = to_dtype(y.dtype);
  const int64_t n = shape_numel(y.shape);
  void* const* in = ctx.slot(node.inputs[0]);
  void* const* out = ctx.slot(node.outputs[0]);
  if (from == to) {
    const size_t bytes = size_t(n) * size_t(element_bytes(to));
    return [=](cudaStream_t s) {
      if (bytes && *in != *out) KESTREL_CUDA_CHECK(cudaMemcpyAsync(*out, *in, bytes, cudaMemcpyDeviceToDevice, s));
    };
  }
  return [=](cudaStream_t s) { launch_cast(from, to, *in, *out, n, s); };
}

}  // namespace

#define KESTREL_UNARY(op) KESTREL_REGISTER_CUDA_KERNEL(op, CudaKernel{choose_unary, plan_unary})
KESTREL_UNARY("Relu");
KESTREL_UNARY("LeakyRelu");
KESTREL_UNARY("Sigmoid");
KESTREL_UNARY("Tanh");
KESTREL_UNARY("Exp");
KESTREL_UNARY("Log");
KESTREL_UNARY("Sqrt");
KESTREL_UNARY("Neg");
KESTREL_UNARY("Abs");
KESTREL_UNARY("Reciprocal");
KESTREL_UNARY("Floor");
KESTREL_UNARY("Ceil");
KESTREL_UNARY("Clip");
KESTREL_UNARY("Erf");
KESTREL_UNARY("HardSigmoid");
KESTREL_UNARY("HardSwish");
KESTREL_UNARY("Softplus");
KESTREL_UNARY("Gelu");
KESTREL_UNARY("Elu");
KESTREL_UNARY("Selu");
KESTREL_UNARY("Softsign");
KESTREL_UNARY("Round");
KESTREL_UNARY("Sign");
KESTREL_UNARY("Sin");
KESTREL_UNARY("Cos");
#undef KESTREL_UNARY

#define KESTREL_COPY(op) KESTREL_REGISTER_CUDA_KERNEL(op, CudaKernel{choose_copy, plan_copy})
KESTREL_COPY("Identity");
KESTREL_COPY("Dropout");
KESTREL_COPY("Reshape");
KESTREL_COPY("Flatten");
KESTREL_COPY("Squeeze");
KESTREL_COPY("Unsqueeze");
#undef KESTREL_COPY

#define KESTREL_BINARY(op) KESTREL_REGISTER_CUDA_KERNEL(op, CudaKernel{choose_binary, plan_binary})
KESTREL_BINARY("Add");
KESTREL_BINARY("Sub");
KESTREL_BINARY("Mul");
KESTREL_BINARY("Div");
KESTREL_BINARY("Mod");
KESTREL_BINARY("Pow");
KESTREL_BINARY("Max");
KESTREL_BINARY("Min");
KESTREL_BINARY("Equal");
KESTREL_BINARY("Less");
KESTREL_BINARY("LessOrEqual");
KESTREL_BINARY("Greater");
KESTREL_BINARY("GreaterOrEqual");
KESTREL_BINARY("And");
KESTREL_BINARY("Or");
KESTREL_BINARY("Xor");
#undef KESTREL_BINARY

KESTREL_REGISTER_CUDA_KERNEL("Where", CudaKernel{choose_where, plan_where});
KESTREL_REGISTER_CUDA_KERNEL("Cast", CudaKernel{choose_cast, plan_cast});

}  // namespace kestrel::cuda
