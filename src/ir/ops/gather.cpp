// Schemas of the indexing ops: Gather, GatherElements, GatherND, ScatterElements, ScatterND,
// NonZero, OneHot, Trilu.
#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

void check_index_dtype(const InferContext& ctx, size_t input, const char* what) {
  const DataType t = ctx.input_dtype(input);
  KESTREL_CHECK(t == DataType::kINT64 || t == DataType::kINT32, "{} must be int64 or int32, got {}", what,
                dtype_name(t));
}

void infer_gather(InferContext& ctx) {
  const Shape& data = ctx.input_shape(0);
  check_index_dtype(ctx, 1, "indices");
  KESTREL_CHECK(!data.empty(), "cannot gather from a scalar");
  const int axis = normalize_axis(ctx.attrs().get_int("axis", 0), int(data.size()));
  // data[:axis] + indices.shape + data[axis+1:]
  Shape out(data.begin(), data.begin() + axis);
  const Shape& indices = ctx.input_shape(1);
  out.insert(out.end(), indices.begin(), indices.end());
  out.insert(out.end(), data.begin() + axis + 1, data.end());
  ctx.set_output(0, ctx.input_dtype(0), out);
}

// GatherElements and ScatterElements index `data` at the indices' coordinates, with the
// coordinate along `axis` replaced by the index: the other dimensions must fit inside data's.
void check_elementwise_indices(const Shape& data, const Shape& indices, int axis) {
  KESTREL_CHECK(indices.size() == data.size(), "indices of shape {} and data of shape {} differ in rank",
                shape_str(indices), shape_str(data));
  for (size_t d = 0; d < data.size(); ++d)
    KESTREL_CHECK(int(d) == axis || indices[d] <= data[d],
                  "indices of shape {} exceed data of shape {} along axis {}, which is not the indexed axis {}",
                  shape_str(indices), shape_str(data), d, axis);
}

void infer_gather_elements(InferContext& ctx) {
  const Shape& data = ctx.input_shape(0);
  check_index_dtype(ctx, 1, "indices");
  KESTREL_CHECK(!data.empty(), "cannot gather from a scalar");
  const int axis = normalize_axis(ctx.attrs().get_int("axis", 0), int(data.size()));
  check_elementwise_indices(data, ctx.input_shape(1), axis);
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(1));
}

void infer_gather_nd(InferContext& ctx) {
  const Shape& data = ctx.input_shape(0);
  const Shape& indices = ctx.input_shape(1);
  check_index_dtype(ctx, 1, "indices");
  const int64_t batch_dims = ctx.opset() >= 12 ? ctx.attrs().get_int("batch_dims", 0) : 0;
  const int64_t r = int64_t(data.size()), q = int64_t(indices.size());
  KESTREL_CHECK(r >= 1 && q >= 1, "data (shape {}) and indices (shape {}) must have rank 1 or more",
                shape_str(data), shape_str(indices));
  KESTREL_CHECK(batch_dims >= 0 && batch_dims < std::min(r, q), "batch_dims {} must be in [0, {})", batch_dims,
                std::min(r, q));
  for (int64_t d = 0; d < batch_dims; ++d)
    KESTREL_CHECK(data[size_t(d)] == indices[size_t(d)],
                  "data {} and indices {} differ in batch dimension {}", shape_str(data), shape_str(indices), d);
  const int64_t k = indices.back();
  KESTREL_CHECK(k >= 1 && k <= r - batch_dims, "the last indices dimension {} must be in [1, {}]", k, r - batch_dims);
  // indices.shape[:-1] + data.shape[batch_dims + k:]
  Shape out(indices.begin(), indices.end() - 1);
  out.insert(out.end(), data.begin() + batch_dims + k, data.end());
  ctx.set_output(0, ctx.input_dtype(0), out);
}

void check_scatter_reduction(const InferContext& ctx) {
  const std::string reduction = ctx.attrs().get_string("reduction", "none");
  const bool known = reduction == "none" || reduction == "add" || reduction == "mul" || reduction == "max" ||
                     reduction == "min";
  KESTREL_CHECK(known, "reduction must be none, add, mul, max or min, got '{}'", reduction);
  KESTREL_CHECK(ctx.opset() >= 18 || (reduction != "max" && reduction != "min"),
                "reduction '{}' exists only from opset 18 (opset {})", reduction, ctx.opset());
  const DataType t = ctx.input_dtype(0);
  KESTREL_CHECK(reduction == "none" || t == DataType::kFLOAT || dtype_is_integer(t),
                "reduction '{}' is not supported for {} data", reduction, dtype_name(t));
  KESTREL_CHECK(ctx.input_dtype(2) == t, "updates are {} but data is {}", dtype_name(ctx.input_dtype(2)),
                dtype_name(t));
}

void infer_scatter_elements(InferContext& ctx) {
  const Shape& data = ctx.input_shape(0);
  check_index_dtype(ctx, 1, "indices");
  check_scatter_reduction(ctx);
  KESTREL_CHECK(!data.empty(), "cannot scatter into a scalar");
  KESTREL_CHECK(ctx.input_shape(1) == ctx.input_shape(2), "indices of shape {} and updates of shape {} differ",
                shape_str(ctx.input_shape(1)), shape_str(ctx.input_shape(2)));
  const int axis = normalize_axis(ctx.attrs().get_int("axis", 0), int(data.size()));
  check_elementwise_indices(data, ctx.input_shape(1), axis);
  ctx.set_output(0, ctx.input_dtype(0), data);
}

void infer_scatter_nd(InferContext& ctx) {
  const Shape& data = ctx.input_shape(0);
  const Shape& indices = ctx.input_shape(1);
  check_index_dtype(ctx, 1, "indices");
  check_scatter_reduction(ctx);
  KESTREL_CHECK(!data.empty() && !indices.empty(), "data (shape {}) and indices (shape {}) must have rank 1 or more",
                shape_str(data), shape_str(indices));
  const int64_t k = indices.back();
  KESTREL_CHECK(k >= 1 && k <= int64_t(data.size()), "the last indices dimension {} must be in [1, {}]", k,
                data.size());
  // updates.shape == indices.shape[:-1] + data.shape[k:]
  Shape expected(indices.begin(), indices.end() - 1);
  expected.insert(expected.end(), data.begin() + k, data.end());
  KESTREL_CHECK(ctx.input_shape(2) == expected, "updates have shape {}, expected {}", shape_str(ctx.input_shape(2)),
                shape_str(expected));
  ctx.set_output(0, ctx.input_dtype(0), data);
}

// The number of nonzeros decides the output shape, so NonZero only runs on constants, when
// the folder evaluates it at build time.
void infer_non_zero(InferContext& ctx) {
  const Tensor& data = ctx.require_constant(0, "data (NonZero's output shape depends on its values)");
  int64_t count = 0;
  for (int64_t i = 0; i < data.numel(); ++i) count += data.double_at(i) != 0.0;
  // A scalar reports one coordinate row, as onnxruntime does.
  ctx.set_output(0, DataType::kINT64, {std::max<int64_t>(data.rank(), 1), count});
}

void infer_one_hot(InferContext& ctx) {
  const Shape& indices = ctx.input_shape(0);
  const Tensor& depth_tensor = ctx.require_constant(1, "depth");
  KESTREL_CHECK(depth_tensor.numel() == 1, "depth must hold one value, got shape {}",
                shape_str(depth_tensor.shape()));
  const double depth_value = depth_tensor.double_at(0);
  KESTREL_CHECK(depth_value >= 1 && depth_value < 9.0e15, "depth must be a positive count, got {}", depth_value);
  const int64_t depth = int64_t(depth_value);
  KESTREL_CHECK(shape_numel(ctx.input_shape(2)) == 2 && ctx.input_shape(2).size() == 1,
                "values must be [off_value, on_value], got shape {}", shape_str(ctx.input_shape(2)));
  KESTREL_CHECK(ctx.input_dtype(0) != DataType::kBOOL, "indices must be numeric, got bool");
  const int out_rank = int(indices.size()) + 1;
  const int axis = normalize_axis(ctx.attrs().get_int("axis", -1), out_rank);
  Shape out = indices;
  out.insert(out.begin() + axis, depth);
  ctx.set_output(0, ctx.input_dtype(2), out);
}

void infer_trilu(InferContext& ctx) {
  KESTREL_CHECK(ctx.input_shape(0).size() >= 2, "expects an input of rank 2 or more, got shape {}",
                shape_str(ctx.input_shape(0)));
  if (ctx.has_input(1)) {
    KESTREL_CHECK(ctx.input_dtype(1) == DataType::kINT64, "k must be int64, got {}", dtype_name(ctx.input_dtype(1)));
    KESTREL_CHECK(shape_numel(ctx.input_shape(1)) == 1, "k must be a scalar, got shape {}",
                  shape_str(ctx.input_shape(1)));
  }
  ctx.set_output(0, ctx.input_dtype(0), ctx.input_shape(0));
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"Gather", 2, 2, 1, 1, infer_gather});
KESTREL_REGISTER_OP(OpSchema{"GatherElements", 2, 2, 1, 1, infer_gather_elements});
KESTREL_REGISTER_OP(OpSchema{"GatherND", 2, 2, 1, 1, infer_gather_nd});
KESTREL_REGISTER_OP(OpSchema{"ScatterElements", 3, 3, 1, 1, infer_scatter_elements});
KESTREL_REGISTER_OP(OpSchema{"ScatterND", 3, 3, 1, 1, infer_scatter_nd});
KESTREL_REGISTER_OP(OpSchema{"NonZero", 1, 1, 1, 1, infer_non_zero});
KESTREL_REGISTER_OP(OpSchema{"OneHot", 3, 3, 1, 1, infer_one_hot});
KESTREL_REGISTER_OP(OpSchema{"Trilu", 1, 2, 1, 1, infer_trilu});

}  // namespace kestrel::ir
