// Reference kernels of the data-movement ops: Transpose, Concat, Split, Slice, Expand, Tile,
// DepthToSpace, SpaceToDepth, Pad, ReverseSequence. They move elements of any dtype by size.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "backend/cpu/reference/dispatch.h"
#include "backend/cpu/reference/coordinates.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "core/fp16.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {


// out[i] = in[base + sum_d coord_d * in_strides[d]] over the coordinates of `iteration_shape`,
// whose row-major order is the output's: the common core of transposes, slices and broadcasts.
void strided_copy(const Tensor& in, int64_t base, const std::vector<int64_t>& in_strides,
                  const Shape& iteration_shape, Tensor& out) {
  dispatch_any(in.dtype(), [&]<typename T>() {
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    for_each_coordinate(iteration_shape, [&](int64_t i, const std::vector<int64_t>& coord) {
      int64_t offset = base;
      for (size_t d = 0; d < coord.size(); ++d) offset += coord[d] * in_strides[d];
      dst[i] = src[offset];
    });
  });
}

// Reads the input as `view_shape` and writes it permuted by `perm`: Transpose and the
// reshape-transpose-reshape definitions of DepthToSpace and SpaceToDepth.
void permuted_copy(const Tensor& in, const Shape& view_shape, const std::vector<int64_t>& perm, Tensor& out) {
  const std::vector<int64_t> strides = ir::strides_of(view_shape);
  Shape permuted_shape(perm.size());
  std::vector<int64_t> permuted_strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    permuted_shape[i] = view_shape[size_t(perm[i])];
    permuted_strides[i] = strides[size_t(perm[i])];
  }
  strided_copy(in, 0, permuted_strides, permuted_shape, out);
}

void transpose_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  std::vector<int64_t> perm(size_t(in.rank()));
  std::iota(perm.rbegin(), perm.rend(), 0);
  perm = ctx.attrs().get_ints("perm", perm);
  permuted_copy(in, in.shape(), perm, ctx.output(0));
}

// Product of the dimensions before `axis` and after it: how a tensor splits into
// [outer, axis, inner] blocks.
int64_t outer_size(const Shape& shape, int axis) {
  return std::accumulate(shape.begin(), shape.begin() + axis, int64_t{1}, std::multiplies<>());
}
int64_t inner_size(const Shape& shape, int axis) {
  return std::accumulate(shape.begin() + axis + 1, shape.end(), int64_t{1}, std::multiplies<>());
}

void concat_kernel(const KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  const int axis = ir::normalize_axis(ctx.attrs().get_int("axis"), out.rank());
  const size_t element = dtype_size(out.dtype());
  const int64_t outer = outer_size(out.shape(), axis);
  const int64_t out_row = out.dim(axis) * inner_size(out.shape(), axis);  // elements per outer index
  auto* dst = static_cast<std::byte*>(out.raw());
  int64_t offset_in_row = 0;
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    const Tensor& in = ctx.input(i);
    const int64_t in_row = in.dim(axis) * inner_size(in.shape(), axis);
    const auto* src = static_cast<const std::byte*>(in.raw());
    for (int64_t o = 0; o < outer && in_row > 0; ++o)
      std::memcpy(dst + size_t(o * out_row + offset_in_row) * element, src + size_t(o * in_row) * element,
                  size_t(in_row) * element);
    offset_in_row += in_row;
  }
}

// The part sizes of a Split, as shape inference validated them.
std::vector<int64_t> split_sizes(const KernelContext& ctx, int64_t dim) {
  const int64_t parts = int64_t(ctx.num_outputs());
  if (ctx.opset() < 13 && ctx.attrs().has("split")) {
    std::vector<int64_t> sizes = ctx.attrs().get_ints("split");
    if (!sizes.empty()) return sizes;
  }
  if (ctx.opset() >= 13 && ctx.has_input(1) && ctx.input(1).numel() > 0) return ir::to_int_vector(ctx.input(1));
  // Equal parts; from opset 18 the last one may be smaller.
  const int64_t chunk = (dim + parts - 1) / parts;
  std::vector<int64_t> sizes;
  for (int64_t i = 0; i < parts; ++i) sizes.push_back(std::clamp<int64_t>(dim - chunk * i, 0, chunk));
  return sizes;
}

void split_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const int axis = ir::normalize_axis(ctx.attrs().get_int("axis", 0), in.rank());
  const std::vector<int64_t> sizes = split_sizes(ctx, in.dim(axis));
  const size_t element = dtype_size(in.dtype());
  const int64_t outer = outer_size(in.shape(), axis);
  const int64_t inner = inner_size(in.shape(), axis);
  const int64_t in_row = in.dim(axis) * inner;
  const auto* src = static_cast<const std::byte*>(in.raw());
  int64_t offset_in_row = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    const int64_t out_row = sizes[i] * inner;
    if (ctx.has_output(i)) {
      auto* dst = static_cast<std::byte*>(ctx.output(i).raw());
      for (int64_t o = 0; o < outer && out_row > 0; ++o)
        std::memcpy(dst + size_t(o * out_row) * element, src + size_t(o * in_row + offset_in_row) * element,
                    size_t(out_row) * element);
    }
    offset_in_row += out_row;
  }
}

// First element read along one axis, per the spec's clamping (the length is the output's).
int64_t slice_start(int64_t dim, int64_t start, int64_t step) {
  if (start < 0) start += dim;
  return step > 0 ? std::clamp<int64_t>(start, 0, dim) : std::clamp<int64_t>(start, 0, std::max<int64_t>(dim - 1, 0));
}

void slice_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  std::vector<int64_t> starts, axes, steps;
  if (ctx.opset() < 10) {
    starts = ctx.attrs().get_ints("starts");
    axes = ctx.attrs().get_ints("axes", {});
  } else {
    starts = ir::to_int_vector(ctx.input(1));
    if (ctx.has_input(3)) axes = ir::to_int_vector(ctx.input(3));
    if (ctx.has_input(4)) steps = ir::to_int_vector(ctx.input(4));
  }
  if (axes.empty()) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty()) steps.assign(starts.size(), 1);
  const std::vector<int64_t> in_strides = ir::strides_of(in.shape());
  std::vector<int64_t> strides = in_strides;
  int64_t base = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    const int axis = ir::normalize_axis(axes[i], in.rank());
    if (out.dim(axis) == 0) continue;
    base += slice_start(in.dim(axis), starts[i], steps[i]) * in_strides[size_t(axis)];
    // With one element kept the step is never taken (and a huge one would overflow).
    strides[size_t(axis)] = out.dim(axis) == 1 ? 0 : steps[i] * in_strides[size_t(axis)];
  }
  strided_copy(in, base, strides, out.shape(), out);
}

void expand_kernel(const KernelContext& ctx) {
  Tensor& out = ctx.output(0);
  strided_copy(ctx.input(0), 0, ir::broadcast_strides(ctx.input(0).shape(), out.shape()), out.shape(), out);
}

void tile_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const std::vector<int64_t> in_strides = ir::strides_of(in.shape());
  dispatch_any(in.dtype(), [&]<typename T>() {
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    for_each_coordinate(out.shape(), [&](int64_t i, const std::vector<int64_t>& coord) {
      int64_t offset = 0;
      for (size_t d = 0; d < coord.size(); ++d) offset += (coord[d] % in.shape()[d]) * in_strides[d];
      dst[i] = src[offset];
    });
  });
}

void depth_to_space_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const int64_t b = ctx.attrs().get_int("blocksize");
  const int64_t n = in.dim(0), c = in.dim(1), h = in.dim(2), w = in.dim(3);
  // DCR reads the channels as (block row, block column, depth); CRD as (depth, block row, block column).
  if (ctx.attrs().get_string("mode", "DCR") == "DCR")
    permuted_copy(in, {n, b, b, c / (b * b), h, w}, {0, 3, 4, 1, 5, 2}, ctx.output(0));
  else
    permuted_copy(in, {n, c / (b * b), b, b, h, w}, {0, 1, 4, 2, 5, 3}, ctx.output(0));
}

void space_to_depth_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const int64_t b = ctx.attrs().get_int("blocksize");
  const int64_t n = in.dim(0), c = in.dim(1), h = in.dim(2), w = in.dim(3);
  permuted_copy(in, {n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4}, ctx.output(0));
}

// ---- Pad -------------------------------------------------------------------------------------

// Begin pad of every axis (the end pads are implied by the output shape).
std::vector<int64_t> begin_pads(const KernelContext& ctx, int rank) {
  std::vector<int64_t> pads;
  std::vector<int64_t> axes(static_cast<size_t>(rank));
  std::iota(axes.begin(), axes.end(), 0);
  if (ctx.opset() < 11) {
    pads = ctx.attrs().get_ints("pads");
  } else {
    pads = ir::to_int_vector(ctx.input(1));
    if (ctx.has_input(3)) axes = ir::to_int_vector(ctx.input(3));
  }
  std::vector<int64_t> begin(size_t(rank), 0);
  for (size_t i = 0; i < axes.size(); ++i) begin[size_t(ir::normalize_axis(axes[i], rank))] = pads[i];
  return begin;
}

// The padding value as raw bytes of the data's dtype.
std::vector<std::byte> pad_value_bytes(const KernelContext& ctx) {
  const DataType dtype = ctx.input(0).dtype();
  std::vector<std::byte> bytes(dtype_size(dtype));
  if (ctx.opset() >= 11) {
    if (ctx.has_input(2) && ctx.input(2).numel() == 1) std::memcpy(bytes.data(), ctx.input(2).raw(), bytes.size());
    return bytes;
  }
  const float value = ctx.attrs().get_float("value", 0.f);
  auto store = [&](auto v) { std::memcpy(bytes.data(), &v, sizeof(v)); };
  switch (dtype) {
    case DataType::kFLOAT: store(value); break;
    case DataType::kHALF: store(float_to_half(value).bits); break;
    case DataType::kINT64: store(int64_t(value)); break;
    case DataType::kINT32: store(int32_t(value)); break;
    case DataType::kINT8: store(int8_t(value)); break;
    case DataType::kUINT8: store(uint8_t(value)); break;
    case DataType::kBOOL: store(uint8_t(value != 0.f)); break;
  }
  return bytes;
}

enum class PadMode { kConstant, kReflect, kEdge, kWrap };

PadMode pad_mode(const KernelContext& ctx) {
  const std::string mode = ctx.attrs().get_string("mode", "constant");
  if (mode == "reflect") return PadMode::kReflect;
  if (mode == "edge") return PadMode::kEdge;
  if (mode == "wrap") return PadMode::kWrap;
  KESTREL_CHECK(mode == "constant", "unsupported pad mode '{}'", mode);
  return PadMode::kConstant;
}

// Input index that output index `o` reads along an axis of `n` elements padded by `begin` in
// front, or -1 where a constant pad goes.
int64_t padded_source(int64_t o, int64_t begin, int64_t n, PadMode mode) {
  const int64_t i = o - begin;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::kConstant: return -1;
    case PadMode::kEdge: return std::clamp<int64_t>(i, 0, n - 1);
    case PadMode::kWrap: return ((i % n) + n) % n;
    case PadMode::kReflect: break;
  }
  // Mirror about the edge elements (without repeating them), as often as the pad needs.
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  const int64_t r = ((i % period) + period) % period;
  return r < n ? r : period - r;
}

void pad_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int rank = in.rank();
  const std::vector<int64_t> begin = begin_pads(ctx, rank);
  const PadMode mode = pad_mode(ctx);
  const std::vector<std::byte> value_bytes = pad_value_bytes(ctx);
  const std::vector<int64_t> in_strides = ir::strides_of(in.shape());
  dispatch_any(in.dtype(), [&]<typename T>() {
    T value;
    std::memcpy(&value, value_bytes.data(), sizeof(T));
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    for_each_coordinate(out.shape(), [&](int64_t i, const std::vector<int64_t>& coord) {
      int64_t offset = 0;
      for (int d = 0; d < rank; ++d) {
        const int64_t source = padded_source(coord[size_t(d)], begin[size_t(d)], in.dim(d), mode);
        if (source < 0) {
          dst[i] = value;
          return;
        }
        offset += source * in_strides[size_t(d)];
      }
      dst[i] = src[offset];
    });
  });
}

void reverse_sequence_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  const Tensor& lengths = ctx.input(1);
  Tensor& out = ctx.output(0);
  const size_t batch_axis = size_t(ctx.attrs().get_int("batch_axis", 1));
  const size_t time_axis = size_t(ctx.attrs().get_int("time_axis", 0));
  const int64_t steps = in.shape()[time_axis];
  for (int64_t b = 0; b < lengths.numel(); ++b)
    KESTREL_CHECK(lengths.int_at(b) >= 0 && lengths.int_at(b) <= steps,
                  "sequence_lens[{}] = {} is out of range [0, {}] (the time axis size)", b, lengths.int_at(b), steps);
  const std::vector<int64_t> strides = ir::strides_of(in.shape());
  dispatch_any(in.dtype(), [&]<typename T>() {
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    for_each_coordinate(out.shape(), [&](int64_t i, const std::vector<int64_t>& coord) {
      const int64_t length = lengths.int_at(coord[batch_axis]);
      const int64_t t = coord[time_axis];
      const int64_t source_t = t < length ? length - 1 - t : t;  // only the first `length` steps reverse
      dst[i] = src[i + (source_t - t) * strides[time_axis]];
    });
  });
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("Transpose", transpose_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Concat", concat_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Split", split_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Slice", slice_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Expand", expand_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Tile", tile_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("DepthToSpace", depth_to_space_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("SpaceToDepth", space_to_depth_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Pad", pad_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("ReverseSequence", reverse_sequence_kernel);

}  // namespace kestrel::cpu
