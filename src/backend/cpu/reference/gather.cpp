// Reference kernels of the indexing ops: Gather, GatherElements, GatherND, ScatterElements,
// ScatterND, NonZero, OneHot, Trilu. Every index is bounds-checked before it is used.
#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "backend/cpu/reference/dispatch.h"
#include "backend/cpu/reference/coordinates.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

// Maps a possibly negative index into [0, bound), or fails naming it and the bound.
int64_t resolve_index(int64_t index, int64_t bound) {
  const int64_t resolved = index < 0 ? index + bound : index;
  KESTREL_CHECK(resolved >= 0 && resolved < bound, "index {} is out of range for an axis of size {} (valid: [{}, {}])",
                index, bound, -bound, bound - 1);
  return resolved;
}


int64_t product(Shape::const_iterator begin, Shape::const_iterator end) {
  return std::accumulate(begin, end, int64_t{1}, std::multiplies<>());
}

void gather_kernel(const KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  Tensor& out = ctx.output(0);
  const int axis = ir::normalize_axis(ctx.attrs().get_int("axis", 0), data.rank());
  const int64_t outer = product(data.shape().begin(), data.shape().begin() + axis);
  const int64_t axis_size = data.dim(axis);
  const int64_t inner = product(data.shape().begin() + axis + 1, data.shape().end());
  const int64_t count = indices.numel();
  const size_t block_bytes = size_t(inner) * dtype_size(data.dtype());
  const auto* src = static_cast<const std::byte*>(data.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  for (int64_t j = 0; j < count; ++j) {
    const int64_t index = resolve_index(indices.int_at(j), axis_size);
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + size_t(o * count + j) * block_bytes, src + size_t(o * axis_size + index) * block_bytes,
                  block_bytes);
  }
}

void gather_elements_kernel(const KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  Tensor& out = ctx.output(0);
  const size_t axis = size_t(ir::normalize_axis(ctx.attrs().get_int("axis", 0), data.rank()));
  const std::vector<int64_t> strides = ir::strides_of(data.shape());
  dispatch_any(data.dtype(), [&]<typename T>() {
    const T* src = data.data<T>();
    T* dst = out.data<T>();
    for_each_coordinate(indices.shape(), [&](int64_t i, const std::vector<int64_t>& coord) {
      int64_t offset = 0;
      for (size_t d = 0; d < coord.size(); ++d)
        offset += (d == axis ? resolve_index(indices.int_at(i), data.shape()[d]) : coord[d]) * strides[d];
      dst[i] = src[offset];
    });
  });
}

// Offset into `data` of the element or slice addressed by indices[tuple, 0..k), counting
// dimensions from `first_dim` (GatherND's batch dimensions precede it).
int64_t nd_offset(const Tensor& data, const std::vector<int64_t>& strides, const Tensor& indices, int64_t tuple,
                  int64_t k, int first_dim) {
  int64_t offset = 0;
  for (int64_t t = 0; t < k; ++t) {
    const int dim = first_dim + int(t);
    offset += resolve_index(indices.int_at(tuple * k + t), data.dim(dim)) * strides[size_t(dim)];
  }
  return offset;
}

void gather_nd_kernel(const KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  Tensor& out = ctx.output(0);
  const int batch_dims = ctx.opset() >= 12 ? int(ctx.attrs().get_int("batch_dims", 0)) : 0;
  const int64_t k = indices.shape().back();
  const int64_t batches = product(data.shape().begin(), data.shape().begin() + batch_dims);
  const int64_t tuples_per_batch = product(indices.shape().begin() + batch_dims, indices.shape().end() - 1);
  const int64_t slice = product(data.shape().begin() + batch_dims + k, data.shape().end());
  const int64_t batch_stride = product(data.shape().begin() + batch_dims, data.shape().end());
  const std::vector<int64_t> strides = ir::strides_of(data.shape());
  const size_t element = dtype_size(data.dtype());
  const auto* src = static_cast<const std::byte*>(data.raw());
  auto* dst = static_cast<std::byte*>(out.raw());
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t j = 0; j < tuples_per_batch; ++j) {
      const int64_t tuple = b * tuples_per_batch + j;
      const int64_t offset = b * batch_stride + nd_offset(data, strides, indices, tuple, k, batch_dims);
      std::memcpy(dst + size_t(tuple * slice) * element, src + size_t(offset) * element, size_t(slice) * element);
    }
  }
}

// ---- Scatter ---------------------------------------------------------------------------------

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Reduction scatter_reduction(const KernelContext& ctx) {
  const std::string name = ctx.attrs().get_string("reduction", "none");
  if (name == "add") return Reduction::kAdd;
  if (name == "mul") return Reduction::kMul;
  if (name == "max") return Reduction::kMax;
  if (name == "min") return Reduction::kMin;
  KESTREL_CHECK(name == "none", "unsupported reduction '{}'", name);
  return Reduction::kNone;
}

template <typename T>
void combine(T& target, T update, Reduction reduction) {
  switch (reduction) {
    case Reduction::kNone: target = update; break;
    case Reduction::kAdd: target = T(target + update); break;
    case Reduction::kMul: target = T(target * update); break;
    case Reduction::kMax: target = std::max(target, update); break;
    case Reduction::kMin: target = std::min(target, update); break;
  }
}

// Plain replacement moves any dtype by size; the reductions need the real element type.
template <typename F>
void dispatch_scatter(DataType dtype, Reduction reduction, F&& f) {
  if (reduction == Reduction::kNone)
    dispatch_any(dtype, std::forward<F>(f));
  else
    dispatch_numeric(dtype, std::forward<F>(f));
}

void scatter_elements_kernel(const KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Tensor& updates = ctx.input(2);
  Tensor& out = ctx.output(0);
  const size_t axis = size_t(ir::normalize_axis(ctx.attrs().get_int("axis", 0), data.rank()));
  const Reduction reduction = scatter_reduction(ctx);
  const std::vector<int64_t> strides = ir::strides_of(data.shape());
  std::memcpy(out.raw(), data.raw(), data.nbytes());
  dispatch_scatter(data.dtype(), reduction, [&]<typename T>() {
    const T* src = updates.data<T>();
    T* dst = out.data<T>();
    for_each_coordinate(indices.shape(), [&](int64_t i, const std::vector<int64_t>& coord) {
      int64_t offset = 0;
      for (size_t d = 0; d < coord.size(); ++d)
        offset += (d == axis ? resolve_index(indices.int_at(i), data.shape()[d]) : coord[d]) * strides[d];
      combine(dst[offset], src[i], reduction);
    });
  });
}

void scatter_nd_kernel(const KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& indices = ctx.input(1);
  const Tensor& updates = ctx.input(2);
  Tensor& out = ctx.output(0);
  const Reduction reduction = scatter_reduction(ctx);
  const int64_t k = indices.shape().back();
  const int64_t tuples = indices.numel() / k;
  const int64_t slice = product(data.shape().begin() + k, data.shape().end());
  const std::vector<int64_t> strides = ir::strides_of(data.shape());
  std::memcpy(out.raw(), data.raw(), data.nbytes());
  dispatch_scatter(data.dtype(), reduction, [&]<typename T>() {
    const T* src = updates.data<T>();
    T* dst = out.data<T>();
    for (int64_t j = 0; j < tuples; ++j) {
      const int64_t offset = nd_offset(data, strides, indices, j, k, 0);
      for (int64_t e = 0; e < slice; ++e) combine(dst[offset + e], src[j * slice + e], reduction);
    }
  });
}

// ---- NonZero, OneHot, Trilu ------------------------------------------------------------------

void non_zero_kernel(const KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int64_t count = out.dim(1);
  int64_t found = 0;
  for_each_coordinate(data.shape(), [&](int64_t i, const std::vector<int64_t>& coord) {
    if (data.double_at(i) == 0.0) return;
    KESTREL_CHECK(found < count, "the input holds more nonzeros than the {} that shape inference counted", count);
    // Output row r holds coordinate r of every nonzero; a scalar's only coordinate is 0.
    for (size_t r = 0; r < coord.size(); ++r) out.data<int64_t>()[int64_t(r) * count + found] = coord[r];
    if (coord.empty()) out.data<int64_t>()[found] = 0;
    ++found;
  });
  KESTREL_CHECK(found == count, "the input holds {} nonzeros, shape inference counted {}", found, count);
}

void one_hot_kernel(const KernelContext& ctx) {
  const Tensor& indices = ctx.input(0);
  const Tensor& values = ctx.input(2);
  Tensor& out = ctx.output(0);
  const int axis = ir::normalize_axis(ctx.attrs().get_int("axis", -1), out.rank());
  const int64_t depth = out.dim(axis);
  const int64_t outer = product(indices.shape().begin(), indices.shape().begin() + axis);
  const int64_t inner = product(indices.shape().begin() + axis, indices.shape().end());
  dispatch_any(values.dtype(), [&]<typename T>() {
    const T off = values.data<T>()[0], on = values.data<T>()[1];
    T* dst = out.data<T>();
    std::fill(dst, dst + out.numel(), off);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        // Indices outside [-depth, depth) select nothing: their row stays all off_value. Float
        // indices truncate, as a cast to int64 would (checked first: NaN or huge ones can't convert).
        const double raw = indices.double_at(o * inner + i);
        if (!(raw > -double(depth) - 1.0 && raw < double(depth))) continue;
        int64_t index = int64_t(raw);
        if (index < 0) index += depth;
        dst[(o * depth + index) * inner + i] = on;
      }
    }
  });
}

void trilu_kernel(const KernelContext& ctx) {
  const Tensor& in = ctx.input(0);
  Tensor& out = ctx.output(0);
  const int64_t k = ctx.has_input(1) ? ctx.input(1).int_at(0) : 0;
  const bool upper = ctx.attrs().get_int("upper", 1) != 0;
  const int64_t rows = in.dim(-2), cols = in.dim(-1);
  const int64_t matrices = rows * cols == 0 ? 0 : in.numel() / (rows * cols);
  dispatch_any(in.dtype(), [&]<typename T>() {
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    for (int64_t m = 0; m < matrices; ++m) {
      for (int64_t i = 0; i < rows; ++i) {
        for (int64_t j = 0; j < cols; ++j) {
          const int64_t at = (m * rows + i) * cols + j;
          // Upper keeps the diagonals on and above diagonal k; lower keeps those on and below it.
          const bool keep = upper ? j - i >= k : j - i <= k;
          dst[at] = keep ? src[at] : T{};
        }
      }
    }
  });
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("Gather", gather_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("GatherElements", gather_elements_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("GatherND", gather_nd_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("ScatterElements", scatter_elements_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("ScatterND", scatter_nd_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("NonZero", non_zero_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("OneHot", one_hot_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("Trilu", trilu_kernel);

}  // namespace kestrel::cpu
