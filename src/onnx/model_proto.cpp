#include "onnx/model_proto.h"

#include <limits>

#include <google/protobuf/io/coded_stream.h>

#include "core/error.h"

namespace kestrel::onnx_import {

onnx::ModelProto parse_model_proto(const void* data, size_t size, const std::string& source) {
  KESTREL_CHECK(size > 0, "{}: the file is empty", source);
  KESTREL_CHECK(size < size_t(std::numeric_limits<int>::max()), "{}: the file is larger than 2 GiB", source);
  google::protobuf::io::CodedInputStream stream(static_cast<const uint8_t*>(data), int(size));
  stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
  onnx::ModelProto model;
  KESTREL_CHECK(model.ParseFromCodedStream(&stream) && stream.ConsumedEntireMessage(),
                "{}: not a valid ONNX model (the protobuf does not parse; is the file truncated or not ONNX?)", source);
  KESTREL_CHECK(model.has_graph(), "{}: the model has no graph", source);
  return model;
}

}  // namespace kestrel::onnx_import
