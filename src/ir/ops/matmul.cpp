// MatMul (numpy matmul semantics) and Gemm.
//
// MatMul: a 1-D A of [K] acts as [1, K] and a 1-D B of [K] as [K, 1], the added dim being dropped
// from the result; dims before the last two are batch dims that broadcast numpy-style. So
// [2, 1, 3, 4] x [5, 4, 6] -> [2, 5, 3, 6] and [4] x [2, 4, 6] -> [2, 6]. float32, int32, int64.
// Gemm: Y = alpha * A' * B' + beta * C with A' = transA ? A^T : A ([M, K]) and B' likewise
// ([K, N]); the optional C broadcasts one way to [M, N]. float32.
#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

void infer_matmul(InferContext& ctx) {
  const DataType dtype = ctx.input_dtype(0);
  KESTREL_CHECK(dtype == DataType::kFLOAT || dtype == DataType::kINT32 || dtype == DataType::kINT64,
                "supports float32, int32 and int64, got {}", dtype_name(dtype));
  KESTREL_CHECK(ctx.input_dtype(1) == dtype, "A is {} but B is {}", dtype_name(dtype), dtype_name(ctx.input_dtype(1)));
  const Shape& a = ctx.input_shape(0);
  const Shape& b = ctx.input_shape(1);
  KESTREL_CHECK(!a.empty() && !b.empty(), "inputs must have rank >= 1, got {} and {}", shape_str(a), shape_str(b));
  const Shape a2 = a.size() == 1 ? Shape{1, a[0]} : a;
  const Shape b2 = b.size() == 1 ? Shape{b[0], 1} : b;
  const int64_t k_a = a2[a2.size() - 1], k_b = b2[b2.size() - 2];
  KESTREL_CHECK(k_a == k_b, "inner dimensions differ: A {} and B {}", shape_str(a), shape_str(b));
  Shape out = broadcast_shapes(Shape(a2.begin(), a2.end() - 2), Shape(b2.begin(), b2.end() - 2));
  if (a.size() > 1) out.push_back(a2[a2.size() - 2]);
  if (b.size() > 1) out.push_back(b2[b2.size() - 1]);
  ctx.set_output(0, dtype, out);
}

void infer_gemm(InferContext& ctx) {
  for (size_t i = 0; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i))
      KESTREL_CHECK(ctx.input_dtype(i) == DataType::kFLOAT, "supports float32 only, input {} is {}", i,
                    dtype_name(ctx.input_dtype(i)));
  const Shape& a = ctx.input_shape(0);
  const Shape& b = ctx.input_shape(1);
  KESTREL_CHECK(a.size() == 2 && b.size() == 2, "A and B must be 2-D, got {} and {}", shape_str(a), shape_str(b));
  const bool trans_a = ctx.attrs().get_int("transA", 0) != 0;
  const bool trans_b = ctx.attrs().get_int("transB", 0) != 0;
  const int64_t m = trans_a ? a[1] : a[0], k_a = trans_a ? a[0] : a[1];
  const int64_t k_b = trans_b ? b[1] : b[0], n = trans_b ? b[0] : b[1];
  KESTREL_CHECK(k_a == k_b, "inner dimensions differ: A {} (transA={}) and B {} (transB={})", shape_str(a), trans_a,
                shape_str(b), trans_b);
  const Shape out{m, n};
  if (ctx.has_input(2)) {
    const Shape& c = ctx.input_shape(2);
    KESTREL_CHECK(c.size() <= 2 && broadcast_shapes(c, out) == out, "C {} does not broadcast to the output {}",
                  shape_str(c), shape_str(out));
  }
  ctx.set_output(0, DataType::kFLOAT, out);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"MatMul", 2, 2, 1, 1, infer_matmul});
KESTREL_REGISTER_OP(OpSchema{"Gemm", 2, 3, 1, 1, infer_gemm});

}  // namespace kestrel::ir
