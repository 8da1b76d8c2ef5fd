// The arithmetic of linear quantization, shared by the reference kernels and the quantizer so
// that weights quantized at build time and activations quantized at run time round identically:
// q = saturate(round_half_to_even(x / scale) + zero_point), x = (q - zero_point) * scale.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace kestrel::quant {

// Division, not multiplication by 1/scale: that is what ONNX specifies, and a reciprocal would
// move values that lie exactly on a rounding boundary.
template <typename Q>
Q quantize_value(float x, float scale, int32_t zero_point) {
  const float r = std::nearbyint(x / scale);  // the default rounding mode: half to even
  constexpr float lo = float(std::numeric_limits<Q>::min()), hi = float(std::numeric_limits<Q>::max());
  float q = r + float(zero_point);
  if (std::isnan(q)) q = 0.f;  // NaN has no integer; ONNX leaves it unspecified, zero is the least surprising
  q = q < lo ? lo : (q > hi ? hi : q);
  return Q(q);
}

template <typename Q>
float dequantize_value(Q q, float scale, int32_t zero_point) {
  return float(int32_t(q) - zero_point) * scale;
}

}  // namespace kestrel::quant
