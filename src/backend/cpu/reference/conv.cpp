// Reference kernels for Conv and ConvTranspose (float32, any number of spatial dims).
//
// Direct convolution, organised so that the innermost loop is a plain multiply-add over a row:
// for one kernel tap, the "iterated" grid (Conv: the output, ConvTranspose: the input) maps onto
// the "mapped" grid (Conv: the input, ConvTranspose: the output) by, in every spatial dim,
//   mapped = iterated * stride - pad_begin + tap * dilation.
// Rows (runs along the last spatial dim) of the iterated grid whose outer coordinates land in
// padding are skipped whole, and the valid part of each row is computed once per tap, so there is
// no bounds check per element. For each output channel the whole output plane accumulates in
// float, starting from the bias; the output tensor itself is the accumulator.
//
// The output sizes come from shape inference (src/ir/ops/conv.cpp); the kernels only need the
// padding at the beginning of each dim, which they recompute from the same rules.
#include <algorithm>
#include <string>
#include <vector>

#include "backend/cpu/reference/kernel_registry.h"
#include "core/error.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu {
namespace {

// Integer division rounding towards -infinity / +infinity, for a positive divisor.
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); }

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

struct ConvGeometry {
  Shape iterated;  // spatial dims of the grid the loops walk
  Shape mapped;    // spatial dims of the grid each tap maps onto
  Shape kernel;
  std::vector<int64_t> strides, dilations, pad_begin;
};

// For one kernel tap: the rows of the iterated grid that have a partner row in the mapped grid.
// Element x in [lo, hi) of the row starting at `iterated` pairs with mapped element
// `mapped + x * stride_of_last_dim` (offsets relative to the start of each plane).
struct TapRows {
  struct Row {
    int64_t iterated, mapped;
  };
  int64_t lo = 0, hi = 0;
  std::vector<Row> rows;
};

TapRows rows_of_tap(const ConvGeometry& g, const std::vector<int64_t>& tap) {
  const size_t last = g.iterated.size() - 1;
  const std::vector<int64_t> mapped_strides = ir::strides_of(g.mapped);
  TapRows result;
  const int64_t shift = tap[last] * g.dilations[last] - g.pad_begin[last];
  const int64_t s = g.strides[last];
  result.lo = std::max<int64_t>(0, ceil_div(-shift, s));
  result.hi = std::min<int64_t>(g.iterated[last], floor_div(g.mapped[last] - 1 - shift, s) + 1);
  if (result.lo >= result.hi) return result;

  const Shape outer(g.iterated.begin(), g.iterated.end() - 1);
  std::vector<int64_t> index(outer.size(), 0);
  int64_t iterated_offset = 0;
  do {
    int64_t mapped_offset = 0;
    bool inside = true;
    for (size_t d = 0; d < outer.size() && inside; ++d) {
      const int64_t m = index[d] * g.strides[d] - g.pad_begin[d] + tap[d] * g.dilations[d];
      inside = m >= 0 && m < g.mapped[d];
      mapped_offset += m * mapped_strides[d];
    }
    if (inside) result.rows.push_back({iterated_offset, mapped_offset + shift});
    iterated_offset += g.iterated[last];
  } while (next_index(index, outer));
  return result;
}

// rows_of_tap for every tap of the kernel, in the weight's row-major tap order.
std::vector<TapRows> rows_of_all_taps(const ConvGeometry& g) {
  std::vector<TapRows> all;
  std::vector<int64_t> tap(g.kernel.size(), 0);
  do all.push_back(rows_of_tap(g, tap));
  while (next_index(tap, g.kernel));
  return all;
}

// The attributes both kernels read, with pads resolved for auto_pad the way inference does it.
struct ConvAttributes {
  Shape kernel;
  std::vector<int64_t> strides, dilations, pads;  // pads: all begins, then all ends
  std::string auto_pad;
  int64_t group;
};

ConvAttributes read_attributes(const KernelContext& ctx) {
  const Shape& w = ctx.input(1).shape();
  const size_t spatial = w.size() - 2;
  ConvAttributes a;
  a.kernel.assign(w.begin() + 2, w.end());
  a.strides = spatial_ints(ctx.attrs(), "strides", spatial, 1);
  a.dilations = spatial_ints(ctx.attrs(), "dilations", spatial, 1);
  a.pads = spatial_ints(ctx.attrs(), "pads", 2 * spatial, 0);
  a.auto_pad = ctx.attrs().get_string("auto_pad", "NOTSET");
  a.group = ctx.attrs().get_int("group", 1);
  if (a.auto_pad != "NOTSET") a.pads.assign(2 * spatial, 0);
  return a;
}

// The padding at the beginning for a total: SAME_UPPER puts the odd element at the end. The halves
// round down, so that a negative total (ConvTranspose's output_shape beyond the natural size)
// grows the end, like output_padding: -1 splits into 0 at the beginning and -1 at the end.
int64_t begin_of_total_padding(int64_t total, bool odd_at_end) {
  return odd_at_end ? floor_div(total, 2) : total - floor_div(total, 2);
}

void conv_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  Tensor& y = ctx.output(0);
  const ConvAttributes a = read_attributes(ctx);
  const size_t spatial = size_t(x.rank()) - 2;

  ConvGeometry g;
  g.iterated.assign(y.shape().begin() + 2, y.shape().end());
  g.mapped.assign(x.shape().begin() + 2, x.shape().end());
  g.kernel = a.kernel;
  g.strides = a.strides;
  g.dilations = a.dilations;
  for (size_t i = 0; i < spatial; ++i) {
    if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      const int64_t k_eff = (a.kernel[i] - 1) * a.dilations[i] + 1;
      const int64_t total = std::max<int64_t>(0, (g.iterated[i] - 1) * a.strides[i] + k_eff - g.mapped[i]);
      g.pad_begin.push_back(begin_of_total_padding(total, a.auto_pad == "SAME_UPPER"));
    } else {
      g.pad_begin.push_back(a.pads[i]);
    }
  }

  const int64_t batch = x.dim(0), in_channels = x.dim(1), out_channels = w.dim(0);
  const int64_t in_per_group = in_channels / a.group, out_per_group = out_channels / a.group;
  const int64_t in_plane = shape_numel(g.mapped), out_plane = shape_numel(g.iterated);
  const int64_t taps = shape_numel(g.kernel);
  const int64_t s = a.strides[spatial - 1];
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  const std::vector<TapRows> plan = rows_of_all_taps(g);

  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t m = 0; m < out_channels; ++m) {
      const int64_t group = m / out_per_group;
      float* out = y.data<float>() + (n * out_channels + m) * out_plane;
      std::fill(out, out + out_plane, bias ? bias[m] : 0.f);
      for (int64_t c = 0; c < in_per_group; ++c) {
        const float* in = x.data<float>() + (n * in_channels + group * in_per_group + c) * in_plane;
        const float* weights = w.data<float>() + (m * in_per_group + c) * taps;
        for (int64_t t = 0; t < taps; ++t) {
          const float weight = weights[t];
          const TapRows& tap = plan[size_t(t)];
          const int64_t count = tap.hi - tap.lo;
          for (const TapRows::Row& row : tap.rows) {
            float* out_row = out + row.iterated + tap.lo;
            const float* in_row = in + row.mapped + tap.lo * s;
            if (s == 1) {
              for (int64_t i = 0; i < count; ++i) out_row[i] += weight * in_row[i];
            } else {
              for (int64_t i = 0; i < count; ++i) out_row[i] += weight * in_row[i * s];
            }
          }
        }
      }
    }
  }
}

void conv_transpose_kernel(const KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  Tensor& y = ctx.output(0);
  const ConvAttributes a = read_attributes(ctx);
  const size_t spatial = size_t(x.rank()) - 2;
  const std::vector<int64_t> output_padding = spatial_ints(ctx.attrs(), "output_padding", spatial, 0);
  const bool has_output_shape = !ctx.attrs().get_ints("output_shape", {}).empty();

  ConvGeometry g;
  g.iterated.assign(x.shape().begin() + 2, x.shape().end());
  g.mapped.assign(y.shape().begin() + 2, y.shape().end());
  g.kernel = a.kernel;
  g.strides = a.strides;
  g.dilations = a.dilations;
  for (size_t i = 0; i < spatial; ++i) {
    if (has_output_shape || a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
      const int64_t k_eff = (a.kernel[i] - 1) * a.dilations[i] + 1;
      const int64_t total = a.strides[i] * (g.iterated[i] - 1) + output_padding[i] + k_eff - g.mapped[i];
      g.pad_begin.push_back(begin_of_total_padding(total, a.auto_pad == "SAME_UPPER"));
    } else {
      g.pad_begin.push_back(a.pads[i]);
    }
  }

  const int64_t batch = x.dim(0), in_channels = x.dim(1), out_channels = y.dim(1);
  const int64_t in_per_group = in_channels / a.group, out_per_group = out_channels / a.group;
  const int64_t in_plane = shape_numel(g.iterated), out_plane = shape_numel(g.mapped);
  const int64_t taps = shape_numel(g.kernel);
  const int64_t s = a.strides[spatial - 1];
  const float* bias = ctx.has_input(2) ? ctx.input(2).data<float>() : nullptr;
  const std::vector<TapRows> plan = rows_of_all_taps(g);

  for (int64_t n = 0; n < batch; ++n) {
    for (int64_t m = 0; m < out_channels; ++m) {
      const int64_t group = m / out_per_group, m_in_group = m % out_per_group;
      float* out = y.data<float>() + (n * out_channels + m) * out_plane;
      std::fill(out, out + out_plane, bias ? bias[m] : 0.f);
      for (int64_t c = 0; c < in_per_group; ++c) {
        const int64_t channel = group * in_per_group + c;
        const float* in = x.data<float>() + (n * in_channels + channel) * in_plane;
        const float* weights = w.data<float>() + (channel * out_per_group + m_in_group) * taps;
        for (int64_t t = 0; t < taps; ++t) {
          const float weight = weights[t];
          const TapRows& tap = plan[size_t(t)];
          const int64_t count = tap.hi - tap.lo;
          // Scatter: each input element adds into the output element it maps to.
          for (const TapRows::Row& row : tap.rows) {
            const float* in_row = in + row.iterated + tap.lo;
            float* out_row = out + row.mapped + tap.lo * s;
            for (int64_t i = 0; i < count; ++i) out_row[i * s] += weight * in_row[i];
          }
        }
      }
    }
  }
}

}  // namespace

KESTREL_REGISTER_REFERENCE_KERNEL("Conv", conv_kernel);
KESTREL_REGISTER_REFERENCE_KERNEL("ConvTranspose", conv_transpose_kernel);

}  // namespace kestrel::cpu
