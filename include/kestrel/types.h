// Plain value types shared by the whole public API.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace kestrel {

// Element types of tensors. The numeric values are stored in engine files: never renumber.
enum class DataType : uint8_t { kFLOAT = 0, kHALF = 1, kINT8 = 2, kINT32 = 3, kINT64 = 4, kUINT8 = 5, kBOOL = 6 };

// Where an engine runs. Stored in engine files: never renumber.
enum class DeviceType : uint8_t { kCPU = 0, kCUDA = 1 };

using Dims = std::vector<int64_t>;

// Outcome of an API call: ok, or an error with a message that names the file, node or tensor.
class Status {
 public:
  Status() = default;
  static Status success() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}
  Result(Status status) : state_(std::move(status)) {}
  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<T>(state_); }
  const T& value() const { return std::get<T>(state_); }
  T& operator*() { return value(); }
  T* operator->() { return &value(); }
  Status status() const { return ok() ? Status::success() : std::get<Status>(state_); }

 private:
  std::variant<T, Status> state_;
};

// A tensor in host memory that owns its bytes; the currency of the convenience layer and npz io.
struct HostTensor {
  DataType dtype = DataType::kFLOAT;
  Dims shape;
  std::vector<uint8_t> bytes;

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  template <typename T>
  T* data() { return reinterpret_cast<T*>(bytes.data()); }
  template <typename T>
  const T* data() const { return reinterpret_cast<const T*>(bytes.data()); }
};

size_t element_size(DataType t);
const char* to_string(DataType t);
const char* to_string(DeviceType t);

}  // namespace kestrel
