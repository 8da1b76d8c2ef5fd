// Rewrites an ONNX model into its QDQ form (docs/int8.md, "The QDQ contract"):
//  - each INT8 layer's activation input T becomes DequantizeLinear(QuantizeLinear(T, s, 0), s, 0)
//    with s its calibrated per-tensor scale and an int8 zero point of 0 (symmetric); one pair per
//    tensor, shared by every INT8 layer that reads it;
//  - its constant weight becomes an int8 initializer with per-output-channel scales
//    (max |w_c| / 127) and DequantizeLinear with `axis` (per tensor before opset 13); bias stays
//    float;
//  - float initializers that nothing reads any more are dropped, so the file shrinks.
#pragma once
#include <map>
#include <string>

#include <onnx/onnx_pb.h>

#include "quant/qdq_plan.h"

namespace kestrel::quant {

struct QdqRewrite {
  std::map<std::string, bool> int8;          // layer name -> runs in INT8
  std::map<std::string, float> scales;       // activation tensor -> scale
  bool per_channel_weights = true;
  // Evaluation only: weights are written as float holding their dequantized values, no DQ
  // node, so that float kernels can take the layer (numerically the same network).
  bool weights_as_float = false;
};

// Returns the names of the layers that were put into INT8 (a layer whose activation has no
// scale stays float; its name is added to `missing_scale`).
std::vector<std::string> rewrite_to_qdq(onnx::ModelProto& model, const ModelAnalysis& analysis, const QdqRewrite& rewrite,
                                        std::vector<std::string>* missing_scale);

// Symmetric per-channel (or per-tensor when channels == 1) int8 quantization of a weight along
// `axis`: scales[c] = max |w| over channel c / 127 (1 for an all-zero channel).
void quantize_weight(const Tensor& w, int axis, bool per_channel, Tensor* q, std::vector<float>* scales);

}  // namespace kestrel::quant
