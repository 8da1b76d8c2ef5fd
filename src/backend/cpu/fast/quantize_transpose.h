// Quantizing a plain float tensor into a channels-last int8 one in one pass: where a float layer
// (GroupNorm, attention, copies) hands over to the int8 convolutions. oneDNN's reorder does this
// transpose at ~3 GB/s; the AVX-512 kernel quantizes 16x16 tiles and transposes them in
// registers.
#pragma once
#include <cstdint>

namespace kestrel::cpu::fast {

// y[p * channels + c] = QuantizeLinear(x[c * pixels + p], scale, 0) for p in [p_begin, p_end),
// one image: x is [channels, pixels] float, y [pixels, channels] int8 (or uint8). Exactly
// QuantizeLinear's arithmetic (division, half to even, saturation, NaN to 0). Needs AVX-512
// (compiled in avx512/); call only where host_isa() has it.
void quantize_to_channels_last_avx512(const float* x, void* y, bool is_uint8, int64_t channels, int64_t pixels,
                                      float scale, int64_t p_begin, int64_t p_end);

}  // namespace kestrel::cpu::fast
