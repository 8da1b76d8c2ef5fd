// cpu.onednn.conv: 2-D Conv and kestrel.FusedConv (residual and activation as oneDNN post-ops)
// through oneDNN's convolution primitive.
//
// Prepared once per execution context: the primitive for the exact source and destination
// layouts the planner chose (channel-blocked values between convolutions, where oneDNN's direct
// AVX-512 kernels run; plain elsewhere), weights reordered into the primitive's own format, the
// bias and the scratchpad in the executor's shared scratch. When oneDNN has only its slow
// reference implementation for those layouts, the primitive gets the layouts it prefers and
// prepared reorders convert the source before and the destination after.
#include <cfloat>
#include <cmath>
#include <cstring>
#include <optional>

#include "backend/cpu/fast/conv_params.h"
#include "backend/cpu/fast/onednn_util.h"
#include "backend/cpu/fast/parallel.h"
#include "backend/cpu/fast/vector_ops.h"
#include "core/error.h"

namespace kestrel::cpu::fast {
namespace {

using dnnl::memory;

bool accepts(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() < 2 || node.outputs.size() != 1) return false;
  const int x = node.inputs[0], w = node.inputs[1];
  if (!is_float(graph, x) || !is_float(graph, w) || !is_constant(graph, w)) return false;
  if (value_of(graph, x).shape.size() != 4 || value_of(graph, w).shape.size() != 4) return false;
  if (node.inputs.size() > 2 && node.inputs[2] != ir::kNoValue &&
      (!is_float(graph, node.inputs[2]) || !is_constant(graph, node.inputs[2])))
    return false;
  if (node.inputs.size() > 3 && node.inputs[3] != ir::kNoValue && !is_float(graph, node.inputs[3])) return false;
  const std::optional<ConvParams> params = read_conv_params(graph, node);
  if (!params) return false;
  return params->activation.empty() || params->activation == "Relu" || params->activation == "Clip";
}

LayoutRules layouts(const ir::Graph& graph, const ir::Node& node) {
  LayoutRules rules;
  rules.blockable = {{false, 0}, {true, 0}};
  if (node.inputs.size() > 3 && node.inputs[3] != ir::kNoValue) {
    rules.blockable.push_back({false, 3});
    rules.tied.push_back({{false, 3}, {true, 0}});
  }
  rules.blocked_paths.push_back({{false, 0}, {true, 0}});
  return rules;
}

bool is_reference_impl(const dnnl::convolution_forward::primitive_desc& pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) == 0;
}

class OnednnConv final : public Kernel {
 public:
  OnednnConv(const PrepareContext& ctx, dnnl::algorithm algorithm) : stream_(onednn_engine()) {
    const ir::Graph& graph = ctx.graph();
    const ir::Node& node = ctx.node();
    const std::optional<ConvParams> p = read_conv_params(graph, node);
    KESTREL_CHECK(p.has_value(), "{}: the convolution's attributes are not supported", ir::describe(node));
    const Shape& x_shape = ctx.input(0).shape;
    const Shape& w_shape = ctx.input(1).shape;
    const Shape& y_shape = ctx.output(0).shape;
    const int64_t groups = p->group;
    const double flops = 2.0 * double(shape_numel(y_shape)) * double(w_shape[1] * w_shape[2] * w_shape[3]);
    threads_ = threads_for_work(flops, ctx.threads());
    ScopedThreads scoped(threads_);
    has_bias_ = ctx.has_input(2);
    has_residual_ = ctx.has_input(3);

    const memory::desc user_src = float_desc(x_shape, ctx.input_layout(0));
    const memory::desc user_dst = float_desc(y_shape, ctx.output_layout(0));
    memory::dims w_dims;
    if (groups == 1)
      w_dims = {w_shape[0], w_shape[1], w_shape[2], w_shape[3]};
    else
      w_dims = {groups, w_shape[0] / groups, w_shape[1], w_shape[2], w_shape[3]};
    const memory::desc user_weights(w_dims, memory::data_type::f32,
                                    groups == 1 ? memory::format_tag::oihw : memory::format_tag::goihw);
    const memory::desc bias_desc({w_shape[0]}, memory::data_type::f32, memory::format_tag::x);
    const memory::desc any_weights(w_dims, memory::data_type::f32, memory::format_tag::any);

    // The residual is a binary-add post-op (read from its own buffer) for the direct kernels;
    // oneDNN's GEMM-based convolution runs that post-op element by element, so there the residual
    // is copied into the destination first and accumulated by a sum post-op (GEMM's beta = 1).
    // Likewise its eltwise post-ops run as a branchy scalar loop: the GEMM path applies the
    // activation itself, with the vector kernels, on the output that is still in cache.
    auto make_attr = [&](bool gemm) {
      dnnl::primitive_attr attr;
      dnnl::post_ops ops;
      if (has_residual_ && gemm) ops.append_sum(1.0f);
      if (has_residual_ && !gemm)
        ops.append_binary(dnnl::algorithm::binary_add, float_desc(y_shape, ctx.input_layout(3)));
      if (gemm) {
        // No eltwise post-op: see run().
      } else if (p->activation == "Relu") ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
      if (p->activation == "Clip") {
        const float lo = std::isinf(p->activation_min) ? -FLT_MAX : p->activation_min;
        const float hi = std::isinf(p->activation_max) ? FLT_MAX : p->activation_max;
        ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, lo, hi);
      }
      attr.set_post_ops(ops);
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      return attr;
    };
    dnnl::primitive_attr attr = make_attr(false);

    auto make_pd = [&](const memory::desc& src, const memory::desc& dst) {
      const memory::dims strides(p->strides.begin(), p->strides.end());
      memory::dims dilations;
      for (int64_t d : p->dilations) dilations.push_back(d - 1);
      const memory::dims pad_l(p->pad_begin.begin(), p->pad_begin.end());
      const memory::dims pad_r(p->pad_end.begin(), p->pad_end.end());
      if (has_bias_) {
        dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm,
                                             src, any_weights, bias_desc, dst, strides, dilations, pad_l, pad_r);
        return dnnl::convolution_forward::primitive_desc(desc, attr, onednn_engine());
      }
      dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm,
                                           src, any_weights, dst, strides, dilations, pad_l, pad_r);
      return dnnl::convolution_forward::primitive_desc(desc, attr, onednn_engine());
    };

    // The exact layouts first; then with the source and/or destination channel-blocked (and
    // reordered here), then oneDNN's own choice: the first that is not oneDNN's slow reference
    // implementation.
    dnnl::convolution_forward::primitive_desc pd;
    bool have_pd = false;
    const bool can_block_src = x_shape[1] % 16 == 0;
    const bool can_block_dst = y_shape[1] % 16 == 0;
    const memory::desc blocked_src = can_block_src ? float_desc(x_shape, Layout::kBlocked16) : user_src;
    const memory::desc blocked_dst = can_block_dst ? float_desc(y_shape, Layout::kBlocked16) : user_dst;
    const memory::desc any_src(user_src.dims(), memory::data_type::f32, memory::format_tag::any);
    const memory::desc any_dst(user_dst.dims(), memory::data_type::f32, memory::format_tag::any);
    const std::pair<memory::desc, memory::desc> attempts[] = {
        {user_src, user_dst}, {blocked_src, user_dst}, {user_src, blocked_dst}, {blocked_src, blocked_dst},
        {any_src, any_dst}};
    for (const auto& [src, dst] : attempts) {
      try {
        auto candidate = make_pd(src, dst);
        if (!is_reference_impl(candidate)) {
          pd = candidate;
          have_pd = true;
          break;
        }
      } catch (const dnnl::error&) {
      }
    }
    if (!have_pd) pd = make_pd(user_src, user_dst);
    if ((has_residual_ || !p->activation.empty()) && std::string(pd.impl_info_str()).find("gemm") != std::string::npos &&
        pd.dst_desc() == user_dst) {
      attr = make_attr(true);
      pd = make_pd(pd.src_desc(), pd.dst_desc());
      sum_residual_ = has_residual_;
      residual_bytes_ = pd.dst_desc().get_size();
      if (p->activation == "Relu") own_activation_ = UnaryOp::kRelu;
      if (p->activation == "Clip") own_activation_ = UnaryOp::kClip;
      activation_min_ = p->activation_min;
      activation_max_ = p->activation_max;
      dst_elements_ = shape_numel(y_shape);
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
    if (pd.dst_desc() != user_dst) {
      dst_ = memory(pd.dst_desc(), onednn_engine(), DNNL_MEMORY_NONE);
      dst_tmp_offset_ = scratch.add(pd.dst_desc().get_size());
      dst_reorder_ = dnnl::reorder(dst_, user_dst_);
    } else {
      dst_ = user_dst_;
    }
    scratch_bytes_ = scratch.total();
    if (has_residual_) residual_ = memory(float_desc(y_shape, ctx.input_layout(3)), onednn_engine(), DNNL_MEMORY_NONE);

    // Weights and bias: reordered once into memory this kernel owns.
    const Tensor& w = *ctx.input(1).constant;
    memory plain_weights(user_weights, onednn_engine(), const_cast<void*>(w.raw()));
    weights_ = memory(pd.weights_desc(), onednn_engine());
    dnnl::reorder(plain_weights, weights_).execute(stream_, plain_weights, weights_);
    if (has_bias_) {
      bias_ = memory(bias_desc, onednn_engine());
      const Tensor& b = *ctx.input(2).constant;
      std::copy_n(b.data<float>(), w_shape[0], static_cast<float*>(bias_.get_data_handle()));
    }
    stream_.wait();

    // Argument lists built once: the C API takes them as arrays, so a run allocates nothing.
    conv_args_ = {{DNNL_ARG_SRC, src_.get()}, {DNNL_ARG_WEIGHTS, weights_.get()}, {DNNL_ARG_DST, dst_.get()},
                  {DNNL_ARG_SCRATCHPAD, scratchpad_.get()}};
    if (has_bias_) conv_args_.push_back({DNNL_ARG_BIAS, bias_.get()});
    if (has_residual_ && !sum_residual_)
      conv_args_.push_back({DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, residual_.get()});
    if (src_reorder_) src_reorder_args_ = {{DNNL_ARG_FROM, user_src_.get()}, {DNNL_ARG_TO, src_.get()}};
    if (dst_reorder_) dst_reorder_args_ = {{DNNL_ARG_FROM, dst_.get()}, {DNNL_ARG_TO, user_dst_.get()}};
  }

  size_t scratch_bytes() const override { return scratch_bytes_; }
  std::string detail() const override {
    return impl_ + (threads_ == 1 ? " 1t" : "") + (sum_residual_ ? " +sum" : "") + (own_activation_ ? " +act" : "") + (src_reorder_ ? " +src reorder" : "") + (dst_reorder_ ? " +dst reorder" : "");
  }

  void run(const RunContext& ctx) override {
    ScopedThreads scoped(std::min(threads_, ctx.threads));
    user_src_.set_data_handle(const_cast<void*>(ctx.inputs[0]));
    user_dst_.set_data_handle(ctx.outputs[0]);
    scratchpad_.set_data_handle(at_offset(ctx.scratch, scratchpad_offset_));
    if (sum_residual_ && ctx.outputs[0] != ctx.inputs[3]) std::memcpy(ctx.outputs[0], ctx.inputs[3], residual_bytes_);
    if (has_residual_ && !sum_residual_) residual_.set_data_handle(const_cast<void*>(ctx.inputs[3]));
    if (src_reorder_) {
      src_.set_data_handle(at_offset(ctx.scratch, src_tmp_offset_));
      onednn_execute(stream_, *src_reorder_, src_reorder_args_);
    }
    if (dst_reorder_) dst_.set_data_handle(at_offset(ctx.scratch, dst_tmp_offset_));
    onednn_execute(stream_, conv_, conv_args_);
    if (dst_reorder_) onednn_execute(stream_, *dst_reorder_, dst_reorder_args_);
    stream_.wait();
    if (own_activation_) {
      float* y = ctx.out<float>(0);
      parallel_for(dst_elements_, std::min(threads_, ctx.threads), kMemoryGrain, [&](int64_t b, int64_t e) {
        ops_.unary(*own_activation_, y + b, y + b, e - b, activation_min_, activation_max_);
      }, 16);
    }
  }

 private:
  dnnl::stream stream_;
  dnnl::convolution_forward conv_;
  std::string impl_;
  int threads_ = 1;
  const VectorOps& ops_ = ops_for(host_isa());
  std::optional<UnaryOp> own_activation_;
  float activation_min_ = 0, activation_max_ = 0;
  int64_t dst_elements_ = 0;
  bool has_bias_ = false, has_residual_ = false, sum_residual_ = false;
  size_t residual_bytes_ = 0;
  memory user_src_, user_dst_, src_, dst_, weights_, bias_, residual_, scratchpad_;
  std::optional<dnnl::reorder> src_reorder_, dst_reorder_;
  std::vector<dnnl_exec_arg_t> conv_args_, src_reorder_args_, dst_reorder_args_;
  size_t scratchpad_offset_ = 0, src_tmp_offset_ = 0, dst_tmp_offset_ = 0, scratch_bytes_ = 0;
};

std::unique_ptr<Kernel> create(const PrepareContext& ctx) {
  return std::make_unique<OnednnConv>(ctx, dnnl::algorithm::convolution_direct);
}

// Winograd F(4x4, 3x3) for dense 3x3 stride-1 convolutions with enough channels: about 2.5x
// fewer multiplications, at a rounding error of a few 1e-6 relative (measured on SMAT's head).
// A separate implementation, so that the builder times it against the direct one.
bool winograd_accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!accepts(graph, node)) return false;
  if (node.inputs.size() > 3 && node.inputs[3] != ir::kNoValue) return false;  // no binary post-op there
  const std::optional<ConvParams> p = read_conv_params(graph, node);
  if (!p->activation.empty() && p->activation != "Relu") return false;  // nor a clip
  const Shape& x = value_of(graph, node.inputs[0]).shape;
  const Shape& y = value_of(graph, node.outputs[0]).shape;
  return p->group == 1 && p->kernel == std::vector<int64_t>{3, 3} && p->strides == std::vector<int64_t>{1, 1} &&
         p->dilations == std::vector<int64_t>{1, 1} && x[1] % 16 == 0 && y[1] % 16 == 0 && x[1] >= 32 && y[1] >= 32;
}

std::unique_ptr<Kernel> create_winograd(const PrepareContext& ctx) {
  return std::make_unique<OnednnConv>(ctx, dnnl::algorithm::convolution_winograd);
}

}  // namespace

KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.conv", "Conv", Isa::kBaseline, accepts, layouts, create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.conv", "kestrel.FusedConv", Isa::kBaseline, accepts, layouts, create});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.winograd", "Conv", Isa::kAvx512Core, winograd_accepts, layouts,
                                        create_winograd, -1});
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.winograd", "kestrel.FusedConv", Isa::kAvx512Core, winograd_accepts,
                                        layouts, create_winograd, -1});

}  // namespace kestrel::cpu::fast
