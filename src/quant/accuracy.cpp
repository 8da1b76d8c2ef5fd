#include "quant/accuracy.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/file_io.h"
#include "quant/qdq_writer.h"
#include "tracker/decode.h"

namespace kestrel::quant {
namespace {

const HostTensor* find(const NamedTensors& tensors, const std::string& name) {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

double cosine(const HostTensor& a, const HostTensor& b) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  if (aa == 0 && bb == 0) return 1;
  if (aa == 0 || bb == 0) return 0;
  return ab / std::sqrt(aa * bb);
}

int peak_of(const float* score, const std::vector<float>& window, int cells) {
  int best = 0;
  for (int k = 1; k < cells; ++k)
    if (window[size_t(k)] * score[k] > window[size_t(best)] * score[best]) best = k;
  return best;
}

double iou(const tracker::CropBox& a, const tracker::CropBox& b) {
  const double ix = std::max(0.0, std::min(a.cx + a.w / 2, b.cx + b.w / 2) - std::max(a.cx - a.w / 2, b.cx - b.w / 2));
  const double iy = std::max(0.0, std::min(a.cy + a.h / 2, b.cy + b.h / 2) - std::max(a.cy - a.h / 2, b.cy - b.h / 2));
  const double inter = ix * iy, uni = a.w * a.h + b.w * b.h - inter;
  return uni > 0 ? inter / uni : 0;
}

std::vector<uint8_t> qdq_bytes(const std::string& model_path, const CalibrationTable& table,
                               const std::map<std::string, bool>& int8) {
  const std::vector<uint8_t> bytes = read_file(model_path);
  onnx::ModelProto model = parse_onnx_model(bytes.data(), bytes.size(), model_path);
  const ModelAnalysis analysis = analyse_model(model);
  QdqRewrite r;
  r.int8 = int8;
  r.scales = table.scales;
  // The real QDQ model (int8 weights behind DequantizeLinear): the CPU backend fuses its layers
  // into int8 convolutions (kestrel.QConv), so this measures the INT8 engine itself.
  r.weights_as_float = false;
  rewrite_to_qdq(model, analysis, r, nullptr);
  std::vector<uint8_t> out(model.ByteSizeLong());
  KESTREL_CHECK(model.SerializeToArray(out.data(), int(out.size())), "{}: cannot serialize", model_path);
  return out;
}

}  // namespace

std::map<std::string, bool> layer_decisions(const std::string& model_path, const QuantizeOptions& options) {
  const std::vector<uint8_t> bytes = read_file(model_path);
  const ModelAnalysis analysis = analyse_model(parse_onnx_model(bytes.data(), bytes.size(), model_path));
  try {
    return decide_precisions(analysis, options.layer_precision);
  } catch (const Error& e) {
    fail("{}: {}", model_path, e.what());
  }
}

std::vector<NamedTensors> take_samples(ICalibrator& source, int count) {
  std::vector<NamedTensors> samples;
  NamedTensors batch;
  while (int(samples.size()) < count && source.get_batch(batch)) samples.push_back(std::move(batch));
  KESTREL_CHECK(source.error().empty(), "evaluation data: {}", source.error());
  KESTREL_CHECK(!samples.empty(), "the evaluation data gave no sample");
  return samples;
}

AccuracyProbe::AccuracyProbe(const std::string& model_path, std::vector<NamedTensors> samples, ILogger& logger)
    : model_path_(model_path), samples_(std::move(samples)), logger_(logger) {
  const std::vector<uint8_t> bytes = read_file(model_path);
  CpuModel fp32(bytes, model_path, samples_.front(), logger);
  for (const NamedTensors& s : samples_) reference_.push_back(fp32.run(s));
  default_int8_ = layer_decisions(model_path, QuantizeOptions{});
}

AccuracyReport AccuracyProbe::compare(const CalibrationTable& table, const std::map<std::string, bool>& int8) {
  CpuModel quantized(qdq_bytes(model_path_, table, int8), model_path_ + " (QDQ)", samples_.front(), logger_);
  std::vector<NamedTensors> outputs;
  for (const NamedTensors& s : samples_) outputs.push_back(quantized.run(s));
  return compare_outputs(outputs);
}

AccuracyReport AccuracyProbe::compare_outputs(const std::vector<NamedTensors>& quantized) const {
  AccuracyReport r;
  r.samples = int(quantized.size());
  for (const auto& [name, t] : reference_.front())
    if (t.dtype == DataType::kFLOAT) r.outputs.push_back(name);
  const HostTensor* score0 = find(reference_.front(), "score_map");
  r.smat = score0 && find(reference_.front(), "size_map") && find(reference_.front(), "offset_map") &&
           score0->shape.size() == 4 && score0->shape[0] == 1;
  for (const std::string& name : r.outputs) {
    r.min_cosine[name] = 1;
    r.max_abs_error[name] = 0;
  }
  const int feat = r.smat ? int(score0->shape[3]) : 0;
  const std::vector<float> window = r.smat ? tracker::hann_window_2d(feat) : std::vector<float>{};
  double same = 0, iou_sum = 0;
  for (size_t s = 0; s < quantized.size(); ++s) {
    for (const std::string& name : r.outputs) {
      const HostTensor& a = *find(reference_[s], name);
      const HostTensor& b = *find(quantized[s], name);
      const double c = cosine(a, b);
      r.mean_cosine[name] += c / double(quantized.size());
      r.min_cosine[name] = std::min(r.min_cosine[name], c);
      for (int64_t i = 0; i < a.numel(); ++i)
        r.max_abs_error[name] = std::max(r.max_abs_error[name], double(std::fabs(a.data<float>()[i] - b.data<float>()[i])));
    }
    if (r.smat) {
      const float* maps[2][3];
      const NamedTensors* sets[2] = {&reference_[s], &quantized[s]};
      for (int k = 0; k < 2; ++k) {
        maps[k][0] = find(*sets[k], "score_map")->data<float>();
        maps[k][1] = find(*sets[k], "size_map")->data<float>();
        maps[k][2] = find(*sets[k], "offset_map")->data<float>();
      }
      same += peak_of(maps[0][0], window, feat * feat) == peak_of(maps[1][0], window, feat * feat) ? 1 : 0;
      const tracker::CropBox a = tracker::decode_at_peak(maps[0][0], maps[0][1], maps[0][2], window.data(), feat);
      const tracker::CropBox b = tracker::decode_at_peak(maps[1][0], maps[1][1], maps[1][2], window.data(), feat);
      iou_sum += iou(a, b);
    }
  }
  if (r.smat) {
    r.same_peak_rate = same / double(quantized.size());
    r.mean_box_iou = iou_sum / double(quantized.size());
    r.error = 1 - r.mean_cosine["score_map"];
  } else {
    double sum = 0;
    for (const std::string& name : r.outputs) sum += r.mean_cosine[name];
    r.error = r.outputs.empty() ? 0 : 1 - sum / double(r.outputs.size());
  }
  return r;
}

std::vector<LayerImpact> analyze_layers(AccuracyProbe& probe, const CalibrationTable& table,
                                        const std::map<std::string, bool>& int8) {
  std::vector<LayerImpact> impacts;
  for (const auto& [layer, on] : int8) {
    if (!on) continue;
    std::map<std::string, bool> only = {{layer, true}};
    const AccuracyReport r = probe.compare(table, only);
    impacts.push_back({layer, r.error, r.smat ? r.same_peak_rate : 1.0});
  }
  std::stable_sort(impacts.begin(), impacts.end(), [](const LayerImpact& a, const LayerImpact& b) { return a.error > b.error; });
  return impacts;
}

}  // namespace kestrel::quant
