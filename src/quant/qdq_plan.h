// Which layers of an ONNX model can run in INT8, which do by default, and what the QDQ rewrite
// quantizes for each: the activation inputs (per tensor) and the constant weight (per output
// channel). Works on the ModelProto itself, so that tensor and layer names are the model's own:
// the same names appear in the calibration cache, in --layer-precision and in the exported model.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "core/tensor.h"

namespace kestrel::quant {

struct LayerCandidate {
  int node_index = 0;
  std::string name;  // the node's name, or "<Op>_<index>" when it has none (as the importer names it)
  std::string op_type;
  std::vector<int> activation_inputs;  // input positions quantized per tensor
  int weight_input = -1;               // input position of the constant weight, -1 for none
  std::string weight_source;           // initializer or Constant output holding it (Identity chains followed)
  int weight_axis = 0;                 // the weight's output-channel axis
  bool can_int8 = true;  // false when the weight is not a float32 constant
  bool default_int8 = false;
  std::string reason;                  // why the default is what it is
};

struct ModelAnalysis {
  std::vector<LayerCandidate> layers;
  std::vector<std::string> observed_tensors;  // activation inputs of every candidate, in node order
  std::vector<std::string> all_layers;        // every node's name, for checking overrides
};

// Parses a serialized model; errors name `source`.
onnx::ModelProto parse_onnx_model(const void* data, size_t size, const std::string& source);
std::string node_name(const onnx::ModelProto& model, int index);
int model_opset(const onnx::ModelProto& model);

ModelAnalysis analyse_model(const onnx::ModelProto& model);

// The value of a float constant (initializer or Constant node output), or nullopt.
std::optional<Tensor> constant_tensor(const onnx::ModelProto& model, const std::string& name);

// Layer name -> final INT8 decision, after the overrides ("fp32", "fp16" or "int8"; a name ending
// in "*" is a prefix: every candidate it starts); throws for
// an override that names no layer or asks INT8 of a layer that cannot take it.
std::map<std::string, bool> decide_precisions(const ModelAnalysis& analysis,
                                              const std::map<std::string, std::string>& overrides);

}  // namespace kestrel::quant
