// SMAT's two engines and their execution contexts, loaded once per run, checked, and bound once
// to the buffers of a pipeline (pipeline.h): a frame step only crops, runs and reads the maps.
//
// The template engine maps `template` [Bt,3,T,T] to `z` [Bt,C,Hz,Wz]; the tracking engine maps
// `z` [B,C,Hz,Wz] and `x` [B,3,S,S] to `score_map` [B,1,F,F], `size_map` [B,2,F,F] and
// `offset_map` [B,2,F,F] (its `pred_boxes` is ignored: the tracker decodes with a Hann window).
// B > 1 (a batched engine) lets B sequences share one inference; sizes come from the engines.
//
// The pipeline follows the engines' device: two CUDA engines get the GPU path (crops on the GPU,
// device bindings), anything else the host path. KESTREL_TRACKER_HOST_PATH=1 forces the host path
// (to compare the two).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kestrel/kestrel.h"
#include "tracker/engine_loader.h"
#include "tracker/pipeline.h"

namespace kestrel::tracker {

enum class PipelineChoice {
  kAuto,  // the GPU path for CUDA engines (unless KESTREL_TRACKER_HOST_PATH=1), else the host path
  kHost,  // host crops and host buffers, whatever the engines' device
  kGpu,   // crops on the GPU; an error unless both engines are CUDA engines
};

class SmatNetworks {
 public:
  // Loads both files (engines, or ONNX models built on the fly); throws kestrel::Error naming
  // the file and the tensor when one does not have SMAT's inputs and outputs.
  SmatNetworks(const std::string& template_path, const std::string& track_path, const EngineLoadOptions& options,
               ILogger& logger, PipelineChoice choice = PipelineChoice::kAuto);
  ~SmatNetworks();

  int batch() const { return batch_; }
  int template_size() const { return template_size_; }
  int search_size() const { return search_size_; }
  int feat_size() const { return feat_; }
  size_t z_numel() const { return z_numel_; }  // per sample

  TrackerPipeline& pipeline() { return *pipeline_; }
  const TrackerPipeline& pipeline() const { return *pipeline_; }

  // "template T [..] -> z [..]; track batch B, search S, map F; crops on ..."
  std::string describe() const;

 private:
  std::unique_ptr<Engine> template_engine_, track_engine_;
  std::unique_ptr<ExecutionContext> template_context_, track_context_;
  std::unique_ptr<TrackerPipeline> pipeline_;  // declared after the contexts: destroyed before them
  std::string template_path_, track_path_;
  int batch_ = 1, template_size_ = 0, search_size_ = 0, feat_ = 0;
  size_t z_numel_ = 0;
};

}  // namespace kestrel::tracker
