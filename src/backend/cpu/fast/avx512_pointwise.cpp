// cpu.avx512.pointwise: 1x1 convolutions on plain values as the own AVX-512 GEMM of
// pointwise_gemm.h, with bias, residual and ReLU/Clip applied in registers before the store.
//
// Why besides cpu.onednn.pointwise and cpu.onednn.conv: MobileViT's transformer FFNs run on
// plain [1, C, P, N] tensors with short reductions (K = 128 to 384) and a few hundred to a few
// thousand columns; oneDNN's matmul and GEMM convolution reached about 150 GFLOP/s there on two
// Zen 4 cores, this register-blocked kernel about 200 (the cores' peak is ~235). The builder
// times all three per layer and keeps the fastest.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <optional>
#include <vector>

#include "backend/cpu/fast/conv_params.h"
#include "backend/cpu/fast/kernel.h"
#include "backend/cpu/fast/parallel.h"
#include "backend/cpu/fast/pointwise_gemm.h"
#include "core/error.h"
#include "ir/shape_utils.h"

namespace kestrel::cpu::fast {
namespace {

constexpr int64_t kRowsPerItem = 48;  // rows of one work item (eight register blocks of six)

class Avx512Pointwise final : public Kernel {
 public:
  explicit Avx512Pointwise(const PrepareContext& ctx) {
    const ir::Node& node = ctx.node();
    const std::optional<ConvParams> p = read_conv_params(ctx.graph(), node);
    KESTREL_CHECK(p.has_value(), "{}: the convolution's attributes are not supported", ir::describe(node));
    const Shape& x = ctx.input(0).shape;
    const Shape& y = ctx.output(0).shape;
    batch_ = x[0];
    gemm_.k = x[1];
    gemm_.m = y[1];
    gemm_.n = x[2] * x[3];
    // Copied: the kernel may outlive the graph it was prepared from.
    const Tensor& w = *ctx.input(1).constant;
    weights_.assign(w.data<float>(), w.data<float>() + gemm_.m * gemm_.k);
    if (ctx.has_input(2)) {
      const float* b = ctx.input(2).constant->data<float>();
      bias_.assign(b, b + gemm_.m);
    }
    has_residual_ = ctx.has_input(3);
    if (p->activation == "Relu") gemm_.activation = GemmActivation::kRelu;
    if (p->activation == "Clip") {
      gemm_.activation = GemmActivation::kClip;
      gemm_.lo = std::isinf(p->activation_min) ? -FLT_MAX : p->activation_min;
      gemm_.hi = std::isinf(p->activation_max) ? FLT_MAX : p->activation_max;
    }
    threads_ = threads_for_work(2.0 * double(shape_numel(y)) * double(gemm_.k), ctx.threads());
  }

  std::string detail() const override { return threads_ == 1 ? "1t" : ""; }

  void run(const RunContext& ctx) override {
    const int64_t column_blocks = (gemm_.n + kPointwiseGemmColumns - 1) / kPointwiseGemmColumns;
    const int64_t row_items = (gemm_.m + kRowsPerItem - 1) / kRowsPerItem;
    const int64_t per_image = column_blocks * row_items;
    const float* x = ctx.in<float>(0);
    const float* residual = has_residual_ ? ctx.in<float>(3) : nullptr;
    float* y = ctx.out<float>(0);
    const int64_t image_in = gemm_.k * gemm_.n, image_out = gemm_.m * gemm_.n;
    // Consecutive items share a column block, whose slice of X then stays in the core's cache.
    parallel_for(batch_ * per_image, std::min(threads_, ctx.threads), 1, [&](int64_t begin, int64_t end) {
      for (int64_t item = begin; item < end; ++item) {
        const int64_t b = item / per_image, rest = item % per_image;
        const int64_t n0 = (rest / row_items) * kPointwiseGemmColumns, m0 = (rest % row_items) * kRowsPerItem;
        PointwiseGemm g = gemm_;
        g.w = weights_.data();
        g.bias = bias_.empty() ? nullptr : bias_.data();
        g.x = x + b * image_in;
        g.residual = residual ? residual + b * image_out : nullptr;
        g.y = y + b * image_out;
        pointwise_gemm_avx512(g, m0, std::min(gemm_.m, m0 + kRowsPerItem), n0,
                              std::min(gemm_.n, n0 + kPointwiseGemmColumns));
      }
    });
  }

 private:
  PointwiseGemm gemm_;
  int64_t batch_ = 1;
  int threads_ = 1;
  bool has_residual_ = false;
  std::vector<float> weights_, bias_;
};

std::unique_ptr<Kernel> create(const PrepareContext& ctx) { return std::make_unique<Avx512Pointwise>(ctx); }

}  // namespace

// Priority -1 like cpu.onednn.pointwise: kept where the builder's timing finds it faster.
KESTREL_REGISTER_FAST_KERNEL(
    KernelImpl{"cpu.avx512.pointwise", "Conv", Isa::kAvx512Core, plain_pointwise_conv, nullptr, create, -1});
KESTREL_REGISTER_FAST_KERNEL(
    KernelImpl{"cpu.avx512.pointwise", "kestrel.FusedConv", Isa::kAvx512Core, plain_pointwise_conv, nullptr, create, -1});

}  // namespace kestrel::cpu::fast
