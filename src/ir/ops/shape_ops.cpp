// Schemas of the ops that query a shape or give the same elements another shape:
// Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze.
#include <algorithm>
#include <optional>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

// Shape-15's start/end: negative values count from the back, then both clamp into [0, rank].
int64_t clamp_shape_bound(int64_t bound, int rank) {
  if (bound < 0) bound += rank;
  return std::clamp<int64_t>(bound, 0, rank);
}

void infer_shape(InferContext& ctx) {
  const int rank = int(ctx.input_shape(0).size());
  int64_t start = 0, end = rank;
  if (ctx.opset() >= 15) {
    start = clamp_shape_bound(ctx.attrs().get_int("start", 0), rank);
    end = clamp_shape_bound(ctx.attrs().get_int("end", rank), rank);
  }
  ctx.set_output(0, DataType::kINT64, {std::max<int64_t>(0, end - start)});
}

void infer_size(InferContext& ctx) { ctx.set_output(0, DataType::kINT64, {}); }

Shape reshape_target(const Shape& input, const std::vector<int64_t>& requested, bool allow_zero) {
  Shape out(requested.size());
  int inferred_axis = -1;
  bool has_zero = false;
  int64_t known = 1;
  for (size_t i = 0; i < requested.size(); ++i) {
    const int64_t d = requested[i];
    if (d == -1) {
      KESTREL_CHECK(inferred_axis < 0, "shape {} has more than one -1", requested);
      inferred_axis = int(i);
      continue;
    }
    KESTREL_CHECK(d >= 0, "shape {} has an invalid dimension {}", requested, d);
    if (d == 0 && !allow_zero) {
      KESTREL_CHECK(i < input.size(), "shape {} copies dimension {} (0) but the input {} has rank {}", requested, i,
                    shape_str(input), input.size());
      out[i] = input[i];
    } else {
      out[i] = d;
      has_zero = has_zero || d == 0;
    }
    known *= out[i];
  }
  KESTREL_CHECK(!(allow_zero && has_zero && inferred_axis >= 0),
                "shape {} has both 0 and -1, which allowzero=1 makes ambiguous", requested);
  const int64_t numel = shape_numel(input);
  if (inferred_axis >= 0) {
    KESTREL_CHECK(known != 0, "cannot infer the -1 in shape {} when the other dimensions hold 0 elements", requested);
    KESTREL_CHECK(numel % known == 0, "cannot reshape {} to {}: {} elements do not divide into parts of {}",
                  shape_str(input), requested, numel, known);
    out[size_t(inferred_axis)] = numel / known;
  }
  KESTREL_CHECK(shape_numel(out) == numel, "cannot reshape {} ({} elements) to {} ({} elements)", shape_str(input),
                numel, shape_str(out), shape_numel(out));
  return out;
}

void infer_reshape(InferContext& ctx) {
  const Tensor& shape = ctx.require_constant(1, "target shape");
  const bool allow_zero = ctx.opset() >= 14 && ctx.attrs().get_int("allowzero", 0) != 0;
  ctx.set_output(0, ctx.input_dtype(0), reshape_target(ctx.input_shape(0), to_int_vector(shape), allow_zero));
}

void infer_flatten(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  const int rank = int(in.size());
  int64_t axis = ctx.attrs().get_int("axis", 1);
  // Unlike most axes, Flatten's may equal the rank (everything goes into the first dimension).
  KESTREL_CHECK(axis >= -rank && axis <= rank, "axis {} is out of range [{}, {}]", axis, -rank, rank);
  if (axis < 0) axis += rank;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < rank; ++i) (i < axis ? outer : inner) *= in[size_t(i)];
  ctx.set_output(0, ctx.input_dtype(0), {outer, inner});
}

// Squeeze and Unsqueeze took `axes` as an attribute before opset 13 and as an input since.
std::optional<std::vector<int64_t>> squeeze_axes(const InferContext& ctx) {
  if (ctx.opset() < 13) {
    if (!ctx.attrs().has("axes")) return std::nullopt;
    return ctx.attrs().get_ints("axes");
  }
  if (!ctx.has_input(1)) return std::nullopt;
  return to_int_vector(ctx.require_constant(1, "axes"));
}

void infer_squeeze(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  const int rank = int(in.size());
  std::vector<bool> removed(size_t(rank), false);
  const auto axes = squeeze_axes(ctx);
  if (!axes || axes->empty()) {
    for (int i = 0; i < rank; ++i) removed[size_t(i)] = in[size_t(i)] == 1;
  } else {
    for (int64_t a : *axes) {
      const int axis = normalize_axis(a, rank);
      KESTREL_CHECK(!removed[size_t(axis)], "axis {} is listed twice in {}", a, *axes);
      KESTREL_CHECK(in[size_t(axis)] == 1, "cannot squeeze axis {} of shape {}: its size is not 1", a,
                    shape_str(in));
      removed[size_t(axis)] = true;
    }
  }
  Shape out;
  for (int i = 0; i < rank; ++i)
    if (!removed[size_t(i)]) out.push_back(in[size_t(i)]);
  ctx.set_output(0, ctx.input_dtype(0), out);
}

void infer_unsqueeze(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  const auto axes = squeeze_axes(ctx);
  KESTREL_CHECK(axes.has_value(), "axes are required");
  // Axes index the output, whose rank counts the inserted dimensions.
  const int out_rank = int(in.size() + axes->size());
  std::vector<bool> inserted(size_t(out_rank), false);
  for (int64_t a : *axes) {
    const int axis = normalize_axis(a, out_rank);
    KESTREL_CHECK(!inserted[size_t(axis)], "axis {} is listed twice in {}", a, *axes);
    inserted[size_t(axis)] = true;
  }
  Shape out(size_t(out_rank), 1);
  size_t next_input_dim = 0;
  for (int i = 0; i < out_rank; ++i)
    if (!inserted[size_t(i)]) out[size_t(i)] = in[next_input_dim++];
  ctx.set_output(0, ctx.input_dtype(0), out);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"Shape", 1, 1, 1, 1, infer_shape});
KESTREL_REGISTER_OP(OpSchema{"Size", 1, 1, 1, 1, infer_size});
KESTREL_REGISTER_OP(OpSchema{"Reshape", 2, 2, 1, 1, infer_reshape});
KESTREL_REGISTER_OP(OpSchema{"Flatten", 1, 1, 1, 1, infer_flatten});
KESTREL_REGISTER_OP(OpSchema{"Squeeze", 1, 2, 1, 1, infer_squeeze});
KESTREL_REGISTER_OP(OpSchema{"Unsqueeze", 1, 2, 1, 1, infer_unsqueeze});

}  // namespace kestrel::ir
