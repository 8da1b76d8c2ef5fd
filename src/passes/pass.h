// Graph passes. Each pass lives in its own file and registers itself with an order; the
// optimizer runs them in that order, repeating the rewrites until none changes the graph.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "ir/graph.h"
#include "kestrel/types.h"

namespace kestrel::passes {

// Returns true when it changed the graph.
using PassFunction = std::function<bool(ir::Graph&)>;

// Bit of a device in Pass::devices.
constexpr uint32_t device_bit(DeviceType device) { return 1u << unsigned(device); }
constexpr uint32_t kAllDevices = ~0u;

struct Pass {
  std::string name;
  int order = 0;  // lower runs first
  PassFunction run;
  // The devices the rewrite is for. Rewrites that every backend can run (folding, identity
  // removal) keep kAllDevices; a fusion into a Kestrel-internal op that only some backends
  // implement names those, and runs only when optimize() is given one of them.
  uint32_t devices = kAllDevices;
};

struct PassRegistrar {
  explicit PassRegistrar(Pass pass);
};

std::vector<const Pass*> registered_passes();  // sorted by order

// Infers every shape, folds constants, then applies every registered rewrite for all devices
// until the graph stops changing. All input shapes must be static before this runs.
void optimize(ir::Graph& graph);
// The same plus the rewrites registered for `device` (a backend's compile step calls this).
void optimize(ir::Graph& graph, DeviceType device);

}  // namespace kestrel::passes

#ifndef KESTREL_CONCAT
#define KESTREL_CONCAT_INNER(a, b) a##b
#define KESTREL_CONCAT(a, b) KESTREL_CONCAT_INNER(a, b)
#endif
#define KESTREL_REGISTER_PASS(...) \
  static ::kestrel::passes::PassRegistrar KESTREL_CONCAT(kestrel_pass_registrar_, __LINE__)(__VA_ARGS__)
