// CPU reference kernels: the plain, readable oracle for every supported operator. Each op family
// registers its kernels from its own file with KESTREL_REGISTER_REFERENCE_KERNEL.
// A kernel reads its inputs and writes into outputs that the caller has already allocated with
// the shapes and dtypes that shape inference gave; it never allocates its outputs itself.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

namespace kestrel::cpu {

class KernelContext {
 public:
  KernelContext(const ir::Node& node, std::vector<const Tensor*> inputs, std::vector<Tensor*> outputs)
      : node_(&node), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

  const ir::Node& node() const { return *node_; }
  const ir::Attributes& attrs() const { return node_->attrs; }
  int opset() const { return node_->opset; }
  size_t num_inputs() const { return inputs_.size(); }
  size_t num_outputs() const { return outputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  bool has_output(size_t i) const { return i < outputs_.size() && outputs_[i] != nullptr; }
  const Tensor& input(size_t i) const { return *inputs_.at(i); }
  Tensor& output(size_t i) const { return *outputs_.at(i); }

 private:
  const ir::Node* node_;
  std::vector<const Tensor*> inputs_;
  std::vector<Tensor*> outputs_;
};

using ReferenceKernel = void (*)(const KernelContext&);

// nullptr when no reference kernel exists for the op (its qualified name: "Conv",
// "kestrel.FusedConv"; see ir::qualified_op_type).
ReferenceKernel find_reference_kernel(const std::string& op_type);

struct ReferenceKernelRegistrar {
  ReferenceKernelRegistrar(const char* op_type, ReferenceKernel kernel);
};

// Runs one node on constant inputs: infers its output shapes, allocates the outputs and runs the
// reference kernel. Used by constant folding and by operator tests. Errors name the node.
std::vector<Tensor> evaluate_node(const ir::Node& node, const std::vector<const Tensor*>& inputs);

}  // namespace kestrel::cpu

#define KESTREL_REGISTER_REFERENCE_KERNEL(op_type, kernel)                                     \
  static ::kestrel::cpu::ReferenceKernelRegistrar KESTREL_CONCAT(kestrel_ref_kernel_, __LINE__)( \
      op_type, kernel)
#ifndef KESTREL_CONCAT
#define KESTREL_CONCAT_INNER(a, b) a##b
#define KESTREL_CONCAT(a, b) KESTREL_CONCAT_INNER(a, b)
#endif
