// Calls a generic lambda with the C++ type that matches a DataType, so one kernel body serves
// every dtype it supports. Half is not arithmetic here: kernels that accept it convert explicitly.
#pragma once
#include <cstdint>

#include "core/error.h"
#include "core/fp16.h"
#include "core/tensor.h"

namespace kestrel::cpu {

// Float32 and the integer types that shape arithmetic uses (not bool, not half).
template <typename F>
void dispatch_numeric(DataType t, F&& f) {
  switch (t) {
    case DataType::kFLOAT: return f.template operator()<float>();
    case DataType::kINT64: return f.template operator()<int64_t>();
    case DataType::kINT32: return f.template operator()<int32_t>();
    case DataType::kINT8: return f.template operator()<int8_t>();
    case DataType::kUINT8: return f.template operator()<uint8_t>();
    default: fail("data type {} is not supported here", dtype_name(t));
  }
}

// Every type, moved as raw elements of its size (for copies, gathers, transposes).
template <typename F>
void dispatch_any(DataType t, F&& f) {
  switch (dtype_size(t)) {
    case 1: return f.template operator()<uint8_t>();
    case 2: return f.template operator()<uint16_t>();
    case 4: return f.template operator()<uint32_t>();
    case 8: return f.template operator()<uint64_t>();
    default: fail("data type {} is not supported here", dtype_name(t));
  }
}

}  // namespace kestrel::cpu
