// Trajectories: where an object is in every frame (position, size, aspect, rotation).
#pragma once
#include <vector>

#include "synth/geometry.h"
#include "synth/rng.h"

namespace kestrel::synth {

enum class MotionKind {
  kConstantVelocity,
  kAccelerating,
  kTurning,
  kWandering,
  kZigzag,
  kOscillating,
  kHovering,
  kCount
};

const char* motion_name(MotionKind kind);

struct MotionBounds {
  int frame_width = 0, frame_height = 0;
  // When false the object bounces off the frame edges; when true it may leave the frame entirely,
  // linger outside for a while, and come back.
  bool may_leave = false;
  // Limits of the object's box area as fractions of the frame area (scale changes stop there).
  double min_area_fraction = 0.01, max_area_fraction = 0.40;
};

// Simulates `frames` poses starting at `start` (the first pose is `start`). `speed` is the typical
// distance travelled per frame in pixels; `outline` is needed to know the object's true extent.
std::vector<Pose> simulate_motion(MotionKind kind, const Pose& start, const Polygon& outline, int frames,
                                  double speed, const MotionBounds& bounds, Rng& rng);

// A straight path through `at_event` at frame `event_frame`, for objects aimed to cross the target.
std::vector<Pose> straight_path(const Pose& at_event, int event_frame, Vec2 velocity, double spin, int frames);

}  // namespace kestrel::synth
