// Kernel launches with programmatic dependent launch (PDL, compute capability 9.0 and later).
//
// At batch 1 a layer's kernel runs for a few microseconds, about as long as the gap between two
// kernels of a CUDA graph. With PDL the next kernel is launched while the current one still runs:
// its blocks become resident and wait in await_previous_kernel() until the current kernel has
// finished and its writes are visible, so the launch latency hides behind the current kernel.
//
// The contract: every kernel launched through launch() calls await_previous_kernel() before it
// reads or writes any activation (buffers are reused, so even a write must wait). Weights could be
// read before it; no kernel does so yet.
#pragma once
#include <cuda_runtime.h>

#include <utility>

namespace kestrel::cuda {

// Waits until the kernel before this one on the stream has completed, then lets the kernel after
// this one start launching. Waiting first keeps at most one kernel queued ahead of the running one.
// Without PDL (older GPUs, KESTREL_CUDA_PDL=0, a launch outside launch()) both are no-ops.
__device__ __forceinline__ void await_previous_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// True when the current device has compute capability 9.0 or later and KESTREL_CUDA_PDL is not 0.
bool programmatic_launch_enabled();

// kernel<<<grid, block, shared_bytes, stream>>>(args...), allowed to overlap the previous kernel's
// tail where PDL is enabled. A launch error stays in cudaGetLastError(), as with <<<>>>.
template <typename... Params, typename... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared_bytes, cudaStream_t stream,
            Args&&... args) {
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = shared_bytes;
  config.stream = stream;
  if (programmatic_launch_enabled()) {
    config.attrs = &attribute;
    config.numAttrs = 1;
  }
  cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...);
}

}  // namespace kestrel::cuda
