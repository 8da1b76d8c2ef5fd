// Little-endian binary writer and a bounds-checked reader for the engine file format. The reader
// throws an Error (never reads past the end) so that a corrupt file cannot crash the runtime.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace kestrel::engine {

class ByteWriter {
 public:
  template <typename T>
  void put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_bytes(const void* data, size_t size) {
    put<uint64_t>(size);
    const auto* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
  }
  void put_string(const std::string& s) { put_bytes(s.data(), s.size()); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>);
    require(sizeof(T));
    T value;
    std::memcpy(&value, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  // Returns a pointer into the buffer and the length of a length-prefixed byte block.
  const uint8_t* get_bytes(size_t* size) {
    const uint64_t n = get<uint64_t>();
    require(n);
    const uint8_t* p = data_ + pos_;
    pos_ += size_t(n);
    *size = size_t(n);
    return p;
  }
  std::string get_string() {
    size_t n = 0;
    const uint8_t* p = get_bytes(&n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  // A count of items that each take at least `min_item_bytes`: rejects counts the rest of the
  // buffer cannot hold, so a corrupt count never triggers a huge allocation.
  size_t get_count(size_t min_item_bytes) {
    const uint64_t n = get<uint64_t>();
    KESTREL_CHECK(n <= remaining() / std::max<size_t>(min_item_bytes, 1), "a count of {} exceeds the data left", n);
    return size_t(n);
  }
  size_t remaining() const { return size_ - pos_; }
  size_t position() const { return pos_; }

 private:
  void require(uint64_t n) const {
    KESTREL_CHECK(n <= size_ - pos_, "unexpected end of data at byte {} (needed {} more bytes)", pos_, n);
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace kestrel::engine
