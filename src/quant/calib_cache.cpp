// TensorRT's calibration cache text. TensorRT writes the header "TRT-<version>-<Algorithm>" and
// one "<tensor>: <hex>" line per tensor, where <hex> is the float32 scale's bit pattern as a
// hexadecimal integer (most significant digit first; it drops leading zeros, Kestrel writes
// all eight). Tensor names may hold ": " themselves, so a line splits at its last ": ".
#include <bit>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "engine/api_guard.h"
#include "kestrel/quant.h"

namespace kestrel {
namespace {

CalibrationAlgorithm algorithm_from_name(const std::string& name, const std::string& source) {
  for (CalibrationAlgorithm a : {CalibrationAlgorithm::kENTROPY_CALIBRATION_2, CalibrationAlgorithm::kMINMAX_CALIBRATION,
                                 CalibrationAlgorithm::kPERCENTILE})
    if (name == to_string(a)) return a;
  // TensorRT's legacy calibrators: their scales mean the same thing, so they are accepted as the
  // closest of Kestrel's algorithms.
  if (name == "EntropyCalibration") return CalibrationAlgorithm::kENTROPY_CALIBRATION_2;
  if (name == "LegacyCalibration") return CalibrationAlgorithm::kPERCENTILE;
  fail("{}: line 1: unknown calibration algorithm '{}' (expected EntropyCalibration2, MinMaxCalibration or "
       "PercentileCalibration)", source, name);
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  const size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

const char* to_string(CalibrationAlgorithm algorithm) {
  switch (algorithm) {
    case CalibrationAlgorithm::kENTROPY_CALIBRATION_2: return "EntropyCalibration2";
    case CalibrationAlgorithm::kMINMAX_CALIBRATION: return "MinMaxCalibration";
    case CalibrationAlgorithm::kPERCENTILE: return "PercentileCalibration";
  }
  return "?";
}

std::string format_calibration_cache(const CalibrationTable& table) {
  std::string text = fmt::format("TRT-{}-{}\n", table.trt_version, to_string(table.algorithm));
  for (const auto& [name, scale] : table.scales)
    text += fmt::format("{}: {:08x}\n", name, std::bit_cast<uint32_t>(scale));
  return text;
}

Result<CalibrationTable> parse_calibration_cache(const std::string& text, const std::string& source) {
  CalibrationTable table;
  table.from_cache = true;
  Status status = guarded(nullptr, [&] {
    std::istringstream in(text);
    std::string line;
    KESTREL_CHECK(std::getline(in, line), "{}: the calibration cache is empty", source);
    line = trim(line);
    KESTREL_CHECK(line.rfind("TRT-", 0) == 0, "{}: line 1: expected 'TRT-<version>-<Algorithm>', got '{}'", source,
                  line);
    const size_t dash = line.find('-', 4);
    KESTREL_CHECK(dash != std::string::npos, "{}: line 1: expected 'TRT-<version>-<Algorithm>', got '{}'", source, line);
    try {
      table.trt_version = std::stoi(line.substr(4, dash - 4));
    } catch (const std::exception&) {
      fail("{}: line 1: '{}' is not a version number", source, line.substr(4, dash - 4));
    }
    table.algorithm = algorithm_from_name(line.substr(dash + 1), source);
    std::vector<std::string> bad;
    for (int number = 2; std::getline(in, line); ++number) {
      line = trim(line);
      if (line.empty()) continue;
      const size_t colon = line.rfind(": ");
      KESTREL_CHECK(colon != std::string::npos && colon > 0, "{}: line {}: expected '<tensor>: <hex>', got '{}'", source,
                    number, line);
      const std::string name = line.substr(0, colon);
      const std::string hex = trim(line.substr(colon + 2));
      size_t used = 0;
      unsigned long bits = 0;
      try {
        bits = std::stoul(hex, &used, 16);
      } catch (const std::exception&) {
        used = 0;
      }
      KESTREL_CHECK(!hex.empty() && used == hex.size() && hex.size() <= 8,
                    "{}: line {}: tensor '{}': '{}' is not the hex of a float32 scale", source, number, name, hex);
      const float scale = std::bit_cast<float>(uint32_t(bits));
      if (!std::isfinite(scale) || scale <= 0)
        bad.push_back(fmt::format("'{}' ({})", name, scale));
      KESTREL_CHECK(table.scales.emplace(name, scale).second, "{}: line {}: tensor '{}' appears twice", source, number,
                    name);
    }
    KESTREL_CHECK(bad.empty(), "{}: unusable scales (zero, negative, infinite or NaN) for {} tensor(s): {}", source,
                  bad.size(), fmt::join(bad, ", "));
  });
  if (!status.ok()) return status;
  return table;
}

}  // namespace kestrel
