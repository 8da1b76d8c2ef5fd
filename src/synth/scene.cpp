#include "synth/scene.h"

#include <algorithm>
#include <cmath>

#include "synth/background.h"
#include "synth/motion.h"
#include "synth/rng.h"
#include "synth/shapes.h"

namespace kestrel::synth {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kTextureSize = 256;
constexpr double kMinAreaFraction = 0.01, kMaxAreaFraction = 0.40;
constexpr int kPlacementAttempts = 12;

struct Frame {
  int width, height, frames;
  double scale;  // linear size relative to 1280x720
};

Bounds box_at(const Actor& actor, int t) { return bounds_of(place_outline(actor.outline, actor.poses[size_t(t)])); }

// Half extents giving the outline's box the requested area at this aspect and angle.
Pose sized_pose(const Polygon& outline, double area, double aspect, double angle) {
  Pose unit{0, 0, std::sqrt(aspect), 1.0 / std::sqrt(aspect), angle};
  const Bounds b = bounds_of(place_outline(outline, unit));
  const double k = std::sqrt(area / (b.width() * b.height()));
  unit.half_w *= k;
  unit.half_h *= k;
  return unit;
}

// The first frame must show the target whole: shrink until its box fits, then place it inside.
Pose place_target_start(const Polygon& outline, Pose pose, const Frame& f, Rng& rng) {
  const double margin = 2.0;
  for (;;) {
    const Bounds b = bounds_of(place_outline(outline, pose));
    if (b.width() <= f.width - 2 * margin && b.height() <= f.height - 2 * margin) {
      pose.cx = rng.uniform(margin - b.x0, f.width - margin - b.x1);
      pose.cy = rng.uniform(margin - b.y0, f.height - margin - b.y1);
      return pose;
    }
    pose.half_w *= 0.95;
    pose.half_h *= 0.95;
  }
}

MotionKind random_motion_kind(Rng& rng) {
  return MotionKind(rng.weighted({0.18, 0.14, 0.18, 0.18, 0.1, 0.12, 0.1}));
}

const char* adverb_for_speed(double pixels_per_frame_at_720p) {
  if (pixels_per_frame_at_720p < 2.5) return "slowly";
  if (pixels_per_frame_at_720p < 8.0) return "moderately";
  return "quickly";
}

// True when nothing of `other` is near the target in the first frame (so the target starts
// unoccluded and not confused with a neighbour).
bool clear_of_target_at_start(const Actor& other, const Actor& target, double margin) {
  return !box_at(other, 0).inflated(margin).intersects(box_at(target, 0));
}

Actor make_target(const Frame& f, SceneFacts& facts, Rng& rng) {
  Actor target;
  target.role = ActorRole::kTarget;
  const ShapeKind shape = random_shape_kind(rng);
  target.outline = make_outline(shape, rng);
  target.recipe = random_texture_recipe(rng);
  facts.shape = shape_name(shape);
  facts.texture = texture_name(target.recipe.kind);

  // At least 64 pixels, so even a tiny test frame shows a target that can be seen.
  const double area = std::max(rng.log_uniform(kMinAreaFraction, kMaxAreaFraction) * f.width * f.height, 64.0);
  const double aspect = rng.log_uniform(1.0 / 3.0, 3.0);
  const double angle = rng.chance(0.5) ? 0.0 : rng.uniform(-kPi, kPi);
  const Pose start = place_target_start(target.outline, sized_pose(target.outline, area, aspect, angle), f, rng);

  const MotionKind motion = random_motion_kind(rng);
  const MotionBounds bounds{f.width, f.height, rng.chance(0.3), kMinAreaFraction, kMaxAreaFraction};
  double speed = (motion == MotionKind::kHovering ? rng.uniform(0.2, 1.5) : rng.log_uniform(0.4, 20.0)) * f.scale;
  if (bounds.may_leave) speed = std::max(speed, rng.uniform(4.0, 12.0) * f.scale);  // so it gets out and back
  target.poses = simulate_motion(motion, start, target.outline, f.frames, speed, bounds, rng);

  facts.motion = motion_name(motion);
  facts.may_leave_frame = bounds.may_leave;
  double travelled = 0;
  for (size_t t = 1; t < target.poses.size(); ++t)
    travelled += std::hypot(target.poses[t].cx - target.poses[t - 1].cx, target.poses[t].cy - target.poses[t - 1].cy);
  facts.mean_speed = target.poses.size() > 1 ? travelled / double(target.poses.size() - 1) : 0.0;
  facts.motion_adverb = adverb_for_speed(facts.mean_speed / f.scale);
  return target;
}

int event_frame(const Frame& f, Rng& rng) {
  const int first = std::max(1, int(f.frames * 0.15)), last = std::max(first, int(f.frames * 0.9) - 1);
  return std::min(rng.range(first, last), f.frames - 1);
}

Vec2 random_velocity(double lo, double hi, Rng& rng) {
  const double speed = rng.uniform(lo, hi), heading = rng.uniform(0, 2 * kPi);
  return {speed * std::cos(heading), speed * std::sin(heading)};
}

// Something in front of the target's path at a chosen moment: a pillar the target passes behind,
// or a panel sliding across it.
Actor make_occluder(const Actor& target, const Frame& f, Rng& rng) {
  Actor occluder;
  occluder.role = ActorRole::kOccluder;
  occluder.recipe = random_texture_recipe(rng);
  const int te = event_frame(f, rng);
  const Pose& at = target.poses[size_t(te)];
  const Bounds tb = box_at(target, te);
  Pose pose;
  if (rng.chance(0.4)) {
    occluder.outline = make_outline(ShapeKind::kRectangle, rng);
    pose.half_w = std::max(tb.width() * rng.uniform(0.15, 0.7), 3.0 * f.scale);
    pose.half_h = f.height * rng.uniform(0.25, 0.6);
    pose.angle = rng.chance(0.7) ? 0.0 : rng.uniform(-0.3, 0.3);
  } else {
    const ShapeKind kind = random_shape_kind(rng);
    occluder.outline = make_outline(kind, rng);
    const double area = std::clamp(tb.width() * tb.height() * rng.log_uniform(0.4, 3.0), 0.003 * f.width * f.height,
                                   0.35 * f.width * f.height);
    pose = sized_pose(occluder.outline, area, rng.log_uniform(0.4, 2.5), rng.uniform(-kPi, kPi));
  }
  pose.cx = at.cx + rng.uniform(-0.6, 0.6) * tb.width();
  pose.cy = at.cy + rng.uniform(-0.6, 0.6) * tb.height();
  const Vec2 velocity = rng.chance(0.5) ? Vec2{0, 0} : random_velocity(0.5, 6.0, rng);
  const double spin = rng.chance(0.2) ? rng.uniform(-0.03, 0.03) : 0.0;
  occluder.poses = straight_path(pose, te, {velocity.x * f.scale, velocity.y * f.scale}, spin, f.frames);
  return occluder;
}

// Another object in the scene; a look-alike copies the target's shape and pattern with small
// changes, the hardest kind of distractor for a tracker.
Actor make_distractor(const Actor& target, const Frame& f, Rng& rng) {
  Actor other;
  other.role = ActorRole::kDistractor;
  other.look_alike = rng.chance(0.6);
  const Pose& t0 = target.poses[0];
  Pose pose;
  if (other.look_alike) {
    other.outline = target.outline;
    other.recipe = look_alike_recipe(target.recipe, rng);
    const double size = rng.uniform(0.75, 1.3);
    pose = {0, 0, t0.half_w * size, t0.half_h * size, t0.angle + (rng.chance(0.5) ? 0.0 : rng.uniform(-0.5, 0.5))};
  } else {
    other.outline = make_outline(random_shape_kind(rng), rng);
    other.recipe = random_texture_recipe(rng);
    pose = sized_pose(other.outline, rng.log_uniform(0.005, 0.12) * f.width * f.height, rng.log_uniform(0.4, 2.5),
                      rng.uniform(-kPi, kPi));
  }
  if (rng.chance(0.5)) {
    // Aimed to pass close by (or over) the target at a chosen moment.
    const int te = event_frame(f, rng);
    const Pose& at = target.poses[size_t(te)];
    const Bounds tb = box_at(target, te);
    const double reach = rng.uniform(0.0, 1.2), direction = rng.uniform(0, 2 * kPi);
    pose.cx = at.cx + reach * tb.width() * std::cos(direction);
    pose.cy = at.cy + reach * tb.height() * std::sin(direction);
    const Vec2 v = random_velocity(1.0, 10.0, rng);
    other.poses = straight_path(pose, te, {v.x * f.scale, v.y * f.scale}, rng.uniform(-0.02, 0.02), f.frames);
  } else {
    pose.cx = rng.uniform(0, f.width);
    pose.cy = rng.uniform(0, f.height);
    const MotionBounds bounds{f.width, f.height, true, 0.002, kMaxAreaFraction};
    other.poses = simulate_motion(random_motion_kind(rng), pose, other.outline, f.frames,
                                  rng.log_uniform(0.5, 12.0) * f.scale, bounds, rng);
  }
  return other;
}

// A camera that stays, pans steadily, or shakes: the backdrop moves under the objects.
std::vector<CameraOffset> make_camera(const Frame& f, SceneFacts& facts, int* margin_x, int* margin_y, Rng& rng) {
  std::vector<double> ox(static_cast<size_t>(f.frames), 0.0), oy(static_cast<size_t>(f.frames), 0.0);
  switch (rng.weighted({0.4, 0.4, 0.2})) {
    case 0: facts.camera = "static"; break;
    case 1: {
      facts.camera = "panning";
      Vec2 v = random_velocity(0.5, 4.0, rng);
      const double travel = std::hypot(v.x, v.y) * f.frames, limit = 0.4 * f.width / f.scale;
      if (travel > limit) v = {v.x * limit / travel, v.y * limit / travel};
      for (int t = 0; t < f.frames; ++t) ox[size_t(t)] = v.x * f.scale * t, oy[size_t(t)] = v.y * f.scale * t;
      break;
    }
    default: {
      facts.camera = "shaking";
      const double amplitude = rng.uniform(1.0, 6.0) * f.scale;
      double w[4], p[4];
      for (int i = 0; i < 4; ++i) w[i] = 2 * kPi / rng.uniform(3.0, 12.0), p[i] = rng.uniform(0, 2 * kPi);
      for (int t = 0; t < f.frames; ++t) {
        ox[size_t(t)] = amplitude * (std::sin(w[0] * t + p[0]) + 0.5 * std::sin(w[1] * t + p[1]));
        oy[size_t(t)] = amplitude * (std::sin(w[2] * t + p[2]) + 0.5 * std::sin(w[3] * t + p[3]));
      }
      break;
    }
  }
  double reach_x = 0, reach_y = 0;
  for (int t = 0; t < f.frames; ++t)
    reach_x = std::max(reach_x, std::fabs(ox[size_t(t)])), reach_y = std::max(reach_y, std::fabs(oy[size_t(t)]));
  *margin_x = int(std::ceil(reach_x)) + 1;
  *margin_y = int(std::ceil(reach_y)) + 1;
  std::vector<CameraOffset> camera(size_t(f.frames));
  for (int t = 0; t < f.frames; ++t)
    camera[size_t(t)] = {*margin_x + int(std::lround(ox[size_t(t)])), *margin_y + int(std::lround(oy[size_t(t)]))};
  return camera;
}

float smoothstep(double t) {
  t = std::clamp(t, 0.0, 1.0);
  return float(t * t * (3 - 2 * t));
}

std::vector<Lighting> make_lighting(const Frame& f, SceneFacts& facts, Rng& rng) {
  std::vector<Lighting> lighting(size_t(f.frames));
  switch (rng.weighted({0.35, 0.3, 0.15, 0.2})) {
    case 0: facts.lighting = "constant"; break;
    case 1: {
      facts.lighting = "gradual change";
      float from[3], to[3];
      const double g0 = rng.uniform(0.6, 1.3), g1 = rng.uniform(0.6, 1.3);
      for (int c = 0; c < 3; ++c)
        from[c] = float(g0 * rng.uniform(0.9, 1.1)), to[c] = float(g1 * rng.uniform(0.9, 1.1));
      const int begin = rng.range(0, f.frames / 2), length = std::max(1, rng.range(f.frames / 4, f.frames));
      for (int t = 0; t < f.frames; ++t) {
        const float s = smoothstep(double(t - begin) / length);
        for (int c = 0; c < 3; ++c) lighting[size_t(t)].gain[c] = from[c] + (to[c] - from[c]) * s;
      }
      break;
    }
    case 2: {
      facts.lighting = "sudden change";
      float level = 1.0f;
      std::vector<float> gain(size_t(f.frames), level);
      const int events = rng.range(1, 3);
      for (int e = 0; e < events; ++e) {
        const int at = rng.range(1, std::max(1, f.frames - 1)), ramp = rng.range(1, 4);
        const float next = float(rng.uniform(0.45, 1.5));
        for (int t = at; t < f.frames; ++t)
          gain[size_t(t)] = gain[size_t(at - 1)] + (next - gain[size_t(at - 1)]) * smoothstep(double(t - at + 1) / ramp);
      }
      for (int t = 0; t < f.frames; ++t)
        for (int c = 0; c < 3; ++c) lighting[size_t(t)].gain[c] = gain[size_t(t)];
      break;
    }
    default: {
      facts.lighting = "moving light";
      const double ax = rng.uniform(0.15, 0.6), ay = rng.uniform(0.0, 0.4);
      const double w = 2 * kPi / rng.uniform(40, 200), p = rng.uniform(0, 2 * kPi);
      for (int t = 0; t < f.frames; ++t) {
        lighting[size_t(t)].slope_x = float(ax * std::sin(w * t + p));
        lighting[size_t(t)].slope_y = float(ay * std::cos(w * t + p));
      }
      break;
    }
  }
  return lighting;
}

}  // namespace

Vec2 Actor::blur_at(int frame) const {
  if (exposure <= 0 || poses.size() < 2) return {0, 0};
  const size_t before = size_t(std::max(frame - 1, 0));
  const size_t after = std::min(size_t(frame) + 1, poses.size() - 1);
  const double steps = double(after - before);
  return {exposure * (poses[after].cx - poses[before].cx) / steps, exposure * (poses[after].cy - poses[before].cy) / steps};
}

Scene make_scene(uint64_t seed, int width, int height, int frames) {
  Rng root(seed);
  // One stream per part, so that changing how one part draws numbers leaves the others unchanged.
  Rng target_rng = root.fork(), occluder_rng = root.fork(), distractor_rng = root.fork(), camera_rng = root.fork(),
      backdrop_rng = root.fork(), light_rng = root.fork(), blur_rng = root.fork();

  const Frame f{width, height, frames, std::sqrt(double(width) * height / (1280.0 * 720.0))};
  Scene scene;
  scene.width = width;
  scene.height = height;
  scene.frames = frames;
  SceneFacts& facts = scene.facts;

  Actor target = make_target(f, facts, target_rng);

  // Nothing may touch the target's box in the first frame, blur streaks included.
  facts.exposure = blur_rng.chance(0.35) ? 0.0 : blur_rng.uniform(0.3, 1.0);
  const double clearance = 4.0 * f.scale + 2.0;

  std::vector<Actor> occluders;
  const int occluder_count = occluder_rng.weighted({0.25, 0.4, 0.25, 0.1});
  for (int i = 0; i < occluder_count; ++i)
    for (int attempt = 0; attempt < kPlacementAttempts; ++attempt) {
      Actor occluder = make_occluder(target, f, occluder_rng);
      occluder.exposure = facts.exposure;
      const Vec2 blur = occluder.blur_at(0);
      if (!clear_of_target_at_start(occluder, target, clearance + std::hypot(blur.x, blur.y))) continue;
      occluders.push_back(std::move(occluder));
      break;
    }

  std::vector<Actor> behind, in_front;
  const int distractor_count = distractor_rng.weighted({0.3, 0.3, 0.2, 0.12, 0.08});
  for (int i = 0; i < distractor_count; ++i) {
    const bool front = distractor_rng.chance(0.4);
    for (int attempt = 0; attempt < kPlacementAttempts; ++attempt) {
      Actor other = make_distractor(target, f, distractor_rng);
      other.exposure = facts.exposure;
      const Vec2 blur = other.blur_at(0);
      if (!clear_of_target_at_start(other, target, clearance + std::hypot(blur.x, blur.y))) continue;
      facts.look_alikes += other.look_alike ? 1 : 0;
      (front ? in_front : behind).push_back(std::move(other));
      break;
    }
  }
  facts.occluders = int(occluders.size());
  facts.distractors = int(behind.size() + in_front.size());
  target.exposure = facts.exposure;

  for (Actor& a : behind) scene.actors.push_back(std::move(a));
  scene.target = int(scene.actors.size());
  scene.actors.push_back(std::move(target));
  for (Actor& a : in_front) scene.actors.push_back(std::move(a));
  for (Actor& a : occluders) scene.actors.push_back(std::move(a));
  // Textures last: placement may try a dozen candidates, and a texture costs milliseconds.
  for (Actor& a : scene.actors) a.texture = make_texture(a.recipe, kTextureSize);

  int margin_x = 0, margin_y = 0;
  scene.camera = make_camera(f, facts, &margin_x, &margin_y, camera_rng);
  const BackgroundKind backdrop = random_background_kind(backdrop_rng);
  facts.background = background_name(backdrop);
  scene.backdrop = make_background(backdrop, width + 2 * margin_x, height + 2 * margin_y, f.scale, backdrop_rng);
  scene.lighting = make_lighting(f, facts, light_rng);
  return scene;
}

}  // namespace kestrel::synth
