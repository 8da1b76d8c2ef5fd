// Compositing textured shapes onto an image, sharp or with motion blur.
#pragma once
#include <vector>

#include "synth/geometry.h"
#include "synth/image.h"
#include "synth/rasterize.h"
#include "synth/texture.h"

namespace kestrel::synth {

// Paints the shape whose coverage is given, its texture mapped through `pose`, over `image`
// (clipped to it): pixel = pixel * (1 - coverage) + texture colour * coverage.
void paint_shape(RgbImage& image, const CoverageMap& coverage, const Texture& texture, const Pose& pose);

// Buffers reused between blurred paints.
struct BlurScratch {
  std::vector<float> layer;        // premultiplied RGBA of the sharp shape
  std::vector<float> accumulated;  // one output row
};

// Like paint_shape, but the shape is smeared along `blur` (pixels, centred on the pose): the
// average of copies shifted from -blur/2 to +blur/2, as a moving object seen with an open shutter.
void paint_shape_blurred(RgbImage& image, const CoverageMap& coverage, const Texture& texture, const Pose& pose,
                         Vec2 blur, BlurScratch& scratch);

}  // namespace kestrel::synth
