// Schemas of the element-wise unary operators: activations, math functions, predicates, Identity,
// Dropout (inference only), Cast/CastLike and Clip. The output always has the input's shape.
#include <algorithm>
#include <initializer_list>
#include <string>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/ops/dtype_rules.h"

namespace kestrel::ir {
namespace {

constexpr DataType kFloatOnly[] = {DataType::kFLOAT};
constexpr DataType kNumeric[] = {DataType::kFLOAT, DataType::kINT64, DataType::kINT32, DataType::kINT8,
                                 DataType::kUINT8};
constexpr DataType kSignedNumeric[] = {DataType::kFLOAT, DataType::kINT64, DataType::kINT32, DataType::kINT8};


void same_as_input(InferContext& ctx) { ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0)); }

void infer_any_dtype(InferContext& ctx) { same_as_input(ctx); }

void infer_float(InferContext& ctx) {
  require_dtype(ctx, 0, kFloatOnly);
  same_as_input(ctx);
}

void infer_numeric(InferContext& ctx) {
  require_dtype(ctx, 0, kNumeric);
  same_as_input(ctx);
}

// Negation has no meaning for unsigned types (the spec leaves them out of Neg).
void infer_signed_numeric(InferContext& ctx) {
  require_dtype(ctx, 0, kSignedNumeric);
  same_as_input(ctx);
}

void infer_float_predicate(InferContext& ctx) {
  require_dtype(ctx, 0, kFloatOnly);
  ctx.set_output(0, DataType::kBOOL, ctx.input_shape(0));
}

void infer_not(InferContext& ctx) {
  KESTREL_CHECK(ctx.input_dtype(0) == DataType::kBOOL, "input 0 has data type {}; Not supports bool",
                dtype_name(ctx.input_dtype(0)));
  same_as_input(ctx);
}

void infer_gelu(InferContext& ctx) {
  const std::string approximate = ctx.attrs().get_string("approximate", "none");
  KESTREL_CHECK(approximate == "none" || approximate == "tanh",
                "attribute 'approximate' must be \"none\" or \"tanh\", got \"{}\"", approximate);
  infer_float(ctx);
}

void infer_is_inf(InferContext& ctx) {
  for (const char* name : {"detect_negative", "detect_positive"}) {
    const int64_t flag = ctx.attrs().get_int(name, 1);
    KESTREL_CHECK(flag == 0 || flag == 1, "attribute '{}' must be 0 or 1, got {}", name, flag);
  }
  infer_float_predicate(ctx);
}

bool is_true_scalar(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (t.double_at(i) != 0) return true;
  return false;
}

void infer_dropout(InferContext& ctx) {
  // Opset 12 turned ratio and training_mode into inputs. Only inference is supported: a graph that
  // asks for training behaviour would silently get different numbers, so refuse it. Training mode
  // with a constant ratio of 0 drops nothing and scales by 1, so it is the identity; exporters
  // write it (torchvision's Swin exports F.dropout(p=0, training=True) that way).
  if (ctx.opset() >= 12 && ctx.has_input(2)) {
    KESTREL_CHECK(ctx.input_dtype(2) == DataType::kBOOL, "input 2 (training_mode) must be bool, got {}",
                  dtype_name(ctx.input_dtype(2)));
    const Tensor* training_mode = ctx.constant(2);
    const Tensor* ratio = ctx.has_input(1) ? ctx.constant(1) : nullptr;
    const bool drops_nothing = ratio != nullptr && !is_true_scalar(*ratio);
    KESTREL_CHECK(training_mode == nullptr || !is_true_scalar(*training_mode) || drops_nothing,
                  "training_mode is true with a ratio that is not a constant 0; only inference (training_mode "
                  "false, or ratio 0) is supported");
  }
  same_as_input(ctx);
  // The mask became bool at opset 10; before that it had the input's type.
  if (ctx.num_outputs() > 1)
    ctx.set_output(1, ctx.opset() >= 10 ? DataType::kBOOL : ctx.input_dtype(0), ctx.input_shape(0));
}

void infer_cast(InferContext& ctx) {
  ctx.set_output(0, dtype_from_onnx_code(ctx.attrs().get_int("to")), ctx.input_shape(0));
}

void infer_cast_like(InferContext& ctx) { ctx.set_output(0, ctx.input_dtype(1), ctx.input_shape(0)); }

void infer_clip(InferContext& ctx) {
  require_dtype(ctx, 0, kNumeric);
  if (ctx.opset() < 11) {
    KESTREL_CHECK(ctx.num_inputs() == 1, "before opset 11 Clip takes min and max as attributes, not inputs");
    KESTREL_CHECK(ctx.input_dtype(0) == DataType::kFLOAT, "before opset 11 Clip supports float32 only, got {}",
                  dtype_name(ctx.input_dtype(0)));
  }
  for (size_t i = 1; i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    const char* what = i == 1 ? "min" : "max";
    KESTREL_CHECK(ctx.input_dtype(i) == ctx.input_dtype(0), "input {} ({}) has data type {}, the input has {}", i,
                  what, dtype_name(ctx.input_dtype(i)), dtype_name(ctx.input_dtype(0)));
    KESTREL_CHECK(shape_numel(ctx.input_shape(i)) == 1, "input {} ({}) must be a scalar, got shape {}", i, what,
                  shape_str(ctx.input_shape(i)));
  }
  same_as_input(ctx);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"Relu", 1, 1, 1, 1, infer_numeric});
KESTREL_REGISTER_OP(OpSchema{"LeakyRelu", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Elu", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Selu", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Sigmoid", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"HardSigmoid", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"HardSwish", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Tanh", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Sqrt", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Exp", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Log", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Neg", 1, 1, 1, 1, infer_signed_numeric});
KESTREL_REGISTER_OP(OpSchema{"Abs", 1, 1, 1, 1, infer_numeric});
KESTREL_REGISTER_OP(OpSchema{"Reciprocal", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Floor", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Ceil", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Round", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Sign", 1, 1, 1, 1, infer_numeric});
KESTREL_REGISTER_OP(OpSchema{"Erf", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Gelu", 1, 1, 1, 1, infer_gelu});
KESTREL_REGISTER_OP(OpSchema{"Softplus", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Softsign", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Sin", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Cos", 1, 1, 1, 1, infer_float});
KESTREL_REGISTER_OP(OpSchema{"Not", 1, 1, 1, 1, infer_not});
KESTREL_REGISTER_OP(OpSchema{"IsNaN", 1, 1, 1, 1, infer_float_predicate});
KESTREL_REGISTER_OP(OpSchema{"IsInf", 1, 1, 1, 1, infer_is_inf});
KESTREL_REGISTER_OP(OpSchema{"Identity", 1, 1, 1, 1, infer_any_dtype});
KESTREL_REGISTER_OP(OpSchema{"Dropout", 1, 3, 1, 2, infer_dropout});
KESTREL_REGISTER_OP(OpSchema{"Cast", 1, 1, 1, 1, infer_cast});
KESTREL_REGISTER_OP(OpSchema{"CastLike", 2, 2, 1, 1, infer_cast_like});
KESTREL_REGISTER_OP(OpSchema{"Clip", 1, 3, 1, 1, infer_clip});

}  // namespace kestrel::ir
