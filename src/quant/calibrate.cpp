// calibrate(): the cache when there is one, else an FP32 run over the calibrator's batches with
// every observed tensor made a graph output (so the engine keeps it and the caller reads it),
// one |x| histogram per tensor, and the algorithm's threshold turned into a scale.
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/file_io.h"
#include "engine/api_guard.h"
#include "engine/network_impl.h"
#include "kestrel/quant.h"
#include "quant/histogram.h"
#include "quant/qdq_plan.h"

namespace kestrel {
namespace {

// Never beyond the largest |x| seen: a threshold past it would only waste levels.
double threshold_of(const quant::AbsHistogram& h, const ICalibrator& calibrator) {
  double t = h.max_abs();
  switch (calibrator.algorithm()) {
    case CalibrationAlgorithm::kMINMAX_CALIBRATION: break;
    case CalibrationAlgorithm::kPERCENTILE:
      t = quant::percentile_threshold(h.counts(), h.bin_width(), calibrator.percentile());
      break;
    case CalibrationAlgorithm::kENTROPY_CALIBRATION_2:
      t = quant::entropy_threshold_bin(h.counts()) * h.bin_width();
      break;
  }
  return std::min(t, double(h.max_abs()));
}

const HostTensor& find_array(const NamedTensors& batch, const std::string& name) {
  for (const auto& [n, t] : batch)
    if (n == name) return t;
  fail("the calibration batch has no array named '{}' (the model input of that name)", name);
}

CalibrationTable run_calibration(const std::string& model_path, ICalibrator& calibrator, ILogger& logger) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<uint8_t> bytes = read_file(model_path);
  const quant::ModelAnalysis analysis =
      quant::analyse_model(quant::parse_onnx_model(bytes.data(), bytes.size(), model_path));

  NamedTensors batch;
  KESTREL_CHECK(calibrator.get_batch(batch), "{}: the calibrator gave no batch{}", model_path,
                calibrator.error().empty() ? "" : ": " + calibrator.error());

  Builder builder(logger);
  auto network = builder.create_network();
  OnnxParser parser(*network, logger);
  Status parsed = parser.parse(bytes.data(), bytes.size(), model_path);
  KESTREL_CHECK(parsed.ok(), "{}", parsed.message());
  ir::Graph& graph = network->impl().graph;
  std::vector<std::string> from_engine, from_inputs;
  for (const std::string& name : analysis.observed_tensors) {
    const int id = graph.find_value(name);
    KESTREL_CHECK(id != ir::kNoValue, "{}: tensor '{}' is missing after import", model_path, name);
    if (std::find(graph.inputs.begin(), graph.inputs.end(), id) != graph.inputs.end()) {
      from_inputs.push_back(name);  // fed by the calibrator: read from the batch itself
    } else {
      if (!graph.is_graph_output(id)) graph.outputs.push_back(id);
      from_engine.push_back(name);
    }
  }
  BuilderConfig config;
  config.set_device(DeviceType::kCPU);
  for (int id : graph.inputs) config.set_input_shape(graph.values[size_t(id)].name, find_array(batch, graph.values[size_t(id)].name).shape);
  auto built = builder.build_serialized_network(*network, config);
  KESTREL_CHECK(built.ok(), "{}", built.status().message());
  Runtime runtime(logger);
  auto engine = runtime.deserialize(built->data(), built->size(), model_path);
  KESTREL_CHECK(engine.ok(), "{}", engine.status().message());
  auto context = (*engine)->create_execution_context();
  KESTREL_CHECK(context != nullptr, "{}: cannot allocate the execution context", model_path);

  std::map<std::string, quant::AbsHistogram> histograms;
  std::map<std::string, std::vector<float>> buffers;
  for (const TensorDesc& out : (*engine)->outputs()) {
    buffers[out.name].resize(size_t(shape_numel(out.shape)));
    KESTREL_CHECK(out.dtype == DataType::kFLOAT || !std::count(from_engine.begin(), from_engine.end(), out.name),
                  "tensor '{}' is not float32", out.name);
    Status bound = context->set_tensor_address(out.name, buffers[out.name].data());
    KESTREL_CHECK(bound.ok(), "{}", bound.message());
  }
  CalibrationTable table;
  table.algorithm = calibrator.algorithm();
  do {
    for (const TensorDesc& in : (*engine)->inputs()) {
      const HostTensor& t = find_array(batch, in.name);
      KESTREL_CHECK(t.dtype == in.dtype && t.shape == in.shape, "calibration batch {}: array '{}' is {} {}, the model "
                    "input needs {} {}", table.batches + 1, in.name, to_string(t.dtype), shape_str(t.shape),
                    to_string(in.dtype), shape_str(in.shape));
      Status bound = context->set_tensor_address(in.name, const_cast<uint8_t*>(t.bytes.data()));
      KESTREL_CHECK(bound.ok(), "{}", bound.message());
    }
    Status ran = context->infer();
    KESTREL_CHECK(ran.ok(), "calibration batch {}: {}", table.batches + 1, ran.message());
    for (const std::string& name : from_engine) histograms[name].add(buffers[name].data(), int64_t(buffers[name].size()));
    for (const std::string& name : from_inputs) {
      const HostTensor& t = find_array(batch, name);
      histograms[name].add(t.data<float>(), t.numel());
    }
    ++table.batches;
    batch.clear();
  } while (calibrator.get_batch(batch));
  KESTREL_CHECK(calibrator.error().empty(), "calibration data: {}", calibrator.error());

  std::vector<std::string> unusable;
  for (const auto& [name, h] : histograms) {
    const double threshold = threshold_of(h, calibrator);
    const float scale = float(threshold / 127.0);
    if (!(scale > 0) || !std::isfinite(scale)) {
      unusable.push_back(name);  // e.g. a tensor that was zero on every batch: its layer stays float
      continue;
    }
    table.scales[name] = scale;
  }
  if (!unusable.empty())
    logger.log(ILogger::Severity::kWARNING,
               fmt::format("{}: no usable scale (all zeros or non-finite in calibration) for {}; the layers reading "
                           "them stay in float", model_path, fmt::join(unusable, ", ")).c_str());
  table.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return table;
}

}  // namespace

Result<CalibrationTable> calibrate(const std::string& model_path, ICalibrator& calibrator, ILogger& logger) {
  CalibrationTable table;
  Status status = guarded(nullptr, [&] {
    const std::string cached = calibrator.read_cache();
    if (!cached.empty()) {
      auto parsed = parse_calibration_cache(cached, calibrator.cache_name());
      KESTREL_CHECK(parsed.ok(), "{}", parsed.status().message());
      table = std::move(parsed.value());
      if (table.algorithm != calibrator.algorithm())
        logger.log(ILogger::Severity::kWARNING,
                   fmt::format("the calibration cache was made with {}, not {}; its scales are used as they are",
                               to_string(table.algorithm), to_string(calibrator.algorithm())).c_str());
      return;
    }
    table = run_calibration(model_path, calibrator, logger);
    calibrator.write_cache(format_calibration_cache(table));
  });
  if (!status.ok()) return status;
  return table;
}

}  // namespace kestrel
