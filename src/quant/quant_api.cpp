// quantize_to_qdq() and int8_layers(): the model's analysis, the precision decisions and the
// QDQ rewrite, behind the public API.
#include "core/error.h"
#include "core/file_io.h"
#include "engine/api_guard.h"
#include "kestrel/quant.h"
#include "quant/qdq_writer.h"

namespace kestrel {
namespace {

std::vector<std::string> rewrite(const std::string& model_path, const CalibrationTable& table,
                                 const QuantizeOptions& options, onnx::ModelProto* out, std::vector<std::string>* missing) {
  const std::vector<uint8_t> bytes = read_file(model_path);
  onnx::ModelProto model = quant::parse_onnx_model(bytes.data(), bytes.size(), model_path);
  const quant::ModelAnalysis analysis = quant::analyse_model(model);
  quant::QdqRewrite r;
  try {
    r.int8 = quant::decide_precisions(analysis, options.layer_precision);
  } catch (const Error& e) {
    fail("{}: {}", model_path, e.what());
  }
  r.scales = table.scales;
  r.per_channel_weights = options.per_channel_weights;
  std::vector<std::string> layers = quant::rewrite_to_qdq(model, analysis, r, missing);
  if (out) *out = std::move(model);
  return layers;
}

}  // namespace

Result<std::vector<uint8_t>> quantize_to_qdq(const std::string& model_path, const CalibrationTable& table,
                                             const QuantizeOptions& options, ILogger& logger) {
  std::vector<uint8_t> bytes;
  Status status = guarded(nullptr, [&] {
    onnx::ModelProto model;
    std::vector<std::string> missing;
    const std::vector<std::string> layers = rewrite(model_path, table, options, &model, &missing);
    if (!missing.empty())
      logger.log(ILogger::Severity::kWARNING,
                 fmt::format("{}: {} layer(s) stay in float because the calibration has no scale for their input: {}",
                             model_path, missing.size(), fmt::join(missing, ", ")).c_str());
    model.set_producer_name("kestrel quantize");
    bytes.resize(model.ByteSizeLong());
    KESTREL_CHECK(model.SerializeToArray(bytes.data(), int(bytes.size())), "{}: cannot serialize the QDQ model",
                  model_path);
  });
  if (!status.ok()) return status;
  return bytes;
}

Result<std::vector<std::string>> int8_layers(const std::string& model_path, const CalibrationTable& table,
                                             const QuantizeOptions& options) {
  std::vector<std::string> layers;
  Status status = guarded(nullptr, [&] { layers = rewrite(model_path, table, options, nullptr, nullptr); });
  if (!status.ok()) return status;
  return layers;
}

}  // namespace kestrel
