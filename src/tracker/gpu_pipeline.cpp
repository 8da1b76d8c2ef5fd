// The GPU path for CUDA engines. Every buffer the engines read or write lives on the device and is
// bound once, so the tracking engine replays its CUDA graph every step. A frame step is, on one
// stream: one upload of the part of each slot's frame its crop reads (with the crop jobs, from a
// pinned staging buffer), one crop kernel for all slots writing into the `x` binding, the
// tracking engine, one download of the three maps into pinned memory, and one synchronisation.
// The template engine writes z straight into the slot's part of the tracking engine's `z`
// binding, so z never leaves the device.
#include <cstring>

#include "core/error.h"
#include "tracker/gpu_runtime.h"
#include "tracker/pipeline.h"

namespace kestrel::tracker {
namespace {

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

int32_t crop_type(const TensorDesc& t, const std::string& path) {
  if (t.dtype == DataType::kFLOAT) return KESTREL_GPU_CROP_FLOAT32;
  if (t.dtype == DataType::kHALF) return KESTREL_GPU_CROP_FLOAT16;
  fail("{}: input '{}' is {}; the GPU crop writes float32 or float16", path, t.name, to_string(t.dtype));
}

void bind(ExecutionContext& context, const std::string& name, void* data, const std::string& path) {
  const Status s = context.set_tensor_address(name, data);
  KESTREL_CHECK(s.ok(), "{}: {}", path, s.message());
}

void check_frame(const RgbImage& frame, int slot) {
  KESTREL_CHECK(frame.width > 0 && frame.height > 0 &&
                    frame.pixels.size() == size_t(frame.width) * size_t(frame.height) * 3,
                "slot {}: the frame is {}x{} with {} bytes; expected a decoded RGB image of width*height*3 bytes",
                slot, frame.width, frame.height, frame.pixels.size());
}

class GpuPipeline final : public TrackerPipeline {
 public:
  explicit GpuPipeline(const PipelineSetup& setup)
      : s_(setup),
        template_type_(crop_type(s_.template_input, s_.template_path)),
        search_type_(crop_type(s_.search_input, s_.track_path)),
        template_in_(gpu::Buffer::Kind::kDevice, numel(s_.template_input.shape) * element_size(s_.template_input.dtype)),
        z_(gpu::Buffer::Kind::kDevice, size_t(s_.batch) * s_.z_numel * sizeof(float)),
        x_(gpu::Buffer::Kind::kDevice, numel(s_.search_input.shape) * element_size(s_.search_input.dtype)),
        maps_(gpu::Buffer::Kind::kDevice, maps_bytes()),
        maps_host_(gpu::Buffer::Kind::kPinned, maps_bytes()),
        staging_host_(gpu::Buffer::Kind::kPinned),
        staging_device_(gpu::Buffer::Kind::kDevice) {
    // Unused template samples and slots that never held a sequence stay zero.
    gpu::fill_zero(template_in_.data(), template_in_.bytes(), stream_);
    gpu::fill_zero(z_.data(), z_.bytes(), stream_);
    gpu::fill_zero(x_.data(), x_.bytes(), stream_);
    gpu::fill_zero(maps_.data(), maps_.bytes(), stream_);
    std::memset(maps_host_.data(), 0, maps_host_.bytes());
    if (s_.template_batch > 1) {
      // A template engine of a larger batch would write past the slot: its z goes to a buffer of
      // its own and sample 0 is copied into the slot.
      template_out_ = gpu::Buffer(gpu::Buffer::Kind::kDevice, size_t(s_.template_batch) * s_.z_numel * sizeof(float));
      bind(*s_.template_context, s_.template_output.name, template_out_.data(), s_.template_path);
    }
    bind(*s_.template_context, s_.template_input.name, template_in_.data(), s_.template_path);
    bind(*s_.track_context, "z", z_.data(), s_.track_path);
    bind(*s_.track_context, s_.search_input.name, x_.data(), s_.track_path);
    const size_t plane_bytes = plane() * sizeof(float) * size_t(s_.batch);
    std::byte* maps = static_cast<std::byte*>(maps_.data());
    bind(*s_.track_context, "score_map", maps, s_.track_path);
    bind(*s_.track_context, "size_map", maps + plane_bytes, s_.track_path);
    bind(*s_.track_context, "offset_map", maps + 3 * plane_bytes, s_.track_path);
    for (const TensorDesc& out : s_.extra_outputs) {  // pred_boxes: computed, never read
      extra_.emplace_back(gpu::Buffer::Kind::kDevice, numel(out.shape) * element_size(out.dtype));
      bind(*s_.track_context, out.name, extra_.back().data(), s_.track_path);
    }
    stream_.synchronize();
  }

  std::string describe() const override {
    return "crops on the GPU (one kernel per step), device bindings, one sync per step";
  }
  bool on_gpu() const override { return true; }

  void encode_template(int slot, const RgbImage& frame, const CropWindow& window) override {
    check_slot(slot);
    check_frame(frame, slot);
    const size_t staged = stage({SearchCrop{slot, &frame, window}}, {template_in_.data()});
    gpu::copy(staging_device_.data(), staging_host_.data(), staged, stream_);
    crop(1, s_.template_size, template_type_);
    float* z_slot = z_.as<float>() + size_t(slot) * s_.z_numel;
    if (s_.template_batch == 1 && bound_template_slot_ != slot) {
      // Straight into the slot. Rebinding makes the template engine capture its (small) CUDA graph
      // again, once per sequence at most; a single sequence keeps slot 0 and never rebinds.
      bind(*s_.template_context, s_.template_output.name, z_slot, s_.template_path);
      bound_template_slot_ = slot;
    }
    enqueue(*s_.template_context, s_.template_path);
    if (s_.template_batch > 1) gpu::copy(z_slot, template_out_.data(), s_.z_numel * sizeof(float), stream_);
    // The caller times the initialisation, and the staging buffer is reused by the next step.
    stream_.synchronize();
  }

  void crop_search(const std::vector<SearchCrop>& crops) override {
    std::vector<void*> outs;
    const size_t x_bytes = numel(s_.search_input.shape, 1) * element_size(s_.search_input.dtype);
    for (const SearchCrop& c : crops) {
      check_slot(c.slot);
      KESTREL_CHECK(c.frame != nullptr, "slot {}: no frame given", c.slot);
      check_frame(*c.frame, c.slot);
      outs.push_back(static_cast<std::byte*>(x_.data()) + size_t(c.slot) * x_bytes);
    }
    const size_t staged = stage(crops, outs);
    events_[0].record(stream_);
    gpu::copy(staging_device_.data(), staging_host_.data(), staged, stream_);
    events_[1].record(stream_);
    crop(int32_t(crops.size()), s_.search_size, search_type_);
    events_[2].record(stream_);
    cropped_ = true;
  }

  void track() override {
    KESTREL_CHECK(cropped_, "the GPU tracker ran a step without search crops");
    cropped_ = false;
    enqueue(*s_.track_context, s_.track_path);
    events_[3].record(stream_);
    gpu::copy(maps_host_.data(), maps_.data(), maps_bytes(), stream_);  // all three maps in one copy
    events_[4].record(stream_);
    stream_.synchronize();
    times_.upload += 1e-3 * events_[1].since(events_[0]);
    times_.crop += 1e-3 * events_[2].since(events_[1]);
    times_.inference += 1e-3 * events_[3].since(events_[2]);
    times_.download += 1e-3 * events_[4].since(events_[3]);
  }

  const float* score_map(int slot) const override { return maps_host_.as<float>() + size_t(slot) * plane(); }
  const float* size_map(int slot) const override {
    return maps_host_.as<float>() + size_t(s_.batch) * plane() + size_t(slot) * 2 * plane();
  }
  const float* offset_map(int slot) const override {
    return maps_host_.as<float>() + 3 * size_t(s_.batch) * plane() + size_t(slot) * 2 * plane();
  }
  DeviceTimes device_times() const override { return times_; }

 private:
  size_t plane() const { return size_t(s_.feat) * size_t(s_.feat); }
  size_t maps_bytes() const { return 5 * size_t(s_.batch) * plane() * sizeof(float); }  // score 1 + size 2 + offset 2

  void check_slot(int slot) const {
    KESTREL_CHECK(slot >= 0 && slot < s_.batch, "slot {} is outside the engine's batch of {}", slot, s_.batch);
  }

  // Writes the job table and, after it, the region of each frame that its crop reads into the
  // pinned staging buffer, laid out as the device copy will be; returns the bytes to upload.
  // Every call is followed by a synchronisation before the next (init and track() both wait), so
  // the staging buffers are free to be rewritten or grown here.
  size_t stage(const std::vector<SearchCrop>& crops, const std::vector<void*>& outs) {
    constexpr size_t kAlign = 256;
    const size_t table_bytes = align_up(crops.size() * sizeof(KestrelGpuCropJob), kAlign);
    std::vector<FrameRegion> regions;
    std::vector<size_t> offsets;
    size_t total = table_bytes;
    for (const SearchCrop& c : crops) {
      KESTREL_CHECK(c.window.size >= 1, "slot {}: a crop window of side {}", c.slot, c.window.size);
      regions.push_back(crop_region(c.window, c.frame->width, c.frame->height));
      offsets.push_back(total);
      total += align_up(size_t(regions.back().width) * size_t(regions.back().height) * 3, kAlign);
    }
    staging_host_.reserve(total);
    staging_device_.reserve(staging_host_.bytes());
    std::byte* host = static_cast<std::byte*>(staging_host_.data());
    const std::byte* device = static_cast<const std::byte*>(staging_device_.data());
    auto* jobs = reinterpret_cast<KestrelGpuCropJob*>(host);
    for (size_t i = 0; i < crops.size(); ++i) {
      const RgbImage& frame = *crops[i].frame;
      const FrameRegion& r = regions[i];
      const size_t row_bytes = size_t(r.width) * 3;
      for (int y = 0; y < r.height; ++y)
        std::memcpy(host + offsets[i] + size_t(y) * row_bytes, frame.row(r.y + y) + size_t(r.x) * 3, row_bytes);
      const CropWindow& w = crops[i].window;
      jobs[i] = KestrelGpuCropJob{reinterpret_cast<const uint8_t*>(device + offsets[i]),
                                  int64_t(row_bytes),
                                  r.x,
                                  r.y,
                                  frame.width,
                                  frame.height,
                                  w.x1,
                                  w.y1,
                                  w.size,
                                  outs[i]};
    }
    return total;
  }

  void crop(int32_t count, int out_size, int32_t type) {
    gpu::check(gpu::api().crop_resize_normalize(static_cast<const KestrelGpuCropJob*>(staging_device_.data()), count,
                                                out_size, type, stream_.handle()),
               "the tracker's GPU crop");
  }

  void enqueue(ExecutionContext& context, const std::string& path) {
    const Status s = context.enqueue(stream_.handle());
    KESTREL_CHECK(s.ok(), "{}: {}", path, s.message());
  }

  PipelineSetup s_;
  int32_t template_type_, search_type_;
  gpu::Buffer template_in_, template_out_, z_, x_, maps_, maps_host_, staging_host_, staging_device_;
  std::vector<gpu::Buffer> extra_;
  gpu::Stream stream_;  // after the buffers: destroyed (and drained) before they are freed
  gpu::Event events_[5];
  int bound_template_slot_ = -1;
  bool cropped_ = false;
  DeviceTimes times_;
};

}  // namespace

std::unique_ptr<TrackerPipeline> make_gpu_pipeline(const PipelineSetup& setup) {
  return std::make_unique<GpuPipeline>(setup);
}

}  // namespace kestrel::tracker
