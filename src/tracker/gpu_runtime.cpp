#include "tracker/gpu_runtime.h"

#include <algorithm>

#include "core/error.h"
#include "engine/backend.h"

namespace kestrel::tracker::gpu {
namespace {

// Looked up once; the message says why the table cannot be had (empty on success).
struct Lookup {
  const KestrelTrackerGpuApi* table = nullptr;
  std::string reason;
};

Lookup look_up() {
  Lookup result;
  void* symbol = engine::plugin_symbol(DeviceType::kCUDA, KESTREL_TRACKER_GPU_API_SYMBOL);
  if (symbol == nullptr) {
    result.reason = "this build's CUDA plug-in (libkestrel_cuda.so) is missing, cannot be loaded, or does not export " +
                    std::string(KESTREL_TRACKER_GPU_API_SYMBOL);
    return result;
  }
  const KestrelTrackerGpuApi* table = reinterpret_cast<KestrelTrackerGpuApiFunction>(symbol)();
  if (table == nullptr || table->abi_version != KESTREL_TRACKER_GPU_ABI) {
    result.reason = fmt::format("the CUDA plug-in's tracker table is version {}, this libkestrel expects {}: "
                                "libkestrel.so and libkestrel_cuda.so come from different builds",
                                table ? table->abi_version : 0, KESTREL_TRACKER_GPU_ABI);
    return result;
  }
  result.table = table;
  return result;
}

const Lookup& lookup() {
  static const Lookup found = look_up();
  return found;
}

}  // namespace

const KestrelTrackerGpuApi& api() {
  const Lookup& found = lookup();
  KESTREL_CHECK(found.table != nullptr, "the tracker's GPU path is unavailable: {}", found.reason);
  return *found.table;
}

std::string unavailable_reason() { return lookup().reason; }

void check(const char* error, const char* what) {
  if (error != nullptr) fail("{}: {}", what, error);
}

Stream::Stream() { check(api().stream_create(&handle_), "creating the tracker's CUDA stream"); }
Stream::~Stream() {
  if (handle_ == nullptr) return;
  api().stream_synchronize(handle_);  // nothing queued may outlive the buffers it uses
  api().stream_destroy(handle_);
}
void Stream::synchronize() { check(api().stream_synchronize(handle_), "waiting for the tracker's CUDA stream"); }

Event::Event() { check(api().event_create(&handle_), "creating a CUDA event"); }
Event::~Event() {
  if (handle_ != nullptr) api().event_destroy(handle_);
}
void Event::record(Stream& stream) { check(api().event_record(handle_, stream.handle()), "recording a CUDA event"); }
float Event::since(const Event& start) const {
  float ms = 0;
  check(api().event_elapsed_ms(&ms, start.handle_, handle_), "reading a CUDA event's time");
  return ms;
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    release();
    kind_ = other.kind_;
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
  }
  return *this;
}

void Buffer::reserve(size_t bytes) {
  if (bytes <= bytes_) return;
  const size_t grown = bytes_ == 0 ? bytes : std::max(bytes, bytes_ + bytes_ / 2);
  release();
  const char* error = kind_ == Kind::kDevice ? api().device_alloc(&ptr_, grown) : api().pinned_alloc(&ptr_, grown);
  if (error != nullptr) {
    ptr_ = nullptr;
    fail("allocating {} bytes of {} memory for the tracker: {}", grown,
         kind_ == Kind::kDevice ? "GPU" : "pinned host", error);
  }
  bytes_ = grown;
}

void Buffer::release() {
  if (ptr_ != nullptr) kind_ == Kind::kDevice ? api().device_free(ptr_) : api().pinned_free(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

void copy(void* dst, const void* src, size_t bytes, Stream& stream) {
  check(api().copy_async(dst, src, bytes, stream.handle()), "queueing a copy for the tracker");
}

void fill_zero(void* dst, size_t bytes, Stream& stream) {
  check(api().memset_async(dst, 0, bytes, stream.handle()), "clearing the tracker's GPU memory");
}

}  // namespace kestrel::tracker::gpu
