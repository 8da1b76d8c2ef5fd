#include "tracker/batch_tracker.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "tracker/decode.h"

namespace kestrel::tracker {

BatchTracker::BatchTracker(SmatNetworks& networks, TrackerParams params)
    : networks_(networks),
      params_(params),
      window_(hann_window_2d(networks.feat_size())),
      slots_(size_t(networks.batch())) {
  times_.on_gpu = networks.pipeline().on_gpu();
}

void BatchTracker::init(int slot, const RgbImage& frame, const Box& box) {
  KESTREL_CHECK(slot >= 0 && slot < slots(), "slot {} is outside the engine's batch of {}", slot, slots());
  KESTREL_CHECK(std::isfinite(box.x) && std::isfinite(box.y) && box.w > 0 && box.h > 0 && std::isfinite(box.w) &&
                    std::isfinite(box.h),
                "the initial box {},{},{},{} has no area", box.x, box.y, box.w, box.h);
  const CropWindow window = crop_window(box, params_.template_factor, networks_.template_size());
  networks_.pipeline().encode_template(slot, frame, window);
  slots_[size_t(slot)] = {true, box, 0};
}

namespace {
using Clock = std::chrono::steady_clock;
double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
}  // namespace

void BatchTracker::track(const std::vector<const RgbImage*>& frames) {
  const auto start = Clock::now();
  KESTREL_CHECK(frames.size() == slots_.size(), "{} frames given for {} slots", frames.size(), slots_.size());
  TrackerPipeline& pipeline = networks_.pipeline();
  crops_.clear();
  for (size_t s = 0; s < slots_.size(); ++s) {
    if (frames[s] == nullptr) continue;
    KESTREL_CHECK(slots_[s].occupied, "slot {} holds no sequence: init it first", s);
    const CropWindow window = crop_window(slots_[s].box, params_.search_factor, networks_.search_size());
    crops_.push_back({int(s), frames[s], window});
    slots_[s].resize_factor = window.resize_factor;
  }
  if (crops_.empty()) return;
  pipeline.crop_search(crops_);
  const auto cropped = Clock::now();
  pipeline.track();
  const auto inferred = Clock::now();
  for (size_t s = 0; s < slots_.size(); ++s) {
    if (frames[s] == nullptr) continue;
    const int slot = int(s);
    const CropBox peak = decode_at_peak(pipeline.score_map(slot), pipeline.size_map(slot), pipeline.offset_map(slot),
                                        window_.data(), networks_.feat_size());
    const Box mapped = map_box_back(peak, slots_[s].box, slots_[s].resize_factor, networks_.search_size());
    slots_[s].box = clip_box(mapped, frames[s]->width, frames[s]->height, params_.clip_margin);
    ++times_.frames;
  }
  const auto decoded = Clock::now();
  times_.crop += seconds_between(start, cropped);
  times_.inference += seconds_between(cropped, inferred);
  times_.decode += seconds_between(inferred, decoded);
  times_.device = pipeline.device_times();
  ++times_.steps;
}

std::string format_stage_times(const BatchTracker::StageTimes& t) {
  if (t.steps == 0) return "no frame tracked";
  const double ms = 1e3 / double(t.steps);
  std::string text = fmt::format("{} steps, {} frames ({}); per step: crop {:.3f} ms, inference {:.3f} ms, decode {:.3f} ms",
                                 t.steps, t.frames, t.on_gpu ? "GPU path" : "host path", ms * t.crop,
                                 ms * t.inference, ms * t.decode);
  if (t.on_gpu)
    text += fmt::format("; GPU per step: upload {:.3f} ms, crop {:.3f} ms, tracking engine {:.3f} ms, maps back {:.3f} ms",
                        ms * t.device.upload, ms * t.device.crop, ms * t.device.inference, ms * t.device.download);
  return text;
}

Box SmatTracker::track(const RgbImage& frame) {
  std::vector<const RgbImage*> frames(size_t(batch_.slots()), nullptr);
  frames[0] = &frame;
  batch_.track(frames);
  return batch_.box(0);
}

}  // namespace kestrel::tracker
