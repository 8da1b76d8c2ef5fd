// Whether kernels are launched with programmatic dependent launch (launch.cuh).
#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/launch.cuh"

namespace kestrel::cuda {

namespace {
// -1: not set, then 0 (off) or 1 (on where the GPU has it); read from KESTREL_CUDA_PDL on first use.
std::atomic<int> allowed{-1};
}  // namespace

void set_programmatic_launch(bool on) { allowed.store(on ? 1 : 0); }

bool programmatic_launch_enabled() {
  if (allowed.load() < 0) {
    const char* v = std::getenv("KESTREL_CUDA_PDL");
    int expected = -1;
    allowed.compare_exchange_strong(expected, v != nullptr && std::strcmp(v, "0") == 0 ? 0 : 1);
  }
  if (allowed.load() == 0) return false;
  // Per device: 0 not yet asked, 1 no (before Hopper), 2 yes.
  static std::array<std::atomic<int>, 64> answer{};
  int device = 0;
  if (cudaGetDevice(&device) != cudaSuccess || device < 0 || device >= int(answer.size())) return false;
  int known = answer[size_t(device)].load(std::memory_order_relaxed);
  if (known == 0) {
    int major = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) return false;
    known = major >= 9 ? 2 : 1;
    answer[size_t(device)].store(known, std::memory_order_relaxed);
  }
  return known == 2;
}

}  // namespace kestrel::cuda
