// Fractal value noise: the raw material of natural-looking backgrounds and noisy textures.
#pragma once
#include <cstdint>
#include <vector>

namespace kestrel::synth {

// Fills `out` with width*height values in [0, 1]: `octaves` layers of smoothly interpolated lattice
// noise, the first with cells of `period` pixels, each next one twice as fine and `persistence`
// times as strong. Deterministic in `seed`. Computed row by row with the lattice values of a row
// looked up once, so the cost per pixel is a few multiply-adds per octave.
void fractal_noise(int width, int height, double period, int octaves, double persistence, uint64_t seed,
                   std::vector<float>& out);

}  // namespace kestrel::synth
