#include "backend/cpu/fast/kernel.h"

#include <algorithm>

namespace kestrel::cpu::fast {
namespace {

std::vector<KernelImpl>& impls() {
  static std::vector<KernelImpl> table;
  return table;
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kBaseline: return "x86_64";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512Core: return "avx512_core";
  }
  return "?";
}

bool parse_isa(const std::string& name, Isa& isa) {
  for (Isa candidate : {Isa::kBaseline, Isa::kAvx2, Isa::kAvx512Core}) {
    if (name == isa_name(candidate)) {
      isa = candidate;
      return true;
    }
  }
  return false;
}

Isa host_isa() {
  // libgcc's CPU model checks also require the OS to save the vector state (XCR0).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
    return Isa::kAvx512Core;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
  return Isa::kBaseline;
}

KernelImplRegistrar::KernelImplRegistrar(KernelImpl impl) { impls().push_back(impl); }

std::vector<const KernelImpl*> kernel_impls_for(const std::string& qualified_op_type) {
  std::vector<const KernelImpl*> out;
  for (const KernelImpl& impl : impls())
    if (qualified_op_type == impl.op_type) out.push_back(&impl);
  std::stable_sort(out.begin(), out.end(), [](const KernelImpl* a, const KernelImpl* b) { return a->priority > b->priority; });
  return out;
}

const KernelImpl* find_kernel_impl(const std::string& qualified_op_type, const std::string& name) {
  for (const KernelImpl& impl : impls())
    if (qualified_op_type == impl.op_type && name == impl.name) return &impl;
  return nullptr;
}

bool is_float(const ir::Graph& graph, int value) {
  return value != ir::kNoValue && graph.values[size_t(value)].dtype == DataType::kFLOAT;
}

bool is_constant(const ir::Graph& graph, int value) {
  return value != ir::kNoValue && graph.values[size_t(value)].constant.has_value();
}

const ir::Value& value_of(const ir::Graph& graph, int value) { return graph.values[size_t(value)]; }

}  // namespace kestrel::cpu::fast
