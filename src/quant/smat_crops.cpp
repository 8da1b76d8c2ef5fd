#include "quant/smat_crops.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "eval/dataset.h"
#include "tracker/crop.h"
#include "tracker/frames.h"

namespace kestrel::quant {
namespace {

constexpr double kTemplateFactor = 2.0;  // the official tracker's template and search factors
constexpr double kSearchFactor = 4.0;
constexpr int kDefaultSamples = 500;

struct Sample {
  size_t sequence = 0;
  size_t frame = 0;  // index into the sequence's frames
};

class SmatCropCalibrator : public ICalibrator {
 public:
  SmatCropCalibrator(eval::Split split, bool track, const CalibrationDataOptions& options, ILogger& logger)
      : split_(std::move(split)), track_(track), options_(options), cache_(options.algorithm, {}, options.cache_path),
        logger_(logger) {
    for (const std::string& name : split_.sequences)
      sequences_.push_back(eval::load_sequence(split_, name, eval::Annotations::kFirstBox));
    const int wanted = options.max_batches > 0 ? options.max_batches : kDefaultSamples;
    plan_samples(wanted);
    if (track_) {
      KESTREL_CHECK(!options.template_model.empty(),
                    "the model has SMAT's tracking inputs z and x: give the template network (--template-model) to "
                    "make z");
      RunnerOptions runner_options;
      auto runner = Runner::load(options.template_model, runner_options, logger);
      KESTREL_CHECK(runner.ok(), "{}", runner.status().message());
      template_runner_ = std::move(runner.value());
      const TensorDesc in = template_runner_->engine().inputs().at(0);
      template_size_ = int(in.shape.back());
      template_name_ = in.name;
    }
  }

  CalibrationAlgorithm algorithm() const override { return options_.algorithm; }
  double percentile() const override { return options_.percentile; }
  std::string read_cache() override { return cache_.read_cache(); }
  void write_cache(const std::string& text) override { cache_.write_cache(text); }
  std::string cache_name() const override { return cache_.cache_name(); }
  std::string error() const override { return error_; }

  bool get_batch(NamedTensors& batch) override {
    if (next_ >= samples_.size()) return false;
    try {
      const Sample s = samples_[next_++];
      const eval::Sequence& seq = sequences_[s.sequence];
      batch.clear();
      if (!track_) {
        batch.emplace_back("template", crop(seq, s.frame, seq.groundtruth[s.frame], kTemplateFactor, template_size_));
        return true;
      }
      batch.emplace_back("z", z_of(s.sequence));
      batch.emplace_back("x", crop(seq, s.frame, seq.groundtruth[s.frame - 1], kSearchFactor, search_size_));
      return true;
    } catch (const Error& e) {
      error_ = e.what();
      return false;
    }
  }

 private:
  void plan_samples(int wanted) {
    // Frames with a box (and for tracking a previous box): every frame of a validation-style
    // groundtruth; spread evenly so that each sequence contributes about equally.
    std::vector<size_t> usable;
    for (size_t q = 0; q < sequences_.size(); ++q) usable.push_back(sequences_[q].groundtruth.size() > 1 ? sequences_[q].frames.size() : 0);
    const size_t first = track_ ? 1 : 0;
    size_t total = 0;
    for (size_t u : usable) total += u > first ? u - first : 0;
    KESTREL_CHECK(total > 0, "{}: no sequence has a groundtruth box for every frame", split_.folder);
    const size_t n = std::min(total, size_t(wanted));
    const size_t per_sequence = (n + sequences_.size() - 1) / sequences_.size();
    for (size_t q = 0; q < sequences_.size() && samples_.size() < n; ++q) {
      if (usable[q] <= first) continue;
      const size_t count = std::min(per_sequence, usable[q] - first);
      for (size_t k = 0; k < count && samples_.size() < n; ++k)
        samples_.push_back({q, first + k * (usable[q] - first) / count});
    }
  }

  HostTensor crop(const eval::Sequence& seq, size_t frame, const tracker::Box& box, double factor, int size) {
    const synth::RgbImage image = tracker::read_frame(seq.frames[frame]);
    HostTensor t;
    t.dtype = DataType::kFLOAT;
    t.shape = {1, 3, size, size};
    t.bytes.resize(size_t(t.numel()) * 4);
    tracker::crop_resize_normalize(image, tracker::crop_window(box, factor, size), size, t.data<float>());
    return t;
  }

  const HostTensor& z_of(size_t sequence) {
    if (z_sequence_ != sequence) {
      const eval::Sequence& seq = sequences_[sequence];
      NamedTensors feed;
      feed.emplace_back(template_name_, crop(seq, 0, seq.groundtruth[0], kTemplateFactor, template_size_));
      auto out = template_runner_->infer(feed);
      KESTREL_CHECK(out.ok(), "{}", out.status().message());
      z_ = std::move(out->front().second);
      z_sequence_ = sequence;
    }
    return z_;
  }

  eval::Split split_;
  bool track_;
  CalibrationDataOptions options_;
  CallbackCalibrator cache_;
  ILogger& logger_;
  std::vector<eval::Sequence> sequences_;
  std::vector<Sample> samples_;
  size_t next_ = 0;
  std::unique_ptr<Runner> template_runner_;
  std::string template_name_ = "template";
  int template_size_ = 128, search_size_ = 256;  // SMAT's crop sizes (the template's is read from its network)
  size_t z_sequence_ = size_t(-1);
  HostTensor z_;
  std::string error_;
};

eval::Split open_any_split(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path p(path);
  if (fs::exists(p / "list.txt")) {
    const fs::path folder = fs::weakly_canonical(p);
    return eval::open_split(folder.parent_path().string(), folder.filename().string());
  }
  if (fs::exists(p / "calib" / "list.txt")) return eval::open_split(path, "calib");
  fail("{}: neither a GOT-10k split folder (with list.txt) nor a dataset root with a calib/ split", path);
}

}  // namespace

std::unique_ptr<ICalibrator> make_smat_crop_calibrator(const std::string& path, const std::vector<std::string>& inputs,
                                                       const CalibrationDataOptions& options, ILogger& logger) {
  auto contains = [&](const char* name) { return std::find(inputs.begin(), inputs.end(), name) != inputs.end(); };
  bool track = false;
  if (contains("z") && contains("x") && inputs.size() == 2)
    track = true;
  else
    KESTREL_CHECK(contains("template") && inputs.size() == 1,
                  "{}: an image folder calibrates SMAT's networks only (inputs 'template', or 'z' and 'x'); this model "
                  "has inputs {}: give an .npz of input batches instead", path, fmt::join(inputs, ", "));
  return std::make_unique<SmatCropCalibrator>(open_any_split(path), track, options, logger);
}

}  // namespace kestrel::quant
