// SMAT's tracking loop for several sequences at once: each batch slot of the tracking engine
// holds one sequence (its template features and its current box), and one inference advances
// every occupied slot by a frame. With a batch-1 engine it is the plain single-sequence loop.
// A slot's result does not depend on what the other slots hold.
#pragma once
#include <string>
#include <vector>

#include "synth/image.h"
#include "tracker/box.h"
#include "tracker/smat_networks.h"

namespace kestrel::tracker {

using synth::RgbImage;

// The official test settings (SMAT's mobilevitv2_track parameters and clip_box margin).
struct TrackerParams {
  double template_factor = 2.0;
  double search_factor = 4.0;
  double clip_margin = 10.0;
};

class BatchTracker {
 public:
  explicit BatchTracker(SmatNetworks& networks, TrackerParams params = {});

  int slots() const { return int(slots_.size()); }
  bool occupied(int slot) const { return slots_[size_t(slot)].occupied; }

  // Starts a sequence in `slot`: crops the template around `box` (factor 2) and runs the template
  // engine once. Throws kestrel::Error for a box without area.
  void init(int slot, const RgbImage& frame, const Box& box);
  void release(int slot) { slots_[size_t(slot)].occupied = false; }

  // Advances every slot whose frames[slot] is non-null (it must be occupied) by one frame: search
  // crops, one tracking inference, Hann-windowed decode, clip. Other slots are left as they are.
  void track(const std::vector<const RgbImage*>& frames);

  const Box& box(int slot) const { return slots_[size_t(slot)].box; }

  // Where track() spends its time, summed over calls (seconds). Host wall time per stage: crop
  // (the host crops; on the GPU path staging the frames and queueing the upload and the crop
  // kernel), inference (on the GPU path: queueing the engine until the maps are back, so the wait
  // for the upload and the crop is in it) and decode. On the GPU path `device` splits the GPU's
  // share with CUDA events.
  struct StageTimes {
    double crop = 0, inference = 0, decode = 0;
    size_t steps = 0, frames = 0;
    bool on_gpu = false;
    DeviceTimes device;  // upload, crop kernel, tracking engine, download of the maps
  };
  const StageTimes& stage_times() const { return times_; }

 private:
  struct Slot {
    bool occupied = false;
    Box box;
    double resize_factor = 0;
  };
  SmatNetworks& networks_;
  TrackerParams params_;
  std::vector<float> window_;
  std::vector<Slot> slots_;
  std::vector<SearchCrop> crops_;  // this step's, kept to reuse its memory
  StageTimes times_;
};

// "N steps, M frames; per step: crop .. ms, inference .. ms, decode .. ms[; GPU per step: upload
// .. ms, crop .. ms, tracking engine .. ms, maps back .. ms]", for -v of `kestrel track` / `eval`.
std::string format_stage_times(const BatchTracker::StageTimes& times);

// One sequence: init(frame, box), then track(frame) per frame.
class SmatTracker {
 public:
  explicit SmatTracker(SmatNetworks& networks, TrackerParams params = {}) : batch_(networks, params) {}
  void init(const RgbImage& frame, const Box& box) { batch_.init(0, frame, box); }
  Box track(const RgbImage& frame);
  const BatchTracker::StageTimes& stage_times() const { return batch_.stage_times(); }

 private:
  BatchTracker batch_;
};

}  // namespace kestrel::tracker
