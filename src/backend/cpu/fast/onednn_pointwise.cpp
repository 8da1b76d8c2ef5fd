// cpu.onednn.pointwise: 1x1 convolutions (Conv and kestrel.FusedConv; stride 1, no padding, one
// group) on plain values as one oneDNN matmul per image, Y[Cout, HW] = W[Cout, Cin] X[Cin, HW],
// with bias, residual and activation as the matmul's post-ops.
//
// Why besides cpu.onednn.conv: on plain values (MobileViT's transformer blocks run on
// [1, C, P, N] tensors that normalisation and attention read row by row) oneDNN's convolution
// falls back to its GEMM-based path, which splits a small image poorly between threads (1.4x
// from the second thread on SMAT's FFN layers); the matmul primitive (brgemm) blocks both
// output dimensions. The builder times both where both accept a layer and keeps the faster.
#include <cfloat>
#include <cmath>
#include <optional>

#include "backend/cpu/fast/conv_params.h"
#include "backend/cpu/fast/onednn_util.h"
#include "backend/cpu/fast/parallel.h"
#include "core/error.h"

namespace kestrel::cpu::fast {
namespace {

using dnnl::memory;

class OnednnPointwise final : public Kernel {
 public:
  explicit OnednnPointwise(const PrepareContext& ctx) : stream_(onednn_engine()) {
    const ir::Node& node = ctx.node();
    const std::optional<ConvParams> p = read_conv_params(ctx.graph(), node);
    KESTREL_CHECK(p.has_value(), "{}: the convolution's attributes are not supported", ir::describe(node));
    const Shape& x = ctx.input(0).shape;
    const Shape& y = ctx.output(0).shape;
    const int64_t batch = x[0], in_channels = x[1], out_channels = y[1], pixels = x[2] * x[3];
    threads_ = threads_for_work(2.0 * double(shape_numel(y)) * double(in_channels), ctx.threads());
    ScopedThreads scoped(threads_);
    has_residual_ = ctx.has_input(3);

    // A = W [Cout, Cin] (broadcast over the batch), B = X [N, Cin, HW], C = Y [N, Cout, HW].
    const memory::desc a_desc({1, out_channels, in_channels}, memory::data_type::f32, memory::format_tag::abc);
    const memory::desc b_desc({batch, in_channels, pixels}, memory::data_type::f32, memory::format_tag::abc);
    const memory::desc c_desc({batch, out_channels, pixels}, memory::data_type::f32, memory::format_tag::abc);
    const memory::desc row_desc({1, out_channels, 1}, memory::data_type::f32, memory::format_tag::abc);

    // Post-ops in the fused op's order: + bias (one value per output row), + residual, activation.
    dnnl::post_ops ops;
    int index = 0;
    if (ctx.has_input(2)) {
      ops.append_binary(dnnl::algorithm::binary_add, row_desc);
      bias_arg_ = DNNL_ARG_ATTR_MULTIPLE_POST_OP(index++) | DNNL_ARG_SRC_1;
    }
    if (has_residual_) {
      ops.append_binary(dnnl::algorithm::binary_add, c_desc);
      residual_arg_ = DNNL_ARG_ATTR_MULTIPLE_POST_OP(index++) | DNNL_ARG_SRC_1;
    }
    if (p->activation == "Relu") ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    if (p->activation == "Clip") {
      const float lo = std::isinf(p->activation_min) ? -FLT_MAX : p->activation_min;
      const float hi = std::isinf(p->activation_max) ? FLT_MAX : p->activation_max;
      ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_clip, lo, hi);
    }
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::matmul::desc desc(a_desc, b_desc, c_desc);
    dnnl::matmul::primitive_desc pd(desc, attr, onednn_engine());
    impl_ = pd.impl_info_str();
    matmul_ = dnnl::matmul(pd);

    // The weights as A: their [Cout, Cin, 1, 1] storage already is [Cout, Cin] row-major. Copied,
    // like the bias: the kernel may outlive the graph it was prepared from (LinearAttention
    // prepares one on a graph of its own).
    const Tensor& w = *ctx.input(1).constant;
    weight_data_.assign(w.data<float>(), w.data<float>() + out_channels * in_channels);
    weights_ = memory(a_desc, onednn_engine(), weight_data_.data());
    src_ = memory(b_desc, onednn_engine(), DNNL_MEMORY_NONE);
    dst_ = memory(c_desc, onednn_engine(), DNNL_MEMORY_NONE);
    scratchpad_ = memory(pd.scratchpad_desc(), onednn_engine(), DNNL_MEMORY_NONE);
    scratch_bytes_ = pd.scratchpad_desc().get_size();
    args_ = {{DNNL_ARG_SRC, weights_.get()}, {DNNL_ARG_WEIGHTS, src_.get()}, {DNNL_ARG_DST, dst_.get()},
             {DNNL_ARG_SCRATCHPAD, scratchpad_.get()}};
    if (ctx.has_input(2)) {
      const float* b = ctx.input(2).constant->data<float>();
      bias_data_.assign(b, b + out_channels);
      bias_ = memory(row_desc, onednn_engine(), bias_data_.data());
      args_.push_back({bias_arg_, bias_.get()});
    }
    if (has_residual_) {
      residual_ = memory(c_desc, onednn_engine(), DNNL_MEMORY_NONE);
      args_.push_back({residual_arg_, residual_.get()});
    }
  }

  size_t scratch_bytes() const override { return scratch_bytes_; }
  std::string detail() const override { return impl_ + (threads_ == 1 ? " 1t" : ""); }

  void run(const RunContext& ctx) override {
    ScopedThreads scoped(std::min(threads_, ctx.threads));
    src_.set_data_handle(const_cast<void*>(ctx.inputs[0]));
    dst_.set_data_handle(ctx.outputs[0]);
    scratchpad_.set_data_handle(ctx.scratch);
    if (has_residual_) residual_.set_data_handle(const_cast<void*>(ctx.inputs[3]));
    onednn_execute(stream_, matmul_, args_);
    stream_.wait();
  }

 private:
  dnnl::stream stream_;
  dnnl::matmul matmul_;
  std::string impl_;
  int threads_ = 1;
  bool has_residual_ = false;
  int bias_arg_ = 0, residual_arg_ = 0;
  std::vector<float> weight_data_, bias_data_;
  memory weights_, src_, dst_, bias_, residual_, scratchpad_;
  std::vector<dnnl_exec_arg_t> args_;
  size_t scratch_bytes_ = 0;
};

std::unique_ptr<Kernel> create(const PrepareContext& ctx) { return std::make_unique<OnednnPointwise>(ctx); }

}  // namespace

// Priority -1: cpu.onednn.conv stays the default (it also runs channel-blocked values); this one
// is kept where the builder's timing finds it faster.
KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.pointwise", "Conv", Isa::kBaseline, plain_pointwise_conv, nullptr, create, -1});
KESTREL_REGISTER_FAST_KERNEL(
    KernelImpl{"cpu.onednn.pointwise", "kestrel.FusedConv", Isa::kBaseline, plain_pointwise_conv, nullptr, create, -1});

}  // namespace kestrel::cpu::fast
