#include "core/dtype.h"

#include <iterator>

#include "core/error.h"

namespace kestrel {

size_t element_size(DataType t) { return dtype_size(t); }
const char* to_string(DataType t) { return dtype_name(t); }
const char* to_string(DeviceType t) { return t == DeviceType::kCPU ? "cpu" : "cuda"; }

size_t dtype_size(DataType t) {
  switch (t) {
    case DataType::kFLOAT: return 4;
    case DataType::kHALF: return 2;
    case DataType::kINT8: return 1;
    case DataType::kINT32: return 4;
    case DataType::kINT64: return 8;
    case DataType::kUINT8: return 1;
    case DataType::kBOOL: return 1;
  }
  return 0;
}

const char* dtype_name(DataType t) {
  switch (t) {
    case DataType::kFLOAT: return "float32";
    case DataType::kHALF: return "float16";
    case DataType::kINT8: return "int8";
    case DataType::kINT32: return "int32";
    case DataType::kINT64: return "int64";
    case DataType::kUINT8: return "uint8";
    case DataType::kBOOL: return "bool";
  }
  return "unknown";
}

bool dtype_is_float(DataType t) { return t == DataType::kFLOAT || t == DataType::kHALF; }

bool dtype_is_integer(DataType t) {
  return t == DataType::kINT8 || t == DataType::kINT32 || t == DataType::kINT64 || t == DataType::kUINT8;
}

DataType dtype_from_onnx_code(int64_t code) {
  switch (code) {
    case 1: return DataType::kFLOAT;
    case 2: return DataType::kUINT8;
    case 3: return DataType::kINT8;
    case 6: return DataType::kINT32;
    case 7: return DataType::kINT64;
    case 9: return DataType::kBOOL;
    case 10: return DataType::kHALF;
    default:
      fail("ONNX data type {} ({}) is not supported (supported: float32, float16, int64, int32, int8, uint8, bool)",
           code, onnx_type_name(code));
  }
}

std::string onnx_type_name(int64_t code) {
  static const char* const kNames[] = {
      "UNDEFINED", "FLOAT",    "UINT8",     "INT8",          "UINT16",      "INT16",         "INT32",
      "INT64",     "STRING",   "BOOL",      "FLOAT16",       "DOUBLE",      "UINT32",        "UINT64",
      "COMPLEX64", "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
      "UINT4",     "INT4"};
  if (code >= 0 && code < int64_t(std::size(kNames))) return kNames[code];
  return std::to_string(code);
}

}  // namespace kestrel
