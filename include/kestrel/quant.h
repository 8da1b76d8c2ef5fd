// INT8 post-training quantization: calibrators, the calibration cache and the QDQ quantizer.
//
// Kestrel quantizes explicitly: a calibrated network is an ONNX graph with QuantizeLinear /
// DequantizeLinear pairs in front of the layers that run in INT8 (docs/int8.md). A calibrator
// feeds representative input batches; the FP32 network runs on them with every tensor it needs
// observed, and each observed tensor gets a per-tensor scale (threshold / 127). The scales are
// kept in TensorRT's calibration cache text format, so caches travel both ways.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kestrel/kestrel.h"

namespace kestrel {

enum class CalibrationAlgorithm : int {
  kENTROPY_CALIBRATION_2 = 0,  // KL divergence over a 2048-bin histogram of |x| (TensorRT's)
  kMINMAX_CALIBRATION = 1,     // max |x|
  kPERCENTILE = 2,             // a percentile of |x| (default 99.99)
};

// "EntropyCalibration2", "MinMaxCalibration", "PercentileCalibration": the cache header's word.
const char* to_string(CalibrationAlgorithm algorithm);

// What TensorRT's IInt8Calibrator asks of its user, in Kestrel's types. A batch is one array per
// model input, named after it, with the network's input shape (first dimension the batch).
class ICalibrator {
 public:
  virtual ~ICalibrator() = default;
  virtual CalibrationAlgorithm algorithm() const = 0;
  // The percentile for kPERCENTILE, in (0, 100].
  virtual double percentile() const { return 99.99; }
  // Fills `batch` with the next batch; false when there are no more. Errors throw nothing: a
  // calibrator that fails returns false and reports through `error()`.
  virtual bool get_batch(NamedTensors& batch) = 0;
  // The cache text, or "" when there is none (then calibration runs).
  virtual std::string read_cache() = 0;
  virtual void write_cache(const std::string& text) = 0;
  // Names the cache in messages (its file).
  virtual std::string cache_name() const { return "calibration cache"; }
  // Why get_batch stopped early, "" when it simply ran out of data.
  virtual std::string error() const { return ""; }
};

// A calibrator whose batches come from a callback, and whose cache is a file ("" for none).
class CallbackCalibrator : public ICalibrator {
 public:
  using BatchFunction = std::function<bool(NamedTensors& batch)>;
  CallbackCalibrator(CalibrationAlgorithm algorithm, BatchFunction next, std::string cache_path = "",
                     double percentile = 99.99);
  CalibrationAlgorithm algorithm() const override { return algorithm_; }
  double percentile() const override { return percentile_; }
  bool get_batch(NamedTensors& batch) override { return next_(batch); }
  std::string read_cache() override;
  void write_cache(const std::string& text) override;
  std::string cache_name() const override { return cache_path_; }

 private:
  CalibrationAlgorithm algorithm_;
  BatchFunction next_;
  std::string cache_path_;
  double percentile_;
};

// Where calibration batches come from on the command line: an .npz of input arrays (each array
// named like a model input; the first dimension counts samples, one sample per batch), or a
// GOT-10k-layout dataset root (or split folder) whose frames go through the SMAT tracker's crop
// code (template crops for the template network; search crops plus z from `template_model` for
// the tracking network).
struct CalibrationDataOptions {
  std::string data_path;
  std::string template_model;  // SMAT's template network, needed to make z for the tracking network
  int max_batches = 0;         // 0: all
  // Percentile 99.99 by default: on SMAT it loses the least accuracy (docs/int8.md); TensorRT's
  // own default is entropy (kENTROPY_CALIBRATION_2).
  CalibrationAlgorithm algorithm = CalibrationAlgorithm::kPERCENTILE;
  double percentile = 99.99;
  std::string cache_path;      // read when present, written after calibration
};

// Makes the calibrator for a model's inputs; errors name the data file or folder.
Result<std::unique_ptr<ICalibrator>> make_calibrator(const std::string& model_path,
                                                     const CalibrationDataOptions& options, ILogger& logger);

// Per-tensor scales, by tensor name.
struct CalibrationTable {
  CalibrationAlgorithm algorithm = CalibrationAlgorithm::kENTROPY_CALIBRATION_2;
  int trt_version = 8601;  // the header's number: TensorRT 8.6.1's, which reads these caches
  std::map<std::string, float> scales;
  int batches = 0;         // batches seen (0 when read from a cache)
  bool from_cache = false;
  double seconds = 0;      // wall time of the calibration run
};

// TensorRT's cache text: "TRT-<version>-<Algorithm>" then "<tensor>: <8 hex digits>" per tensor
// (the float32 scale's bits, most significant first). Parsing reports a scale that is zero,
// negative, infinite or NaN by tensor name; `source` names the cache in messages.
std::string format_calibration_cache(const CalibrationTable& table);
Result<CalibrationTable> parse_calibration_cache(const std::string& text, const std::string& source);

// Per-layer precision chosen by the user ("fp32", "fp16", "int8"); layers not named get the
// defaults (docs/int8.md: normalisation, softmax, sigmoid and activation-by-activation matrix
// products stay in float; Conv, MatMul and Gemm with a constant weight run in INT8).
struct QuantizeOptions {
  std::map<std::string, std::string> layer_precision;
  bool per_channel_weights = true;
};

// Reads the calibrator's cache, or runs the FP32 model (CPU) on its batches to observe the
// inputs of every quantizable layer and computes their scales (then writes the cache).
Result<CalibrationTable> calibrate(const std::string& model_path, ICalibrator& calibrator, ILogger& logger);

// The model with QDQ pairs at the inputs of its INT8 layers: a serialized ONNX ModelProto.
Result<std::vector<uint8_t>> quantize_to_qdq(const std::string& model_path, const CalibrationTable& table,
                                             const QuantizeOptions& options, ILogger& logger);

// Names of the layers quantize_to_qdq puts into INT8 with these options and scales.
Result<std::vector<std::string>> int8_layers(const std::string& model_path, const CalibrationTable& table,
                                             const QuantizeOptions& options);

}  // namespace kestrel
