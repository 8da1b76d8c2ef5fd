// Helpers of the CUDA decompositions (decompose_gemm.cpp, decompose_layer_normalization.cpp):
// layers that the CUDA backend runs as a short chain of the ONNX ops it has kernels for.
#pragma once
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kestrel::passes {

// Builds the replacement chain of one node: each step appends a node reading `inputs` and
// writing a new value (or, for the last step, the replaced node's own output), with its shape
// and type inferred at once.
class Decomposition {
 public:
  Decomposition(ir::Graph& graph, const ir::Node& original) : graph_(graph), original_(original) {}
  // A node `op_type` named after the original (`suffix` empty: the original's own name).
  int add(const std::string& op_type, std::vector<int> inputs, const std::string& suffix, ir::Attributes attrs = {},
          int output = ir::kNoValue);
  int constant(const std::string& suffix, Tensor tensor);
  // The chain's nodes, in order.
  std::vector<ir::Node> take() { return std::move(nodes_); }

 private:
  ir::Graph& graph_;
  const ir::Node& original_;
  std::vector<ir::Node> nodes_;
};

// Small constants the chains need: a 1-D int64 tensor (shapes, pads, axes), `n` copies of a
// float, a float scalar.
Tensor int64_tensor(const std::vector<int64_t>& values);
Tensor filled_floats(int64_t n, float value);
Tensor float_scalar(float value);

// Replaces each node flagged in `replacements` (non-empty) by its chain, in place, keeping the
// order of everything else.
void splice(ir::Graph& graph, std::vector<std::vector<ir::Node>>& replacements);

}  // namespace kestrel::passes
