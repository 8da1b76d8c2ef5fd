// Data movement layers ("cpu.copy"), any dtype. Slice, Split, Concat, Expand and Transpose are
// prepared strided copies: each layer describes its copies once (dims and element strides of
// source and destination, collapsed where both continue linearly), and a run is memcpy over
// contiguous runs, a fill for broadcast runs, or a strided loop. DepthToSpace interleaves rows.
#include <cstring>

#include "backend/cpu/fast/kernel.h"
#include "backend/cpu/fast/parallel.h"
#include "core/error.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu::fast {
namespace {

// One copy: dst[dst_offset + sum(i_d * dst_strides_d)] = src[src_offset + sum(i_d * src_strides_d)].
struct StridedCopy {
  int input = 0, output = 0;
  int64_t src_offset = 0, dst_offset = 0;
  std::vector<int64_t> dims, src_strides, dst_strides;

  void collapse() {
    std::vector<int64_t> d, s, t;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == 1) continue;
      if (!d.empty() && s.back() == src_strides[i] * dims[i] && t.back() == dst_strides[i] * dims[i]) {
        d.back() *= dims[i];
        s.back() = src_strides[i];
        t.back() = dst_strides[i];
        continue;
      }
      d.push_back(dims[i]);
      s.push_back(src_strides[i]);
      t.push_back(dst_strides[i]);
    }
    if (d.empty()) {
      d = {1};
      s = {1};
      t = {1};
    }
    // A short innermost run (DepthToSpace's block) is slow; walk a dim that is contiguous in
    // the source innermost instead.
    if (d.back() < 16) {
      for (size_t i = 0; i + 1 < d.size(); ++i) {
        if (s[i] == 1 && d[i] >= 16) {
          std::swap(d[i], d.back());
          std::swap(s[i], s.back());
          std::swap(t[i], t.back());
          break;
        }
      }
    }
    dims = d;
    src_strides = s;
    dst_strides = t;
  }

  int64_t count() const { return shape_numel(dims); }
};

template <typename T>
void run_copy(const StridedCopy& c, const T* src, T* dst, int threads) {
  const int64_t inner = c.dims.back(), ss = c.src_strides.back(), ds = c.dst_strides.back();
  const int64_t rows = c.count() / std::max<int64_t>(1, inner);
  const size_t outer = c.dims.size() - 1;
  const int64_t grain = std::max<int64_t>(1, kMemoryGrain / std::max<int64_t>(1, inner));
  parallel_for(rows, threads, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int64_t rest = r, so = c.src_offset, dof = c.dst_offset;
      for (size_t d = outer; d-- > 0;) {
        const int64_t index = rest % c.dims[d];
        rest /= c.dims[d];
        so += index * c.src_strides[d];
        dof += index * c.dst_strides[d];
      }
      const T* s = src + so;
      T* t = dst + dof;
      if (ss == 1 && ds == 1) {
        std::memcpy(t, s, size_t(inner) * sizeof(T));
      } else if (ss == 0 && ds == 1) {
        const T v = *s;
        for (int64_t i = 0; i < inner; ++i) t[i] = v;
      } else {
        for (int64_t i = 0; i < inner; ++i) t[i * ds] = s[i * ss];
      }
    }
  });
}

class CopyKernel final : public Kernel {
 public:
  CopyKernel(std::vector<StridedCopy> copies, size_t element) : copies_(std::move(copies)), element_(element) {
    for (StridedCopy& c : copies_) c.collapse();
  }
  void run(const RunContext& ctx) override {
    for (const StridedCopy& c : copies_) {
      const void* src = ctx.inputs[c.input];
      void* dst = ctx.outputs[c.output];
      if (!src || !dst || c.count() == 0) continue;
      switch (element_) {
        case 1: run_copy(c, static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst), ctx.threads); break;
        case 2: run_copy(c, static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst), ctx.threads); break;
        case 4: run_copy(c, static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst), ctx.threads); break;
        default: run_copy(c, static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst), ctx.threads); break;
      }
    }
  }

 private:
  std::vector<StridedCopy> copies_;
  size_t element_;
};

size_t element_of(const ir::Graph& graph, const ir::Node& node) {
  return dtype_size(value_of(graph, node.outputs[0]).dtype);
}

bool plain_element(const ir::Graph& graph, const ir::Node& node) {
  if (node.outputs.empty() || node.outputs[0] == ir::kNoValue) return false;
  const size_t e = element_of(graph, node);
  return e == 1 || e == 2 || e == 4 || e == 8;
}

// ------------------------------------------------------------------ Slice

struct SliceSpec {
  std::vector<int64_t> start, step;  // per input dim
};

bool slice_spec(const ir::Graph& graph, const ir::Node& node, SliceSpec& spec) {
  const Shape& in = value_of(graph, node.inputs[0]).shape;
  const Shape& out = value_of(graph, node.outputs[0]).shape;
  const int rank = int(in.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (node.opset < 10) {
    starts = node.attrs.get_ints("starts");
    ends = node.attrs.get_ints("ends");
    axes = node.attrs.get_ints("axes", {});
  } else {
    for (size_t i = 1; i < node.inputs.size(); ++i)
      if (node.inputs[i] != ir::kNoValue && !is_constant(graph, node.inputs[i])) return false;
    starts = ir::to_int_vector(*value_of(graph, node.inputs[1]).constant);
    ends = ir::to_int_vector(*value_of(graph, node.inputs[2]).constant);
    if (node.inputs.size() > 3 && node.inputs[3] != ir::kNoValue)
      axes = ir::to_int_vector(*value_of(graph, node.inputs[3]).constant);
    if (node.inputs.size() > 4 && node.inputs[4] != ir::kNoValue)
      steps = ir::to_int_vector(*value_of(graph, node.inputs[4]).constant);
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (starts.size() != axes.size() || ends.size() != axes.size() || steps.size() != axes.size()) return false;
  spec.start.assign(size_t(rank), 0);
  spec.step.assign(size_t(rank), 1);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i];
    if (a < -rank || a >= rank || steps[i] == 0) return false;
    if (a < 0) a += rank;
    const int64_t dim = in[size_t(a)], step = steps[i];
    int64_t s = starts[i];
    if (s < 0) s += dim;
    s = step > 0 ? std::clamp<int64_t>(s, 0, dim) : std::clamp<int64_t>(s, 0, dim - 1);
    spec.start[size_t(a)] = s;
    spec.step[size_t(a)] = step;
  }
  // The output shape comes from shape inference; the start must leave room for it.
  for (int d = 0; d < rank; ++d) {
    if (out[size_t(d)] == 0) continue;
    const int64_t last = spec.start[size_t(d)] + (out[size_t(d)] - 1) * spec.step[size_t(d)];
    if (last < 0 || last >= in[size_t(d)]) return false;
  }
  return true;
}

bool slice_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.size() < (node.opset < 10 ? 1u : 3u) || !plain_element(graph, node)) return false;
  SliceSpec spec;
  return slice_spec(graph, node, spec);
}

std::unique_ptr<Kernel> slice_create(const PrepareContext& ctx) {
  SliceSpec spec;
  KESTREL_CHECK(slice_spec(ctx.graph(), ctx.node(), spec), "unsupported Slice");
  const Shape& in = ctx.input(0).shape;
  const Shape& out = ctx.output(0).shape;
  const std::vector<int64_t> in_strides = ir::strides_of(in);
  StridedCopy c;
  c.dims = out;
  c.dst_strides = ir::strides_of(out);
  for (size_t d = 0; d < in.size(); ++d) {
    c.src_offset += spec.start[d] * in_strides[d];
    c.src_strides.push_back(in_strides[d] * spec.step[d]);
  }
  return std::make_unique<CopyKernel>(std::vector<StridedCopy>{c}, dtype_size(ctx.output(0).dtype));
}

// ------------------------------------------------------------------ Split / Concat

int axis_of(const ir::Node& node, int rank, int64_t fallback) {
  int64_t axis = node.attrs.get_int("axis", fallback);
  return int(axis < 0 ? axis + rank : axis);
}

bool split_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.empty() || !plain_element(graph, node)) return false;
  const int rank = int(value_of(graph, node.inputs[0]).shape.size());
  const int axis = axis_of(node, rank, 0);
  return rank > 0 && axis >= 0 && axis < rank;
}

std::unique_ptr<Kernel> split_create(const PrepareContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  const int axis = axis_of(ctx.node(), int(in.size()), 0);
  const std::vector<int64_t> in_strides = ir::strides_of(in);
  std::vector<StridedCopy> copies;
  int64_t offset = 0;
  for (size_t o = 0; o < ctx.node().outputs.size(); ++o) {
    if (ctx.node().outputs[o] == ir::kNoValue) continue;
    const Shape& out = ctx.output(o).shape;
    StridedCopy c;
    c.output = int(o);
    c.dims = out;
    c.src_strides = in_strides;
    c.dst_strides = ir::strides_of(out);
    c.src_offset = offset * in_strides[size_t(axis)];
    copies.push_back(c);
    offset += out[size_t(axis)];
  }
  return std::make_unique<CopyKernel>(std::move(copies), dtype_size(ctx.input(0).dtype));
}

bool concat_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.empty() || !plain_element(graph, node)) return false;
  const int rank = int(value_of(graph, node.outputs[0]).shape.size());
  const int axis = axis_of(node, rank, 0);
  if (rank == 0 || axis < 0 || axis >= rank) return false;
  for (int v : node.inputs)
    if (v == ir::kNoValue) return false;
  return true;
}

std::unique_ptr<Kernel> concat_create(const PrepareContext& ctx) {
  const Shape& out = ctx.output(0).shape;
  const int axis = axis_of(ctx.node(), int(out.size()), 0);
  const std::vector<int64_t> out_strides = ir::strides_of(out);
  std::vector<StridedCopy> copies;
  int64_t offset = 0;
  for (size_t i = 0; i < ctx.node().inputs.size(); ++i) {
    const Shape& in = ctx.input(i).shape;
    StridedCopy c;
    c.input = int(i);
    c.dims = in;
    c.src_strides = ir::strides_of(in);
    c.dst_strides = out_strides;
    c.dst_offset = offset * out_strides[size_t(axis)];
    copies.push_back(c);
    offset += in[size_t(axis)];
  }
  return std::make_unique<CopyKernel>(std::move(copies), dtype_size(ctx.output(0).dtype));
}

// ------------------------------------------------------------------ Expand / Transpose / DepthToSpace

bool expand_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.empty() || !plain_element(graph, node)) return false;
  const Shape& in = value_of(graph, node.inputs[0]).shape;
  const Shape& out = value_of(graph, node.outputs[0]).shape;
  return in.size() <= out.size();
}

std::unique_ptr<Kernel> expand_create(const PrepareContext& ctx) {
  StridedCopy c;
  c.dims = ctx.output(0).shape;
  c.src_strides = ir::broadcast_strides(ctx.input(0).shape, c.dims);
  c.dst_strides = ir::strides_of(c.dims);
  return std::make_unique<CopyKernel>(std::vector<StridedCopy>{c}, dtype_size(ctx.output(0).dtype));
}

std::vector<int64_t> transpose_perm(const ir::Node& node, size_t rank) {
  std::vector<int64_t> perm = node.attrs.get_ints("perm", {});
  if (perm.empty())
    for (size_t i = 0; i < rank; ++i) perm.push_back(int64_t(rank - 1 - i));
  return perm;
}

bool transpose_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.size() != 1 || !plain_element(graph, node)) return false;
  const size_t rank = value_of(graph, node.inputs[0]).shape.size();
  std::vector<int64_t> perm = transpose_perm(node, rank);
  if (perm.size() != rank) return false;
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= int64_t(rank) || seen[size_t(p)]) return false;
    seen[size_t(p)] = true;
  }
  return true;
}

std::unique_ptr<Kernel> transpose_create(const PrepareContext& ctx) {
  const Shape& in = ctx.input(0).shape;
  const std::vector<int64_t> perm = transpose_perm(ctx.node(), in.size());
  const std::vector<int64_t> in_strides = ir::strides_of(in);
  StridedCopy c;
  c.dims = ctx.output(0).shape;
  c.dst_strides = ir::strides_of(c.dims);
  for (int64_t p : perm) c.src_strides.push_back(in_strides[size_t(p)]);
  return std::make_unique<CopyKernel>(std::vector<StridedCopy>{c}, dtype_size(ctx.output(0).dtype));
}

bool depth_to_space_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.size() != 1 || !plain_element(graph, node)) return false;
  const std::string mode = node.attrs.get_string("mode", "DCR");
  return value_of(graph, node.inputs[0]).shape.size() == 4 && node.attrs.get_int("blocksize", 0) >= 1 &&
         (mode == "DCR" || mode == "CRD");
}

// DepthToSpace walks output rows: row (n, c, h, i) interleaves the r source rows
// (n, channel(c, i, j), h) for j < r, one element of each in turn.
class DepthToSpaceKernel final : public Kernel {
 public:
  explicit DepthToSpaceKernel(const PrepareContext& ctx) {
    const Shape& in = ctx.input(0).shape;
    r_ = ctx.node().attrs.get_int("blocksize");
    n_ = in[0];
    in_c_ = in[1];
    c_ = in[1] / (r_ * r_);
    h_ = in[2];
    w_ = in[3];
    dcr_ = ctx.node().attrs.get_string("mode", "DCR") == "DCR";
    element_ = dtype_size(ctx.output(0).dtype);
  }
  void run(const RunContext& ctx) override {
    switch (element_) {
      case 1: return copy(ctx.in<uint8_t>(0), ctx.out<uint8_t>(0), ctx.threads);
      case 2: return copy(ctx.in<uint16_t>(0), ctx.out<uint16_t>(0), ctx.threads);
      case 4: return copy(ctx.in<uint32_t>(0), ctx.out<uint32_t>(0), ctx.threads);
      default: return copy(ctx.in<uint64_t>(0), ctx.out<uint64_t>(0), ctx.threads);
    }
  }

 private:
  int64_t channel(int64_t c, int64_t i, int64_t j) const {
    return dcr_ ? (i * r_ + j) * c_ + c : c * r_ * r_ + i * r_ + j;
  }
  template <typename T>
  void copy(const T* x, T* y, int threads) const {
    const int64_t rows = n_ * c_ * h_ * r_, out_w = w_ * r_, plane = h_ * w_;
    parallel_for(rows, threads, std::max<int64_t>(1, kMemoryGrain / std::max<int64_t>(1, out_w)), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t i = row % r_, h = (row / r_) % h_, c = (row / (r_ * h_)) % c_, n = row / (r_ * h_ * c_);
        T* out = y + row * out_w;
        const T* base = x + n * in_c_ * plane + h * w_;
        if (r_ == 2) {
          const T* s0 = base + channel(c, i, 0) * plane;
          const T* s1 = base + channel(c, i, 1) * plane;
          for (int64_t w = 0; w < w_; ++w) {
            out[2 * w] = s0[w];
            out[2 * w + 1] = s1[w];
          }
          continue;
        }
        for (int64_t j = 0; j < r_; ++j) {
          const T* src = base + channel(c, i, j) * plane;
          for (int64_t w = 0; w < w_; ++w) out[w * r_ + j] = src[w];
        }
      }
    });
  }

  int64_t r_ = 1, n_ = 0, in_c_ = 0, c_ = 0, h_ = 0, w_ = 0;
  bool dcr_ = true;
  size_t element_ = 4;
};

std::unique_ptr<Kernel> depth_to_space_create(const PrepareContext& ctx) {
  return std::make_unique<DepthToSpaceKernel>(ctx);
}

}  // namespace

KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.copy", "Slice", Isa::kBaseline, slice_accepts, nullptr, slice_create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.copy", "Split", Isa::kBaseline, split_accepts, nullptr, split_create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.copy", "Concat", Isa::kBaseline, concat_accepts, nullptr, concat_create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.copy", "Expand", Isa::kBaseline, expand_accepts, nullptr, expand_create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.copy", "Transpose", Isa::kBaseline, transpose_accepts, nullptr,
                                        transpose_create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.copy", "DepthToSpace", Isa::kBaseline, depth_to_space_accepts, nullptr,
                                        depth_to_space_create});

}  // namespace kestrel::cpu::fast
