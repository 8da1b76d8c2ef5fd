// The attributes of a 2-D Conv / kestrel.FusedConv resolved for the fast kernels: explicit
// begin and end padding (auto_pad applied the way shape inference does), and the fused
// activation.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kestrel::cpu::fast {

struct ConvParams {
  int64_t group = 1;
  std::vector<int64_t> kernel, strides, dilations, pad_begin, pad_end;  // per spatial dim (H, W)
  std::string activation;  // "", "Relu", "Clip"
  float activation_min = 0, activation_max = 0;
};

// nullopt when the node is not a 2-D convolution with static shapes and a constant weight shape.
std::optional<ConvParams> read_conv_params(const ir::Graph& graph, const ir::Node& node);

// A float 1x1 convolution (stride 1, no padding, one group) with constant weights and bias, an
// optional float residual and no activation or Relu/Clip: the layers the plain-layout GEMM
// kernels run (cpu.onednn.pointwise, cpu.avx512.pointwise).
bool plain_pointwise_conv(const ir::Graph& graph, const ir::Node& node);

}  // namespace kestrel::cpu::fast
