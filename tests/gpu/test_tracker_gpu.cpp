// GPU tests of the tracker's CUDA path (src/tracker/gpu_pipeline.cpp, src/backend/cuda/tracker_crop.cu):
// - the crop kernel against the host crop_resize_normalize (the oracle) on frames of several sizes,
//   windows inside, partly outside, at and past the right/bottom edge, larger than the frame and
//   wholly outside, many slots in one launch, float32 (1e-5) and float16 outputs;
// - whole tracking runs with CUDA engines: the GPU path against the host path with the same
//   engines, and against the CPU engine; batched slots when a batched export is given.
// Without a GPU each test skips and says why.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

#include "backend/cuda/cuda_backend.h"
#include "core/fp16.h"
#include "kestrel/kestrel.h"
#include "synth/labels.h"
#include "synth/render.h"
#include "synth/scene.h"
#include "tracker/batch_tracker.h"
#include "tracker/crop.h"
#include "tracker/gpu_runtime.h"
#include "tracker/smat_networks.h"

namespace kestrel::tracker {
namespace {
namespace fs = std::filesystem;

std::string skip_reason() {
  const std::string reason = cuda::unavailable_reason();
  if (!reason.empty()) return "no GPU here, tracker GPU test skipped: " + reason;
  const std::string table = gpu::unavailable_reason();
  return table.empty() ? "" : "tracker GPU test skipped: " + table;
}

#define KESTREL_REQUIRE_GPU()                      \
  do {                                             \
    const std::string reason_ = skip_reason();     \
    if (!reason_.empty()) GTEST_SKIP() << reason_; \
  } while (0)

// ---------------------------------------------------------------- the crop kernel

RgbImage noise_frame(int width, int height, uint32_t seed) {
  RgbImage image(width, height);
  std::mt19937 rng(seed);
  for (uint8_t& v : image.pixels) v = uint8_t(rng() & 0xff);
  return image;
}

struct CropCase {
  size_t frame = 0;
  CropWindow window;
  std::string what;
};

// Windows of every kind on every frame, and the windows the tracker itself makes from boxes.
std::vector<CropCase> crop_cases(const std::vector<RgbImage>& frames) {
  std::vector<CropCase> cases;
  for (size_t f = 0; f < frames.size(); ++f) {
    const int64_t W = frames[f].width, H = frames[f].height;
    const int64_t side = std::max<int64_t>(1, std::min(W, H) / 2);
    auto add = [&](int64_t x1, int64_t y1, int64_t size, const char* what) {
      cases.push_back({f, {x1, y1, std::max<int64_t>(1, size), 0}, what});
    };
    add(W / 4, H / 4, side, "inside");
    add(-side / 2, -side / 3, side, "off the top-left");
    add(W - 1 - side, H - 1 - side, side, "ending at the last column/row (which the crop never reads)");
    add(W - side, H - side, side, "ending at the edge");
    add(W - side / 2, H - side / 2, side, "half past the right/bottom edge");
    add(-W, -H, 3 * std::max(W, H), "larger than the frame");
    add(W + 3, H + 3, side, "wholly outside");
    add(W / 3, H / 5, 1, "one pixel");
    add(W / 5, H / 7, side * 5 + 3, "much larger than the output (downscale)");
    // As the tracker makes them: template (factor 2) and search (factor 4) windows around boxes.
    const Box box{double(W) * 0.3, double(H) * 0.4, double(W) * 0.17 + 1.5, double(H) * 0.11 + 2.25};
    cases.push_back({f, crop_window(box, 2.0, 128), "template window"});
    cases.push_back({f, crop_window(box, 4.0, 256), "search window"});
  }
  return cases;
}

// Runs the kernel once for all cases (one job each). With `whole_frames` every job points at a
// whole uploaded frame, else at the region the pipeline would upload (crop_region).
std::vector<std::vector<float>> gpu_crops(const std::vector<RgbImage>& frames, const std::vector<CropCase>& cases,
                                          int out_size, int32_t type, bool whole_frames) {
  const KestrelTrackerGpuApi& api = gpu::api();
  gpu::Stream stream;
  const size_t elem = type == KESTREL_GPU_CROP_FLOAT16 ? 2 : 4;
  const size_t out_numel = 3 * size_t(out_size) * size_t(out_size);
  std::vector<gpu::Buffer> uploads;
  std::vector<KestrelGpuCropJob> jobs;
  gpu::Buffer out(gpu::Buffer::Kind::kDevice, cases.size() * out_numel * elem);
  gpu::fill_zero(out.data(), out.bytes(), stream);
  for (size_t i = 0; i < cases.size(); ++i) {
    const RgbImage& frame = frames[cases[i].frame];
    const FrameRegion r = whole_frames ? FrameRegion{0, 0, frame.width, frame.height}
                                       : crop_region(cases[i].window, frame.width, frame.height);
    std::vector<uint8_t> packed;
    for (int y = 0; y < r.height; ++y)
      packed.insert(packed.end(), frame.row(r.y + y) + size_t(r.x) * 3, frame.row(r.y + y) + size_t(r.x + r.width) * 3);
    uploads.emplace_back(gpu::Buffer::Kind::kDevice, std::max<size_t>(packed.size(), 1));
    gpu::copy(uploads.back().data(), packed.data(), packed.size(), stream);
    stream.synchronize();  // `packed` is pageable and about to go
    const CropWindow& w = cases[i].window;
    jobs.push_back({uploads.back().as<uint8_t>(), int64_t(r.width) * 3, r.x, r.y, frame.width, frame.height, w.x1,
                    w.y1, w.size, static_cast<std::byte*>(out.data()) + i * out_numel * elem});
  }
  gpu::Buffer job_table(gpu::Buffer::Kind::kDevice, jobs.size() * sizeof(KestrelGpuCropJob));
  gpu::copy(job_table.data(), jobs.data(), jobs.size() * sizeof(KestrelGpuCropJob), stream);
  gpu::check(api.crop_resize_normalize(job_table.as<KestrelGpuCropJob>(), int32_t(jobs.size()), out_size, type,
                                       stream.handle()),
             "crop kernel");
  std::vector<uint8_t> host(out.bytes());
  gpu::copy(host.data(), out.data(), host.size(), stream);
  stream.synchronize();
  std::vector<std::vector<float>> result(cases.size(), std::vector<float>(out_numel));
  for (size_t i = 0; i < cases.size(); ++i)
    for (size_t k = 0; k < out_numel; ++k) {
      const uint8_t* p = host.data() + (i * out_numel + k) * elem;
      if (elem == 4) std::memcpy(&result[i][k], p, 4);
      else {
        Half h;
        std::memcpy(&h, p, 2);
        result[i][k] = half_to_float(h);
      }
    }
  return result;
}

void expect_crops_match(int32_t type, bool whole_frames, double tolerance) {
  const std::vector<RgbImage> frames = {noise_frame(640, 480, 1), noise_frame(97, 61, 2), noise_frame(61, 97, 3),
                                        noise_frame(5, 3, 4), noise_frame(2, 2, 5)};
  const std::vector<CropCase> cases = crop_cases(frames);
  for (int out_size : {256, 128, 31}) {
    const auto got = gpu_crops(frames, cases, out_size, type, whole_frames);
    for (size_t i = 0; i < cases.size(); ++i) {
      std::vector<float> want(got[i].size());
      crop_resize_normalize(frames[cases[i].frame], cases[i].window, out_size, want.data());
      double worst = 0;
      size_t worst_at = 0;
      for (size_t k = 0; k < want.size(); ++k) {
        const double d = std::abs(double(want[k]) - double(got[i][k]));
        if (d > worst) worst = d, worst_at = k;
      }
      const RgbImage& f = frames[cases[i].frame];
      EXPECT_LE(worst, tolerance) << "frame " << f.width << "x" << f.height << ", " << cases[i].what << " (x1 "
                                  << cases[i].window.x1 << ", y1 " << cases[i].window.y1 << ", side "
                                  << cases[i].window.size << ") -> " << out_size << ": element " << worst_at
                                  << " is " << got[i][worst_at] << ", host " << want[worst_at];
    }
  }
}

TEST(TrackerGpuCrop, Float32MatchesHostCrop) {
  KESTREL_REQUIRE_GPU();
  expect_crops_match(KESTREL_GPU_CROP_FLOAT32, false, 1e-5);
}

TEST(TrackerGpuCrop, Float32FromWholeFramesMatchesHostCrop) {
  KESTREL_REQUIRE_GPU();
  expect_crops_match(KESTREL_GPU_CROP_FLOAT32, true, 1e-5);
}

TEST(TrackerGpuCrop, Float16MatchesHostCropToHalfPrecision) {
  KESTREL_REQUIRE_GPU();
  expect_crops_match(KESTREL_GPU_CROP_FLOAT16, false, 1.0 / 1024);  // values in [0, 1]: half's step is <= 2^-11
}

TEST(TrackerGpuCrop, RefusesABadLaunch) {
  KESTREL_REQUIRE_GPU();
  gpu::Stream stream;
  const char* error = gpu::api().crop_resize_normalize(nullptr, 1, 256, 7, stream.handle());
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find("crop"), std::string::npos) << error;
}

// ---------------------------------------------------------------- whole tracking runs

// The trained SMAT exports in the source tree (or $KESTREL_TRACKER_SMAT_DIR).
std::string model_dir() {
  const char* dir = std::getenv("KESTREL_TRACKER_SMAT_DIR");
  return dir ? dir : std::string(KESTREL_SOURCE_DIR) + "/models/smat_synthetic";
}

class Quiet : public ILogger {
 public:
  void log(Severity severity, const char* message) noexcept override {
    if (severity <= Severity::kERROR) std::fprintf(stderr, "kestrel: %s\n", message);
  }
};

// Engine files built once per (model, device, precision) and kept in a temporary folder, so that
// each test loads them as `kestrel eval` would.
std::string engine_file(const std::string& onnx, DeviceType device, bool fp16) {
  static std::map<std::string, std::string> built;
  const std::string key = onnx + (device == DeviceType::kCUDA ? ":cuda" : ":cpu") + (fp16 ? ":fp16" : ":fp32");
  if (auto it = built.find(key); it != built.end()) return it->second;
  Quiet logger;
  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  const Status parsed = parser.parse_from_file(onnx);
  if (!parsed.ok()) throw std::runtime_error(parsed.message());
  BuilderConfig config;
  config.set_device(device);
  if (fp16) config.set_flag(BuilderFlag::kFP16);
  auto bytes = builder.build_serialized_network(*network, config);
  if (!bytes.ok()) throw std::runtime_error(bytes.status().message());
  const fs::path dir = fs::temp_directory_path() / ("kestrel_tracker_gpu_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / (std::to_string(built.size()) + ".engine")).string();
  const Status saved = save_file(path, *bytes);
  if (!saved.ok()) throw std::runtime_error(saved.message());
  return built[key] = path;
}

// A short generated sequence: frames and the first frame's box.
struct Sequence {
  std::vector<RgbImage> frames;
  Box first;
};

Sequence make_sequence(uint64_t seed, int width, int height, int count) {
  const synth::Scene scene = synth::make_scene(seed, width, height, count);
  synth::FrameRenderer renderer;
  Sequence seq;
  seq.frames.resize(size_t(count));
  for (int t = 0; t < count; ++t) {
    const synth::TargetObservation seen = renderer.render(scene, t, seq.frames[size_t(t)]);
    if (t == 0) {
      const synth::FrameLabel label = synth::label_frame(seen, nullptr);
      seq.first = {label.x, label.y, label.w, label.h};
    }
  }
  return seq;
}

std::vector<Box> track_sequence(SmatNetworks& networks, const Sequence& seq) {
  SmatTracker tracker(networks);
  tracker.init(seq.frames[0], seq.first);
  std::vector<Box> boxes{seq.first};
  for (size_t f = 1; f < seq.frames.size(); ++f) boxes.push_back(tracker.track(seq.frames[f]));
  return boxes;
}

double max_box_difference(const std::vector<Box>& a, const std::vector<Box>& b) {
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max({worst, std::abs(a[i].x - b[i].x), std::abs(a[i].y - b[i].y), std::abs(a[i].w - b[i].w),
                      std::abs(a[i].h - b[i].h)});
  return a.size() == b.size() ? worst : INFINITY;
}

std::unique_ptr<SmatNetworks> load(const std::string& template_onnx, const std::string& track_onnx, DeviceType device,
                                   bool fp16, PipelineChoice choice) {
  static Quiet logger;
  EngineLoadOptions options;
  return std::make_unique<SmatNetworks>(engine_file(template_onnx, device, fp16), engine_file(track_onnx, device, fp16),
                                        options, logger, choice);
}

void expect_gpu_path_equals_host_path(bool fp16, double tolerance) {
  const std::string t = model_dir() + "/smat_template.onnx", k = model_dir() + "/smat_track.onnx";
  if (!fs::exists(t) || !fs::exists(k)) GTEST_SKIP() << "SMAT exports not found in " << model_dir();
  auto gpu = load(t, k, DeviceType::kCUDA, fp16, PipelineChoice::kAuto);
  auto host = load(t, k, DeviceType::kCUDA, fp16, PipelineChoice::kHost);
  ASSERT_TRUE(gpu->pipeline().on_gpu()) << "CUDA engines must choose the GPU path by themselves";
  ASSERT_FALSE(host->pipeline().on_gpu());
  // Targets near the middle and, with a small frame, crops far past the edges.
  for (auto [seed, w, h] : std::vector<std::tuple<uint64_t, int, int>>{{11, 320, 240}, {12, 160, 96}, {13, 97, 131}}) {
    const Sequence seq = make_sequence(seed, w, h, 16);
    const std::vector<Box> a = track_sequence(*gpu, seq), b = track_sequence(*host, seq);
    EXPECT_LE(max_box_difference(a, b), tolerance) << "sequence " << seed << " (" << w << "x" << h << ")";
  }
}

TEST(TrackerGpuPath, Fp32BoxesEqualTheHostPath) {
  KESTREL_REQUIRE_GPU();
  expect_gpu_path_equals_host_path(false, 1e-3);
}

TEST(TrackerGpuPath, Fp16BoxesEqualTheHostPath) {
  KESTREL_REQUIRE_GPU();
  // Same engine, same crop bits: only the order of GPU work could differ, and it does not.
  expect_gpu_path_equals_host_path(true, 1e-2);
}

TEST(TrackerGpuPath, CloseToTheCpuEngine) {
  KESTREL_REQUIRE_GPU();
  const std::string t = model_dir() + "/smat_template.onnx", k = model_dir() + "/smat_track.onnx";
  if (!fs::exists(t) || !fs::exists(k)) GTEST_SKIP() << "SMAT exports not found in " << model_dir();
  auto gpu = load(t, k, DeviceType::kCUDA, false, PipelineChoice::kGpu);
  auto cpu = load(t, k, DeviceType::kCPU, false, PipelineChoice::kAuto);
  ASSERT_FALSE(cpu->pipeline().on_gpu());
  const Sequence seq = make_sequence(21, 320, 240, 16);
  // FP32 on both devices: the maps differ by ~1e-5, the boxes by far less than a pixel.
  EXPECT_LE(max_box_difference(track_sequence(*gpu, seq), track_sequence(*cpu, seq)), 0.05);
}

TEST(TrackerGpuPath, StageTimesSayWhereTheGpuTimeGoes) {
  KESTREL_REQUIRE_GPU();
  const std::string t = model_dir() + "/smat_template.onnx", k = model_dir() + "/smat_track.onnx";
  if (!fs::exists(t) || !fs::exists(k)) GTEST_SKIP() << "SMAT exports not found in " << model_dir();
  auto gpu = load(t, k, DeviceType::kCUDA, false, PipelineChoice::kGpu);
  const Sequence seq = make_sequence(31, 320, 240, 8);
  SmatTracker tracker(*gpu);
  tracker.init(seq.frames[0], seq.first);
  for (size_t f = 1; f < seq.frames.size(); ++f) tracker.track(seq.frames[f]);
  const BatchTracker::StageTimes& times = tracker.stage_times();
  EXPECT_TRUE(times.on_gpu);
  EXPECT_EQ(times.steps, seq.frames.size() - 1);
  EXPECT_GT(times.device.upload, 0);
  EXPECT_GT(times.device.crop, 0);
  EXPECT_GT(times.device.inference, 0);
  EXPECT_GT(times.device.download, 0);
  std::fprintf(stderr, "%s\n", format_stage_times(times).c_str());
}

TEST(TrackerGpuPath, GpuChoiceNeedsCudaEngines) {
  // Needs no GPU: the check comes before anything touches one.
  const std::string t = model_dir() + "/smat_template.onnx", k = model_dir() + "/smat_track.onnx";
  if (!fs::exists(t) || !fs::exists(k)) GTEST_SKIP() << "SMAT exports not found in " << model_dir();
  try {
    load(t, k, DeviceType::kCPU, false, PipelineChoice::kGpu);
    FAIL() << "CPU engines were accepted for the GPU path";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("needs two CUDA engines"), std::string::npos) << e.what();
  }
}

// Batched slots: $KESTREL_SMAT_DIR (default /tmp/smat_cuda) with smat_template.onnx and
// smat_track.onnx from `python/smat/export.py --seed 0` and smat_track_b4.onnx from
// `tests/tracker/export_batched.py --seed 0 --batch 4`. Sequences of different frame sizes share
// the batch, start at different steps and leave early; each slot must track as batch 1 does.
TEST(TrackerGpuPath, BatchedSlotsTrackAsBatchOne) {
  KESTREL_REQUIRE_GPU();
  const char* env = std::getenv("KESTREL_SMAT_DIR");
  const std::string dir = env ? env : "/tmp/smat_cuda";
  const std::string t = dir + "/smat_template.onnx", k1 = dir + "/smat_track.onnx", k4 = dir + "/smat_track_b4.onnx";
  if (!fs::exists(t) || !fs::exists(k1) || !fs::exists(k4))
    GTEST_SKIP() << "batched export not found: needs " << t << ", " << k1 << " and " << k4
                 << " (python/smat/export.py --seed 0; tests/tracker/export_batched.py --seed 0 --batch 4)";
  auto single = load(t, k1, DeviceType::kCUDA, false, PipelineChoice::kGpu);
  auto batched_gpu = load(t, k4, DeviceType::kCUDA, false, PipelineChoice::kGpu);
  auto batched_host = load(t, k4, DeviceType::kCUDA, false, PipelineChoice::kHost);
  ASSERT_EQ(batched_gpu->batch(), 4);
  const std::vector<Sequence> seqs = {make_sequence(41, 320, 240, 12), make_sequence(42, 160, 96, 9),
                                      make_sequence(43, 97, 131, 14), make_sequence(44, 640, 360, 7)};
  const std::vector<size_t> start = {0, 2, 1, 4};  // the step at which each sequence enters its slot

  auto run_batched = [&](SmatNetworks& networks) {
    BatchTracker tracker(networks);
    std::vector<std::vector<Box>> boxes(seqs.size());
    for (size_t step = 0; step < 20; ++step) {
      std::vector<const RgbImage*> frames(4, nullptr);
      for (size_t s = 0; s < seqs.size(); ++s) {
        if (step < start[s]) continue;
        const size_t f = step - start[s];
        if (f == 0) {
          tracker.init(int(s), seqs[s].frames[0], seqs[s].first);
          boxes[s].push_back(seqs[s].first);
        } else if (f < seqs[s].frames.size()) {
          frames[s] = &seqs[s].frames[f];
        } else if (tracker.occupied(int(s))) {
          tracker.release(int(s));
        }
      }
      tracker.track(frames);
      for (size_t s = 0; s < seqs.size(); ++s)
        if (frames[s] != nullptr) boxes[s].push_back(tracker.box(int(s)));
    }
    return boxes;
  };
  const auto gpu_boxes = run_batched(*batched_gpu);
  const auto host_boxes = run_batched(*batched_host);
  for (size_t s = 0; s < seqs.size(); ++s) {
    EXPECT_LE(max_box_difference(gpu_boxes[s], host_boxes[s]), 1e-3) << "slot " << s << ": GPU path vs host path";
    EXPECT_LE(max_box_difference(gpu_boxes[s], track_sequence(*single, seqs[s])), 0.05)
        << "slot " << s << ": batch 4 vs batch 1";
  }
}

}  // namespace
}  // namespace kestrel::tracker
