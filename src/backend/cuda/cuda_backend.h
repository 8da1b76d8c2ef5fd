// The CUDA backend's internal interface, for the tests and the bench tool: device facts, the
// build-time graph compilation, executors with explicit options, per-layer profiling.
#pragma once
#include <memory>
#include <set>
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
// The fusions of the lowering, each of which can be turned off at build time (the choice is
// recorded in the engine's target map, so that loading lowers the same way).
struct LoweringOptions {
  bool conv_epilogue = true;        // Conv+Add+Relu into the Conv, GroupNorm's affine into the norm
  bool gemm_epilogue = true;        // GEMM convolutions with their epilogue as one kernel
  bool separable_attention = true;  // the separable-attention chain as one kernel
  bool single_pass_norm = true;     // InstanceNormalization in one launch (statistics and normalisation)
  bool copy_chains = true;          // chains of data-movement layers as one strided copy
  bool norm_in_gemm = true;         // normalisations applied by the 1x1 convolution that reads them
  bool integer_convs = true;        // QDQ convolutions on the int8 kernels (else QDQ in float)
  // With gemm_epilogue / single_pass_norm on: only these layers when not empty (chosen by timing
  // at build time, kernel_timing.h); every eligible layer when empty.
  std::set<std::string> gemm_epilogue_layers, single_pass_norm_layers;
  static LoweringOptions all(bool on) { return {on, on, on, on, on, on, on, {}, {}}; }
  // KESTREL_CUDA_NO_FUSION (all), KESTREL_CUDA_NO_ATTENTION_FUSION, KESTREL_CUDA_NO_COPY_FOLDING,
  // KESTREL_CUDA_NO_NORM_IN_GEMM; opt-in: KESTREL_CUDA_INT8_KERNELS=1 (KESTREL_CUDA_NO_INT8_KERNELS wins);
  // forced for every layer: KESTREL_CUDA_GEMM_EPILOGUE=1, KESTREL_CUDA_SINGLE_PASS_NORM=1 (and
  // KESTREL_CUDA_NO_GEMM_EPILOGUE / _NO_SINGLE_PASS_NORM, which win). Without these the builder
  // times both paths per layer (kernel_timing.h) unless KESTREL_CUDA_NO_KERNEL_TIMING is set.
  static LoweringOptions from_environment();
};
// Writes the options into the engine's target facts, where lowering_options() finds them.
void record_lowering_options(engine::EngineData& engine, const LoweringOptions& options);
void compile_graph(ir::Graph& graph, bool fp16, const LoweringOptions& options);
void compile_graph(ir::Graph& graph, bool fp16, bool fusion = true);
// Load time (and build time): the engine's graph as the executor runs it: Conv epilogue and
// GroupNorm fusions, FP16 tensors as FP16 values with reformatting Casts and FP16 constants,
// kernels chosen per layer. Deterministic, so build and load agree. Needs no GPU.
ir::Graph lower_for_cuda(const ir::Graph& engine_graph, const LoweringOptions& options);
ir::Graph lower_for_cuda(const ir::Graph& engine_graph, bool fusion);
// The options an engine was built with (from its target map; absent keys mean on).
LoweringOptions lowering_options(const engine::EngineData& engine);
void compile(engine::EngineData& engine, const BuilderConfig& config);
// Load time: refuses engines built for another compute capability or CUDA/cuBLAS major version.
void check_compatible(const engine::EngineData& engine);

struct ExecutorOptions {
  bool cuda_graph = true;  // capture the layers into a CUDA graph on first enqueue and replay it
};
// Programmatic dependent launch (launch.cuh) for the kernels launched from now on in this process;
// the default is on from compute capability 9.0 unless KESTREL_CUDA_PDL=0. A CUDA graph keeps the
// setting it was captured with. For tests and A/B timings.
void set_programmatic_launch(bool on);

// The executor the backend registers reads KESTREL_CUDA_GRAPH=0 to disable graphs.
std::unique_ptr<engine::Executor> create_executor(std::shared_ptr<const engine::EngineData> engine,
                                                  const ExecutorOptions& options);

}  // namespace kestrel::cuda
