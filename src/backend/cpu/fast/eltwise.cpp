// Element-wise layers on the row kernels of vector_ops.h, registered twice: "cpu.avx512.eltwise"
// / "cpu.avx512.binary" (AVX-512) and "cpu.generic.eltwise" / "cpu.generic.binary" (portable);
// the builder keeps the faster where both run.
//
// Unary: Relu, Sigmoid, Clip (constant bounds), Exp, Tanh. Binary: Add, Sub, Mul, Div with
// numpy broadcasting: dims are collapsed so that the innermost run is contiguous or a broadcast
// scalar for each operand. Same-shape layers are layout-agnostic and may work on channel-blocked
// values (all operands then share the layout).
#include <cmath>
#include <limits>

#include "backend/cpu/fast/kernel.h"
#include "backend/cpu/fast/parallel.h"
#include "backend/cpu/fast/vector_ops.h"
#include "core/error.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu::fast {
namespace {

constexpr int64_t kGrain = kMemoryGrain;

// ------------------------------------------------------------------ unary

bool clip_bound(const ir::Graph& graph, const ir::Node& node, size_t index, float& value) {
  if (index >= node.inputs.size() || node.inputs[index] == ir::kNoValue) return true;
  const ir::Value& v = value_of(graph, node.inputs[index]);
  if (!v.constant || v.dtype != DataType::kFLOAT || v.constant->numel() != 1) return false;
  value = v.constant->data<float>()[0];
  return true;
}

bool unary_params(const ir::Graph& graph, const ir::Node& node, UnaryOp& op, float& lo, float& hi) {
  lo = -std::numeric_limits<float>::infinity();
  hi = std::numeric_limits<float>::infinity();
  const std::string& t = node.op_type;
  if (t == "Relu") op = UnaryOp::kRelu;
  else if (t == "Sigmoid") op = UnaryOp::kSigmoid;
  else if (t == "Exp") op = UnaryOp::kExp;
  else if (t == "Tanh") op = UnaryOp::kTanh;
  else if (t == "Clip") {
    op = UnaryOp::kClip;
    if (node.opset < 11) {
      lo = node.attrs.get_float("min", -std::numeric_limits<float>::max());
      hi = node.attrs.get_float("max", std::numeric_limits<float>::max());
      return true;
    }
    return clip_bound(graph, node, 1, lo) && clip_bound(graph, node, 2, hi);
  } else {
    return false;
  }
  return true;
}

bool unary_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.empty() || node.outputs.size() != 1) return false;
  if (!is_float(graph, node.inputs[0]) || !is_float(graph, node.outputs[0])) return false;
  UnaryOp op;
  float lo, hi;
  return unary_params(graph, node, op, lo, hi);
}

// Unary layers are layout-agnostic: input and output share whatever layout they have.
LayoutRules unary_rules(const ir::Graph& graph, const ir::Node& node) {
  LayoutRules rules;
  rules.blockable = {{false, 0}, {true, 0}};
  rules.tied = {rules.blockable};
  return rules;
}

// Binary layers are when both operands are computed values of the output's shape.
LayoutRules binary_rules(const ir::Graph& graph, const ir::Node& node) {
  LayoutRules rules;
  const Shape& out = value_of(graph, node.outputs[0]).shape;
  for (size_t i = 0; i < 2; ++i)
    if (is_constant(graph, node.inputs[i]) || value_of(graph, node.inputs[i]).shape != out) return rules;
  rules.blockable = {{false, 0}, {false, 1}, {true, 0}};
  rules.tied = {rules.blockable};
  return rules;
}

class UnaryKernel final : public Kernel {
 public:
  UnaryKernel(const PrepareContext& ctx, const VectorOps& ops) : ops_(ops) {
    unary_params(ctx.graph(), ctx.node(), op_, lo_, hi_);
    n_ = shape_numel(ctx.output(0).shape);
  }
  void run(const RunContext& ctx) override {
    const float* x = ctx.in<float>(0);
    float* y = ctx.out<float>(0);
    const int64_t grain = op_ == UnaryOp::kRelu || op_ == UnaryOp::kClip ? kGrain : kGrain / 8;
    parallel_for(n_, ctx.threads, grain, [&](int64_t b, int64_t e) { ops_.unary(op_, x + b, y + b, e - b, lo_, hi_); }, 16);
  }

 private:
  const VectorOps& ops_;
  UnaryOp op_ = UnaryOp::kRelu;
  float lo_ = 0, hi_ = 0;
  int64_t n_ = 0;
};

// ------------------------------------------------------------------ binary

bool binary_op(const ir::Node& node, BinaryOp& op) {
  if (!node.domain.empty()) return false;
  if (node.op_type == "Add") op = BinaryOp::kAdd;
  else if (node.op_type == "Sub") op = BinaryOp::kSub;
  else if (node.op_type == "Mul") op = BinaryOp::kMul;
  else if (node.op_type == "Div") op = BinaryOp::kDiv;
  else return false;
  return true;
}

bool binary_accepts(const ir::Graph& graph, const ir::Node& node) {
  BinaryOp op;
  if (!binary_op(node, op) || node.inputs.size() != 2 || node.outputs.size() != 1) return false;
  if (!is_float(graph, node.inputs[0]) || !is_float(graph, node.inputs[1]) || !is_float(graph, node.outputs[0]))
    return false;
  const Shape& out = value_of(graph, node.outputs[0]).shape;
  return out.size() <= 8 && ir::broadcast_shapes(value_of(graph, node.inputs[0]).shape,
                                                 value_of(graph, node.inputs[1]).shape) == out;
}

class BinaryKernel final : public Kernel {
 public:
  BinaryKernel(const PrepareContext& ctx, const VectorOps& ops) : ops_(ops) {
    binary_op(ctx.node(), op_);
    const Shape& out = ctx.output(0).shape;
    const std::vector<int64_t> sa = ir::broadcast_strides(ctx.input(0).shape, out);
    const std::vector<int64_t> sb = ir::broadcast_strides(ctx.input(1).shape, out);
    // Collapse dims: merge dim i into the previous one when both operands continue linearly.
    for (size_t i = 0; i < out.size(); ++i) {
      if (out[i] == 1) continue;
      if (!dims_.empty()) {
        const size_t j = dims_.size() - 1;
        if (a_strides_[j] == sa[i] * out[i] && b_strides_[j] == sb[i] * out[i]) {
          dims_[j] *= out[i];
          a_strides_[j] = sa[i];
          b_strides_[j] = sb[i];
          continue;
        }
      }
      dims_.push_back(out[i]);
      a_strides_.push_back(sa[i]);
      b_strides_.push_back(sb[i]);
    }
    if (dims_.empty()) {
      dims_ = {1};
      a_strides_ = {0};
      b_strides_ = {0};
    }
    // The innermost dim must be contiguous or broadcast for each operand; otherwise add a unit dim.
    if ((a_strides_.back() != 0 && a_strides_.back() != 1) || (b_strides_.back() != 0 && b_strides_.back() != 1)) {
      dims_.push_back(1);
      a_strides_.push_back(0);
      b_strides_.push_back(0);
    }
    inner_ = dims_.back();
    rows_ = shape_numel(out) / inner_;
  }

  void run(const RunContext& ctx) override {
    const float* a = ctx.in<float>(0);
    const float* b = ctx.in<float>(1);
    float* y = ctx.out<float>(0);
    const int64_t sa = a_strides_.back(), sb = b_strides_.back();
    if (rows_ == 1) {
      parallel_for(inner_, ctx.threads, kGrain, [&](int64_t s, int64_t e) {
        ops_.binary(op_, a + s * sa, sa, b + s * sb, sb, y + s, e - s);
      }, 16);
      return;
    }
    const size_t outer = dims_.size() - 1;
    const int64_t grain_rows = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, inner_));
    parallel_for(rows_, ctx.threads, grain_rows, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        int64_t rest = r, offset_a = 0, offset_b = 0;
        for (size_t d = outer; d-- > 0;) {
          const int64_t index = rest % dims_[d];
          rest /= dims_[d];
          offset_a += index * a_strides_[d];
          offset_b += index * b_strides_[d];
        }
        ops_.binary(op_, a + offset_a, sa, b + offset_b, sb, y + r * inner_, inner_);
      }
    });
  }

 private:
  const VectorOps& ops_;
  BinaryOp op_ = BinaryOp::kAdd;
  std::vector<int64_t> dims_, a_strides_, b_strides_;
  int64_t inner_ = 1, rows_ = 1;
};

template <Isa isa>
std::unique_ptr<Kernel> create_unary(const PrepareContext& ctx) {
  return std::make_unique<UnaryKernel>(ctx, ops_for(isa));
}
template <Isa isa>
std::unique_ptr<Kernel> create_binary(const PrepareContext& ctx) {
  return std::make_unique<BinaryKernel>(ctx, ops_for(isa));
}

#define KESTREL_ELTWISE(op)                                                                                      \
  KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.avx512.eltwise", op, Isa::kAvx512Core, unary_accepts,             \
                                          unary_rules, create_unary<Isa::kAvx512Core>, 1});                \
  KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.generic.eltwise", op, Isa::kBaseline, unary_accepts,              \
                                          unary_rules, create_unary<Isa::kBaseline>, 0})
#define KESTREL_BINARY(op)                                                                                       \
  KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.avx512.binary", op, Isa::kAvx512Core, binary_accepts,             \
                                          binary_rules, create_binary<Isa::kAvx512Core>, 1});               \
  KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.generic.binary", op, Isa::kBaseline, binary_accepts,              \
                                          binary_rules, create_binary<Isa::kBaseline>, 0})

KESTREL_ELTWISE("Relu");
KESTREL_ELTWISE("Sigmoid");
KESTREL_ELTWISE("Clip");
KESTREL_ELTWISE("Exp");
KESTREL_ELTWISE("Tanh");
KESTREL_BINARY("Add");
KESTREL_BINARY("Sub");
KESTREL_BINARY("Mul");
KESTREL_BINARY("Div");

}  // namespace
}  // namespace kestrel::cpu::fast
