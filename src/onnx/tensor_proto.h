// Conversion of ONNX TensorProto values (initializers, Constant nodes, attributes, test data)
// into Kestrel tensors.
#pragma once
#include <string>

#include <onnx/onnx_pb.h>

#include "core/tensor.h"

namespace kestrel::onnx_import {

// Maps an ONNX element type to Kestrel's; throws naming `what` when unsupported.
DataType to_data_type(int onnx_elem_type, const std::string& what);
int to_onnx_elem_type(DataType t);

// `base_dir` resolves external data locations; empty means external data is refused.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& base_dir = "");

}  // namespace kestrel::onnx_import
