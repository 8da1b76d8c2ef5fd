// The CUDA backend's internal interface, for the tests and the bench tool: device facts, the
// build-time graph compilation, executors with explicit options, per-layer profiling.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/backend.h"
#include "engine/engine_data.h"

namespace kestrel::cuda {

struct DeviceFacts {
  std::string compute_capability;  // "9.0"
  std::string device_name;
  std::string runtime_version;     // "13.0"
  std::string cublas_version;      // "13.1.0"
};

// Empty when a CUDA device can be used, else the reason ("no CUDA device found ...").
std::string unavailable_reason();
// Facts about the current device; throws when there is none.
DeviceFacts current_device_facts();

// Build time: per-layer precision (FP16 where allowed and available), then the lowering below to
// choose each layer's kernel; records kernel, precision and fused_from on the engine's layers,
// which stay plain ONNX layers (the engine file's graph must pass ONNX shape inference on load).
// Throws naming the node for anything without a CUDA kernel.
void compile_graph(ir::Graph& graph, bool fp16, bool fusion = true);
// Load time (and build time): the engine's graph as the executor runs it: Conv epilogue and
// GroupNorm fusions, FP16 tensors as FP16 values with reformatting Casts and FP16 constants,
// kernels chosen per layer. Deterministic, so build and load agree.
ir::Graph lower_for_cuda(const ir::Graph& engine_graph, bool fusion);
void compile(engine::EngineData& engine, const BuilderConfig& config);
// Load time: refuses engines built for another compute capability or CUDA/cuBLAS major version.
void check_compatible(const engine::EngineData& engine);

struct ExecutorOptions {
  bool cuda_graph = true;  // capture the layers into a CUDA graph on first enqueue and replay it
};
// The executor the backend registers reads KESTREL_CUDA_GRAPH=0 to disable graphs.
std::unique_ptr<engine::Executor> create_executor(std::shared_ptr<const engine::EngineData> engine,
                                                  const ExecutorOptions& options);

}  // namespace kestrel::cuda
