#include "engine/backend.h"

#include <map>

#include "core/error.h"

namespace kestrel::engine {
namespace {

std::map<DeviceType, Backend>& backends() {
  static std::map<DeviceType, Backend> table;
  return table;
}

}  // namespace

BackendRegistrar::BackendRegistrar(Backend backend) { backends()[backend.device] = backend; }

const Backend* find_backend(DeviceType device) {
  auto it = backends().find(device);
  return it == backends().end() ? nullptr : &it->second;
}

const Backend& require_backend(DeviceType device) {
  const Backend* backend = find_backend(device);
  KESTREL_CHECK(backend != nullptr, "device {} is not supported by this build of Kestrel", to_string(device));
  const std::string reason = backend->unavailable_reason();
  KESTREL_CHECK(reason.empty(), "device {} is not available: {}", to_string(device), reason);
  return *backend;
}

}  // namespace kestrel::engine
