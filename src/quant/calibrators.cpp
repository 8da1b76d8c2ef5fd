// The calibrators of the public API: a callback with a cache file, the .npz reader, and the
// dispatch from --calib-data to the right one.
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "core/file_io.h"
#include "core/npz.h"
#include "engine/api_guard.h"
#include "kestrel/quant.h"
#include "quant/qdq_plan.h"
#include "quant/smat_crops.h"

namespace kestrel {
namespace {

// One sample per batch: row i of every array named like a model input.
class NpzCalibrator : public ICalibrator {
 public:
  NpzCalibrator(const std::string& path, const std::vector<std::string>& inputs, const CalibrationDataOptions& options)
      : options_(options), cache_(options.algorithm, {}, options.cache_path) {
    const NamedTensors all = read_npz(path);
    for (const std::string& name : inputs) {
      auto it = std::find_if(all.begin(), all.end(), [&](const auto& kv) { return kv.first == name; });
      KESTREL_CHECK(it != all.end(), "{}: no array named '{}' (the model input of that name)", path, name);
      KESTREL_CHECK(it->second.dtype == DataType::kFLOAT, "{}: array '{}' is {}, calibration needs float32", path, name,
                    to_string(it->second.dtype));
      KESTREL_CHECK(!it->second.shape.empty() && it->second.shape[0] > 0,
                    "{}: array '{}' needs a leading sample dimension of at least 1, has shape {}", path, name,
                    shape_str(it->second.shape));
      if (!arrays_.empty())
        KESTREL_CHECK(it->second.shape[0] == arrays_.front().second.shape[0],
                      "{}: array '{}' holds {} samples, '{}' {}", path, name, it->second.shape[0],
                      arrays_.front().first, arrays_.front().second.shape[0]);
      arrays_.push_back(*it);
    }
    samples_ = arrays_.empty() ? 0 : arrays_.front().second.shape[0];
    if (options.max_batches > 0) samples_ = std::min<int64_t>(samples_, options.max_batches);
  }
  CalibrationAlgorithm algorithm() const override { return options_.algorithm; }
  double percentile() const override { return options_.percentile; }
  bool get_batch(NamedTensors& batch) override {
    if (next_ >= samples_) return false;
    batch.clear();
    for (const auto& [name, t] : arrays_) {
      HostTensor row;
      row.dtype = t.dtype;
      row.shape = t.shape;
      row.shape[0] = 1;
      const size_t row_bytes = size_t(row.numel()) * element_size(t.dtype);
      row.bytes.assign(t.bytes.begin() + long(row_bytes * size_t(next_)), t.bytes.begin() + long(row_bytes * size_t(next_ + 1)));
      batch.emplace_back(name, std::move(row));
    }
    ++next_;
    return true;
  }
  std::string read_cache() override { return cache_.read_cache(); }
  void write_cache(const std::string& text) override { cache_.write_cache(text); }
  std::string cache_name() const override { return cache_.cache_name(); }

 private:
  CalibrationDataOptions options_;
  CallbackCalibrator cache_;  // only its cache file handling
  std::vector<std::pair<std::string, HostTensor>> arrays_;
  int64_t samples_ = 0, next_ = 0;
};

}  // namespace

CallbackCalibrator::CallbackCalibrator(CalibrationAlgorithm algorithm, BatchFunction next, std::string cache_path,
                                       double percentile)
    : algorithm_(algorithm), next_(std::move(next)), cache_path_(std::move(cache_path)), percentile_(percentile) {}

std::string CallbackCalibrator::read_cache() {
  if (cache_path_.empty() || !std::filesystem::exists(cache_path_)) return "";
  const std::vector<uint8_t> bytes = read_file(cache_path_);
  if (bytes.empty()) return "";
  return std::string(bytes.begin(), bytes.end());
}

void CallbackCalibrator::write_cache(const std::string& text) {
  if (!cache_path_.empty()) write_file_atomic(cache_path_, text.data(), text.size());
}

Result<std::unique_ptr<ICalibrator>> make_calibrator(const std::string& model_path,
                                                     const CalibrationDataOptions& options, ILogger& logger) {
  std::unique_ptr<ICalibrator> calibrator;
  Status status = guarded(nullptr, [&] {
    KESTREL_CHECK(options.percentile > 0 && options.percentile <= 100, "--percentile {}: must lie in (0, 100]",
                  options.percentile);
    const std::vector<uint8_t> bytes = read_file(model_path);
    const onnx::ModelProto model = quant::parse_onnx_model(bytes.data(), bytes.size(), model_path);
    std::set<std::string> initializers;
    for (const auto& i : model.graph().initializer()) initializers.insert(i.name());
    std::vector<std::string> inputs;
    for (const auto& i : model.graph().input())
      if (!initializers.count(i.name())) inputs.push_back(i.name());
    const std::string& path = options.data_path;
    // A cache that is present makes the data unnecessary: TensorRT does not ask for batches then.
    const bool cached = !options.cache_path.empty() && std::filesystem::exists(options.cache_path);
    if (path.empty() && cached) {
      calibrator = std::make_unique<CallbackCalibrator>(options.algorithm, [](NamedTensors&) { return false; },
                                                        options.cache_path, options.percentile);
      return;
    }
    KESTREL_CHECK(!path.empty(), "give calibration data (--calib-data) or an existing calibration cache (--calib-cache)");
    KESTREL_CHECK(std::filesystem::exists(path), "{}: no such file or folder", path);
    if (std::filesystem::is_directory(path))
      calibrator = quant::make_smat_crop_calibrator(path, inputs, options, logger);
    else
      calibrator = std::make_unique<NpzCalibrator>(path, inputs, options);
  });
  if (!status.ok()) return status;
  return calibrator;
}

}  // namespace kestrel
