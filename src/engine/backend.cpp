#include "engine/backend.h"

#include <dlfcn.h>

#include <map>
#include <mutex>
#include <string>

#include "core/error.h"

namespace kestrel::engine {
namespace {

std::map<DeviceType, Backend>& backends() {
  static std::map<DeviceType, Backend> table;
  return table;
}

// Plug-in libraries by device, looked for beside libkestrel.so first (an installed or built tree
// keeps them together), then on the loader's search path.
const char* plugin_library(DeviceType device) {
  return device == DeviceType::kCUDA ? "libkestrel_cuda.so" : nullptr;
}

std::string own_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&plugin_library), &info) == 0 || info.dli_fname == nullptr) return {};
  const std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

std::mutex& plugin_mutex() {
  static std::mutex mutex;
  return mutex;
}

// Handles of the loaded plug-ins (never closed: the registered backend's functions live in them).
std::map<DeviceType, void*>& plugin_handles() {
  static std::map<DeviceType, void*> handles;
  return handles;
}

// Loads the device's plug-in once; its static registrar adds the backend. Returns why it could not
// be loaded (empty on success or when the device has no plug-in).
std::string load_plugin(DeviceType device) {
  static std::map<DeviceType, std::string> errors;
  std::lock_guard<std::mutex> lock(plugin_mutex());
  if (auto it = errors.find(device); it != errors.end()) return it->second;
  const char* name = plugin_library(device);
  std::string error;
  if (name != nullptr) {
    // Never closed: the registered backend's functions live in it.
    void* handle = dlopen((own_directory() + name).c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (handle == nullptr) handle = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    if (handle == nullptr) {
      const char* reason = dlerror();
      error = fmt::format("{}: {}", name, reason ? reason : "cannot be loaded");
    } else {
      plugin_handles()[device] = handle;
    }
  }
  errors[device] = error;
  return error;
}

}  // namespace

BackendRegistrar::BackendRegistrar(Backend backend) { backends()[backend.device] = backend; }

const Backend* find_backend(DeviceType device) {
  if (backends().find(device) == backends().end()) load_plugin(device);
  auto it = backends().find(device);
  return it == backends().end() ? nullptr : &it->second;
}

const Backend& require_backend(DeviceType device) {
  const Backend* backend = find_backend(device);
  if (backend == nullptr) {
    const std::string plugin_error = load_plugin(device);
    KESTREL_CHECK(plugin_error.empty(), "device {} is not supported by this build of Kestrel ({})",
                  to_string(device), plugin_error);
    fail("device {} is not supported by this build of Kestrel", to_string(device));
  }
  const std::string reason = backend->unavailable_reason();
  KESTREL_CHECK(reason.empty(), "device {} is not available: {}", to_string(device), reason);
  return *backend;
}

void* plugin_symbol(DeviceType device, const char* name) {
  if (!load_plugin(device).empty()) return nullptr;
  std::lock_guard<std::mutex> lock(plugin_mutex());
  auto it = plugin_handles().find(device);
  return it == plugin_handles().end() ? nullptr : dlsym(it->second, name);
}

}  // namespace kestrel::engine
