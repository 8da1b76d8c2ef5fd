// GOT-10k per-frame annotations derived from what was rendered.
#pragma once
#include <cstdint>

#include "synth/render.h"

namespace kestrel::synth {

struct FrameLabel {
  double x = 0, y = 0, w = 0, h = 0;  // box of the visible target pixels, inside the image
  bool absent = false;                // nothing of the target visible (out of frame or hidden)
  int cover = 8;                      // visible fraction, GOT-10k's 0..8 scale
  bool cut_by_image = false;          // part of the target lies outside the frame
};

// GOT-10k's cover scale: 0 = not visible, 1..7 = visible fraction in (0, 15%], (15%, 30%], ...,
// (75%, 90%], (90%, 100%), 8 = fully visible. Exact integer arithmetic, no rounding surprises.
inline int cover_level(int64_t visible, int64_t full) {
  if (full <= 0 || visible <= 0) return 0;
  if (visible >= full) return 8;
  const int64_t level = (100 * visible + 15 * full - 1) / (15 * full);  // ceil(visible / full / 0.15)
  return int(level < 1 ? 1 : level > 7 ? 7 : level);
}

// An absent target keeps the previous frame's box, as GOT-10k's annotations do.
inline FrameLabel label_frame(const TargetObservation& seen, const FrameLabel* previous) {
  FrameLabel label;
  label.cover = cover_level(seen.visible_pixels, seen.full_pixels);
  label.absent = seen.visible_pixels == 0;
  label.cut_by_image = seen.inside_pixels < seen.full_pixels;
  if (!label.absent) {
    const PixelRect& b = seen.visible_bounds;
    label.x = b.x0, label.y = b.y0, label.w = b.width(), label.h = b.height();
  } else if (previous != nullptr) {
    label.x = previous->x, label.y = previous->y, label.w = previous->w, label.h = previous->h;
  }
  return label;
}

}  // namespace kestrel::synth
