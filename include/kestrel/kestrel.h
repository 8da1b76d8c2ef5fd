// Kestrel's public C++ API. Its shape follows TensorRT's so that code written for one maps onto
// the other: Logger -> Builder -> NetworkDefinition + OnnxParser -> BuilderConfig ->
// build_serialized_network -> Runtime::deserialize -> Engine -> ExecutionContext.
// No call throws: failures come back as Status / Result values and are also sent to the logger.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kestrel/types.h"

namespace kestrel {

const char* version();  // "major.minor.patch"

// ---------------------------------------------------------------- logging
class ILogger {
 public:
  enum class Severity : int { kINTERNAL_ERROR = 0, kERROR = 1, kWARNING = 2, kINFO = 3, kVERBOSE = 4 };
  virtual ~ILogger() = default;
  virtual void log(Severity severity, const char* message) noexcept = 0;
};

// Prints messages at or above a severity to stderr.
class Logger : public ILogger {
 public:
  explicit Logger(Severity threshold = Severity::kWARNING) : threshold_(threshold) {}
  void log(Severity severity, const char* message) noexcept override;
  void set_threshold(Severity threshold) { threshold_ = threshold; }

 private:
  Severity threshold_;
};

// ---------------------------------------------------------------- network definition
struct TensorDesc {
  std::string name;
  DataType dtype = DataType::kFLOAT;
  Dims shape;  // -1 marks a dynamic dimension
};

class NetworkDefinition {
 public:
  ~NetworkDefinition();
  std::vector<TensorDesc> inputs() const;
  std::vector<TensorDesc> outputs() const;
  size_t num_layers() const;

  struct Impl;
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  friend class Builder;
  NetworkDefinition();
  std::unique_ptr<Impl> impl_;
};

class OnnxParser {
 public:
  OnnxParser(NetworkDefinition& network, ILogger& logger) : network_(network), logger_(logger) {}
  // Parses a model file. Errors name the file and, where one is at fault, the node.
  Status parse_from_file(const std::string& path);
  // Parses a serialized ModelProto; `source` names it in messages.
  Status parse(const void* data, size_t size, const std::string& source = "<memory>");

 private:
  NetworkDefinition& network_;
  ILogger& logger_;
};

// ---------------------------------------------------------------- builder
enum class BuilderFlag : int { kFP16 = 0, kINT8 = 1 };

// Batch sizes an engine accepts for inputs whose first dimension is dynamic.
struct BatchProfile {
  int64_t min = 1;
  int64_t opt = 1;
  int64_t max = 1;
};

class BuilderConfig {
 public:
  void set_flag(BuilderFlag flag) { flags_ |= 1u << int(flag); }
  void clear_flag(BuilderFlag flag) { flags_ &= ~(1u << int(flag)); }
  bool get_flag(BuilderFlag flag) const { return (flags_ >> int(flag)) & 1u; }
  uint32_t flags() const { return flags_; }

  void set_device(DeviceType device) { device_ = device; }
  DeviceType device() const { return device_; }

  // Upper bound on scratch and activation memory the engine may plan; 0 means no limit.
  void set_memory_pool_limit(uint64_t bytes) { memory_pool_limit_ = bytes; }
  uint64_t memory_pool_limit() const { return memory_pool_limit_; }

  void set_batch_profile(BatchProfile profile) { profile_ = profile; }
  const BatchProfile& batch_profile() const { return profile_; }

  // Fixes the shape of an input whose dimensions are dynamic (like trtexec --shapes).
  void set_input_shape(const std::string& name, Dims shape) { input_shapes_[name] = std::move(shape); }
  const std::map<std::string, Dims>& input_shapes() const { return input_shapes_; }

  // CPU engines: the thread count the builder times candidate kernels with, recorded in the
  // engine as the default of its execution contexts; 0 means all hardware threads.
  void set_cpu_threads(int threads) { cpu_threads_ = threads < 0 ? 0 : threads; }
  int cpu_threads() const { return cpu_threads_; }

  // CUDA engines: a file of build-time kernel timings (like TensorRT's timing cache). Read when it
  // exists, updated with new timings; a rebuild on the same GPU skips the layers it holds.
  void set_timing_cache_path(std::string path) { timing_cache_path_ = std::move(path); }
  const std::string& timing_cache_path() const { return timing_cache_path_; }

 private:
  uint32_t flags_ = 0;
  int cpu_threads_ = 0;
  DeviceType device_ = DeviceType::kCPU;
  uint64_t memory_pool_limit_ = 0;
  BatchProfile profile_;
  std::map<std::string, Dims> input_shapes_;
  std::string timing_cache_path_;
};

class Builder {
 public:
  explicit Builder(ILogger& logger) : logger_(logger) {}
  std::unique_ptr<NetworkDefinition> create_network() const;
  std::unique_ptr<BuilderConfig> create_builder_config() const { return std::make_unique<BuilderConfig>(); }
  // Optimizes the network for the configured device and returns the engine file's bytes.
  Result<std::vector<uint8_t>> build_serialized_network(const NetworkDefinition& network,
                                                         const BuilderConfig& config) const;

 private:
  ILogger& logger_;
};

// ---------------------------------------------------------------- engine and runtime
struct LayerInfo {
  std::string name;
  std::string op_type;
  std::string precision;  // "fp32", "fp16", "int8", or "native" for integer/bool layers
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<std::string> fused_from;
  std::string kernel;  // implementation chosen at build time
  // QDQ layers (inputs from DequantizeLinear): the scales, e.g. "x: 0.0123; w: 16 per-channel 0.001..0.004".
  std::string quantization;
};

struct EngineSummary {
  std::string producer;     // Kestrel version that built it
  uint32_t format_version = 0;
  DeviceType device = DeviceType::kCPU;
  uint32_t builder_flags = 0;
  uint64_t source_hash = 0;  // FNV-1a 64 of the source model's bytes
  uint64_t weight_bytes = 0;
  uint64_t activation_bytes = 0;  // planned intermediate memory per execution context
  BatchProfile profile;
  std::map<std::string, std::string> target;  // device facts the engine is bound to
};

class ExecutionContext;

// Per-context run-time choices.
struct ExecutionOptions {
  // CPU engines: threads one inference uses; 0 means the engine's default (the builder's
  // set_cpu_threads), else all hardware threads. Ignored by GPU engines.
  int cpu_threads = 0;
};

class Engine {
 public:
  ~Engine();
  std::vector<TensorDesc> inputs() const;
  std::vector<TensorDesc> outputs() const;
  EngineSummary summary() const;
  std::vector<LayerInfo> layers() const;
  Result<std::vector<uint8_t>> serialize() const;
  std::unique_ptr<ExecutionContext> create_execution_context() const;
  std::unique_ptr<ExecutionContext> create_execution_context(const ExecutionOptions& options) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  friend class Runtime;
  Engine();
  std::shared_ptr<Impl> impl_;
};

class Runtime {
 public:
  explicit Runtime(ILogger& logger) : logger_(logger) {}
  // Checks magic, format version, checksum and device before trusting any byte; `source` names
  // the file in messages.
  Result<std::unique_ptr<Engine>> deserialize(const void* data, size_t size,
                                              const std::string& source = "<memory>") const;

 private:
  ILogger& logger_;
};

class ExecutionContext {
 public:
  ~ExecutionContext();
  // Binds an input or output to caller memory (host memory for CPU engines). Unbound tensors
  // use buffers the context owns. Pointers must stay valid until the inference completes.
  Status set_tensor_address(const std::string& name, void* data);
  void* get_tensor_address(const std::string& name) const;
  // Queues one inference on `stream` (a cudaStream_t for CUDA engines; ignored by CPU engines,
  // which finish before returning).
  Status enqueue(void* stream);
  // Runs one inference and waits for it.
  Status infer();

  struct Impl;

 private:
  friend class Engine;
  ExecutionContext();
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------- convenience layer
using NamedTensors = std::vector<std::pair<std::string, HostTensor>>;

// Reads arrays from a NumPy .npz (savez or savez_compressed) and writes them atomically.
Result<NamedTensors> load_npz(const std::string& path);
Status save_npz(const std::string& path, const NamedTensors& tensors, bool compressed = false);
// Whole-file read, and an atomic write (temporary file, then rename), e.g. for engine files.
Result<std::vector<uint8_t>> load_file(const std::string& path);
Status save_file(const std::string& path, const std::vector<uint8_t>& bytes);

struct RunnerOptions {
  DeviceType device = DeviceType::kCPU;
  BuilderConfig config;  // used when the model is an ONNX file and is built in memory
  ExecutionOptions execution;
};

// Loads an engine file, or builds an ONNX model in memory, and runs it on named host tensors
// (the Polygraphy-like layer that the CLI and the tests use).
class Runner {
 public:
  static Result<std::unique_ptr<Runner>> load(const std::string& path, const RunnerOptions& options, ILogger& logger);
  const Engine& engine() const { return *engine_; }
  // Feeds every model input from `feed` (extra arrays are ignored) and returns every output.
  Result<NamedTensors> infer(const NamedTensors& feed);

 private:
  Runner() = default;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ExecutionContext> context_;
};

// True when the bytes start like a Kestrel engine file.
bool is_engine_file(const void* data, size_t size);

}  // namespace kestrel
