// A target box in pixels: top-left corner and size, the GOT-10k convention (x, y, w, h).
// Doubles, as the official Python tracker keeps its state in Python floats.
#pragma once

namespace kestrel::tracker {

struct Box {
  double x = 0, y = 0, w = 0, h = 0;

  double cx() const { return x + 0.5 * w; }
  double cy() const { return y + 0.5 * h; }
  bool operator==(const Box&) const = default;
};

}  // namespace kestrel::tracker
