// cpu.gather.unfold: convolutions whose every filter holds a single 1 and zeros elsewhere (and
// no bias), i.e. pure pixel gathers. Exporters write patch unfolding this way (MobileViT's
// F.unfold as a depthwise strided conv with one-hot kernels, output channel c * P + p = pixel p
// of each patch of channel c). A direct convolution would multiply by zeros; this copies.
// The source may be plain or channel-blocked; the destination is plain.
#include <optional>

#include "backend/cpu/fast/conv_params.h"
#include "backend/cpu/fast/kernel.h"
#include "backend/cpu/fast/parallel.h"
#include "core/error.h"

namespace kestrel::cpu::fast {
namespace {

struct Tap {
  int64_t channel, ky, kx;  // input channel (absolute) and kernel position of the filter's 1
};

// The tap of every output channel, or nullopt when a filter is not one-hot.
std::optional<std::vector<Tap>> one_hot_taps(const ir::Graph& graph, const ir::Node& node, const ConvParams& p) {
  const Tensor& w = *value_of(graph, node.inputs[1]).constant;
  const int64_t m = w.dim(0), cg = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  const int64_t per_group = m / p.group;
  const float* data = w.data<float>();
  std::vector<Tap> taps;
  taps.reserve(size_t(m));
  for (int64_t o = 0; o < m; ++o) {
    std::optional<Tap> tap;
    for (int64_t i = 0; i < cg * kh * kw; ++i) {
      const float v = data[o * cg * kh * kw + i];
      if (v == 0.0f) continue;
      if (v != 1.0f || tap) return std::nullopt;
      tap = Tap{(o / per_group) * cg + i / (kh * kw), (i / kw) % kh, i % kw};
    }
    if (!tap) return std::nullopt;
    taps.push_back(*tap);
  }
  return taps;
}

bool accepts(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() < 2 || node.outputs.size() != 1) return false;
  if (!is_float(graph, node.inputs[0]) || !is_constant(graph, node.inputs[1]) || !is_float(graph, node.inputs[1]))
    return false;
  if (node.inputs.size() > 3 && node.inputs[3] != ir::kNoValue) return false;  // no residual
  if (node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue) {
    const ir::Value& b = value_of(graph, node.inputs[2]);
    if (!b.constant || b.dtype != DataType::kFLOAT) return false;
    for (int64_t i = 0; i < b.constant->numel(); ++i)
      if (b.constant->data<float>()[i] != 0.0f) return false;
  }
  const std::optional<ConvParams> p = read_conv_params(graph, node);
  if (!p || !p->activation.empty()) return false;
  // Worth it only when the filters are mostly zeros (always for real unfolds).
  return one_hot_taps(graph, node, *p).has_value();
}

// The source may be blocked (the gather reads 16-channel vectors and scatters them), but that
// measured slower than letting oneDNN's reorder produce a plain source: plain only.
LayoutRules layouts(const ir::Graph&, const ir::Node&) { return LayoutRules{}; }

class UnfoldKernel final : public Kernel {
 public:
  explicit UnfoldKernel(const PrepareContext& ctx) {
    const ConvParams p = *read_conv_params(ctx.graph(), ctx.node());
    taps_ = *one_hot_taps(ctx.graph(), ctx.node(), p);
    const Shape& x = ctx.input(0).shape;
    const Shape& y = ctx.output(0).shape;
    batch_ = x[0];
    in_c_ = x[1];
    in_h_ = x[2];
    in_w_ = x[3];
    out_c_ = y[1];
    out_h_ = y[2];
    out_w_ = y[3];
    sh_ = p.strides[0];
    sw_ = p.strides[1];
    dh_ = p.dilations[0];
    dw_ = p.dilations[1];
    ph_ = p.pad_begin[0];
    pw_ = p.pad_begin[1];
    blocked_ = ctx.input_layout(0) == Layout::kBlocked16;
    kh_ = ctx.input(1).shape[2];
    kw_ = ctx.input(1).shape[3];
    // Blocked sources are walked per 16-channel block: which output plane takes lane l of the
    // block at kernel position (ky, kx), or -1.
    if (blocked_) {
      plane_of_.assign(size_t(in_c_ * kh_ * kw_), -1);
      for (int64_t o = 0; o < out_c_; ++o) {
        const Tap& t = taps_[size_t(o)];
        plane_of_[size_t((t.channel * kh_ + t.ky) * kw_ + t.kx)] = o;
      }
    }
  }

  void run(const RunContext& ctx) override {
    const float* x = ctx.in<float>(0);
    float* y = ctx.out<float>(0);
    if (blocked_) {
      // Each output plane has exactly one tap, so the blocks below write every output element.
      const int64_t blocks = batch_ * (in_c_ / 16);
      const int64_t per_block = std::max<int64_t>(1, out_c_ / std::max<int64_t>(1, in_c_ / 16) * out_h_ * out_w_);
      parallel_for(blocks, ctx.threads, std::max<int64_t>(1, kMemoryGrain / per_block), [&](int64_t begin, int64_t end) {
        for (int64_t blk = begin; blk < end; ++blk) copy_block(x, y, blk / (in_c_ / 16), blk % (in_c_ / 16));
      });
      return;
    }
    const int64_t planes = batch_ * out_c_;
    parallel_for(planes, ctx.threads, std::max<int64_t>(1, kMemoryGrain / std::max<int64_t>(1, out_h_ * out_w_)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t plane = begin; plane < end; ++plane) copy_plane(x, y, plane / out_c_, plane % out_c_);
                 });
  }

 private:
  // All output planes fed by the 16 channels of block cb of image n.
  void copy_block(const float* x, float* y, int64_t n, int64_t cb) const {
    const float* in = x + (n * (in_c_ / 16) + cb) * in_h_ * in_w_ * 16;
    float* out = y + n * out_c_ * out_h_ * out_w_;
    const int64_t plane = out_h_ * out_w_;
    for (int64_t ky = 0; ky < kh_; ++ky) {
      for (int64_t kx = 0; kx < kw_; ++kx) {
        int64_t planes[16];
        bool any = false;
        for (int64_t lane = 0; lane < 16; ++lane) {
          planes[lane] = plane_of_[size_t(((cb * 16 + lane) * kh_ + ky) * kw_ + kx)];
          any |= planes[lane] >= 0;
        }
        if (!any) continue;
        for (int64_t oh = 0; oh < out_h_; ++oh) {
          const int64_t ih = oh * sh_ - ph_ + ky * dh_;
          for (int64_t ow = 0; ow < out_w_; ++ow) {
            const int64_t iw = ow * sw_ - pw_ + kx * dw_;
            const bool inside = ih >= 0 && ih < in_h_ && iw >= 0 && iw < in_w_;
            const float* v = in + (ih * in_w_ + iw) * 16;
            for (int64_t lane = 0; lane < 16; ++lane)
              if (planes[lane] >= 0) out[planes[lane] * plane + oh * out_w_ + ow] = inside ? v[lane] : 0.0f;
          }
        }
      }
    }
  }

  void copy_plane(const float* x, float* y, int64_t n, int64_t o) const {
    const Tap& tap = taps_[size_t(o)];
    float* out = y + (n * out_c_ + o) * out_h_ * out_w_;
    // Element (c, h, w) of image n: plain NCHW, or nChw16c with 16 channels innermost.
    int64_t base, row_stride, col_stride;
    if (blocked_) {
      base = ((n * (in_c_ / 16) + tap.channel / 16) * in_h_ * in_w_) * 16 + tap.channel % 16;
      row_stride = in_w_ * 16;
      col_stride = 16;
    } else {
      base = (n * in_c_ + tap.channel) * in_h_ * in_w_;
      row_stride = in_w_;
      col_stride = 1;
    }
    for (int64_t oh = 0; oh < out_h_; ++oh) {
      float* row = out + oh * out_w_;
      const int64_t ih = oh * sh_ - ph_ + tap.ky * dh_;
      if (ih < 0 || ih >= in_h_) {
        for (int64_t ow = 0; ow < out_w_; ++ow) row[ow] = 0.0f;
        continue;
      }
      const float* in = x + base + ih * row_stride;
      for (int64_t ow = 0; ow < out_w_; ++ow) {
        const int64_t iw = ow * sw_ - pw_ + tap.kx * dw_;
        row[ow] = iw >= 0 && iw < in_w_ ? in[iw * col_stride] : 0.0f;
      }
    }
  }

  std::vector<Tap> taps_;
  int64_t batch_ = 0, in_c_ = 0, in_h_ = 0, in_w_ = 0, out_c_ = 0, out_h_ = 0, out_w_ = 0;
  int64_t sh_ = 1, sw_ = 1, dh_ = 1, dw_ = 1, ph_ = 0, pw_ = 0;
  int64_t kh_ = 1, kw_ = 1;
  bool blocked_ = false;
  std::vector<int64_t> plane_of_;
};

std::unique_ptr<Kernel> create(const PrepareContext& ctx) { return std::make_unique<UnfoldKernel>(ctx); }

}  // namespace

// Higher priority than cpu.onednn.conv: a gather always beats multiplying by zeros.
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.gather.unfold", "Conv", Isa::kBaseline, accepts, layouts, create, 10});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.gather.unfold", "kestrel.FusedConv", Isa::kBaseline, accepts, layouts,
                                        create, 10});

}  // namespace kestrel::cpu::fast
