// Softmax, LogSoftmax and Hardmax: the output has the input's shape and type (float32).
//
// Their meaning changed at opset 13. Before it, the input is coerced to 2-D at `axis` (default 1):
// [d0*...*d(axis-1), d(axis)*...*d(n-1)], and each row of that matrix is normalised as a whole,
// i.e. over the flattened block of ALL trailing axes. From opset 13 only the single axis `axis`
// (default -1) is normalised. The two agree when `axis` is the last axis; otherwise they differ:
// for a [2,3,4] input with axis=1, opset 12 normalises 2 groups of 12 elements (axes 1 and 2
// together) while opset 13 normalises 8 groups of 3 elements (axis 1 alone).
#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

void infer_normalization(InferContext& ctx) {
  const DataType dtype = ctx.input_dtype(0);
  KESTREL_CHECK(dtype == DataType::kFLOAT, "supports float32 inputs only, got {}", dtype_name(dtype));
  const Shape& shape = ctx.input_shape(0);
  KESTREL_CHECK(!shape.empty(), "needs an input of rank >= 1");
  const int64_t default_axis = ctx.opset() < 13 ? 1 : -1;
  normalize_axis(ctx.attrs().get_int("axis", default_axis), int(shape.size()));  // validates the range
  ctx.set_output(0, dtype, shape);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"Softmax", 1, 1, 1, 1, infer_normalization});
KESTREL_REGISTER_OP(OpSchema{"LogSoftmax", 1, 1, 1, 1, infer_normalization});
KESTREL_REGISTER_OP(OpSchema{"Hardmax", 1, 1, 1, 1, infer_normalization});

}  // namespace kestrel::ir
