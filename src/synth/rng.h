// Random numbers for the synthetic dataset. Everything derives from one 64-bit seed through our
// own generators, never std::*_distribution, whose outputs differ between standard libraries:
// the same seed must give byte-identical datasets everywhere this code builds.
#pragma once
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace kestrel::synth {

// One step of SplitMix64; a good 64-bit mixer on its own, used to seed and to derive streams.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// An independent seed for a named part of the work (split, sequence, object...), so that a
// sequence never depends on how many others were generated before it or on thread scheduling.
inline uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> path) {
  uint64_t state = seed;
  uint64_t mixed = splitmix64(state);
  for (uint64_t part : path) {
    state = mixed ^ (part * 0xD6E8FEB86659FD93ull + 0x2545F4914F6CDD1Dull);
    mixed = splitmix64(state);
  }
  return mixed;
}

// xoshiro256**: fast, small state, and its output is fixed by its definition.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : state_) word = splitmix64(seed);
  }

  uint64_t next() {
    const uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // [0, 1) with 53 random bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Spreads scales evenly: as many objects between 1% and 4% of the frame as between 10% and 40%.
  double log_uniform(double lo, double hi) { return lo * std::exp(std::log(hi / lo) * uniform()); }
  // Integer in [lo, hi], both included.
  int range(int lo, int hi) { return lo + int(uniform() * double(hi - lo + 1)); }
  bool chance(double probability) { return uniform() < probability; }
  double sign() { return chance(0.5) ? 1.0 : -1.0; }
  // Standard normal by Box-Muller (one value per call; simplicity over speed).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1], keeps log finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Index drawn with the given relative weights.
  int weighted(std::initializer_list<double> weights) {
    double total = 0;
    for (double w : weights) total += w;
    double pick = uniform() * total;
    int index = 0;
    for (double w : weights) {
      if (pick < w) return index;
      pick -= w;
      ++index;
    }
    return index - 1;
  }
  // A fresh generator for a sub-part, so adding draws to one part leaves the others unchanged.
  Rng fork() { return Rng(next()); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace kestrel::synth
