// cpu.onednn.qmatmul: kestrel.QMatMul (src/ir/ops/qmatmul.cpp) on oneDNN's int8 matmul (brgemm,
// VNNI). X [..., M, K] int8/uint8 plain, W [K, N] int8 constant reordered once into the
// primitive's format, int32 accumulation, per-column output scales x_scale * w_scale[n] (divided
// by y_scale for an int8 output: oneDNN rounds half to even and saturates as QuantizeLinear).
#include <cmath>

#include "backend/cpu/fast/onednn_util.h"
#include "backend/cpu/fast/parallel.h"
#include "core/error.h"

namespace kestrel::cpu::fast {
namespace {

using dnnl::memory;

memory::data_type onednn_type(DataType t) {
  return t == DataType::kINT8 ? memory::data_type::s8 : t == DataType::kUINT8 ? memory::data_type::u8 : memory::data_type::f32;
}

bool accepts(const ir::Graph& graph, const ir::Node& node) {
  if (node.inputs.size() != 3 || node.outputs.size() != 1) return false;
  const ir::Value& x = value_of(graph, node.inputs[0]);
  const ir::Value& w = value_of(graph, node.inputs[1]);
  if (x.dtype != DataType::kINT8 && x.dtype != DataType::kUINT8) return false;
  if (!w.constant || w.dtype != DataType::kINT8 || w.shape.size() != 2 || !is_constant(graph, node.inputs[2])) return false;
  if (x.shape.size() < 2 || x.shape.size() > 4) return false;
  for (int64_t d : x.shape)
    if (d <= 0) return false;
  return true;
}

// [d0.., M, K] as a plain descriptor of the same rank; W as [1.., K, N].
memory::desc plain(const memory::dims& dims, memory::data_type type) {
  static const memory::format_tag tags[] = {memory::format_tag::undef, memory::format_tag::a, memory::format_tag::ab,
                                            memory::format_tag::abc, memory::format_tag::abcd};
  return memory::desc(dims, type, tags[dims.size()]);
}

class OnednnQMatMul final : public Kernel {
 public:
  explicit OnednnQMatMul(const PrepareContext& ctx) : stream_(onednn_engine()) {
    const ir::Node& node = ctx.node();
    const Shape& xs = ctx.input(0).shape;
    const Shape& ws = ctx.input(1).shape;
    const Shape& ys = ctx.output(0).shape;
    const int64_t cols = ws[1];
    threads_ = threads_for_work(2.0 * double(shape_numel(ys)) * double(ws[0]), ctx.threads());
    ScopedThreads scoped(threads_);
    const float x_scale = node.attrs.get_float("x_scale", 0.0f);
    const float y_scale = node.attrs.get_float("y_scale", 0.0f);
    const bool quantized_out = ctx.output(0).dtype != DataType::kFLOAT;
    KESTREL_CHECK(x_scale > 0 && std::isfinite(x_scale), "{}: bad x_scale {}", ir::describe(node), x_scale);
    KESTREL_CHECK(!quantized_out || (y_scale > 0 && std::isfinite(y_scale)), "{}: bad y_scale {}", ir::describe(node),
                  y_scale);
    const Tensor& w_scale = *ctx.input(2).constant;
    KESTREL_CHECK(w_scale.numel() == 1 || w_scale.numel() == cols, "{}: {} weight scales for {} columns",
                  ir::describe(node), w_scale.numel(), cols);
    std::vector<float> scales(static_cast<size_t>(cols));
    for (int64_t c = 0; c < cols; ++c)
      scales[size_t(c)] = x_scale * w_scale.data<float>()[w_scale.numel() == 1 ? 0 : c] / (quantized_out ? y_scale : 1.0f);

    const size_t rank = xs.size();
    memory::dims x_dims(xs.begin(), xs.end()), y_dims(ys.begin(), ys.end());
    memory::dims w_dims(rank - 2, 1);
    w_dims.push_back(ws[0]);
    w_dims.push_back(ws[1]);
    const memory::desc x_desc = plain(x_dims, onednn_type(ctx.input(0).dtype));
    const memory::desc y_desc = plain(y_dims, onednn_type(ctx.output(0).dtype));
    const memory::desc w_user = plain(w_dims, memory::data_type::s8);
    const memory::desc w_any(w_dims, memory::data_type::s8, memory::format_tag::any);
    dnnl::primitive_attr attr;
    attr.set_output_scales(1 << int(rank - 1), scales);
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::matmul::primitive_desc pd;
    try {
      pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(x_desc, w_any, y_desc), attr, onednn_engine());
    } catch (const dnnl::error& e) {
      fail("{}: oneDNN has no int8 matmul for it ({})", ir::describe(node), e.what());
    }
    impl_ = pd.impl_info_str();
    matmul_ = dnnl::matmul(pd);
    memory plain_weights(w_user, onednn_engine(), const_cast<void*>(ctx.input(1).constant->raw()));
    weights_ = memory(pd.weights_desc(), onednn_engine());
    dnnl::reorder(plain_weights, weights_).execute(stream_, plain_weights, weights_);
    stream_.wait();
    x_ = memory(x_desc, onednn_engine(), DNNL_MEMORY_NONE);
    y_ = memory(y_desc, onednn_engine(), DNNL_MEMORY_NONE);
    scratchpad_ = memory(pd.scratchpad_desc(), onednn_engine(), DNNL_MEMORY_NONE);
    scratch_bytes_ = pd.scratchpad_desc().get_size();
    args_ = {{DNNL_ARG_SRC, x_.get()}, {DNNL_ARG_WEIGHTS, weights_.get()}, {DNNL_ARG_DST, y_.get()},
             {DNNL_ARG_SCRATCHPAD, scratchpad_.get()}};
    types_ = std::string(ctx.input(0).dtype == DataType::kINT8 ? "s8" : "u8") + "->" +
             (quantized_out ? (ctx.output(0).dtype == DataType::kINT8 ? "s8" : "u8") : "f32");
  }

  size_t scratch_bytes() const override { return scratch_bytes_; }
  std::string detail() const override { return "int8 " + types_ + " " + impl_ + (threads_ == 1 ? " 1t" : ""); }

  void run(const RunContext& ctx) override {
    ScopedThreads scoped(std::min(threads_, ctx.threads));
    x_.set_data_handle(const_cast<void*>(ctx.inputs[0]));
    y_.set_data_handle(ctx.outputs[0]);
    scratchpad_.set_data_handle(ctx.scratch);
    onednn_execute(stream_, matmul_, args_);
    stream_.wait();
  }

 private:
  dnnl::stream stream_;
  dnnl::matmul matmul_;
  memory x_, y_, weights_, scratchpad_;
  std::vector<dnnl_exec_arg_t> args_;
  std::string impl_, types_;
  int threads_ = 1;
  size_t scratch_bytes_ = 0;
};

std::unique_ptr<Kernel> create(const PrepareContext& ctx) { return std::make_unique<OnednnQMatMul>(ctx); }

}  // namespace

KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.qmatmul", "kestrel.QMatMul", Isa::kBaseline, accepts, nullptr, create});

}  // namespace kestrel::cpu::fast
