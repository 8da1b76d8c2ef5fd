#include "core/tensor.h"

#include <cstring>

#include "core/error.h"
#include "core/fp16.h"

namespace kestrel {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ",")); }

Tensor::Tensor(DataType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  for (int64_t d : shape_) KESTREL_CHECK(d >= 0, "negative dimension in shape {}", shape_str(shape_));
  const size_t bytes = nbytes();
  // Always allocate at least one byte so that data() is non-null for empty tensors too.
  storage_ = std::shared_ptr<std::byte[]>(new std::byte[bytes ? bytes : 1]());
  data_ = storage_.get();
}

Tensor Tensor::view(DataType dtype, Shape shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  KESTREL_CHECK(shape_numel(shape) == numel(), "cannot reshape {} to {}", shape_str(shape_), shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

int64_t Tensor::int_at(int64_t i) const {
  switch (dtype_) {
    case DataType::kINT64: return data<int64_t>()[i];
    case DataType::kINT32: return data<int32_t>()[i];
    case DataType::kINT8: return data<int8_t>()[i];
    case DataType::kUINT8: return data<uint8_t>()[i];
    case DataType::kBOOL: return data<uint8_t>()[i] ? 1 : 0;
    default: fail("expected an integer tensor, got {}", dtype_name(dtype_));
  }
}

double Tensor::double_at(int64_t i) const {
  switch (dtype_) {
    case DataType::kFLOAT: return data<float>()[i];
    case DataType::kHALF: return half_to_float(data<Half>()[i]);
    default: return double(int_at(i));
  }
}

HostTensor to_host_tensor(const Tensor& t) {
  HostTensor h;
  h.dtype = t.dtype();
  h.shape = t.shape();
  h.bytes.resize(t.nbytes());
  if (t.nbytes()) std::memcpy(h.bytes.data(), t.raw(), t.nbytes());
  return h;
}

Tensor from_host_tensor(const HostTensor& h) {
  Tensor t(h.dtype, h.shape);
  KESTREL_CHECK(h.bytes.size() == t.nbytes(), "host tensor holds {} bytes, its shape {} of {} needs {}",
                h.bytes.size(), shape_str(h.shape), dtype_name(h.dtype), t.nbytes());
  if (t.nbytes()) std::memcpy(t.raw(), h.bytes.data(), t.nbytes());
  return t;
}

}  // namespace kestrel
