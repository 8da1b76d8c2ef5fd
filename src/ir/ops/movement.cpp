// Schemas of the ops that move elements around without computing on them: Transpose, Concat,
// Split, Slice, Expand, Tile, DepthToSpace, SpaceToDepth, Pad, ReverseSequence.
#include <algorithm>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.h"
#include "ir/op_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::ir {
namespace {

constexpr int kUnbounded = std::numeric_limits<int>::max();

bool is_index_dtype(DataType t) { return t == DataType::kINT64 || t == DataType::kINT32; }

// ---- Transpose -------------------------------------------------------------------------------

void infer_transpose(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  const int rank = int(in.size());
  std::vector<int64_t> reversed(static_cast<size_t>(rank));
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  const std::vector<int64_t> perm = ctx.attrs().get_ints("perm", reversed);
  KESTREL_CHECK(int(perm.size()) == rank, "perm {} has {} entries for an input of rank {}", perm, perm.size(), rank);
  std::vector<bool> seen(size_t(rank), false);
  Shape out(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) {
    const int64_t p = perm[size_t(i)];
    KESTREL_CHECK(p >= 0 && p < rank && !seen[size_t(p)], "perm {} is not a permutation of 0..{}", perm, rank - 1);
    seen[size_t(p)] = true;
    out[size_t(i)] = in[size_t(p)];
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
}

// ---- Concat ----------------------------------------------------------------------------------

void infer_concat(InferContext& ctx) {
  const Shape& first = ctx.input_shape(0);
  const int rank = int(first.size());
  KESTREL_CHECK(rank > 0, "cannot concatenate scalars");
  const int axis = normalize_axis(ctx.attrs().get_int("axis"), rank);
  Shape out = first;
  out[size_t(axis)] = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Shape& s = ctx.input_shape(i);
    KESTREL_CHECK(ctx.input_dtype(i) == ctx.input_dtype(0), "input {} is {} but input 0 is {}", i,
                  dtype_name(ctx.input_dtype(i)), dtype_name(ctx.input_dtype(0)));
    KESTREL_CHECK(int(s.size()) == rank, "input {} has shape {}, of another rank than input 0's {}", i, shape_str(s),
                  shape_str(first));
    for (int d = 0; d < rank; ++d)
      KESTREL_CHECK(d == axis || s[size_t(d)] == first[size_t(d)],
                    "input {} has shape {}, which differs from input 0's {} outside axis {}", i, shape_str(s),
                    shape_str(first), axis);
    out[size_t(axis)] += s[size_t(axis)];
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
}

// ---- Split -----------------------------------------------------------------------------------

// Opset 18's num_outputs: chunks of ceil(dim / parts), the last one smaller when that does not
// divide (empty when the others already cover the axis). Returns the part count.
int64_t checked_num_outputs(const InferContext& ctx) {
  const int64_t parts = int64_t(ctx.num_outputs());
  if (!ctx.attrs().has("num_outputs")) return 0;
  KESTREL_CHECK(ctx.opset() >= 18, "attribute 'num_outputs' exists only from opset 18 (opset {})", ctx.opset());
  KESTREL_CHECK(!ctx.has_input(1), "takes either the 'split' input or the 'num_outputs' attribute, not both");
  const int64_t num_outputs = ctx.attrs().get_int("num_outputs");
  KESTREL_CHECK(num_outputs == parts, "num_outputs {} differs from the {} outputs", num_outputs, parts);
  return num_outputs;
}

std::vector<int64_t> split_sizes(const InferContext& ctx, int64_t dim) {
  const int64_t parts = int64_t(ctx.num_outputs());
  const int64_t num_outputs = checked_num_outputs(ctx);
  std::vector<int64_t> sizes;
  if (ctx.opset() < 13 && ctx.attrs().has("split")) {
    sizes = ctx.attrs().get_ints("split");
  } else if (ctx.opset() >= 13 && ctx.has_input(1)) {
    sizes = to_int_vector(ctx.require_constant(1, "split sizes"));
  }
  if (!sizes.empty()) {
    KESTREL_CHECK(int64_t(sizes.size()) == parts, "split {} lists {} parts for {} outputs", sizes, sizes.size(), parts);
    int64_t total = 0;
    for (int64_t s : sizes) {
      KESTREL_CHECK(s >= 0, "split {} has a negative size", sizes);
      total += s;
    }
    KESTREL_CHECK(total == dim, "split {} adds up to {}, not to the axis size {}", sizes, total, dim);
    return sizes;
  }
  if (num_outputs > 0) {
    const int64_t chunk = (dim + parts - 1) / parts;
    KESTREL_CHECK(chunk * (parts - 1) <= dim, "num_outputs {} cannot split an axis of size {} into chunks of {}",
                  num_outputs, dim, chunk);
    for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::min(chunk, dim - chunk * i));
    return sizes;
  }
  KESTREL_CHECK(dim % parts == 0, "cannot split an axis of size {} into {} equal parts", dim, parts);
  return std::vector<int64_t>(size_t(parts), dim / parts);
}

void infer_split(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  const int axis = normalize_axis(ctx.attrs().get_int("axis", 0), int(in.size()));
  const std::vector<int64_t> sizes = split_sizes(ctx, in[size_t(axis)]);
  for (size_t i = 0; i < sizes.size(); ++i) {
    Shape out = in;
    out[size_t(axis)] = sizes[i];
    ctx.set_output(i, ctx.input_dtype(0), out);
  }
}

// ---- Slice -----------------------------------------------------------------------------------

// Number of elements a slice keeps along one axis, after the spec's clamping.
int64_t slice_length(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (dim == 0) return 0;
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    return end > start ? (end - start - 1) / step + 1 : 0;
  }
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  // A step beyond the axis size keeps one element, however large it is (and -INT64_MIN overflows).
  const int64_t magnitude = step < -dim ? dim + 1 : -step;
  return start > end ? (start - end - 1) / magnitude + 1 : 0;
}

void infer_slice(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  const int rank = int(in.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.attrs().get_ints("starts");
    ends = ctx.attrs().get_ints("ends");
    axes = ctx.attrs().get_ints("axes", {});
  } else {
    KESTREL_CHECK(ctx.num_inputs() >= 3, "starts and ends are required inputs");
    starts = to_int_vector(ctx.require_constant(1, "starts"));
    ends = to_int_vector(ctx.require_constant(2, "ends"));
    if (ctx.has_input(3)) axes = to_int_vector(ctx.require_constant(3, "axes"));
    if (ctx.has_input(4)) steps = to_int_vector(ctx.require_constant(4, "steps"));
  }
  const size_t n = starts.size();
  KESTREL_CHECK(ends.size() == n, "starts {} and ends {} differ in length", starts, ends);
  if (axes.empty()) {
    KESTREL_CHECK(int(n) <= rank, "starts {} has more entries than the input rank {}", starts, rank);
    axes.resize(n);
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty()) steps.assign(n, 1);
  KESTREL_CHECK(axes.size() == n, "axes {} and starts {} differ in length", axes, starts);
  KESTREL_CHECK(steps.size() == n, "steps {} and starts {} differ in length", steps, starts);
  Shape out = in;
  std::vector<bool> seen(size_t(rank), false);
  for (size_t i = 0; i < n; ++i) {
    const int axis = normalize_axis(axes[i], rank);
    KESTREL_CHECK(!seen[size_t(axis)], "axis {} appears twice in axes {}", axes[i], axes);
    seen[size_t(axis)] = true;
    KESTREL_CHECK(steps[i] != 0, "steps {} contains 0", steps);
    out[size_t(axis)] = slice_length(in[size_t(axis)], starts[i], ends[i], steps[i]);
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
}

// ---- Expand, Tile ----------------------------------------------------------------------------

void infer_expand(InferContext& ctx) {
  const std::vector<int64_t> shape = to_int_vector(ctx.require_constant(1, "target shape"));
  for (int64_t d : shape) KESTREL_CHECK(d >= 0, "shape {} has a negative dimension", shape);
  ctx.set_output(0, ctx.input_dtype(0), broadcast_shapes(ctx.input_shape(0), shape));
}

void infer_tile(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  const std::vector<int64_t> repeats = to_int_vector(ctx.require_constant(1, "repeats"));
  KESTREL_CHECK(repeats.size() == in.size(), "repeats {} has {} entries for an input of rank {}", repeats,
                repeats.size(), in.size());
  Shape out = in;
  for (size_t i = 0; i < in.size(); ++i) {
    KESTREL_CHECK(repeats[i] >= 0, "repeats {} has a negative entry", repeats);
    out[i] *= repeats[i];
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
}

// ---- DepthToSpace, SpaceToDepth --------------------------------------------------------------

int64_t checked_blocksize(const InferContext& ctx) {
  KESTREL_CHECK(ctx.input_shape(0).size() == 4, "expects a 4-D NCHW input, got shape {}",
                shape_str(ctx.input_shape(0)));
  const int64_t b = ctx.attrs().get_int("blocksize");
  KESTREL_CHECK(b > 0, "blocksize must be positive, got {}", b);
  return b;
}

void infer_depth_to_space(InferContext& ctx) {
  const int64_t b = checked_blocksize(ctx);
  const std::string mode = ctx.attrs().get_string("mode", "DCR");
  KESTREL_CHECK(mode == "DCR" || mode == "CRD", "mode must be DCR or CRD, got '{}'", mode);
  const Shape& in = ctx.input_shape(0);
  KESTREL_CHECK(in[1] % (b * b) == 0, "channels {} are not divisible by blocksize^2 = {}", in[1], b * b);
  ctx.set_output(0, ctx.input_dtype(0), {in[0], in[1] / (b * b), in[2] * b, in[3] * b});
}

void infer_space_to_depth(InferContext& ctx) {
  const int64_t b = checked_blocksize(ctx);
  const Shape& in = ctx.input_shape(0);
  KESTREL_CHECK(in[2] % b == 0 && in[3] % b == 0, "height {} and width {} must be divisible by blocksize {}", in[2],
                in[3], b);
  ctx.set_output(0, ctx.input_dtype(0), {in[0], in[1] * b * b, in[2] / b, in[3] / b});
}

// ---- Pad -------------------------------------------------------------------------------------

// Begin and end pads for every axis of the input, in the attribute's or the input's layout
// [x1_begin, x2_begin, ..., x1_end, x2_end, ...], over all axes or the listed ones (opset 18).
std::vector<int64_t> pads_per_axis(const InferContext& ctx, int rank) {
  std::vector<int64_t> pads;
  std::vector<int64_t> axes(static_cast<size_t>(rank));
  std::iota(axes.begin(), axes.end(), 0);
  if (ctx.opset() < 11) {
    pads = ctx.attrs().get_ints("pads");
  } else {
    KESTREL_CHECK(ctx.has_input(1), "the pads input is required from opset 11");
    pads = to_int_vector(ctx.require_constant(1, "pads"));
    if (ctx.has_input(3)) {
      KESTREL_CHECK(ctx.opset() >= 18, "the 'axes' input exists only from opset 18 (opset {})", ctx.opset());
      axes = to_int_vector(ctx.require_constant(3, "axes"));
    }
  }
  KESTREL_CHECK(pads.size() == 2 * axes.size(), "pads {} should hold 2 x {} values", pads, axes.size());
  std::vector<int64_t> full(size_t(2 * rank), 0);
  std::vector<bool> seen(size_t(rank), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    const int axis = normalize_axis(axes[i], rank);
    KESTREL_CHECK(!seen[size_t(axis)], "axis {} appears twice in axes {}", axes[i], axes);
    seen[size_t(axis)] = true;
    full[size_t(axis)] = pads[i];
    full[size_t(axis + rank)] = pads[i + axes.size()];
  }
  return full;
}

void infer_pad(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  const int rank = int(in.size());
  const std::string mode = ctx.attrs().get_string("mode", "constant");
  KESTREL_CHECK(mode == "constant" || mode == "reflect" || mode == "edge" || mode == "wrap",
                "mode must be constant, reflect, edge or wrap, got '{}'", mode);
  KESTREL_CHECK(mode != "wrap" || ctx.opset() >= 19, "mode 'wrap' exists only from opset 19 (opset {})", ctx.opset());
  const std::vector<int64_t> pads = pads_per_axis(ctx, rank);
  if (ctx.opset() >= 11 && ctx.has_input(2)) {
    KESTREL_CHECK(ctx.input_dtype(2) == ctx.input_dtype(0), "constant_value is {} but the data is {}",
                  dtype_name(ctx.input_dtype(2)), dtype_name(ctx.input_dtype(0)));
    KESTREL_CHECK(shape_numel(ctx.input_shape(2)) <= 1, "constant_value must be a scalar, got shape {}",
                  shape_str(ctx.input_shape(2)));
  }
  Shape out(static_cast<size_t>(rank));
  for (int d = 0; d < rank; ++d) {
    const int64_t begin = pads[size_t(d)], end = pads[size_t(d + rank)];
    out[size_t(d)] = in[size_t(d)] + begin + end;
    KESTREL_CHECK(out[size_t(d)] >= 0, "pads {} crop more than the {} elements of axis {}", pads, in[size_t(d)], d);
    KESTREL_CHECK(mode == "constant" || in[size_t(d)] > 0 || (begin <= 0 && end <= 0),
                  "{} padding cannot extend axis {}, which is empty", mode, d);
  }
  ctx.set_output(0, ctx.input_dtype(0), out);
}

// ---- ReverseSequence -------------------------------------------------------------------------

void infer_reverse_sequence(InferContext& ctx) {
  const Shape& in = ctx.input_shape(0);
  KESTREL_CHECK(in.size() >= 2, "expects an input of rank 2 or more, got shape {}", shape_str(in));
  const int64_t batch_axis = ctx.attrs().get_int("batch_axis", 1);
  const int64_t time_axis = ctx.attrs().get_int("time_axis", 0);
  KESTREL_CHECK((batch_axis == 0 || batch_axis == 1) && (time_axis == 0 || time_axis == 1) && batch_axis != time_axis,
                "batch_axis {} and time_axis {} must be 0 and 1 in some order", batch_axis, time_axis);
  KESTREL_CHECK(is_index_dtype(ctx.input_dtype(1)), "sequence_lens must be int64 or int32, got {}",
                dtype_name(ctx.input_dtype(1)));
  const Shape& lens = ctx.input_shape(1);
  KESTREL_CHECK(lens.size() == 1 && lens[0] == in[size_t(batch_axis)],
                "sequence_lens has shape {}, expected [{}] (the batch size)", shape_str(lens), in[size_t(batch_axis)]);
  ctx.set_output(0, ctx.input_dtype(0), in);
}

}  // namespace

KESTREL_REGISTER_OP(OpSchema{"Transpose", 1, 1, 1, 1, infer_transpose});
KESTREL_REGISTER_OP(OpSchema{"Concat", 1, kUnbounded, 1, 1, infer_concat});
KESTREL_REGISTER_OP(OpSchema{"Split", 1, 2, 1, kUnbounded, infer_split});
KESTREL_REGISTER_OP(OpSchema{"Slice", 1, 5, 1, 1, infer_slice});
KESTREL_REGISTER_OP(OpSchema{"Expand", 2, 2, 1, 1, infer_expand});
KESTREL_REGISTER_OP(OpSchema{"Tile", 2, 2, 1, 1, infer_tile});
KESTREL_REGISTER_OP(OpSchema{"DepthToSpace", 1, 1, 1, 1, infer_depth_to_space});
KESTREL_REGISTER_OP(OpSchema{"SpaceToDepth", 1, 1, 1, 1, infer_space_to_depth});
KESTREL_REGISTER_OP(OpSchema{"Pad", 1, 4, 1, 1, infer_pad});
KESTREL_REGISTER_OP(OpSchema{"ReverseSequence", 2, 2, 1, 1, infer_reverse_sequence});

}  // namespace kestrel::ir
