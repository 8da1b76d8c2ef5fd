#include "synth/noise.h"

#include <algorithm>
#include <cmath>

#include "synth/rng.h"

namespace kestrel::synth {
namespace {

float lattice_value(int64_t ix, int64_t iy, uint64_t seed) {
  uint64_t state = seed ^ (uint64_t(ix) * 0x9E3779B97F4A7C15ull) ^ (uint64_t(iy) * 0xC2B2AE3D27D4EB4Full);
  return float(splitmix64(state) >> 40) * (1.0f / 16777216.0f);
}

float smooth(float t) { return t * t * (3.0f - 2.0f * t); }

}  // namespace

void fractal_noise(int width, int height, double period, int octaves, double persistence, uint64_t seed,
                   std::vector<float>& out) {
  out.assign(size_t(width) * size_t(height), 0.0f);
  std::vector<int> cell_x(static_cast<size_t>(width));
  std::vector<float> weight_x(static_cast<size_t>(width));
  std::vector<float> lattice_top, lattice_bottom;
  float amplitude = 1.0f, total_amplitude = 0.0f;
  for (int octave = 0; octave < octaves; ++octave) {
    const double cell = std::max(period / double(1 << octave), 1.0);
    const uint64_t octave_seed = derive_seed(seed, {uint64_t(octave)});
    for (int x = 0; x < width; ++x) {
      const double fx = (x + 0.5) / cell;
      cell_x[size_t(x)] = int(std::floor(fx));
      weight_x[size_t(x)] = smooth(float(fx - std::floor(fx)));
    }
    const int cells_across = int(std::floor((width + 0.5) / cell)) + 2;
    lattice_top.resize(size_t(cells_across));
    lattice_bottom.resize(size_t(cells_across));
    int64_t loaded_row = INT64_MIN;
    for (int y = 0; y < height; ++y) {
      const double fy = (y + 0.5) / cell;
      const int64_t iy = int64_t(std::floor(fy));
      const float wy = smooth(float(fy - std::floor(fy)));
      if (iy != loaded_row) {
        for (int i = 0; i < cells_across; ++i) {
          lattice_top[size_t(i)] = lattice_value(i, iy, octave_seed);
          lattice_bottom[size_t(i)] = lattice_value(i, iy + 1, octave_seed);
        }
        loaded_row = iy;
      }
      float* row = out.data() + size_t(y) * size_t(width);
      for (int x = 0; x < width; ++x) {
        const int ix = cell_x[size_t(x)];
        const float wx = weight_x[size_t(x)];
        const float top = lattice_top[size_t(ix)] + (lattice_top[size_t(ix) + 1] - lattice_top[size_t(ix)]) * wx;
        const float bottom =
            lattice_bottom[size_t(ix)] + (lattice_bottom[size_t(ix) + 1] - lattice_bottom[size_t(ix)]) * wx;
        row[x] += amplitude * (top + (bottom - top) * wy);
      }
    }
    total_amplitude += amplitude;
    amplitude *= float(persistence);
  }
  const float scale = 1.0f / total_amplitude;
  for (float& v : out) v *= scale;
}

}  // namespace kestrel::synth
