// Reference kernels for MaxPool, AveragePool, LpPool and GlobalMaxPool, GlobalAveragePool,
// GlobalLpPool (see src/ir/ops/pool.cpp for the output-size rules).
//
// Each output element gathers the in-bounds elements of its window (padding never takes part in
// a maximum or a sum) and reduces them. AveragePool divides by the number of in-bounds elements,
// or with count_include_pad=1 by the number of window positions inside the padded input (a
// ceil_mode window hanging past the end padding does not count its overhang, as in PyTorch and
// onnxruntime). Sums accumulate in double.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "backend/cpu/reference/dispatch.h"
#include "backend/cpu/reference/kernel_registry.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

// Advances a row-major multi-index within `dims`; false once it wraps around to all zeros.
bool next_index(std::vector<int64_t>& index, const Shape& dims) {
  for (size_t i = index.size(); i-- > 0;) {
    if (++index[i] < dims[i]) return true;
    index[i] = 0;
  }
  return false;
}

std::vector<int64_t> spatial_ints(const ir::Attributes& attrs, const char* name, size_t count, int64_t fill) {
  std::vector<int64_t> values = attrs.get_ints(name, {});
  return values.empty() ? std::vector<int64_t>(count, fill) : values;
}

struct PoolGeometry {
  Shape in, out, kernel;  // spatial dims only
  std::vector<int64_t> strides, dilations, pad_begin, pad_end;
};

// Reads the attributes and resolves auto_pad against the output size that inference chose.
PoolGeometry pool_geometry(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const size_t spatial = size_t(x.rank()) - 2;
  PoolGeometry g;
  g.in.assign(x.shape().begin() + 2, x.shape().end());
  g.out.assign(ctx.output(0).shape().begin() + 2, ctx.output(0).shape().end());
  g.kernel = ctx.attrs().get_ints("kernel_shape");
  g.strides = spatial_ints(ctx.attrs(), "strides", spatial, 1);
  g.dilations = spatial_ints(ctx.attrs(), "dilations", spatial, 1);
  const std::vector<int64_t> pads = spatial_ints(ctx.attrs(), "pads", 2 * spatial, 0);
  const std::string auto_pad = ctx.attrs().get_string("auto_pad", "NOTSET");
  for (size_t i = 0; i < spatial; ++i) {
    int64_t begin = 0, end = 0;
    if (auto_pad == "NOTSET") {
      begin = pads[i];
      end = pads[i + spatial];
    } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t k_eff = (g.kernel[i] - 1) * g.dilations[i] + 1;
      const int64_t total = std::max<int64_t>(0, (g.out[i] - 1) * g.strides[i] + k_eff - g.in[i]);
      begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    }
    g.pad_begin.push_back(begin);
    g.pad_end.push_back(end);
  }
  return g;
}

// An in-bounds element of a window: its offset in the plane, row-major and column-major.
struct WindowElement {
  int64_t offset, column_major_offset;
};

// Collects the in-bounds elements of the window of output position `out_index` (in tap order)
// and returns how many window positions lie inside the padded input.
int64_t collect_window(const PoolGeometry& g, const std::vector<int64_t>& out_index,
                       std::vector<WindowElement>& elements) {
  const size_t spatial = g.in.size();
  elements.clear();
  int64_t padded_count = 1;
  for (size_t d = 0; d < spatial; ++d) {
    const int64_t start = out_index[d] * g.strides[d] - g.pad_begin[d];
    int64_t inside_padding = 0;
    for (int64_t k = 0; k < g.kernel[d]; ++k) {
      const int64_t pos = start + k * g.dilations[d];
      inside_padding += pos >= -g.pad_begin[d] && pos < g.in[d] + g.pad_end[d];
    }
    padded_count *= inside_padding;
  }
  std::vector<int64_t> tap(spatial, 0);
  do {
    int64_t offset = 0, column_major_offset = 0, column_stride = 1;
    bool inside = true;
    for (size_t d = 0; d < spatial && inside; ++d) {
      const int64_t pos = out_index[d] * g.strides[d] - g.pad_begin[d] + tap[d] * g.dilations[d];
      inside = pos >= 0 && pos < g.in[d];
      offset = offset * g.in[d] + pos;
      column_major_offset += pos * column_stride;
      column_stride *= g.in[d];
    }
    if (inside) elements.push_back({offset, column_major_offset});
  } while (next_index(tap, g.kernel));
  return padded_count;
}

// Calls reduce(plane_in, plane_out_index, window_elements, padded_count) for every output element,
// plane by plane (a plane is one (n, c) pair).
template <typename Reduce>
void for_each_window(const PoolGeometry& g, int64_t planes, Reduce&& reduce) {
  std::vector<WindowElement> elements;
  const int64_t out_plane = shape_numel(g.out);
  // Windows are the same in every plane: collect them once.
  std::vector<std::vector<WindowElement>> windows;
  std::vector<int64_t> padded_counts;
  std::vector<int64_t> out_index(g.out.size(), 0);
  if (out_plane > 0) {
    do {
      padded_counts.push_back(collect_window(g, out_index, elements));
      windows.push_back(elements);
    } while (next_index(out_index, g.out));
  }
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t o = 0; o < out_plane; ++o) reduce(plane, o, windows[size_t(o)], padded_counts[size_t(o)]);
}

void max_pool_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  Tensor* indices = ctx.has_output(1) ? &ctx.output(1) : nullptr;
  const PoolGeometry g = pool_geometry(ctx);
  const bool column_major = ctx.attrs().get_int("storage_order", 0) == 1;
  const int64_t in_plane = shape_numel(g.in), out_plane = shape_numel(g.out);
  dispatch_numeric(x.dtype(), [&]<typename T>() {
    for_each_window(g, x.dim(0) * x.dim(1), [&](int64_t plane, int64_t o, const std::vector<WindowElement>& window,
                                                 int64_t) {
      const T* in = x.data<T>() + plane * in_plane;
      T best = std::numeric_limits<T>::lowest();
      int64_t best_index = -1;
      for (const WindowElement& e : window) {
        if (best_index < 0 || in[e.offset] > best) {
          best = in[e.offset];
          best_index = column_major ? e.column_major_offset : e.offset;
        }
      }
      y.data<T>()[plane * out_plane + o] = best;
      if (indices) indices->data<int64_t>()[plane * out_plane + o] = plane * in_plane + best_index;
    });
  });
}

void average_pool_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const PoolGeometry g = pool_geometry(ctx);
  const bool count_include_pad = ctx.attrs().get_int("count_include_pad", 0) != 0;
  const int64_t in_plane = shape_numel(g.in), out_plane = shape_numel(g.out);
  for_each_window(g, x.dim(0) * x.dim(1), [&](int64_t plane, int64_t o, const std::vector<WindowElement>& window,
                                               int64_t padded_count) {
    const float* in = x.data<float>() + plane * in_plane;
    double sum = 0;
    for (const WindowElement& e : window) sum += in[e.offset];
    const int64_t count = count_include_pad ? padded_count : int64_t(window.size());
    y.data<float>()[plane * out_plane + o] = count > 0 ? float(sum / double(count)) : 0.f;
  });
}

double lp_norm_of(const float* values, const std::vector<WindowElement>& window, double p) {
  double sum = 0;
  for (const WindowElement& e : window) sum += std::pow(std::fabs(double(values[e.offset])), p);
  return std::pow(sum, 1.0 / p);
}

void lp_pool_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const PoolGeometry g = pool_geometry(ctx);
  const double p = double(ctx.attrs().get_int("p", 2));
  const int64_t in_plane = shape_numel(g.in), out_plane = shape_numel(g.out);
  for_each_window(g, x.dim(0) * x.dim(1), [&](int64_t plane, int64_t o, const std::vector<WindowElement>& window,
                                               int64_t) {
    y.data<float>()[plane * out_plane + o] = float(lp_norm_of(x.data<float>() + plane * in_plane, window, p));
  });
}

// Global pools: one window per (n, c) plane covering all of it.
int64_t plane_size(const Tensor& x) {
  int64_t size = 1;
  for (int i = 2; i < x.rank(); ++i) size *= x.dim(i);
  return size;
}

void global_max_pool_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const int64_t size = plane_size(x);
  dispatch_numeric(x.dtype(), [&]<typename T>() {
    for (int64_t plane = 0; plane < x.dim(0) * x.dim(1); ++plane) {
      const T* in = x.data<T>() + plane * size;
      y.data<T>()[plane] = size > 0 ? *std::max_element(in, in + size) : std::numeric_limits<T>::lowest();
    }
  });
}

void global_average_pool_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const int64_t size = plane_size(x);
  for (int64_t plane = 0; plane < x.dim(0) * x.dim(1); ++plane) {
    const float* in = x.data<float>() + plane * size;
    double sum = 0;
    for (int64_t i = 0; i < size; ++i) sum += in[i];
    y.data<float>()[plane] = size > 0 ? float(sum / double(size)) : 0.f;
  }
}

void global_lp_pool_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor& y = ctx.output(0);
  const int64_t size = plane_size(x);
  const double p = double(ctx.attrs().get_int("p", 2));
  for (int64_t plane = 0; plane < x.dim(0) * x.dim(1); ++plane) {
    const float* in = x.data<float>() + plane * size;
    double sum = 0;
    for (int64_t i = 0; i < size; ++i) sum += std::pow(std::fabs(double(in[i])), p);
    y.data<float>()[plane] = float(std::pow(sum, 1.0 / p));
  }
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("MaxPool", max_pool_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("AveragePool", average_pool_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("LpPool", lp_pool_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("GlobalMaxPool", global_max_pool_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("GlobalAveragePool", global_average_pool_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("GlobalLpPool", global_lp_pool_kernel);

}  // namespace kestrel::cpu
