// Gemm on CUDA as the ops it has kernels for: Y = alpha * A' B' + beta * C becomes
// [Transpose(A)] -> MatMul (cuBLAS) -> [Mul(alpha)] -> [Add(beta * C)]. The transposes and
// scalings of constant weights and biases fold into new constants (fold_constants runs again),
// so a classifier's Gemm with a constant weight costs one MatMul and one broadcast Add. The
// MatMul keeps the Gemm's name. CUDA only: the CPU runs Gemm as it is.
#include "passes/decompose_for_cuda.h"
#include "passes/pass.h"

namespace kestrel::passes {
namespace {

ir::Attributes transpose_2d() {
  ir::Attributes a;
  a.set("perm", std::vector<int64_t>{1, 0});
  return a;
}

bool decompose_gemm(ir::Graph& graph) {
  std::vector<std::vector<ir::Node>> replacements(graph.nodes.size());
  bool changed = false;
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const ir::Node& gemm = graph.nodes[n];
    if (!gemm.domain.empty() || gemm.op_type != "Gemm" || gemm.inputs.size() < 2 || gemm.outputs.size() != 1) continue;
    const int out = gemm.outputs[0];
    if (graph.values[size_t(out)].dtype != DataType::kFLOAT) continue;
    const float alpha = gemm.attrs.get_float("alpha", 1.f), beta = gemm.attrs.get_float("beta", 1.f);
    const bool has_c = gemm.inputs.size() > 2 && gemm.inputs[2] != ir::kNoValue && beta != 0.f;
    Decomposition d(graph, gemm);
    int a = gemm.inputs[0], b = gemm.inputs[1];
    if (gemm.attrs.get_int("transA", 0)) a = d.add("Transpose", {a}, "transpose_a", transpose_2d());
    if (gemm.attrs.get_int("transB", 0)) b = d.add("Transpose", {b}, "transpose_b", transpose_2d());
    const bool last_is_matmul = alpha == 1.f && !has_c;
    int y = d.add("MatMul", {a, b}, "", {}, last_is_matmul ? out : ir::kNoValue);
    if (alpha != 1.f) y = d.add("Mul", {y, d.constant("alpha", float_scalar(alpha))}, "alpha", {}, has_c ? ir::kNoValue : out);
    if (has_c) {
      int c = gemm.inputs[2];
      if (beta != 1.f) c = d.add("Mul", {c, d.constant("beta", float_scalar(beta))}, "beta");
      d.add("Add", {y, c}, "bias", {}, out);
    }
    replacements[n] = d.take();
    changed = true;
  }
  if (changed) splice(graph, replacements);
  return changed;
}

}  // namespace

KESTREL_REGISTER_PASS(Pass{"decompose_gemm", 25, decompose_gemm, device_bit(DeviceType::kCUDA)});

}  // namespace kestrel::passes
