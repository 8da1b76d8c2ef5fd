#include "synth/motion.h"

#include <algorithm>
#include <cmath>

namespace kestrel::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;

double box_area(const Polygon& outline, const Pose& pose) {
  const Bounds b = bounds_of(place_outline(outline, pose));
  return b.width() * b.height();
}

// A slow periodic term that is zero at frame 0, so the first pose is exactly the start pose.
struct Wave {
  double amplitude = 0, omega = 0, phase = 0;
  double at(int t) const { return amplitude * (std::sin(omega * t + phase) - std::sin(phase)); }
  static Wave random(Rng& rng, double probability, double lo, double hi, double min_period, double max_period) {
    Wave w;
    if (!rng.chance(probability)) return w;
    w.amplitude = rng.uniform(lo, hi);
    w.omega = 2 * kPi / rng.uniform(min_period, max_period);
    w.phase = rng.uniform(0, 2 * kPi);
    return w;
  }
};

}  // namespace

const char* motion_name(MotionKind kind) {
  switch (kind) {
    case MotionKind::kConstantVelocity: return "constant velocity";
    case MotionKind::kAccelerating: return "accelerating";
    case MotionKind::kTurning: return "turning";
    case MotionKind::kWandering: return "wandering";
    case MotionKind::kZigzag: return "zigzagging";
    case MotionKind::kOscillating: return "oscillating";
    case MotionKind::kHovering: return "hovering";
    case MotionKind::kCount: break;
  }
  return "moving";
}

std::vector<Pose> simulate_motion(MotionKind kind, const Pose& start, const Polygon& outline, int frames,
                                  double speed, const MotionBounds& bounds, Rng& rng) {
  const double width = bounds.frame_width, height = bounds.frame_height;
  const double frame_area = width * height;
  double heading = rng.uniform(0, 2 * kPi);
  double vx = speed * std::cos(heading), vy = speed * std::sin(heading);
  double x = start.cx, y = start.cy;

  // Kind-specific parameters, all drawn up front so the number of draws does not depend on the path.
  const double acceleration = speed * rng.uniform(0.01, 0.05) * rng.sign();
  double turn_rate = rng.uniform(0.02, 0.1) * rng.sign();
  const double wander_sigma = speed * rng.uniform(0.15, 0.35);
  int next_zig = rng.range(8, 30);
  const Wave orbit_x = Wave::random(rng, 1.0, 0.1 * width, 0.35 * width, 30, 120);
  const Wave orbit_y = Wave::random(rng, 1.0, 0.1 * height, 0.35 * height, 30, 120);
  const double max_speed = std::max(3.0 * speed, 2.0);

  // Scale, aspect and rotation: independent of the path's kind.
  double log_scale = 0;
  double scale_rate = rng.chance(0.6) ? rng.uniform(-0.012, 0.012) : 0.0;
  const Wave scale_wave = Wave::random(rng, 0.3, 0.05, 0.3, 30, 150);
  const Wave aspect_wave = Wave::random(rng, 0.5, 0.05, 0.35, 20, 100);
  const double spin = rng.chance(0.45) ? rng.uniform(0.005, 0.08) * rng.sign() : 0.0;
  const Wave wobble = Wave::random(rng, 0.3, 0.05, 0.4, 15, 80);
  const double linger_x = rng.uniform(0.2, 1.5), linger_y = rng.uniform(0.2, 1.5);

  std::vector<Pose> poses;
  poses.reserve(size_t(frames));
  poses.push_back(start);
  for (int t = 1; t < frames; ++t) {
    switch (kind) {
      case MotionKind::kConstantVelocity: break;
      case MotionKind::kAccelerating: {
        const double v = std::hypot(vx, vy);
        const double new_v = std::clamp(v + acceleration, 0.2, max_speed);
        vx *= new_v / std::max(v, 1e-9);
        vy *= new_v / std::max(v, 1e-9);
        break;
      }
      case MotionKind::kTurning: {
        if (rng.chance(0.015)) turn_rate = -turn_rate;
        const double c = std::cos(turn_rate), s = std::sin(turn_rate);
        const double nx = c * vx - s * vy, ny = s * vx + c * vy;
        vx = nx, vy = ny;
        break;
      }
      case MotionKind::kWandering:
      case MotionKind::kHovering: {
        const double keep = kind == MotionKind::kHovering ? 0.8 : 0.93;
        const double sigma = kind == MotionKind::kHovering ? 0.3 : wander_sigma;
        vx = keep * vx + sigma * rng.normal();
        vy = keep * vy + sigma * rng.normal();
        const double v = std::hypot(vx, vy);
        if (v > max_speed) vx *= max_speed / v, vy *= max_speed / v;
        break;
      }
      case MotionKind::kZigzag:
        if (--next_zig <= 0) {
          heading = rng.uniform(0, 2 * kPi);
          vx = speed * std::cos(heading), vy = speed * std::sin(heading);
          next_zig = rng.range(8, 30);
        }
        break;
      case MotionKind::kOscillating: break;
      case MotionKind::kCount: break;
    }
    if (kind == MotionKind::kOscillating) {
      const double nx = start.cx + orbit_x.at(t), ny = start.cy + orbit_y.at(t);
      vx = nx - x, vy = ny - y;
    }
    x += vx;
    y += vy;

    log_scale += scale_rate;
    const double aspect = aspect_wave.at(t);
    const double scale = std::exp(log_scale + scale_wave.at(t));
    Pose pose{x, y, start.half_w * scale * std::exp(aspect / 2), start.half_h * scale * std::exp(-aspect / 2),
              start.angle + spin * t + wobble.at(t)};

    // Keep the box area within limits: saturate the scale and turn its trend around.
    const double area = box_area(outline, pose) / frame_area;
    double correction = 1.0;
    if (area > bounds.max_area_fraction) {
      correction = std::sqrt(bounds.max_area_fraction / area);
      scale_rate = -std::fabs(scale_rate);
    } else if (area < bounds.min_area_fraction) {
      correction = std::sqrt(bounds.min_area_fraction / area);
      scale_rate = std::fabs(scale_rate);
    }
    if (correction != 1.0) {
      pose.half_w *= correction;
      pose.half_h *= correction;
      log_scale += std::log(correction);
    }

    // Edges: bounce when the box touches them, or, for objects allowed to leave, once the box is
    // entirely outside by a lingering distance.
    const Bounds box = bounds_of(place_outline(outline, pose));
    const double bw = box.width(), bh = box.height();
    const bool oscillating = kind == MotionKind::kOscillating;
    if (!bounds.may_leave) {
      double shift_x = 0, shift_y = 0;
      if (box.x0 < 0) shift_x = -box.x0; else if (box.x1 > width) shift_x = width - box.x1;
      if (box.y0 < 0) shift_y = -box.y0; else if (box.y1 > height) shift_y = height - box.y1;
      if (bw > width) shift_x = width / 2 - pose.cx;
      if (bh > height) shift_y = height / 2 - pose.cy;
      if (shift_x != 0 && !oscillating) vx = shift_x > 0 ? std::fabs(vx) : -std::fabs(vx);
      if (shift_y != 0 && !oscillating) vy = shift_y > 0 ? std::fabs(vy) : -std::fabs(vy);
      pose.cx += shift_x, pose.cy += shift_y;
      x = pose.cx, y = pose.cy;
    } else if (!oscillating) {
      const double margin_x = bw * (0.5 + linger_x), margin_y = bh * (0.5 + linger_y);
      if ((pose.cx < -margin_x && vx < 0) || (pose.cx > width + margin_x && vx > 0)) vx = -vx;
      if ((pose.cy < -margin_y && vy < 0) || (pose.cy > height + margin_y && vy > 0)) vy = -vy;
    }
    poses.push_back(pose);
  }
  return poses;
}

std::vector<Pose> straight_path(const Pose& at_event, int event_frame, Vec2 velocity, double spin, int frames) {
  std::vector<Pose> poses(size_t(frames), at_event);
  for (int t = 0; t < frames; ++t) {
    const double dt = t - event_frame;
    poses[size_t(t)].cx += velocity.x * dt;
    poses[size_t(t)].cy += velocity.y * dt;
    poses[size_t(t)].angle += spin * dt;
  }
  return poses;
}

}  // namespace kestrel::synth
