#include "tracker/smat_networks.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/error.h"

namespace kestrel::tracker {
namespace {

std::string shape_text(const Dims& d) { return fmt::format("[{}]", fmt::join(d, ",")); }

const TensorDesc& find_tensor(const std::vector<TensorDesc>& list, const std::string& name, const std::string& path,
                              const char* what) {
  auto it = std::find_if(list.begin(), list.end(), [&](const TensorDesc& t) { return t.name == name; });
  if (it == list.end()) {
    std::vector<std::string> names;
    for (const TensorDesc& t : list) names.push_back(t.name);
    fail("{}: the SMAT tracking network needs an {} named '{}'; this one has {}", path, what, name,
         fmt::join(names, ", "));
  }
  return *it;
}

// Checks rank, float32 and the dimensions given (-1: any).
void expect_shape(const TensorDesc& t, const Dims& want, const std::string& path) {
  bool ok = t.dtype == DataType::kFLOAT && t.shape.size() == want.size();
  for (size_t i = 0; ok && i < want.size(); ++i) ok = want[i] < 0 ? t.shape[i] >= 1 : t.shape[i] == want[i];
  if (!ok) {
    std::vector<std::string> parts;
    for (int64_t d : want) parts.push_back(d < 0 ? "?" : std::to_string(d));
    fail("{}: '{}' is {} {}, the tracker expects float32 [{}]", path, t.name, to_string(t.dtype), shape_text(t.shape),
         fmt::join(parts, ","));
  }
}

bool force_host_path() {
  const char* v = std::getenv("KESTREL_TRACKER_HOST_PATH");
  return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

}  // namespace

SmatNetworks::SmatNetworks(const std::string& template_path, const std::string& track_path,
                           const EngineLoadOptions& options, ILogger& logger, PipelineChoice choice)
    : template_path_(template_path), track_path_(track_path) {
  template_engine_ = load_engine(template_path, {options.config, 1}, logger);
  track_engine_ = load_engine(track_path, options, logger);

  // Template engine: one input, one output.
  const auto t_in = template_engine_->inputs(), t_out = template_engine_->outputs();
  KESTREL_CHECK(t_in.size() == 1 && t_out.size() == 1,
                "{}: a SMAT template network has one input and one output; this one has {} and {}", template_path,
                t_in.size(), t_out.size());
  expect_shape(t_in[0], {-1, 3, -1, -1}, template_path);
  KESTREL_CHECK(t_in[0].shape[2] == t_in[0].shape[3], "{}: the template input {} is not square", template_path,
                shape_text(t_in[0].shape));
  expect_shape(t_out[0], {t_in[0].shape[0], -1, -1, -1}, template_path);
  template_size_ = int(t_in[0].shape[2]);
  z_numel_ = numel(t_out[0].shape, 1);

  // Tracking engine: z and x in, the three maps out, all with the same batch.
  const auto k_in = track_engine_->inputs(), k_out = track_engine_->outputs();
  const TensorDesc& x = find_tensor(k_in, "x", track_path, "input");
  expect_shape(x, {-1, 3, -1, -1}, track_path);
  batch_ = int(x.shape[0]);
  search_size_ = int(x.shape[2]);
  KESTREL_CHECK(x.shape[2] == x.shape[3], "{}: the search input {} is not square", track_path, shape_text(x.shape));
  const TensorDesc& z = find_tensor(k_in, "z", track_path, "input");
  Dims z_want = t_out[0].shape;
  z_want[0] = batch_;
  KESTREL_CHECK(z.dtype == DataType::kFLOAT && z.shape == z_want,
                "{}: input 'z' is {} {}, but the template network {} makes z of {} per sample (batch {} here)",
                track_path, to_string(z.dtype), shape_text(z.shape), template_path, shape_text(t_out[0].shape), batch_);
  const TensorDesc& score = find_tensor(k_out, "score_map", track_path, "output");
  expect_shape(score, {batch_, 1, -1, -1}, track_path);
  feat_ = int(score.shape[2]);
  expect_shape(score, {batch_, 1, feat_, feat_}, track_path);
  expect_shape(find_tensor(k_out, "size_map", track_path, "output"), {batch_, 2, feat_, feat_}, track_path);
  expect_shape(find_tensor(k_out, "offset_map", track_path, "output"), {batch_, 2, feat_, feat_}, track_path);
  std::vector<TensorDesc> extra_outputs;
  for (const TensorDesc& out : k_out) {
    if (out.name == "score_map" || out.name == "size_map" || out.name == "offset_map") continue;
    KESTREL_CHECK(out.dtype == DataType::kFLOAT, "{}: output '{}' is {}, expected float32", track_path, out.name,
                  to_string(out.dtype));
    extra_outputs.push_back(out);
  }

  template_context_ = template_engine_->create_execution_context();
  track_context_ = track_engine_->create_execution_context();
  KESTREL_CHECK(template_context_ && track_context_, "cannot allocate the execution contexts' memory");

  PipelineSetup setup;
  setup.template_context = template_context_.get();
  setup.track_context = track_context_.get();
  setup.template_path = template_path;
  setup.track_path = track_path;
  setup.template_input = t_in[0];
  setup.template_output = t_out[0];
  setup.search_input = x;
  setup.extra_outputs = extra_outputs;
  setup.batch = batch_;
  setup.template_batch = int(t_in[0].shape[0]);
  setup.template_size = template_size_;
  setup.search_size = search_size_;
  setup.feat = feat_;
  setup.z_numel = z_numel_;
  // The GPU path needs both engines on the GPU: its buffers are device memory.
  const bool both_cuda = template_engine_->summary().device == DeviceType::kCUDA &&
                         track_engine_->summary().device == DeviceType::kCUDA;
  if (choice == PipelineChoice::kGpu)
    KESTREL_CHECK(both_cuda, "{} and {}: the tracker's GPU path needs two CUDA engines; these are {} and {}",
                  template_path, track_path, to_string(template_engine_->summary().device),
                  to_string(track_engine_->summary().device));
  const bool gpu = choice == PipelineChoice::kGpu || (choice == PipelineChoice::kAuto && both_cuda && !force_host_path());
  pipeline_ = gpu ? make_gpu_pipeline(setup) : make_host_pipeline(setup);
}

SmatNetworks::~SmatNetworks() = default;

std::string SmatNetworks::describe() const {
  return fmt::format("template {}x{} -> z of {} floats; tracking batch {}, search {}x{}, maps {}x{}; {}",
                     template_size_, template_size_, z_numel_, batch_, search_size_, search_size_, feat_, feat_,
                     pipeline_->describe());
}

}  // namespace kestrel::tracker
