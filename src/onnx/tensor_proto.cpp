#include "onnx/tensor_proto.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/fp16.h"

namespace kestrel::onnx_import {

DataType to_data_type(int elem_type, const std::string& what) {
  switch (elem_type) {
    case onnx::TensorProto::FLOAT: return DataType::kFLOAT;
    case onnx::TensorProto::FLOAT16: return DataType::kHALF;
    case onnx::TensorProto::INT8: return DataType::kINT8;
    case onnx::TensorProto::INT32: return DataType::kINT32;
    case onnx::TensorProto::INT64: return DataType::kINT64;
    case onnx::TensorProto::UINT8: return DataType::kUINT8;
    case onnx::TensorProto::BOOL: return DataType::kBOOL;
    default:
      fail("{} has element type {}, which Kestrel does not support (float32, float16, int64, int32, int8, uint8, bool)",
           what, onnx_type_name(elem_type));
  }
}

int to_onnx_elem_type(DataType t) {
  switch (t) {
    case DataType::kFLOAT: return onnx::TensorProto::FLOAT;
    case DataType::kHALF: return onnx::TensorProto::FLOAT16;
    case DataType::kINT8: return onnx::TensorProto::INT8;
    case DataType::kINT32: return onnx::TensorProto::INT32;
    case DataType::kINT64: return onnx::TensorProto::INT64;
    case DataType::kUINT8: return onnx::TensorProto::UINT8;
    case DataType::kBOOL: return onnx::TensorProto::BOOL;
  }
  return onnx::TensorProto::UNDEFINED;
}

namespace {

std::string read_external_data(const onnx::TensorProto& proto, const std::string& base_dir, size_t expected,
                               const std::string& what) {
  KESTREL_CHECK(!base_dir.empty(), "{} stores its data in an external file, which is only supported when the model is "
                                   "loaded from a file", what);
  std::string location;
  uint64_t offset = 0, length = expected;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    if (entry.key() == "offset") offset = std::stoull(entry.value());
    if (entry.key() == "length") length = std::stoull(entry.value());
  }
  KESTREL_CHECK(!location.empty(), "{} has external data without a location", what);
  const std::filesystem::path path = std::filesystem::path(base_dir) / location;
  std::ifstream file(path, std::ios::binary);
  KESTREL_CHECK(file.good(), "{}: cannot open its external data file {}", what, path.string());
  file.seekg(0, std::ios::end);
  const uint64_t file_size = uint64_t(file.tellg());
  KESTREL_CHECK(length == expected && offset + length <= file_size,
                "{}: external data in {} (offset {}, length {}) does not hold the {} bytes its shape needs", what,
                path.string(), offset, length, expected);
  std::string bytes(expected, '\0');
  file.seekg(std::streamoff(offset));
  file.read(bytes.data(), std::streamsize(expected));
  KESTREL_CHECK(file.good(), "{}: reading external data from {} failed", what, path.string());
  return bytes;
}

// Typed fields of TensorProto: which repeated field holds which element type.
template <typename Field, typename Convert>
void copy_field(const Field& field, Tensor& t, const std::string& what, Convert convert) {
  KESTREL_CHECK(int64_t(field.size()) == t.numel(), "{} holds {} values but its shape {} needs {}", what, field.size(),
                shape_str(t.shape()), t.numel());
  for (int i = 0; i < field.size(); ++i) convert(field.Get(i), i);
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir) {
  const std::string what = fmt::format("tensor '{}'", proto.name());
  const DataType dtype = to_data_type(proto.data_type(), what);
  Shape shape(proto.dims().begin(), proto.dims().end());
  for (int64_t d : shape) KESTREL_CHECK(d >= 0, "{} has a negative dimension in {}", what, shape_str(shape));
  Tensor t(dtype, shape);
  const size_t nbytes = t.nbytes();
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    const std::string bytes = read_external_data(proto, base_dir, nbytes, what);
    std::memcpy(t.raw(), bytes.data(), nbytes);
    return t;
  }
  if (proto.has_raw_data()) {
    KESTREL_CHECK(proto.raw_data().size() == nbytes, "{} holds {} raw bytes but its shape {} of {} needs {}", what,
                  proto.raw_data().size(), shape_str(shape), dtype_name(dtype), nbytes);
    if (nbytes) std::memcpy(t.raw(), proto.raw_data().data(), nbytes);
    return t;
  }
  switch (dtype) {
    case DataType::kFLOAT:
      copy_field(proto.float_data(), t, what, [&](float v, int i) { t.data<float>()[i] = v; });
      break;
    case DataType::kINT64:
      copy_field(proto.int64_data(), t, what, [&](int64_t v, int i) { t.data<int64_t>()[i] = v; });
      break;
    case DataType::kINT32:
      copy_field(proto.int32_data(), t, what, [&](int32_t v, int i) { t.data<int32_t>()[i] = v; });
      break;
    case DataType::kHALF:  // float16 bit patterns travel in int32_data
      copy_field(proto.int32_data(), t, what, [&](int32_t v, int i) { t.data<uint16_t>()[i] = uint16_t(v); });
      break;
    case DataType::kINT8:
      copy_field(proto.int32_data(), t, what, [&](int32_t v, int i) { t.data<int8_t>()[i] = int8_t(v); });
      break;
    case DataType::kUINT8:
    case DataType::kBOOL:
      copy_field(proto.int32_data(), t, what, [&](int32_t v, int i) { t.data<uint8_t>()[i] = uint8_t(v); });
      break;
  }
  return t;
}

}  // namespace kestrel::onnx_import
