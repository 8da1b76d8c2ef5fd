// A serialized ONNX model built into a CPU engine, run on named host tensors: what calibration
// checks and accuracy comparisons need (the Runner only takes files).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kestrel/kestrel.h"

namespace kestrel::quant {

class CpuModel {
 public:
  // Input shapes come from `example` (arrays named like the inputs). Throws kestrel::Error.
  CpuModel(const std::vector<uint8_t>& onnx_bytes, const std::string& source, const NamedTensors& example, ILogger& logger);
  NamedTensors run(const NamedTensors& feed);

 private:
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ExecutionContext> context_;
  std::string source_;
};

}  // namespace kestrel::quant
