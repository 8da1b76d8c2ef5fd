#include "backend/cpu/reference/kernel_registry.h"

#include <map>

#include "core/error.h"
#include "ir/op_registry.h"

namespace kestrel::cpu {
namespace {

std::map<std::string, ReferenceKernel>& kernels() {
  static std::map<std::string, ReferenceKernel> table;
  return table;
}

}  // namespace

ReferenceKernelRegistrar::ReferenceKernelRegistrar(const char* op_type, ReferenceKernel kernel) {
  kernels()[op_type] = kernel;
}

ReferenceKernel find_reference_kernel(const std::string& op_type) {
  auto it = kernels().find(op_type);
  return it == kernels().end() ? nullptr : it->second;
}

std::vector<Tensor> evaluate_node(const ir::Node& node, const std::vector<const Tensor*>& inputs) {
  // Build a tiny graph holding the inputs as constants so that shape inference sees their data.
  ir::Graph graph;
  ir::Node local = node;
  local.inputs.clear();
  local.outputs.clear();
  for (size_t i = 0; i < inputs.size(); ++i)
    local.inputs.push_back(inputs[i] ? graph.add_constant(fmt::format("in{}", i), *inputs[i]) : ir::kNoValue);
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    ir::Value v;
    v.name = fmt::format("out{}", i);
    local.outputs.push_back(graph.add_value(v));
  }
  ir::infer_node(graph, local);
  ReferenceKernel kernel = find_reference_kernel(ir::qualified_op_type(node));
  KESTREL_CHECK(kernel != nullptr, "{}: no CPU reference kernel for {}", ir::describe(node), node.op_type);
  std::vector<Tensor> outputs;
  outputs.reserve(local.outputs.size());
  for (int out : local.outputs) outputs.emplace_back(graph.values[size_t(out)].dtype, graph.values[size_t(out)].shape);
  std::vector<Tensor*> output_ptrs;
  for (Tensor& t : outputs) output_ptrs.push_back(&t);
  try {
    kernel(KernelContext(local, inputs, output_ptrs));
  } catch (const Error& e) {
    fail("{}: {}", ir::describe(node), e.what());
  }
  return outputs;
}

}  // namespace kestrel::cpu
