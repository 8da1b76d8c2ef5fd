// cpu.onednn.matmul: MatMul (float, both operands of rank 2 to 4, numpy batch broadcasting)
// through oneDNN's matmul primitive, prepared once per execution context.
#include "backend/cpu/fast/onednn_util.h"
#include "backend/cpu/fast/parallel.h"
#include "core/error.h"

namespace kestrel::cpu::fast {
namespace {

using dnnl::memory;

bool accepts(const ir::Graph& graph, const ir::Node& node) {
  if (!node.domain.empty() || node.inputs.size() != 2 || node.outputs.size() != 1) return false;
  if (!is_float(graph, node.inputs[0]) || !is_float(graph, node.inputs[1])) return false;
  const Shape& a = value_of(graph, node.inputs[0]).shape;
  const Shape& b = value_of(graph, node.inputs[1]).shape;
  if (a.size() < 2 || b.size() < 2 || a.size() > 4 || b.size() > 4) return false;
  for (int64_t d : a)
    if (d == 0) return false;
  for (int64_t d : b)
    if (d == 0) return false;
  return true;
}

// The shape padded with leading 1s to `rank`.
memory::dims padded(const Shape& shape, size_t rank) {
  memory::dims dims(rank - shape.size(), 1);
  dims.insert(dims.end(), shape.begin(), shape.end());
  return dims;
}

memory::desc plain_desc(const memory::dims& dims) {
  static const memory::format_tag tags[] = {memory::format_tag::undef, memory::format_tag::a, memory::format_tag::ab,
                                            memory::format_tag::abc, memory::format_tag::abcd};
  return memory::desc(dims, memory::data_type::f32, tags[dims.size()]);
}

class OnednnMatMul final : public Kernel {
 public:
  explicit OnednnMatMul(const PrepareContext& ctx) : stream_(onednn_engine()) {
    const Shape& a = ctx.input(0).shape;
    const Shape& b = ctx.input(1).shape;
    const Shape& c = ctx.output(0).shape;
    const size_t rank = std::max(a.size(), b.size());
    threads_ = threads_for_work(2.0 * double(shape_numel(c)) * double(a.back()), ctx.threads());
    ScopedThreads scoped(threads_);
    const memory::desc a_desc = plain_desc(padded(a, rank));
    const memory::desc b_desc = plain_desc(padded(b, rank));
    const memory::desc c_desc = plain_desc(padded(c, rank));
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::matmul::desc desc(a_desc, b_desc, c_desc);
    dnnl::matmul::primitive_desc pd(desc, attr, onednn_engine());
    impl_ = pd.impl_info_str();
    matmul_ = dnnl::matmul(pd);
    a_ = memory(a_desc, onednn_engine(), DNNL_MEMORY_NONE);
    b_ = memory(b_desc, onednn_engine(), DNNL_MEMORY_NONE);
    c_ = memory(c_desc, onednn_engine(), DNNL_MEMORY_NONE);
    scratchpad_ = memory(pd.scratchpad_desc(), onednn_engine(), DNNL_MEMORY_NONE);
    scratch_bytes_ = pd.scratchpad_desc().get_size();
    args_ = {{DNNL_ARG_SRC, a_.get()}, {DNNL_ARG_WEIGHTS, b_.get()}, {DNNL_ARG_DST, c_.get()},
             {DNNL_ARG_SCRATCHPAD, scratchpad_.get()}};
  }

  size_t scratch_bytes() const override { return scratch_bytes_; }
  std::string detail() const override { return impl_; }

  void run(const RunContext& ctx) override {
    ScopedThreads scoped(std::min(threads_, ctx.threads));
    a_.set_data_handle(const_cast<void*>(ctx.inputs[0]));
    b_.set_data_handle(const_cast<void*>(ctx.inputs[1]));
    c_.set_data_handle(ctx.outputs[0]);
    scratchpad_.set_data_handle(ctx.scratch);
    onednn_execute(stream_, matmul_, args_);
    stream_.wait();
  }

 private:
  dnnl::stream stream_;
  dnnl::matmul matmul_;
  std::string impl_;
  memory a_, b_, c_, scratchpad_;
  std::vector<dnnl_exec_arg_t> args_;
  size_t scratch_bytes_ = 0;
  int threads_ = 1;
};

std::unique_ptr<Kernel> create(const PrepareContext& ctx) { return std::make_unique<OnednnMatMul>(ctx); }

}  // namespace

KESTREL_REGISTER_FAST_KERNEL(KernelImpl{"cpu.onednn.matmul", "MatMul", Isa::kBaseline, accepts, nullptr, create});

}  // namespace kestrel::cpu::fast
