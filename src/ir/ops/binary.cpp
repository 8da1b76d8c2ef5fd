// Schemas of the element-wise operators with several inputs that broadcast numpy-style: arithmetic,
// Pow, Mod, comparisons, logical ops, the variadic Min/Max/Sum/Mean, Where and PRelu.
#include <algorithm>
#include <limits>
#include <string>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/ops/dtype_rules.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

constexpr int kUnbounded = std::numeric_limits<int>::max();

constexpr DataType kFloatOnly[] = {DataType::kFLOAT};
constexpr DataType kNumeric[] = {DataType::kFLOAT, DataType::kINT64, DataType::kINT32, DataType::kINT8,
                                 DataType::kUINT8};
constexpr DataType kNumericOrBool[] = {DataType::kFLOAT, DataType::kINT64, DataType::kINT32, DataType::kINT8,
                                       DataType::kUINT8, DataType::kBOOL};
constexpr DataType kBoolOnly[] = {DataType::kBOOL};
constexpr DataType kPReluTypes[] = {DataType::kFLOAT, DataType::kINT64, DataType::kINT32};


// Every input in [first, num_inputs) must have input `first`'s data type, one of `allowed`.
template <size_t N>
void require_same_dtype(const InferContext& ctx, size_t first, const DataType (&allowed)[N]) {
  require_dtype(ctx, first, allowed);
  for (size_t i = first + 1; i < ctx.num_inputs(); ++i)
    KESTREL_CHECK(ctx.input_dtype(i) == ctx.input_dtype(first), "input {} has data type {} but input {} has {}", i,
                  dtype_name(ctx.input_dtype(i)), first, dtype_name(ctx.input_dtype(first)));
}

Shape broadcast_all_inputs(const InferContext& ctx) {
  Shape shape = ctx.input_shape(0);
  for (size_t i = 1; i < ctx.num_inputs(); ++i) shape = broadcast_shapes(shape, ctx.input_shape(i));
  return shape;
}

void infer_arithmetic(InferContext& ctx) {
  require_same_dtype(ctx, 0, kNumeric);
  ctx.set_output(0, ctx.input_dtype(0), broadcast_all_inputs(ctx));
}

void infer_mod(InferContext& ctx) {
  const int64_t fmod = ctx.attrs().get_int("fmod", 0);
  KESTREL_CHECK(fmod == 0 || fmod == 1, "attribute 'fmod' must be 0 or 1, got {}", fmod);
  // The spec asks for fmod=1 on floats; fmod=0 on floats is accepted with numpy.mod semantics.
  infer_arithmetic(ctx);
}

// The exponent may have another type than the base; the result has the base's type.
void infer_pow(InferContext& ctx) {
  require_dtype(ctx, 0, kNumeric);
  require_dtype(ctx, 1, kNumeric);
  ctx.set_output(0, ctx.input_dtype(0), broadcast_all_inputs(ctx));
}

void infer_equal(InferContext& ctx) {
  require_same_dtype(ctx, 0, kNumericOrBool);
  ctx.set_output(0, DataType::kBOOL, broadcast_all_inputs(ctx));
}

void infer_ordering(InferContext& ctx) {
  require_same_dtype(ctx, 0, kNumeric);
  ctx.set_output(0, DataType::kBOOL, broadcast_all_inputs(ctx));
}

void infer_logical(InferContext& ctx) {
  require_same_dtype(ctx, 0, kBoolOnly);
  ctx.set_output(0, DataType::kBOOL, broadcast_all_inputs(ctx));
}

void infer_mean(InferContext& ctx) {
  require_same_dtype(ctx, 0, kFloatOnly);
  ctx.set_output(0, DataType::kFLOAT, broadcast_all_inputs(ctx));
}

void infer_where(InferContext& ctx) {
  require_dtype(ctx, 0, kBoolOnly);
  KESTREL_CHECK(ctx.input_dtype(1) == ctx.input_dtype(2), "inputs 1 and 2 must have one data type, got {} and {}",
                dtype_name(ctx.input_dtype(1)), dtype_name(ctx.input_dtype(2)));
  ctx.set_output(0, ctx.input_dtype(1), broadcast_all_inputs(ctx));
}

// The slope broadcasts to the input (unidirectionally): the output keeps the input's shape.
void infer_prelu(InferContext& ctx) {
  require_same_dtype(ctx, 0, kPReluTypes);
  const Shape& x = ctx.input_shape(0);
  const Shape& slope = ctx.input_shape(1);
  KESTREL_CHECK(slope.size() <= x.size() && broadcast_shapes(x, slope) == x,
                "slope of shape {} does not broadcast to the input shape {}", shape_str(slope), shape_str(x));
  ctx.set_output(0, ctx.input_dtype(0), x);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"Add", 2, 2, 1, 1, infer_arithmetic});
KESTREL_REGISTER_OP(OpSchema{"Sub", 2, 2, 1, 1, infer_arithmetic});
KESTREL_REGISTER_OP(OpSchema{"Mul", 2, 2, 1, 1, infer_arithmetic});
KESTREL_REGISTER_OP(OpSchema{"Div", 2, 2, 1, 1, infer_arithmetic});
KESTREL_REGISTER_OP(OpSchema{"Mod", 2, 2, 1, 1, infer_mod});
KESTREL_REGISTER_OP(OpSchema{"Pow", 2, 2, 1, 1, infer_pow});
KESTREL_REGISTER_OP(OpSchema{"Min", 1, kUnbounded, 1, 1, infer_arithmetic});
KESTREL_REGISTER_OP(OpSchema{"Max", 1, kUnbounded, 1, 1, infer_arithmetic});
KESTREL_REGISTER_OP(OpSchema{"Sum", 1, kUnbounded, 1, 1, infer_arithmetic});
KESTREL_REGISTER_OP(OpSchema{"Mean", 1, kUnbounded, 1, 1, infer_mean});
KESTREL_REGISTER_OP(OpSchema{"Equal", 2, 2, 1, 1, infer_equal});
KESTREL_REGISTER_OP(OpSchema{"Less", 2, 2, 1, 1, infer_ordering});
KESTREL_REGISTER_OP(OpSchema{"LessOrEqual", 2, 2, 1, 1, infer_ordering});
KESTREL_REGISTER_OP(OpSchema{"Greater", 2, 2, 1, 1, infer_ordering});
KESTREL_REGISTER_OP(OpSchema{"GreaterOrEqual", 2, 2, 1, 1, infer_ordering});
KESTREL_REGISTER_OP(OpSchema{"And", 2, 2, 1, 1, infer_logical});
KESTREL_REGISTER_OP(OpSchema{"Or", 2, 2, 1, 1, infer_logical});
KESTREL_REGISTER_OP(OpSchema{"Xor", 2, 2, 1, 1, infer_logical});
KESTREL_REGISTER_OP(OpSchema{"Where", 3, 3, 1, 1, infer_where});
KESTREL_REGISTER_OP(OpSchema{"PRelu", 2, 2, 1, 1, infer_prelu});

}  // namespace kestrel::ir
