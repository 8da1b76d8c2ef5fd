#include "synth/texture.h"

#include <algorithm>
#include <cmath>

#include "synth/noise.h"

namespace kestrel::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;

double fract(double x) { return x - std::floor(x); }

// A soft 0/1 square wave, so stripes and checkers do not alias when the object is small.
double soft_square(double phase, double softness) {
  // How deep the phase lies inside the "on" half [0, 0.5) (negative outside), around the circle.
  double distance_to_centre = std::fabs(fract(phase) - 0.25);
  distance_to_centre = std::min(distance_to_centre, 1.0 - distance_to_centre);
  return std::clamp((0.25 - distance_to_centre) / softness + 0.5, 0.0, 1.0);
}

Color mix(const Color& a, const Color& b, double t) {
  const float f = float(t);
  return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

Color nudge(const Color& c, Rng& rng, double amount) {
  auto one = [&](float v) { return std::clamp(v + float(rng.uniform(-amount, amount)), 0.0f, 1.0f); };
  return {one(c.r), one(c.g), one(c.b)};
}

}  // namespace

const char* texture_name(TextureKind kind) {
  switch (kind) {
    case TextureKind::kSolid: return "plain";
    case TextureKind::kStripes: return "striped";
    case TextureKind::kChecker: return "checkered";
    case TextureKind::kNoise: return "mottled";
    case TextureKind::kLinearGradient: return "graded";
    case TextureKind::kRadialGradient: return "ringed";
    case TextureKind::kDots: return "dotted";
    case TextureKind::kCount: break;
  }
  return "textured";
}

Color hsv_to_rgb(double hue, double saturation, double value) {
  const double h = fract(hue) * 6.0;
  const int sector = int(h);
  const double f = h - sector;
  const double p = value * (1 - saturation), q = value * (1 - saturation * f), t = value * (1 - saturation * (1 - f));
  double r, g, b;
  switch (sector) {
    case 0: r = value, g = t, b = p; break;
    case 1: r = q, g = value, b = p; break;
    case 2: r = p, g = value, b = t; break;
    case 3: r = p, g = q, b = value; break;
    case 4: r = t, g = p, b = value; break;
    default: r = value, g = p, b = q; break;
  }
  return {float(r), float(g), float(b)};
}

Color random_color(Rng& rng) {
  const double hue = rng.uniform(), saturation = rng.uniform(0.15, 1.0), value = rng.uniform(0.2, 1.0);
  return hsv_to_rgb(hue, saturation, value);
}

TextureRecipe random_texture_recipe(Rng& rng) {
  TextureRecipe recipe;
  recipe.kind = TextureKind(rng.range(0, int(TextureKind::kCount) - 1));
  recipe.primary = random_color(rng);
  // Half the time a contrasting second colour, otherwise a darker or lighter shade of the first.
  recipe.secondary = rng.chance(0.5) ? random_color(rng)
                                     : mix(recipe.primary, rng.chance(0.5) ? Color{0, 0, 0} : Color{1, 1, 1},
                                           rng.uniform(0.3, 0.7));
  recipe.angle = rng.uniform(0, kPi);
  recipe.period = rng.uniform(0.15, 0.8);
  recipe.light_angle = rng.uniform(0, 2 * kPi);
  recipe.light_strength = rng.uniform(0.0, 0.35);
  recipe.seed = rng.next();
  return recipe;
}

TextureRecipe look_alike_recipe(const TextureRecipe& original, Rng& rng) {
  TextureRecipe recipe = original;
  const double amount = rng.uniform(0.0, 0.12);
  recipe.primary = nudge(original.primary, rng, amount);
  recipe.secondary = nudge(original.secondary, rng, amount);
  recipe.period *= rng.uniform(0.85, 1.15);
  recipe.light_angle += rng.uniform(-0.5, 0.5);
  recipe.seed = rng.next();
  return recipe;
}

Texture make_texture(const TextureRecipe& recipe, int size) {
  Texture texture;
  texture.size = size;
  texture.texels.resize(size_t(size) * size_t(size));
  std::vector<float> noise, grain;
  if (recipe.kind == TextureKind::kNoise)
    fractal_noise(size, size, size * recipe.period * 0.5, 4, 0.55, recipe.seed, noise);
  fractal_noise(size, size, 4.0, 2, 0.5, recipe.seed ^ 0x5A5A5A5Aull, grain);  // fine surface grain
  float noise_lo = 1, noise_hi = 0;
  for (float v : noise) noise_lo = std::min(noise_lo, v), noise_hi = std::max(noise_hi, v);

  const double ca = std::cos(recipe.angle), sa = std::sin(recipe.angle);
  const double lx = std::cos(recipe.light_angle), ly = std::sin(recipe.light_angle);
  const double softness = 4.0 / (size * recipe.period);  // about two texels of transition
  for (int ty = 0; ty < size; ++ty)
    for (int tx = 0; tx < size; ++tx) {
      const double u = 2.0 * tx / (size - 1) - 1.0, v = 2.0 * ty / (size - 1) - 1.0;
      const double along = u * ca + v * sa, across = -u * sa + v * ca;
      double t = 0;  // 0 = primary, 1 = secondary
      switch (recipe.kind) {
        case TextureKind::kSolid: t = 0; break;
        case TextureKind::kStripes: t = soft_square(along / recipe.period, softness); break;
        case TextureKind::kChecker:
          t = std::fabs(soft_square(along / recipe.period, softness) - soft_square(across / recipe.period, softness));
          break;
        case TextureKind::kNoise: {
          const float n = noise[size_t(ty) * size_t(size) + size_t(tx)];
          t = std::clamp((n - noise_lo) / std::max(noise_hi - noise_lo, 1e-6f), 0.0f, 1.0f);
          break;
        }
        case TextureKind::kLinearGradient: t = 0.5 + 0.5 * along; break;
        case TextureKind::kRadialGradient: t = 0.5 + 0.5 * std::cos(std::hypot(u, v) * kPi / recipe.period); break;
        case TextureKind::kDots: {
          const double cell = recipe.period * 0.6;
          const double du = fract(along / cell) - 0.5, dv = fract(across / cell) - 0.5;
          t = std::clamp((0.3 - std::hypot(du, dv)) / (softness * 0.6) + 0.5, 0.0, 1.0);
          break;
        }
        case TextureKind::kCount: break;
      }
      const double light = 1.0 + recipe.light_strength * (lx * u + ly * v);
      const double shade = light * (0.94 + 0.12 * grain[size_t(ty) * size_t(size) + size_t(tx)]);
      const Color c = mix(recipe.primary, recipe.secondary, t);
      texture.texels[size_t(ty) * size_t(size) + size_t(tx)] =
          Texture::pack({to_byte(c.r * float(shade)), to_byte(c.g * float(shade)), to_byte(c.b * float(shade))});
    }
  return texture;
}

}  // namespace kestrel::synth
