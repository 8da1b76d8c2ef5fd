// Drawing one frame of a scene, and measuring what of the target the drawing actually shows.
#pragma once
#include <cstdint>
#include <vector>

#include "synth/geometry.h"
#include "synth/image.h"
#include "synth/paint.h"
#include "synth/rasterize.h"
#include "synth/scene.h"

namespace kestrel::synth {

// The target in one rendered frame, counted on the same coverage the pixels were composited
// with. A pixel belongs to the target when the target covers at least half of it
// (kMaskThreshold); it shows the target when, after everything drawn later has covered its share,
// at least half of the pixel is still the target's. Motion blur does not change these masks: the
// object is where it is at mid-exposure.
struct TargetObservation {
  int64_t full_pixels = 0;     // the whole object, inside the frame or not
  int64_t inside_pixels = 0;   // of those, inside the frame
  int64_t visible_pixels = 0;  // inside the frame and not hidden
  PixelRect visible_bounds;    // of the visible pixels; empty when there are none
};

// Holds the buffers of one rendering thread.
class FrameRenderer {
 public:
  TargetObservation render(const Scene& scene, int frame_index, RgbImage& frame);

 private:
  CoverageMap coverage_;
  std::vector<float> visibility_;  // over the target's window: the share of each pixel showing it
  PixelRect visible_window_;
  BlurScratch blur_;
};

// Multiplies the frame by the lighting's gains and slopes.
void apply_lighting(RgbImage& frame, const Lighting& lighting);

}  // namespace kestrel::synth
