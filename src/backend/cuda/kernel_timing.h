// Kernel choice at build time: the fused kernels that win on some layers and lose on others (the
// one-kernel GEMM convolution with its epilogue, the one-launch InstanceNorm) are timed against
// the default path (cuBLAS + the epilogue kernel, the two-pass norm) layer by layer on the GPU
// that builds the engine, and each layer keeps the faster. The timings go to an optional timing
// cache file, so a rebuild on the same GPU and libraries skips the runs.
#pragma once
#include <set>
#include <string>

#include "backend/cuda/cuda_backend.h"
#include "engine/engine_data.h"

namespace kestrel::cuda {

struct TunedLayers {
  std::set<std::string> gemm_epilogue;     // layers where the one-kernel GEMM convolution won
  std::set<std::string> single_pass_norm;  // layers where the one-launch InstanceNorm won
  int candidates = 0;                      // layers timed or found in the cache
  int from_cache = 0;  // of the candidates, found in the cache file before timing
  double seconds = 0;  // spent timing
};

// `engine` holds the optimized ONNX-level graph, before compile_graph. `base` gives the other
// fusions (kept as they are). `device` (the building GPU) keys the cache entries; `cache_path`
// may be empty (no cache file).
TunedLayers time_kernel_choices(const engine::EngineData& engine, bool fp16, const LoweringOptions& base,
                                const DeviceFacts& device, const std::string& cache_path);

}  // namespace kestrel::cuda
