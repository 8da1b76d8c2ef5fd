// Element types and their sizes; the one place that maps between type names and sizes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "kestrel/types.h"

namespace kestrel {

size_t dtype_size(DataType t);
const char* dtype_name(DataType t);
bool dtype_is_float(DataType t);
bool dtype_is_integer(DataType t);  // kINT8..kINT64, kUINT8 (not kBOOL)

// Maps an ONNX TensorProto.DataType code (as in Cast's `to` or EyeLike's `dtype`) to Kestrel's
// type; throws naming the code when Kestrel has no such type.
DataType dtype_from_onnx_code(int64_t code);
// The ONNX name of a TensorProto.DataType code, up to opset 21's types (the float8 and 4-bit
// types postdate the ONNX library Kestrel links), or the number for an unknown one.
std::string onnx_type_name(int64_t code);

}  // namespace kestrel
