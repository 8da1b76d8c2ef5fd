#include "core/dtype.h"

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

}  // namespace kestrel
