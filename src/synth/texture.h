// Surface patterns of the synthetic objects, precomputed once per object as a small float image
// that the renderer samples; the recipe is kept so look-alike distractors can vary it slightly.
#pragma once
#include <cstdint>
#include <vector>

#include "synth/image.h"
#include "synth/rng.h"

namespace kestrel::synth {

enum class TextureKind { kSolid, kStripes, kChecker, kNoise, kLinearGradient, kRadialGradient, kDots, kCount };

const char* texture_name(TextureKind kind);

struct TextureRecipe {
  TextureKind kind = TextureKind::kSolid;
  Color primary, secondary;
  double angle = 0;        // stripes, checker and gradients
  double period = 0.5;     // stripes, checker and dots, in units of the object's half size
  double light_angle = 0;  // baked shading, so flat shapes look lit from one side
  double light_strength = 0;
  uint64_t seed = 0;  // noise and grain
};

// A square texture of `size` x `size` texels covering the object's [-1, 1]^2 outline square.
// Texels are packed 8-bit RGB: a 256x256 texture is 256 KB, which stays in cache while a large
// rotated object is drawn (float texels would not).
struct Texture {
  int size = 0;
  std::vector<uint32_t> texels;  // 0x00BBGGRR

  static uint32_t pack(Rgb c) { return uint32_t(c.r) | uint32_t(c.g) << 8 | uint32_t(c.b) << 16; }

  // Bilinear in 8-bit fixed point, clamped at the border; (u, v) in [-1, 1].
  Rgb sample(float u, float v) const {
    const float last = float(size - 1), scale = 0.5f * last;
    float fx = (u + 1.0f) * scale, fy = (v + 1.0f) * scale;
    fx = fx < 0 ? 0 : fx > last ? last : fx;
    fy = fy < 0 ? 0 : fy > last ? last : fy;
    const int x0 = int(fx), y0 = int(fy);
    const int x1 = x0 + 1 < size ? x0 + 1 : x0, y1 = y0 + 1 < size ? y0 + 1 : y0;
    const uint32_t wx = uint32_t((fx - float(x0)) * 256.0f), wy = uint32_t((fy - float(y0)) * 256.0f);
    const uint32_t a = texels[size_t(y0) * size_t(size) + size_t(x0)], b = texels[size_t(y0) * size_t(size) + size_t(x1)];
    const uint32_t c = texels[size_t(y1) * size_t(size) + size_t(x0)], d = texels[size_t(y1) * size_t(size) + size_t(x1)];
    auto channel = [&](int shift) {
      const uint32_t top = ((a >> shift) & 255) * (256 - wx) + ((b >> shift) & 255) * wx;
      const uint32_t bottom = ((c >> shift) & 255) * (256 - wx) + ((d >> shift) & 255) * wx;
      return uint8_t((top * (256 - wy) + bottom * wy + 32768) >> 16);
    };
    return {channel(0), channel(8), channel(16)};
  }
};

// One colour everywhere (tests recolour objects with it).
inline Texture solid_texture(Rgb colour) {
  Texture t;
  t.size = 2;
  t.texels.assign(4, Texture::pack(colour));
  return t;
}

Color hsv_to_rgb(double hue, double saturation, double value);
Color random_color(Rng& rng);

TextureRecipe random_texture_recipe(Rng& rng);
// The same pattern with colours nudged and a new grain: a look-alike, not a copy.
TextureRecipe look_alike_recipe(const TextureRecipe& original, Rng& rng);
Texture make_texture(const TextureRecipe& recipe, int size);

}  // namespace kestrel::synth
