// Where the tracker's crops are made and its engines run, frame step by frame step:
// HostPipeline (host crops into host buffers; engines of any device) or GpuPipeline (CUDA
// engines: the frames uploaded once, one crop kernel, device bindings, one sync per step).
// SmatNetworks picks one from the engines' device; BatchTracker drives it and decodes the maps.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kestrel/kestrel.h"
#include "tracker/crop.h"

namespace kestrel::tracker {

// Elements in the dimensions of `d` from `from` on (the whole tensor, or one sample with 1).
inline size_t numel(const Dims& d, size_t from = 0) {
  size_t n = 1;
  for (size_t i = from; i < d.size(); ++i) n *= size_t(d[i]);
  return n;
}

// The engines' facts a pipeline binds to (checked by SmatNetworks before).
struct PipelineSetup {
  ExecutionContext* template_context = nullptr;
  ExecutionContext* track_context = nullptr;
  std::string template_path, track_path;      // for messages
  TensorDesc template_input, template_output;  // [Bt,3,T,T] -> [Bt,C,Hz,Wz]
  TensorDesc search_input;                     // `x` [B,3,S,S]
  std::vector<TensorDesc> extra_outputs;       // the tracking engine's outputs besides the maps
  int batch = 1, template_batch = 1, template_size = 0, search_size = 0, feat = 0;
  size_t z_numel = 0;                          // per sample
};

// One slot's search crop of a frame step.
struct SearchCrop {
  int slot = 0;
  const RgbImage* frame = nullptr;
  CropWindow window;
};

// GPU time (seconds, CUDA events) of the frame steps so far; all zero on the host path.
struct DeviceTimes {
  double upload = 0, crop = 0, inference = 0, download = 0;
};

class TrackerPipeline {
 public:
  virtual ~TrackerPipeline() = default;
  virtual std::string describe() const = 0;  // e.g. "crops on the GPU, device bindings"
  virtual bool on_gpu() const = 0;

  // Crops the template at `window` from `frame`, runs the template engine and keeps the result
  // as `slot`'s z. Complete when it returns.
  virtual void encode_template(int slot, const RgbImage& frame, const CropWindow& window) = 0;
  // The search crops of the slots this step advances (each slot at most once). The GPU path only
  // queues the work; track() completes it.
  virtual void crop_search(const std::vector<SearchCrop>& crops) = 0;
  // One tracking inference over all slots; then the maps of the cropped slots can be read.
  virtual void track() = 0;
  virtual const float* score_map(int slot) const = 0;   // [F,F]
  virtual const float* size_map(int slot) const = 0;    // [2,F,F]
  virtual const float* offset_map(int slot) const = 0;  // [2,F,F]
  virtual DeviceTimes device_times() const { return {}; }
};

std::unique_ptr<TrackerPipeline> make_host_pipeline(const PipelineSetup& setup);
// Throws kestrel::Error when the GPU path cannot be set up (no CUDA plug-in, out of memory).
std::unique_ptr<TrackerPipeline> make_gpu_pipeline(const PipelineSetup& setup);

}  // namespace kestrel::tracker
