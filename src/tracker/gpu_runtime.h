// RAII handles over the CUDA plug-in's tracker table (gpu_api.h): the tracker's only way to the
// GPU, since libkestrel itself does not link the CUDA runtime. Failures throw kestrel::Error.
#pragma once
#include <cstddef>
#include <string>
#include <utility>

#include "tracker/gpu_api.h"

namespace kestrel::tracker::gpu {

// The table, from the CUDA plug-in (loaded on first call). Throws kestrel::Error saying why it
// cannot be had: no plug-in in this build, it fails to load, or it is of another ABI version.
const KestrelTrackerGpuApi& api();
// Empty when api() would succeed, else its message.
std::string unavailable_reason();

// Throws kestrel::Error("<what>: <error>") when a table call failed.
void check(const char* error, const char* what);

class Stream {
 public:
  Stream();
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  void* handle() const { return handle_; }
  void synchronize();

 private:
  void* handle_ = nullptr;
};

class Event {
 public:
  Event();
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void record(Stream& stream);
  // Milliseconds from `start` to this event (both recorded and complete).
  float since(const Event& start) const;

 private:
  void* handle_ = nullptr;
};

// Device memory (kDevice) or page-locked host memory (kPinned), movable, freed on destruction.
class Buffer {
 public:
  enum class Kind { kDevice, kPinned };
  explicit Buffer(Kind kind = Kind::kDevice) : kind_(kind) {}
  Buffer(Kind kind, size_t bytes) : kind_(kind) { reserve(bytes); }
  ~Buffer() { release(); }
  Buffer(Buffer&& other) noexcept : kind_(other.kind_), ptr_(std::exchange(other.ptr_, nullptr)),
                                     bytes_(std::exchange(other.bytes_, 0)) {}
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  // Grows to at least `bytes` (by half again, so that slowly growing frames reallocate rarely);
  // the contents are not kept. Only call when no queued work uses the buffer.
  void reserve(size_t bytes);
  void* data() const { return ptr_; }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }
  size_t bytes() const { return bytes_; }

 private:
  void release();
  Kind kind_;
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Async copies (any direction) and fills on a stream.
void copy(void* dst, const void* src, size_t bytes, Stream& stream);
void fill_zero(void* dst, size_t bytes, Stream& stream);

}  // namespace kestrel::tracker::gpu
