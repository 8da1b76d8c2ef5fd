// cpu.onednn.qdq: QuantizeLinear and DequantizeLinear with one scale and zero point 0 (what
// Kestrel's QDQ rewrite writes for activations) as oneDNN reorders with an output scale. The
// reorder also changes the layout, so a quantized value can be written channels-last for the
// int8 convolutions that read it (and a float one read from a channel-blocked value).
//
// Quantizing multiplies by 1 / scale where ONNX divides by the scale: the two round differently
// only for values within an ulp of a rounding boundary, so a result may differ by one step
// there. Rounding is half to even and out-of-range values saturate, as in QuantizeLinear.
// Everything else (per-axis scales, other zero points) stays on the reference kernels.
//
// Quantizing a plain float value into a channels-last int8 one (a float layer handing over to
// the int8 convolutions) is a transpose, which oneDNN's reorder does slowly (~3 GB/s); on
// AVX-512 CPUs the own tile kernel of quantize_transpose.h does it instead, with QuantizeLinear's
// exact arithmetic (division).
#include <cmath>

#include "backend/cpu/fast/onednn_util.h"
#include "backend/cpu/fast/parallel.h"
#include "backend/cpu/fast/quantize_transpose.h"
#include "core/error.h"

namespace kestrel::cpu::fast {
namespace {

using dnnl::memory;

bool is_int8(DataType t) { return t == DataType::kINT8 || t == DataType::kUINT8; }

memory::data_type onednn_type(DataType t) {
  return t == DataType::kINT8 ? memory::data_type::s8 : t == DataType::kUINT8 ? memory::data_type::u8 : memory::data_type::f32;
}

// One positive constant scale and a zero point that is absent or a constant 0.
bool per_tensor_zero_point_0(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() < 2 || node.outputs.size() != 1 || !is_constant(graph, node.inputs[1])) return false;
  const ir::Value& scale = value_of(graph, node.inputs[1]);
  if (scale.dtype != DataType::kFLOAT || scale.constant->numel() != 1) return false;
  const float s = scale.constant->data<float>()[0];
  if (!(s > 0 && std::isfinite(s))) return false;
  if (node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue) {
    if (!is_constant(graph, node.inputs[2])) return false;
    const Tensor& zp = *value_of(graph, node.inputs[2]).constant;
    if (zp.numel() != 1 || zp.int_at(0) != 0) return false;
  }
  const Shape& shape = value_of(graph, node.inputs[0]).shape;
  return !shape.empty() && shape.size() <= 6 && shape_numel(shape) > 0;
}

bool quantize_accepts(const ir::Graph& graph, const ir::Node& node) {
  return per_tensor_zero_point_0(graph, node) && is_float(graph, node.inputs[0]) &&
         is_int8(value_of(graph, node.outputs[0]).dtype);
}

bool dequantize_accepts(const ir::Graph& graph, const ir::Node& node) {
  return per_tensor_zero_point_0(graph, node) && is_int8(value_of(graph, node.inputs[0]).dtype) &&
         is_float(graph, node.outputs[0]);
}

// Either side may be blocked (float: nChw16c or channels-last, int8: channels-last).
LayoutRules layouts(const ir::Graph&, const ir::Node&) {
  LayoutRules rules;
  rules.blockable = {{false, 0}, {true, 0}};
  rules.channels_last = {{false, 0}, {true, 0}};
  return rules;
}

class OnednnScaleReorder final : public Kernel {
 public:
  OnednnScaleReorder(const PrepareContext& ctx, bool quantize) : stream_(onednn_engine()) {
    const float scale = ctx.input(1).constant->data<float>()[0];
    KESTREL_CHECK(scale > 0 && std::isfinite(scale), "{}: bad scale {}", ir::describe(ctx.node()), scale);
    const memory::desc from = typed_desc(ctx.input(0).shape, ctx.input_layout(0), onednn_type(ctx.input(0).dtype));
    const memory::desc to = typed_desc(ctx.output(0).shape, ctx.output_layout(0), onednn_type(ctx.output(0).dtype));
    dnnl::primitive_attr attr;
    attr.set_output_scales(0, {quantize ? 1.0f / scale : scale});
    from_ = memory(from, onednn_engine(), DNNL_MEMORY_NONE);
    to_ = memory(to, onednn_engine(), DNNL_MEMORY_NONE);
    dnnl::reorder::primitive_desc pd(from_, to_, attr);
    impl_ = pd.impl_info_str();
    reorder_ = dnnl::reorder(pd);
    args_ = {{DNNL_ARG_FROM, from_.get()}, {DNNL_ARG_TO, to_.get()}};
    // Memory-bound: a second thread only pays off on large tensors (see parallel.h).
    threads_ = shape_numel(ctx.input(0).shape) >= 2 * kMemoryGrain ? ctx.threads() : 1;
  }

  std::string detail() const override { return impl_ + (threads_ == 1 ? " 1t" : ""); }

  void run(const RunContext& ctx) override {
    ScopedThreads scoped(std::min(threads_, ctx.threads));
    from_.set_data_handle(const_cast<void*>(ctx.inputs[0]));
    to_.set_data_handle(ctx.outputs[0]);
    onednn_execute(stream_, reorder_, args_);
    stream_.wait();
  }

 private:
  dnnl::stream stream_;
  dnnl::reorder reorder_;
  memory from_, to_;
  std::vector<dnnl_exec_arg_t> args_;
  std::string impl_;
  int threads_ = 1;
};

// Own AVX-512 quantizer: plain float into channels-last int8 (transpose), or between equal
// layouts (contiguous), both with QuantizeLinear's exact arithmetic.
class OwnQuantize final : public Kernel {
 public:
  OwnQuantize(const PrepareContext& ctx, bool transpose)
      : scale_(ctx.input(1).constant->data<float>()[0]), is_uint8_(ctx.output(0).dtype == DataType::kUINT8),
        transpose_(transpose) {
    const Shape& shape = ctx.input(0).shape;
    elements_ = shape_numel(shape);
    if (transpose_) {
      images_ = shape[0];
      channels_ = shape[1];
      pixels_ = shape[2] * shape[3];
    }
    // One thread below ~256 K elements: on SMAT's transformer values ([1, C, 4, N], 25-200 K) two
    // threads made the quantizer slower and the layers after it too (measured).
    threads_ = shape_numel(shape) >= 2 * kMemoryGrain ? ctx.threads() : 1;
  }

  std::string detail() const override {
    return std::string(transpose_ ? "avx512 transpose" : "avx512") + (threads_ == 1 ? " 1t" : "");
  }

  void run(const RunContext& ctx) override {
    const float* x = ctx.in<float>(0);
    auto* y = static_cast<uint8_t*>(ctx.outputs[0]);
    if (!transpose_) {
      parallel_for(elements_, std::min(threads_, ctx.threads), kMemoryGrain, [&](int64_t b, int64_t e) {
        quantize_contiguous_avx512(x, y, is_uint8_, scale_, b, e);
      }, 16);
      return;
    }
    for (int64_t n = 0; n < images_; ++n) {
      const float* xn = x + n * channels_ * pixels_;
      uint8_t* yn = y + n * channels_ * pixels_;
      parallel_for(pixels_, std::min(threads_, ctx.threads), 16, [&](int64_t b, int64_t e) {
        quantize_to_channels_last_avx512(xn, yn, is_uint8_, channels_, pixels_, scale_, b, e);
      }, 16);
    }
  }

 private:
  float scale_;
  bool is_uint8_, transpose_;
  int64_t elements_ = 0, images_ = 0, channels_ = 0, pixels_ = 0;
  int threads_ = 1;
};

std::unique_ptr<Kernel> create_quantize(const PrepareContext& ctx) {
  const bool transpose = ctx.input(0).shape.size() == 4 && ctx.input_layout(0) == Layout::kPlain &&
                         ctx.output_layout(0) == Layout::kChannelsLast;
  const bool same_layout = ctx.input_layout(0) == ctx.output_layout(0) ||
                           (ctx.input(0).shape.size() == 4 && ctx.input(0).shape[1] == 1);
  if (host_isa() >= Isa::kAvx512Core && (transpose || same_layout))
    return std::make_unique<OwnQuantize>(ctx, transpose);
  return std::make_unique<OnednnScaleReorder>(ctx, true);
}
std::unique_ptr<Kernel> create_dequantize(const PrepareContext& ctx) {
  return std::make_unique<OnednnScaleReorder>(ctx, false);
}

}  // namespace

KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.qdq", "QuantizeLinear", Isa::kBaseline, quantize_accepts, layouts,
                                        create_quantize});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.qdq", "DequantizeLinear", Isa::kBaseline, dequantize_accepts,
                                        layouts, create_dequantize});

}  // namespace kestrel::cpu::fast
