// Tensor: a typed, shaped, dense row-major view of memory, owning it or not.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "core/dtype.h"
#include "kestrel/types.h"

namespace kestrel {

using Shape = Dims;

int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[1,3,224,224]"

class Tensor {
 public:
  Tensor() = default;
  // Allocates zero-initialised storage that the tensor (and its copies) own.
  Tensor(DataType dtype, Shape shape);
  // A non-owning view: the caller keeps `data` alive.
  static Tensor view(DataType dtype, Shape shape, void* data);

  bool defined() const { return data_ != nullptr || numel() == 0; }
  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return int(shape_.size()); }
  int64_t dim(int i) const { return shape_[size_t(i < 0 ? i + rank() : i)]; }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype_); }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T> T* data() { return static_cast<T*>(data_); }
  template <typename T> const T* data() const { return static_cast<const T*>(data_); }

  // Same bytes, another shape with the same element count (a view that shares ownership).
  Tensor reshaped(Shape shape) const;
  // A deep copy that owns its storage.
  Tensor clone() const;

  // Reads element i of an integer or bool tensor as int64 (shape arithmetic helpers).
  int64_t int_at(int64_t i) const;
  // Reads element i of any numeric tensor as double.
  double double_at(int64_t i) const;

 private:
  DataType dtype_ = DataType::kFLOAT;
  Shape shape_;
  std::shared_ptr<std::byte[]> storage_;
  void* data_ = nullptr;
};

HostTensor to_host_tensor(const Tensor& t);
Tensor from_host_tensor(const HostTensor& t);  // copies

}  // namespace kestrel
