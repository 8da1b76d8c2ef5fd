// Small ONNX models built in code, for tests that need a valid model without Python.
#pragma once
#include <string>

namespace kestrel::testing {

// x [1,3,8,8] -> Conv 3x3 (3->4, pad 1) -> BatchNormalization -> Relu -> Shape/Reshape -> y:
// exercises import, folding of shape arithmetic, BN folding and the executor.
std::string tiny_conv_model_bytes();

}  // namespace kestrel::testing
