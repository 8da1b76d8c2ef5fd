// Reductions: ReduceSum/Mean/Max/Min/Prod/L1/L2/SumSquare/LogSum/LogSumExp, ArgMax/ArgMin and
// TopK. Their axes and k decide the output shapes, so they must be known when the engine is built.
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

// ReduceSum took its axes as an (optional) input from opset 13, the other reductions only from
// opset 18; noop_with_empty_axes arrived together with that input.
int first_opset_with_axes_input(const std::string& op_type) { return op_type == "ReduceSum" ? 13 : 18; }

// Which axes of the input are reduced. Empty axes mean all of them, unless noop_with_empty_axes
// asks for none (every output element then "reduces" a single input element).
// The CPU reference kernel (backend/cpu/reference/reduce.cpp) resolves axes the same way.
std::vector<bool> resolve_reduced_axes(const InferContext& ctx, int rank) {
  const std::string& op_type = ctx.node().op_type;
  const int axes_input_opset = first_opset_with_axes_input(op_type);
  std::vector<int64_t> axes;
  bool noop_with_empty_axes = false;
  if (ctx.opset() >= axes_input_opset) {
    KESTREL_CHECK(!ctx.attrs().has("axes"), "from opset {} {} takes 'axes' as an input, not as an attribute",
                  axes_input_opset, op_type);
    if (ctx.has_input(1)) axes = to_int_vector(ctx.require_constant(1, "axes"));
    noop_with_empty_axes = ctx.attrs().get_int("noop_with_empty_axes", 0) != 0;
  } else {
    KESTREL_CHECK(!ctx.has_input(1), "before opset {} {} takes 'axes' as an attribute, not as an input (opset {})",
                  axes_input_opset, op_type, ctx.opset());
    KESTREL_CHECK(!ctx.attrs().has("noop_with_empty_axes"),
                  "attribute 'noop_with_empty_axes' exists only from opset {} (opset {})", axes_input_opset,
                  ctx.opset());
    axes = ctx.attrs().get_ints("axes", {});
  }
  if (axes.empty()) return std::vector<bool>(size_t(rank), !noop_with_empty_axes);
  KESTREL_CHECK(rank > 0, "axes {} given for a scalar input", axes);
  std::vector<bool> reduced(size_t(rank), false);
  for (int64_t axis : axes) {
    const int a = normalize_axis(axis, rank);
    KESTREL_CHECK(!reduced[size_t(a)], "axes {} name axis {} twice", axes, a);
    reduced[size_t(a)] = true;
  }
  return reduced;
}

bool is_one_of(DataType t, std::initializer_list<DataType> allowed) {
  for (DataType a : allowed)
    if (t == a) return true;
  return false;
}

// Order-only reductions work on any numeric type; exact integer arithmetic suits Sum/Prod/Mean/L1/
// SumSquare; L2, LogSum and LogSumExp only make sense on floats.
void check_reduce_dtype(const std::string& op_type, DataType t) {
  if (op_type == "ReduceMax" || op_type == "ReduceMin") {
    KESTREL_CHECK(is_one_of(t, {DataType::kFLOAT, DataType::kINT64, DataType::kINT32, DataType::kINT8,
                                DataType::kUINT8}),
                  "supports float32, int64, int32, int8 and uint8 inputs, got {}", dtype_name(t));
  } else if (op_type == "ReduceL2" || op_type == "ReduceLogSum" || op_type == "ReduceLogSumExp") {
    KESTREL_CHECK(t == DataType::kFLOAT, "supports float32 inputs only, got {}", dtype_name(t));
  } else {
    KESTREL_CHECK(is_one_of(t, {DataType::kFLOAT, DataType::kINT64, DataType::kINT32}),
                  "supports float32, int64 and int32 inputs, got {}", dtype_name(t));
  }
}

void infer_reduce(InferContext& ctx) {
  check_reduce_dtype(ctx.node().op_type, ctx.input_dtype(0));
  const Shape& in = ctx.input_shape(0);
  const std::vector<bool> reduced = resolve_reduced_axes(ctx, int(in.size()));
  const bool keepdims = ctx.attrs().get_int("keepdims", 1) != 0;
  Shape out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (!reduced[i])
      out.push_back(in[i]);
    else if (keepdims)
      out.push_back(1);
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
}

void check_arg_dtype(DataType t) {
  KESTREL_CHECK(is_one_of(t, {DataType::kFLOAT, DataType::kINT64, DataType::kINT32, DataType::kINT8,
                              DataType::kUINT8}),
                "supports float32, int64, int32, int8 and uint8 inputs, got {}", dtype_name(t));
}

// ArgMax / ArgMin: int64 indices along one axis.
void infer_arg_reduce(InferContext& ctx) {
  check_arg_dtype(ctx.input_dtype(0));
  Shape shape = ctx.input_shape(0);
  KESTREL_CHECK(!shape.empty(), "needs an input of rank >= 1");
  KESTREL_CHECK(ctx.opset() >= 12 || !ctx.attrs().has("select_last_index"),
                "attribute 'select_last_index' exists only from opset 12 (opset {})", ctx.opset());
  const int axis = normalize_axis(ctx.attrs().get_int("axis", 0), int(shape.size()));
  KESTREL_CHECK(shape[size_t(axis)] > 0, "axis {} of input shape {} is empty: there is no index to return", axis,
                shape_str(shape));
  if (ctx.attrs().get_int("keepdims", 1) != 0)
    shape[size_t(axis)] = 1;
  else
    shape.erase(shape.begin() + axis);
  ctx.set_output(0, DataType::kINT64, shape);
}

// TopK: k is an attribute before opset 10 and a constant 1-element input from then on.
int64_t topk_k(const InferContext& ctx) {
  if (ctx.opset() < 10) {
    KESTREL_CHECK(!ctx.has_input(1), "before opset 10 'k' is an attribute, not an input (opset {})", ctx.opset());
    return ctx.attrs().get_int("k");
  }
  KESTREL_CHECK(ctx.has_input(1), "needs the input 'k' from opset 10");
  const Tensor& k = ctx.require_constant(1, "k");
  KESTREL_CHECK(k.numel() == 1 && k.rank() <= 1, "'k' must hold exactly one value, got shape {}",
                shape_str(k.shape()));
  return k.int_at(0);
}

void infer_topk(InferContext& ctx) {
  check_arg_dtype(ctx.input_dtype(0));
  Shape shape = ctx.input_shape(0);
  KESTREL_CHECK(!shape.empty(), "needs an input of rank >= 1");
  KESTREL_CHECK(ctx.opset() >= 11 || (!ctx.attrs().has("largest") && !ctx.attrs().has("sorted")),
                "attributes 'largest' and 'sorted' exist only from opset 11 (opset {})", ctx.opset());
  const int axis = normalize_axis(ctx.attrs().get_int("axis", -1), int(shape.size()));
  const int64_t k = topk_k(ctx);
  KESTREL_CHECK(k >= 0 && k <= shape[size_t(axis)], "k = {} is out of range for axis {} of input shape {}", k, axis,
                shape_str(shape));
  shape[size_t(axis)] = k;
  ctx.set_output(0, ctx.input_dtype(0), shape);
  ctx.set_output(1, DataType::kINT64, shape);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"ReduceSum", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ReduceMean", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ReduceMax", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ReduceMin", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ReduceProd", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ReduceL1", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ReduceL2", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ReduceSumSquare", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ReduceLogSum", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ReduceLogSumExp", 1, 2, 1, 1, infer_reduce});
KESTREL_REGISTER_OP(OpSchema{"ArgMax", 1, 1, 1, 1, infer_arg_reduce});
KESTREL_REGISTER_OP(OpSchema{"ArgMin", 1, 1, 1, 1, infer_arg_reduce});
KESTREL_REGISTER_OP(OpSchema{"TopK", 1, 2, 2, 2, infer_topk});

}  // namespace kestrel::ir
