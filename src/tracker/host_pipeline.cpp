// The host path: crops made on the host straight into host buffers bound to the engines once; a
// frame step is crop, infer() (a CUDA engine stages the buffers through its own device memory),
// read the maps. Works for engines of any device.
#include <cstring>

#include "core/error.h"
#include "tracker/pipeline.h"

namespace kestrel::tracker {
namespace {

void bind(ExecutionContext& context, const std::string& name, void* data, const std::string& path) {
  const Status s = context.set_tensor_address(name, data);
  KESTREL_CHECK(s.ok(), "{}: {}", path, s.message());
}

class HostPipeline final : public TrackerPipeline {
 public:
  explicit HostPipeline(const PipelineSetup& setup) : s_(setup) {
    const size_t plane = size_t(s_.feat) * size_t(s_.feat);
    // Unused template slots stay zero.
    template_in_.assign(numel(s_.template_input.shape), 0.0f);
    template_z_.assign(size_t(s_.template_batch) * s_.z_numel, 0.0f);
    z_.assign(size_t(s_.batch) * s_.z_numel, 0.0f);
    x_.assign(numel(s_.search_input.shape), 0.0f);
    score_.assign(size_t(s_.batch) * plane, 0.0f);
    size_.assign(size_t(s_.batch) * 2 * plane, 0.0f);
    offset_.assign(size_t(s_.batch) * 2 * plane, 0.0f);
    bind(*s_.template_context, s_.template_input.name, template_in_.data(), s_.template_path);
    bind(*s_.template_context, s_.template_output.name, template_z_.data(), s_.template_path);
    bind(*s_.track_context, "z", z_.data(), s_.track_path);
    bind(*s_.track_context, s_.search_input.name, x_.data(), s_.track_path);
    bind(*s_.track_context, "score_map", score_.data(), s_.track_path);
    bind(*s_.track_context, "size_map", size_.data(), s_.track_path);
    bind(*s_.track_context, "offset_map", offset_.data(), s_.track_path);
    for (const TensorDesc& out : s_.extra_outputs) {
      extra_.emplace_back(numel(out.shape));
      bind(*s_.track_context, out.name, extra_.back().data(), s_.track_path);
    }
  }

  std::string describe() const override { return "crops on the host, host buffers"; }
  bool on_gpu() const override { return false; }

  void encode_template(int slot, const RgbImage& frame, const CropWindow& window) override {
    crop_resize_normalize(frame, window, s_.template_size, template_in_.data());
    const Status s = s_.template_context->infer();
    KESTREL_CHECK(s.ok(), "{}: {}", s_.template_path, s.message());
    std::memcpy(z_.data() + size_t(slot) * s_.z_numel, template_z_.data(), s_.z_numel * sizeof(float));
  }

  void crop_search(const std::vector<SearchCrop>& crops) override {
    const size_t x_numel = 3 * size_t(s_.search_size) * size_t(s_.search_size);
    for (const SearchCrop& c : crops)
      crop_resize_normalize(*c.frame, c.window, s_.search_size, x_.data() + size_t(c.slot) * x_numel);
  }

  void track() override {
    const Status s = s_.track_context->infer();
    KESTREL_CHECK(s.ok(), "{}: {}", s_.track_path, s.message());
  }

  const float* score_map(int slot) const override { return score_.data() + size_t(slot) * plane(); }
  const float* size_map(int slot) const override { return size_.data() + size_t(slot) * 2 * plane(); }
  const float* offset_map(int slot) const override { return offset_.data() + size_t(slot) * 2 * plane(); }

 private:
  size_t plane() const { return size_t(s_.feat) * size_t(s_.feat); }
  PipelineSetup s_;
  std::vector<float> template_in_, template_z_, z_, x_, score_, size_, offset_;
  std::vector<std::vector<float>> extra_;  // pred_boxes and any other output
};

}  // namespace

std::unique_ptr<TrackerPipeline> make_host_pipeline(const PipelineSetup& setup) {
  return std::make_unique<HostPipeline>(setup);
}

}  // namespace kestrel::tracker
