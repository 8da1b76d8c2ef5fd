// How far a quantized model's outputs are from the FP32 model's on held-out samples, and each
// INT8 layer's share of that distance (quantize --analyze).
//
// Both models are built into CPU engines here. The quantized model is the QDQ rewrite as
// `kestrel build --int8` builds it: its layers run on the CPU backend's int8 convolutions
// (kestrel.QConv), so the figures are those of the INT8 engine.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kestrel/quant.h"
#include "quant/cpu_model.h"

namespace kestrel::quant {

struct AccuracyReport {
  int samples = 0;
  std::vector<std::string> outputs;           // float outputs, model order
  std::map<std::string, double> mean_cosine;  // per output, over samples
  std::map<std::string, double> min_cosine;
  std::map<std::string, double> max_abs_error;
  bool smat = false;          // the model has SMAT's score_map, size_map and offset_map
  double same_peak_rate = 0;  // SMAT: same arg-max cell of Hann window * score map
  double mean_box_iou = 0;    // SMAT: IoU of the boxes decoded at the peaks (crop units)
  double error = 0;           // 1 - mean cosine of score_map (SMAT) or of all outputs averaged
};

class AccuracyProbe {
 public:
  AccuracyProbe(const std::string& model_path, std::vector<NamedTensors> samples, ILogger& logger);
  // `int8` maps layer names to INT8 (others float).
  AccuracyReport compare(const CalibrationTable& table, const std::map<std::string, bool>& int8);
  const std::map<std::string, bool>& default_int8() const { return default_int8_; }

 private:
  AccuracyReport compare_outputs(const std::vector<NamedTensors>& quantized) const;
  std::string model_path_;
  std::vector<NamedTensors> samples_;
  std::vector<NamedTensors> reference_;
  ILogger& logger_;
  std::map<std::string, bool> default_int8_;
};

// Decisions for QuantizeOptions (defaults plus overrides).
std::map<std::string, bool> layer_decisions(const std::string& model_path, const QuantizeOptions& options);

// Reads up to `count` samples from a calibrator (its batches).
std::vector<NamedTensors> take_samples(ICalibrator& source, int count);

struct LayerImpact {
  std::string layer;
  double error = 0;           // AccuracyReport::error with only this layer in INT8
  double same_peak_rate = 1;  // SMAT only
};

// One comparison per INT8 layer of `int8`, worst first.
std::vector<LayerImpact> analyze_layers(AccuracyProbe& probe, const CalibrationTable& table,
                                        const std::map<std::string, bool>& int8);

}  // namespace kestrel::quant
