// An 8-bit RGB image, rows packed without padding: the layout libjpeg reads and writes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace kestrel::synth {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

// Colours in linear [0, 1] floats while drawing; converted to bytes once per pixel.
struct Color {
  float r = 0, g = 0, b = 0;
};

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // width * height * 3 bytes, row-major

  RgbImage() = default;
  RgbImage(int w, int h) : width(w), height(h), pixels(size_t(w) * size_t(h) * 3) {}

  uint8_t* row(int y) { return pixels.data() + size_t(y) * size_t(width) * 3; }
  const uint8_t* row(int y) const { return pixels.data() + size_t(y) * size_t(width) * 3; }
  Rgb at(int x, int y) const {
    const uint8_t* p = row(y) + size_t(x) * 3;
    return {p[0], p[1], p[2]};
  }
};

// Sets `buffer` to `size` copies of `value`, growing its capacity geometrically: per-frame buffers
// whose size creeps up frame after frame would otherwise be reallocated (and, being large,
// mmapped and page-faulted afresh) every frame.
template <typename T>
void refill(std::vector<T>& buffer, size_t size, T value) {
  if (size > buffer.capacity()) buffer.reserve(size + size / 2);
  buffer.assign(size, value);
}

inline uint8_t to_byte(float value) {
  const float scaled = value * 255.0f + 0.5f;
  return scaled <= 0.0f ? 0 : scaled >= 255.0f ? 255 : uint8_t(scaled);
}

}  // namespace kestrel::synth
