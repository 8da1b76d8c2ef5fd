#include "calib_options.h"

#include <stdexcept>

#include <fmt/format.h>

namespace kestrel::cli {

void add_calib_options(CLI::App& app, CalibOptions& options) {
  app.add_option("--calib-data", options.data,
                 "Calibration data: an .npz of input arrays, or a GOT-10k-layout folder (SMAT networks)");
  app.add_option("--template-model", options.template_model,
                 "SMAT's template network: makes z when calibrating the tracking network from images");
  app.add_option("--calib-algo", options.algo, "Calibration algorithm (default percentile; TensorRT's default is entropy)")
      ->check(CLI::IsMember({"entropy", "minmax", "percentile"}));
  app.add_option("--percentile", options.percentile, "Percentile of |x| for --calib-algo percentile");
  app.add_option("--calib-cache", options.cache,
                 "Calibration cache (TensorRT text format): read when it exists, else written");
  app.add_option("--calib-batches", options.batches, "Calibration batches (samples) to use at most")
      ->check(CLI::PositiveNumber);
  app.add_option("--layer-precision", options.layer_precision, "Per-layer precision NAME=fp32|fp16|int8 (repeatable)");
}

CalibrationDataOptions make_data_options(const CalibOptions& o) {
  CalibrationDataOptions d;
  d.data_path = o.data;
  d.template_model = o.template_model;
  d.max_batches = o.batches;
  d.algorithm = o.algo == "minmax"    ? CalibrationAlgorithm::kMINMAX_CALIBRATION
                : o.algo == "entropy" ? CalibrationAlgorithm::kENTROPY_CALIBRATION_2
                                      : CalibrationAlgorithm::kPERCENTILE;
  if (!(o.percentile > 0 && o.percentile <= 100))
    throw std::invalid_argument(fmt::format("--percentile {}: must lie in (0, 100]", o.percentile));
  d.percentile = o.percentile;
  d.cache_path = o.cache;
  return d;
}

QuantizeOptions make_quantize_options(const CalibOptions& o) {
  QuantizeOptions q;
  for (const std::string& spec : o.layer_precision) {
    const size_t eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument(fmt::format("--layer-precision '{}': expected NAME=fp32|fp16|int8", spec));
    const std::string precision = spec.substr(eq + 1);
    if (precision != "fp32" && precision != "fp16" && precision != "int8")
      throw std::invalid_argument(fmt::format("--layer-precision '{}': the precision must be fp32, fp16 or int8", spec));
    q.layer_precision[spec.substr(0, eq)] = precision;
  }
  return q;
}

CalibrationTable run_calibration(const std::string& model, const CalibOptions& options, ILogger& logger) {
  auto calibrator = make_calibrator(model, make_data_options(options), logger);
  if (!calibrator) throw std::runtime_error(calibrator.status().message());
  auto table = calibrate(model, **calibrator, logger);
  if (!table) throw std::runtime_error(table.status().message());
  if (table->from_cache)
    fmt::print("calibration: {} scales from {} ({})\n", table->scales.size(), options.cache, to_string(table->algorithm));
  else
    fmt::print("calibration: {} scales from {} batches in {:.1f} s ({}){}\n", table->scales.size(), table->batches,
               table->seconds, to_string(table->algorithm), options.cache.empty() ? "" : ", cache " + options.cache);
  return std::move(table.value());
}

}  // namespace kestrel::cli
