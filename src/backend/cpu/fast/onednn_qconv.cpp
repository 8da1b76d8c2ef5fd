// cpu.onednn.qconv: kestrel.QConv (a quantized convolution, src/ir/ops/qconv.cpp) on oneDNN's
// int8 convolution (VNNI kernels on CPUs that have them).
//
// The source and weights stay int8; oneDNN accumulates in int32 and applies, per output channel,
//   output scale  x_scale * w_scale[c]       (the accumulator back in float units),
// then the post-ops: the residual, the activation. For an int8 destination without a residual
// the requantization is folded into the output scale (x_scale * w_scale[c] / y_scale, the Clip
// bounds divided by y_scale; Relu commutes with a positive scale). oneDNN adds the bias to the
// int32 accumulator before scaling, so the bias is given as B[c] / (x_scale * w_scale[c]).
// oneDNN rounds half to even when it converts to int8 and saturates, as QuantizeLinear does; the
// result differs from the QDQ definition only by float rounding (multiplication instead of
// division, the order of the sum).
//
// The residual: oneDNN 2.6's int8 kernels take a full-tensor binary post-op only in their slow
// reference implementation, but a sum post-op everywhere. So the residual is first reordered
// into a float accumulator (the destination itself when that is float and laid out as the
// primitive wants), the convolution adds to it, and for an int8 output a reorder with scale
// 1 / y_scale requantizes it. On AVX-512 CPUs, for an int8 output whose residual already has the
// accumulator's layout, the convolution writes without the sum and the own requantizing pass adds
// the residual and applies the activation (add_activate_quantize_avx512): the same float
// operations, one sweep less over the residual.
//
// Layouts: int8 values are channels-last (NHWC) between int8 layers, what oneDNN's VNNI kernels
// (brgemm 1x1, jit) run on; float outputs too where only int8 layers and quantizers read them,
// else plain for their float readers. Where the primitive wants other layouts than the values
// have, prepared reorders convert.
#include <cfloat>
#include <cmath>
#include <optional>

#include "backend/cpu/fast/conv_params.h"
#include "backend/cpu/fast/onednn_util.h"
#include "backend/cpu/fast/parallel.h"
#include "backend/cpu/fast/quantize_transpose.h"
#include "core/error.h"

namespace kestrel::cpu::fast {
namespace {

using dnnl::memory;

memory::data_type onednn_type(DataType t) {
  switch (t) {
    case DataType::kINT8: return memory::data_type::s8;
    case DataType::kUINT8: return memory::data_type::u8;
    case DataType::kFLOAT: return memory::data_type::f32;
    default: fail("no oneDNN int8 convolution for {}", dtype_name(t));
  }
}

bool accepts(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() < 3 || node.outputs.size() != 1) return false;
  const ir::Value& x = value_of(graph, node.inputs[0]);
  const ir::Value& w = value_of(graph, node.inputs[1]);
  const ir::Value& y = value_of(graph, node.outputs[0]);
  if (x.dtype != DataType::kINT8 && x.dtype != DataType::kUINT8) return false;
  if (!w.constant || w.dtype != DataType::kINT8 || !is_constant(graph, node.inputs[2])) return false;
  if (y.dtype != DataType::kFLOAT && y.dtype != DataType::kINT8 && y.dtype != DataType::kUINT8) return false;
  if (node.inputs.size() > 3 && node.inputs[3] != ir::kNoValue && !is_constant(graph, node.inputs[3])) return false;
  const std::optional<ConvParams> params = read_conv_params(graph, node);
  if (!params) return false;
  return params->activation.empty() || params->activation == "Relu" || params->activation == "Clip";
}

LayoutRules layouts(const ir::Graph& graph, const ir::Node& node) {
  LayoutRules rules;
  // The int8 source and an int8 destination may be channels-last; a float destination and the
  // residual too where only int8 layers and quantizers touch them (the MobileNet blocks' sums),
  // else they stay plain for the float kernels and reorders convert.
  rules.blockable = {{false, 0}};
  if (value_of(graph, node.outputs[0]).dtype != DataType::kFLOAT)
    rules.blockable.push_back({true, 0});
  else
    rules.channels_last.push_back({true, 0});
  if (node.inputs.size() > 4 && node.inputs[4] != ir::kNoValue) rules.channels_last.push_back({false, 4});
  return rules;
}

bool is_reference_impl(const dnnl::convolution_forward::primitive_desc& pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) == 0;
}

class OnednnQConv final : public Kernel {
 public:
  explicit OnednnQConv(const PrepareContext& ctx) : stream_(onednn_engine()) {
    const ir::Graph& graph = ctx.graph();
    const ir::Node& node = ctx.node();
    const std::optional<ConvParams> p = read_conv_params(graph, node);
    KESTREL_CHECK(p.has_value(), "{}: the convolution's attributes are not supported", ir::describe(node));
    const Shape& x_shape = ctx.input(0).shape;
    const Shape& w_shape = ctx.input(1).shape;
    const Shape& y_shape = ctx.output(0).shape;
    const int64_t groups = p->group, channels = w_shape[0];
    const double flops = 2.0 * double(shape_numel(y_shape)) * double(w_shape[1] * w_shape[2] * w_shape[3]);
    threads_ = threads_for_work(flops, ctx.threads());
    ScopedThreads scoped(threads_);
    has_residual_ = ctx.has_input(4);
    const memory::data_type src_type = onednn_type(ctx.input(0).dtype);
    const memory::data_type dst_type = onednn_type(ctx.output(0).dtype);
    quantized_out_ = dst_type != memory::data_type::f32;

    // Scales (checked here too: an engine file may have been edited).
    const float x_scale = node.attrs.get_float("x_scale", 0.0f);
    const float y_scale = node.attrs.get_float("y_scale", 0.0f);
    KESTREL_CHECK(x_scale > 0 && std::isfinite(x_scale), "{}: bad x_scale {}", ir::describe(node), x_scale);
    KESTREL_CHECK(!quantized_out_ || (y_scale > 0 && std::isfinite(y_scale)), "{}: bad y_scale {}",
                  ir::describe(node), y_scale);
    const Tensor& ws = *ctx.input(2).constant;
    KESTREL_CHECK(ws.numel() == 1 || ws.numel() == channels, "{}: {} weight scales for {} channels",
                  ir::describe(node), ws.numel(), channels);
    std::vector<float> accumulator_scale(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c)
      accumulator_scale[size_t(c)] = x_scale * ws.data<float>()[ws.numel() == 1 ? 0 : c];
    const bool fold_requant = quantized_out_ && !has_residual_;
    std::vector<float> output_scales = accumulator_scale;
    if (fold_requant)
      for (float& s : output_scales) s /= y_scale;
    // Per-channel bias in accumulator units (see the top of the file).
    std::vector<float> bias(static_cast<size_t>(channels), 0.0f);
    has_bias_ = ctx.has_input(3);
    if (has_bias_) {
      const Tensor& b = *ctx.input(3).constant;
      KESTREL_CHECK(b.numel() == channels && b.dtype() == DataType::kFLOAT, "{}: the bias must be float32 [{}]",
                    ir::describe(node), channels);
      for (int64_t c = 0; c < channels; ++c) bias[size_t(c)] = b.data<float>()[c] / accumulator_scale[size_t(c)];
    }

    // A float output in plain layout: oneDNN's int8 kernels write channels-last only, so the
    // result is brought back by the own transpose kernel (quantize_transpose.h), which also adds
    // the residual and applies the activation after it (instead of two transposing reorders).
    own_transpose_ = !quantized_out_ && ctx.output_layout(0) == Layout::kPlain && host_isa() >= Isa::kAvx512Core;
    const float unit = fold_requant ? 1.0f / y_scale : 1.0f;
    activation_min_ = std::isinf(p->activation_min) ? -FLT_MAX : p->activation_min;
    activation_max_ = std::isinf(p->activation_max) ? FLT_MAX : p->activation_max;
    activation_ = p->activation == "Relu" ? 1 : p->activation == "Clip" ? 2 : 0;
    auto make_attr = [&](bool sum, bool activation) {
      dnnl::primitive_attr a;
      a.set_output_scales(1 << 1, output_scales);
      dnnl::post_ops ops;
      if (sum) ops.append_sum(1.0f);
      if (activation && p->activation == "Relu") ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      if (activation && p->activation == "Clip")
        ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, activation_min_ == -FLT_MAX ? -FLT_MAX : activation_min_ * unit,
                           activation_max_ == FLT_MAX ? FLT_MAX : activation_max_ * unit);
      a.set_post_ops(ops);
      a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      return a;
    };
    dnnl::primitive_attr attr = own_transpose_ ? make_attr(false, !has_residual_) : make_attr(has_residual_, true);

    const memory::desc user_src = typed_desc(x_shape, ctx.input_layout(0), src_type);
    const memory::desc user_dst = typed_desc(y_shape, ctx.output_layout(0), dst_type);
    // What the primitive writes: the destination, or a float accumulator holding the residual.
    memory::desc conv_dst = has_residual_ ? typed_desc(y_shape, ctx.output_layout(0) == Layout::kChannelsLast ? Layout::kChannelsLast : Layout::kPlain, memory::data_type::f32) : user_dst;
    memory::dims w_dims;
    if (groups == 1)
      w_dims = {w_shape[0], w_shape[1], w_shape[2], w_shape[3]};
    else
      w_dims = {groups, w_shape[0] / groups, w_shape[1], w_shape[2], w_shape[3]};
    const memory::desc user_weights(w_dims, memory::data_type::s8,
                                    groups == 1 ? memory::format_tag::oihw : memory::format_tag::goihw);
    const memory::desc any_weights(w_dims, memory::data_type::s8, memory::format_tag::any);
    const memory::desc bias_desc({channels}, memory::data_type::f32, memory::format_tag::x);

    auto make_pd = [&](const memory::desc& src, const memory::desc& dst) {
      const memory::dims strides(p->strides.begin(), p->strides.end());
      memory::dims dilations;
      for (int64_t d : p->dilations) dilations.push_back(d - 1);
      const memory::dims pad_l(p->pad_begin.begin(), p->pad_begin.end());
      const memory::dims pad_r(p->pad_end.begin(), p->pad_end.end());
      dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                           src, any_weights, bias_desc, dst, strides, dilations, pad_l, pad_r);
      return dnnl::convolution_forward::primitive_desc(desc, attr, onednn_engine());
    };

    // The exact layouts first, then channels-last and channel-blocked ones (with reorders),
    // then oneDNN's own choice: the first that is not oneDNN's slow reference implementation.
    auto with_tag = [](const memory::desc& d, memory::format_tag tag) {
      return memory::desc(d.dims(), d.data_type(), tag);
    };
    const memory::desc nhwc_src = with_tag(user_src, memory::format_tag::nhwc);
    const memory::desc nhwc_dst = with_tag(conv_dst, memory::format_tag::nhwc);
    const memory::desc blocked_src = x_shape[1] % 16 == 0 ? with_tag(user_src, memory::format_tag::nChw16c) : nhwc_src;
    const memory::desc blocked_dst = y_shape[1] % 16 == 0 ? with_tag(conv_dst, memory::format_tag::nChw16c) : nhwc_dst;
    const memory::desc any_src = with_tag(user_src, memory::format_tag::any);
    const memory::desc any_dst = with_tag(conv_dst, memory::format_tag::any);
    std::vector<std::pair<memory::desc, memory::desc>> attempts = {
        {user_src, conv_dst}, {nhwc_src, conv_dst}, {user_src, nhwc_dst}, {nhwc_src, nhwc_dst},
        {blocked_src, blocked_dst}, {any_src, any_dst}};
    if (own_transpose_) attempts = {{user_src, nhwc_dst}, {nhwc_src, nhwc_dst}};
    dnnl::convolution_forward::primitive_desc pd;
    // The first of `layouts` that oneDNN implements with more than its reference kernel, into pd.
    const auto first_fast = [&](const std::vector<std::pair<memory::desc, memory::desc>>& layouts) {
      for (const auto& [src, dst] : layouts) {
        try {
          auto candidate = make_pd(src, dst);
          if (!is_reference_impl(candidate)) {
            pd = candidate;
            return true;
          }
        } catch (const dnnl::error&) {
        }
      }
      return false;
    };
    bool have_pd = first_fast(attempts);
    if (!have_pd && own_transpose_) {
      // No fast channels-last kernel either: the general path below, with reorders.
      own_transpose_ = false;
      attr = make_attr(has_residual_, true);
      have_pd = first_fast({{user_src, conv_dst}, {nhwc_src, conv_dst}, {any_src, any_dst}});
    }
    if (!have_pd) {
      try {
        pd = make_pd(user_src, conv_dst);
      } catch (const dnnl::error& e) {
        fail("{}: oneDNN has no int8 convolution for it ({})", ir::describe(node), e.what());
      }
    }
    // An int8 output with a residual, the float accumulator and the residual both in the
    // destination's layout: the convolution writes its result without the sum post-op and the own
    // pass adds the residual, applies the activation and requantizes in one sweep (instead of
    // copying the residual into the accumulator first and reading it again in the sum).
    const memory::desc float_dst = typed_desc(y_shape, ctx.output_layout(0), memory::data_type::f32);
    if (quantized_out_ && has_residual_ && !own_transpose_ && host_isa() >= Isa::kAvx512Core &&
        pd.dst_desc() == float_dst && float_desc(y_shape, ctx.input_layout(4)) == float_dst) {
      dnnl::primitive_attr with_sum = attr;
      attr = make_attr(false, false);
      try {
        auto candidate = make_pd(pd.src_desc(), pd.dst_desc());
        if (!is_reference_impl(candidate)) {
          pd = candidate;
          own_residual_ = true;
        }
      } catch (const dnnl::error&) {
      }
      if (!own_residual_) attr = with_sum;
    }
    impl_ = pd.impl_info_str();
    conv_ = dnnl::convolution_forward(pd);

    ScratchLayout scratch;
    scratchpad_offset_ = scratch.add(pd.scratchpad_desc().get_size());
    scratchpad_ = memory(pd.scratchpad_desc(), onednn_engine(), DNNL_MEMORY_NONE);
    user_src_ = memory(user_src, onednn_engine(), DNNL_MEMORY_NONE);
    user_dst_ = memory(user_dst, onednn_engine(), DNNL_MEMORY_NONE);
    if (pd.src_desc() != user_src) {
      src_ = memory(pd.src_desc(), onednn_engine(), DNNL_MEMORY_NONE);
      src_tmp_offset_ = scratch.add(pd.src_desc().get_size());
      src_reorder_ = dnnl::reorder(user_src_, src_);
    } else {
      src_ = user_src_;
    }
    if (own_transpose_) {
      dst_ = memory(pd.dst_desc(), onednn_engine(), DNNL_MEMORY_NONE);
      dst_tmp_offset_ = scratch.add(pd.dst_desc().get_size());
      images_ = y_shape[0];
      channels_ = y_shape[1];
      pixels_ = y_shape[2] * y_shape[3];
      // Memory-bound: a second thread only pays off on large tensors (measured: on SMAT's
      // transformer values it slowed the float layers after it, which then read memory the
      // other core had written).
      transpose_threads_ = shape_numel(y_shape) >= 2 * kMemoryGrain ? threads_ : 1;
    } else if (quantized_out_ && has_residual_ && host_isa() >= Isa::kAvx512Core && pd.dst_desc() == float_dst) {
      // The float accumulator has the destination's layout: requantize it with the own
      // quantizer (QuantizeLinear's exact arithmetic, ~3x oneDNN's reorder with a scale).
      own_requantize_ = true;
      requantize_scale_ = y_scale;
      is_uint8_out_ = dst_type == memory::data_type::u8;
      dst_ = memory(pd.dst_desc(), onednn_engine(), DNNL_MEMORY_NONE);
      dst_tmp_offset_ = scratch.add(pd.dst_desc().get_size());
      dst_elements_ = shape_numel(y_shape);
      transpose_threads_ = dst_elements_ >= 2 * kMemoryGrain ? threads_ : 1;
    } else if (pd.dst_desc() != user_dst) {
      dst_ = memory(pd.dst_desc(), onednn_engine(), DNNL_MEMORY_NONE);
      dst_tmp_offset_ = scratch.add(pd.dst_desc().get_size());
      dnnl::primitive_attr requantize;
      if (quantized_out_ && has_residual_) requantize.set_output_scales(0, {1.0f / y_scale});
      dst_reorder_ = dnnl::reorder(dnnl::reorder::primitive_desc(dst_, user_dst_, requantize));
    } else {
      dst_ = user_dst_;
    }
    scratch_bytes_ = scratch.total();
    if (has_residual_ && !own_transpose_ && !own_residual_) {
      residual_ = memory(float_desc(y_shape, ctx.input_layout(4)), onednn_engine(), DNNL_MEMORY_NONE);
      residual_reorder_ = dnnl::reorder(residual_, dst_);
      residual_reorder_args_ = {{DNNL_ARG_FROM, residual_.get()}, {DNNL_ARG_TO, dst_.get()}};
      residual_in_place_ = residual_.get_desc() == dst_.get_desc();
    }

    // Weights reordered once into the primitive's format (for an int8 source oneDNN's reorder
    // also computes the compensation it needs); the bias in accumulator units.
    const Tensor& w = *ctx.input(1).constant;
    memory plain_weights(user_weights, onednn_engine(), const_cast<void*>(w.raw()));
    weights_ = memory(pd.weights_desc(), onednn_engine());
    dnnl::reorder(plain_weights, weights_).execute(stream_, plain_weights, weights_);
    bias_ = memory(bias_desc, onednn_engine());
    std::copy(bias.begin(), bias.end(), static_cast<float*>(bias_.get_data_handle()));
    stream_.wait();

    conv_args_ = {{DNNL_ARG_SRC, src_.get()},   {DNNL_ARG_WEIGHTS, weights_.get()}, {DNNL_ARG_BIAS, bias_.get()},
                  {DNNL_ARG_DST, dst_.get()},   {DNNL_ARG_SCRATCHPAD, scratchpad_.get()}};
    if (src_reorder_) src_reorder_args_ = {{DNNL_ARG_FROM, user_src_.get()}, {DNNL_ARG_TO, src_.get()}};
    if (dst_reorder_) dst_reorder_args_ = {{DNNL_ARG_FROM, dst_.get()}, {DNNL_ARG_TO, user_dst_.get()}};
    types_ = std::string(ctx.input(0).dtype == DataType::kINT8 ? "s8" : "u8") + "->" +
             (quantized_out_ ? (dst_type == memory::data_type::s8 ? "s8" : "u8") : "f32");
  }

  size_t scratch_bytes() const override { return scratch_bytes_; }
  std::string detail() const override {
    return "int8 " + types_ + " " + impl_ + (threads_ == 1 ? " 1t" : "") + (src_reorder_ ? " +src reorder" : "") +
           (dst_reorder_ ? " +dst reorder" : "") + (residual_reorder_ ? " +residual" : "") + (own_transpose_ ? (has_residual_ ? " +transpose+residual" : " +transpose") : "") +
           (own_residual_ ? " +residual+requantize" : own_requantize_ ? " +requantize" : "");
  }

  void run(const RunContext& ctx) override {
    ScopedThreads scoped(std::min(threads_, ctx.threads));
    user_src_.set_data_handle(const_cast<void*>(ctx.inputs[0]));
    user_dst_.set_data_handle(ctx.outputs[0]);
    scratchpad_.set_data_handle(at_offset(ctx.scratch, scratchpad_offset_));
    if (residual_reorder_) residual_.set_data_handle(const_cast<void*>(ctx.inputs[4]));
    if (src_reorder_) {
      src_.set_data_handle(at_offset(ctx.scratch, src_tmp_offset_));
      onednn_execute(stream_, *src_reorder_, src_reorder_args_);
    }
    if (dst_reorder_ || own_transpose_ || own_requantize_) dst_.set_data_handle(at_offset(ctx.scratch, dst_tmp_offset_));
    // The arena may give the residual's storage to the output (its last reader): then it is in place.
    if (residual_reorder_ && !(residual_in_place_ && ctx.inputs[4] == dst_.get_data_handle()))
      onednn_execute(stream_, *residual_reorder_, residual_reorder_args_);
    onednn_execute(stream_, conv_, conv_args_);
    if (dst_reorder_) onednn_execute(stream_, *dst_reorder_, dst_reorder_args_);
    stream_.wait();
    if (own_requantize_) {
      const float* t = static_cast<const float*>(dst_.get_data_handle());
      void* y = ctx.outputs[0];
      const float* r = own_residual_ ? static_cast<const float*>(ctx.inputs[4]) : nullptr;
      parallel_for(dst_elements_, std::min(transpose_threads_, ctx.threads), kMemoryGrain, [&](int64_t b, int64_t e) {
        if (r)
          add_activate_quantize_avx512(t, r, y, is_uint8_out_, requantize_scale_, activation_, activation_min_,
                                       activation_max_, b, e);
        else
          quantize_contiguous_avx512(t, y, is_uint8_out_, requantize_scale_, b, e);
      }, 16);
    }
    if (own_transpose_) {
      const float* t = static_cast<const float*>(dst_.get_data_handle());
      const float* r = has_residual_ ? static_cast<const float*>(ctx.inputs[4]) : nullptr;
      float* y = static_cast<float*>(ctx.outputs[0]);
      const int activation = has_residual_ ? activation_ : 0;  // else the primitive applied it
      const int64_t image = channels_ * pixels_;
      for (int64_t n = 0; n < images_; ++n)
        parallel_for(pixels_, std::min(transpose_threads_, ctx.threads), 16, [&](int64_t b, int64_t e) {
          channels_last_to_plain_avx512(t + n * image, r ? r + n * image : nullptr, y + n * image, channels_, pixels_,
                                        activation, activation_min_, activation_max_, b, e);
        }, 16);
    }
  }

 private:
  dnnl::stream stream_;
  dnnl::convolution_forward conv_;
  std::string impl_, types_;
  int threads_ = 1;
  bool has_bias_ = false, has_residual_ = false, quantized_out_ = false, residual_in_place_ = false;
  bool own_transpose_ = false, own_requantize_ = false, own_residual_ = false, is_uint8_out_ = false;
  float requantize_scale_ = 1;
  int64_t dst_elements_ = 0;
  int activation_ = 0, transpose_threads_ = 1;
  float activation_min_ = 0, activation_max_ = 0;
  int64_t images_ = 0, channels_ = 0, pixels_ = 0;
  memory user_src_, user_dst_, src_, dst_, weights_, bias_, residual_, scratchpad_;
  std::optional<dnnl::reorder> src_reorder_, dst_reorder_, residual_reorder_;
  std::vector<dnnl_exec_arg_t> conv_args_, src_reorder_args_, dst_reorder_args_, residual_reorder_args_;
  size_t scratchpad_offset_ = 0, src_tmp_offset_ = 0, dst_tmp_offset_ = 0, scratch_bytes_ = 0;
};

std::unique_ptr<Kernel> create(const PrepareContext& ctx) { return std::make_unique<OnednnQConv>(ctx); }

}  // namespace

KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.qconv", "kestrel.QConv", Isa::kBaseline, accepts, layouts, create});

}  // namespace kestrel::cpu::fast
