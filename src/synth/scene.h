// A synthetic tracking sequence, fully decided before any pixel is drawn: backdrop and camera path,
// the target and the other objects with a pose per frame, and the lighting per frame. Everything
// follows from one seed, so any frame can be rendered again, alone, identically.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "synth/geometry.h"
#include "synth/image.h"
#include "synth/texture.h"

namespace kestrel::synth {

enum class ActorRole { kTarget, kDistractor, kOccluder };

struct Actor {
  ActorRole role = ActorRole::kDistractor;
  bool look_alike = false;  // a distractor made to resemble the target
  Polygon outline;          // in [-1, 1]^2, placed by each pose
  TextureRecipe recipe;
  Texture texture;          // made from the recipe once the scene is settled
  std::vector<Pose> poses;  // one per frame
  // Fraction of the frame interval the shutter is open: the blur streak is this times the
  // distance moved per frame. 0 draws the object sharp.
  double exposure = 0;

  Vec2 blur_at(int frame) const;
};

// Light on the whole scene in one frame: gains per channel, and a brightness slope across the
// frame (the relative change from the centre to the right edge, and to the bottom edge).
struct Lighting {
  float gain[3] = {1, 1, 1};
  float slope_x = 0, slope_y = 0;
  bool is_neutral() const {
    return gain[0] == 1 && gain[1] == 1 && gain[2] == 1 && slope_x == 0 && slope_y == 0;
  }
};

// What the sequence shows, in words, for meta_info.ini.
struct SceneFacts {
  std::string shape, texture, motion, motion_adverb, background, lighting, camera;
  int occluders = 0, distractors = 0, look_alikes = 0;
  bool may_leave_frame = false;
  double exposure = 0;
  double mean_speed = 0;  // of the target's centre, pixels per frame
};

struct CameraOffset {
  int x = 0, y = 0;  // top-left corner of the frame inside the backdrop
};

struct Scene {
  int width = 0, height = 0, frames = 0;
  RgbImage backdrop;                 // larger than the frame by the camera's travel
  std::vector<CameraOffset> camera;  // per frame
  std::vector<Actor> actors;         // in drawing order: later ones cover earlier ones
  int target = 0;                    // index into actors
  std::vector<Lighting> lighting;    // per frame
  SceneFacts facts;
};

// The target is fully visible in the first frame, as a tracker's initialisation requires.
Scene make_scene(uint64_t seed, int width, int height, int frames);

}  // namespace kestrel::synth
