// ONNX importer: reads a ModelProto with the official ONNX library and builds the IR graph.
// It only translates structure; shape inference and folding happen in the builder's passes.
#pragma once
#include <string>

#include "ir/graph.h"

namespace kestrel::onnx_import {

constexpr int kMinOpset = 11;
constexpr int kMaxOpset = 21;

// `source` names the model in error messages; `base_dir` resolves external tensor data.
ir::Graph import_model(const void* data, size_t size, const std::string& source, const std::string& base_dir = "");

}  // namespace kestrel::onnx_import
