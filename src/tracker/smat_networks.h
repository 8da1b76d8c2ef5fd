// SMAT's two engines and their execution contexts, with the host buffers bound to their inputs
// and outputs once, at load time: a frame only fills buffers and calls infer().
//
// The template engine maps `template` [Bt,3,T,T] to `z` [Bt,C,Hz,Wz]; the tracking engine maps
// `z` [B,C,Hz,Wz] and `x` [B,3,S,S] to `score_map` [B,1,F,F], `size_map` [B,2,F,F] and
// `offset_map` [B,2,F,F] (its `pred_boxes` is ignored: the tracker decodes with a Hann window).
// B > 1 (a batched engine) lets B sequences share one inference; sizes come from the engines.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kestrel/kestrel.h"
#include "tracker/engine_loader.h"

namespace kestrel::tracker {

class SmatNetworks {
 public:
  // Loads both files (engines, or ONNX models built on the fly); throws kestrel::Error naming
  // the file and the tensor when one does not have SMAT's inputs and outputs.
  SmatNetworks(const std::string& template_path, const std::string& track_path, const EngineLoadOptions& options,
               ILogger& logger);
  ~SmatNetworks();

  int batch() const { return batch_; }
  int template_size() const { return template_size_; }
  int search_size() const { return search_size_; }
  int feat_size() const { return feat_; }
  size_t z_numel() const { return z_numel_; }  // per sample

  // Template input of one sample, [3,T,T]; encode_template() runs the template engine on it
  // and copies the sample's z (z_numel() floats) to `z_out`.
  float* template_input() { return template_in_.data(); }
  void encode_template(float* z_out);

  // Tracking inputs of batch slot `slot`: the search crop [3,S,S] and z.
  float* search_input(int slot) { return x_.data() + size_t(slot) * x_numel_; }
  float* z_input(int slot) { return z_.data() + size_t(slot) * z_numel_; }
  void track();  // one inference over all B slots
  const float* score_map(int slot) const { return score_.data() + size_t(slot) * feat_ * feat_; }
  const float* size_map(int slot) const { return size_.data() + size_t(slot) * 2 * feat_ * feat_; }
  const float* offset_map(int slot) const { return offset_.data() + size_t(slot) * 2 * feat_ * feat_; }

  std::string describe() const;  // "template T [..] -> z [..]; track batch B, search S, map F"

 private:
  std::unique_ptr<Engine> template_engine_, track_engine_;
  std::unique_ptr<ExecutionContext> template_context_, track_context_;
  std::string template_path_, track_path_;
  int batch_ = 1, template_batch_ = 1, template_size_ = 0, search_size_ = 0, feat_ = 0;
  size_t z_numel_ = 0, x_numel_ = 0;
  std::vector<float> template_in_, template_z_, z_, x_, score_, size_, offset_;
  std::vector<std::vector<float>> unused_outputs_;  // pred_boxes and any extra output
};

}  // namespace kestrel::tracker
