// Parsing a serialized ONNX model with the official library, shared by the importer and the
// quantizer (which rewrites the ModelProto itself into its QDQ form).
#pragma once
#include <string>

#include <onnx/onnx_pb.h>

namespace kestrel::onnx_import {

// Throws an Error naming `source` when the bytes are empty, too large or not an ONNX model.
onnx::ModelProto parse_model_proto(const void* data, size_t size, const std::string& source);

}  // namespace kestrel::onnx_import
