// Asynchronous global-to-shared copies (cp.async, sm_80+) for the pipelined GEMM kernels
// (gemm_conv_pipelined.cu, qconv.cu).
#pragma once

namespace kestrel::cuda {

// 16 bytes from global to shared memory without passing through registers; a false `valid`
// writes zeros (source size 0), which pads the tiles at the matrix edges.
__device__ __forceinline__ void copy16_async(void* shared, const void* global, bool valid) {
  const unsigned dst = unsigned(__cvta_generic_to_shared(shared));
  const int bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(global), "r"(bytes));
}
__device__ __forceinline__ void commit_copies() { asm volatile("cp.async.commit_group;\n" ::); }
template <int kPending>
__device__ __forceinline__ void wait_copies() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

}  // namespace kestrel::cuda
