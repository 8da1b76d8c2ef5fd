// Device backends. Each backend registers itself (one folder under src/backend/) and provides:
// whether its device is usable here, the build-time step that turns an optimized graph into
// its executable form (kernel choice, precision, device facts recorded in the engine), the
// load-time compatibility check, and an executor that runs one execution context.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/engine_data.h"

namespace kestrel::engine {

// One layer's time in a per-layer profile (after fusion, as the backend runs it).
struct LayerTime {
  std::string name, op_type, kernel;
  double ms = 0;
};

// Runs the layers of one engine for one execution context. Bindings address device memory for
// the backend's device (host memory for the CPU).
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void bind(int value, void* data) = 0;
  virtual void* address(int value) const = 0;
  // Queues one inference on `stream` (backend-defined; may complete before returning).
  virtual void enqueue(void* stream) = 0;
  // Waits until the work queued on `stream` is done.
  virtual void synchronize(void* stream) = 0;
  // Applies per-context options; called once, right after creation, before any bind or enqueue.
  // Backends without such options ignore it.
  virtual void configure(const ExecutionOptions& options) {}
  // Runs every layer once on `stream` with a timer around each and returns the times; empty when
  // the backend cannot profile layers.
  virtual std::vector<LayerTime> profile_layers(void* stream) { return {}; }
};

struct Backend {
  DeviceType device = DeviceType::kCPU;
  // Empty when the device can be used here, else the reason it cannot.
  std::string (*unavailable_reason)() = nullptr;
  // Build time: choose kernels and precision per layer, record device facts; throws on a layer
  // it cannot run.
  void (*compile)(EngineData& engine, const BuilderConfig& config) = nullptr;
  // Load time: throws when the engine was built for another device generation or library.
  void (*check_compatible)(const EngineData& engine) = nullptr;
  std::unique_ptr<Executor> (*create_executor)(std::shared_ptr<const EngineData> engine) = nullptr;
};

struct BackendRegistrar {
  explicit BackendRegistrar(Backend backend);
};

// nullptr when this build has no backend for the device. Backends built as plug-ins (the CUDA
// backend: libkestrel_cuda.so beside libkestrel.so) are loaded on first use, so programs that never
// ask for that device do not load its libraries.
const Backend* find_backend(DeviceType device);
// The backend for `device`, or an Error explaining why it cannot be used here.
const Backend& require_backend(DeviceType device);
// A function the device's plug-in exports for clients inside libkestrel that must not link the
// device's runtime themselves (the tracker's GPU crop); loads the plug-in first. nullptr when the
// device has no plug-in, it cannot be loaded, or it does not export `name`.
void* plugin_symbol(DeviceType device, const char* name);

}  // namespace kestrel::engine

#ifndef KESTREL_CONCAT
#define KESTREL_CONCAT_INNER(a, b) a##b
#define KESTREL_CONCAT(a, b) KESTREL_CONCAT_INNER(a, b)
#endif
#define KESTREL_REGISTER_BACKEND(...) \
  static ::kestrel::engine::BackendRegistrar KESTREL_CONCAT(kestrel_backend_registrar_, __LINE__)(__VA_ARGS__)
