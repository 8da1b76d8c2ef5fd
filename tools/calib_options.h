// Calibration options that `build --int8` and `quantize` share, and the step they share: from
// the options to a calibration table (the cache when present, else a calibration run).
#pragma once
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "kestrel/quant.h"

namespace kestrel::cli {

struct CalibOptions {
  std::string data;            // .npz or GOT-10k-layout folder
  std::string template_model;  // SMAT's template network, for the tracking network's z
  std::string algo = "percentile";  // the most faithful on SMAT (docs/int8.md); entropy is TensorRT's default
  double percentile = 99.99;
  std::string cache;
  int batches = 500;
  std::vector<std::string> layer_precision;  // NAME=fp16|fp32|int8
};

void add_calib_options(CLI::App& app, CalibOptions& options);
// True when calibration was asked for (data or cache given).
inline bool wants_calibration(const CalibOptions& o) { return !o.data.empty() || !o.cache.empty(); }
// Throws std::invalid_argument naming the bad option.
CalibrationDataOptions make_data_options(const CalibOptions& options);
QuantizeOptions make_quantize_options(const CalibOptions& options);
// Calibrates (or reads the cache) and prints a one-line summary; throws std::runtime_error with
// the reason on failure.
CalibrationTable run_calibration(const std::string& model, const CalibOptions& options, ILogger& logger);

}  // namespace kestrel::cli
