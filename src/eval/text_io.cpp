#include "eval/text_io.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file_io.h"

namespace kestrel::eval {

std::vector<std::vector<double>> read_number_rows(const std::string& path, size_t columns) {
  const std::vector<uint8_t> bytes = read_file(path);
  const std::string text(bytes.begin(), bytes.end());
  std::vector<std::vector<double>> rows;
  size_t line_start = 0;
  for (int line_number = 1; line_start < text.size(); ++line_number) {
    size_t line_end = text.find('\n', line_start);
    if (line_end == std::string::npos) line_end = text.size();
    std::string line = text.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    std::vector<double> row;
    const char* p = line.c_str();
    while (true) {
      while (*p == ' ' || *p == '\t' || *p == '\r') ++p;
      if (*p == '\0') break;
      char* end = nullptr;
      errno = 0;
      const double value = std::strtod(p, &end);
      KESTREL_CHECK(end != p && errno != ERANGE, "{}: line {}: '{}' is not a list of numbers", path, line_number, line);
      row.push_back(value);
      p = end;
      while (*p == ' ' || *p == '\t' || *p == '\r') ++p;
      if (*p == ',') ++p;  // anything else that is not a number fails in strtod above
    }
    if (row.empty()) continue;
    const size_t want = columns != 0 ? columns : rows.empty() ? row.size() : rows.front().size();
    KESTREL_CHECK(row.size() == want, "{}: line {} holds {} numbers, expected {}", path, line_number, row.size(), want);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<Box> read_boxes(const std::string& path) {
  std::vector<Box> boxes;
  for (const auto& r : read_number_rows(path, 4)) boxes.push_back({r[0], r[1], r[2], r[3]});
  return boxes;
}

std::vector<int> read_labels(const std::string& path) {
  std::vector<int> labels;
  for (const auto& r : read_number_rows(path, 1)) {
    KESTREL_CHECK(std::isfinite(r[0]) && r[0] == std::floor(r[0]), "{}: label {} is not an integer", path, r[0]);
    labels.push_back(int(r[0]));
  }
  return labels;
}

std::string format_boxes(const std::vector<Box>& boxes) {
  std::string text;
  for (const Box& b : boxes) text += fmt::format("{:.3f},{:.3f},{:.3f},{:.3f}\n", b.x, b.y, b.w, b.h);
  return text;
}

std::string format_times(const std::vector<std::vector<double>>& runs) {
  std::string text;
  const size_t frames = runs.empty() ? 0 : runs.front().size();
  for (size_t f = 0; f < frames; ++f) {
    for (size_t r = 0; r < runs.size(); ++r) text += fmt::format("{}{:.8f}", r == 0 ? "" : ",", runs[r][f]);
    text += '\n';
  }
  return text;
}

}  // namespace kestrel::eval
