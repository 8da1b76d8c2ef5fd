// Backdrops: natural-looking or cluttered images larger than the frame, so the camera can pan.
#pragma once
#include "synth/image.h"
#include "synth/rng.h"

namespace kestrel::synth {

enum class BackgroundKind { kNatural, kSkyAndGround, kClutter, kBricks, kCount };

const char* background_name(BackgroundKind kind);
BackgroundKind random_background_kind(Rng& rng);

// `scale` is the frame's size relative to 1280 pixels wide, so features keep their proportions
// at any resolution.
RgbImage make_background(BackgroundKind kind, int width, int height, double scale, Rng& rng);

}  // namespace kestrel::synth
