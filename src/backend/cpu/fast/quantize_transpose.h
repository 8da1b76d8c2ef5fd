// The transposes at the borders of the int8 layers, each fused with the arithmetic that happens
// there: quantizing a plain float tensor into a channels-last int8 one (where a float layer -
// GroupNorm, attention, copies - hands over to the int8 convolutions), and bringing a
// convolution's channels-last float result back to plain with the residual add and the
// activation (where an int8 layer hands over to float ones). oneDNN's reorders do these
// transposes at ~3 GB/s; the AVX-512 kernels work on 16x16 tiles transposed in registers.
#pragma once
#include <cstdint>

namespace kestrel::cpu::fast {

// y[p * channels + c] = QuantizeLinear(x[c * pixels + p], scale, 0) for p in [p_begin, p_end),
// one image: x is [channels, pixels] float, y [pixels, channels] int8 (or uint8). Exactly
// QuantizeLinear's arithmetic (division, half to even, saturation, NaN to 0). Needs AVX-512
// (compiled in avx512/); call only where host_isa() has it.
void quantize_to_channels_last_avx512(const float* x, void* y, bool is_uint8, int64_t channels, int64_t pixels,
                                      float scale, int64_t p_begin, int64_t p_end);

// y[i] = QuantizeLinear(x[i], scale, 0) for i in [begin, end): the same arithmetic without a
// transpose (source and destination in the same layout). Needs AVX-512.
void quantize_contiguous_avx512(const float* x, void* y, bool is_uint8, float scale, int64_t begin, int64_t end);

// y[i] = QuantizeLinear(act(t[i] + r[i]), scale, 0) for i in [begin, end): an int8 layer's float
// accumulator, its residual added and its activation applied, requantized in one sweep (same
// layouts). activation: 0 none, 1 Relu, 2 Clip to [lo, hi]. Needs AVX-512.
void add_activate_quantize_avx512(const float* t, const float* r, void* y, bool is_uint8, float scale, int activation,
                                  float lo, float hi, int64_t begin, int64_t end);

// y[c * pixels + p] = act(t[p * channels + c] + r[c * pixels + p]) for p in [p_begin, p_end), one
// image: t is [pixels, channels] float, y and r (nullptr: no residual) [channels, pixels].
// activation: 0 none, 1 Relu, 2 Clip to [lo, hi]. Needs AVX-512, like the above.
void channels_last_to_plain_avx512(const float* t, const float* r, float* y, int64_t channels, int64_t pixels,
                                   int activation, float lo, float hi, int64_t p_begin, int64_t p_end);

}  // namespace kestrel::cpu::fast
