#include "eval/results.h"

#include <algorithm>
#include <filesystem>
#include <cctype>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file_io.h"
#include "eval/text_io.h"

namespace kestrel::eval {
namespace fs = std::filesystem;

std::string boxes_file(const std::string& results, const std::string& seq, int run) {
  return fmt::format("{}/{}/{}_{:03d}.txt", results, seq, seq, run);
}

std::string times_file(const std::string& results, const std::string& seq) {
  return fmt::format("{}/{}/{}_time.txt", results, seq, seq);
}

void write_sequence_results(const std::string& results, const std::string& seq,
                            const std::vector<std::vector<Box>>& boxes, const std::vector<std::vector<double>>& times) {
  KESTREL_CHECK(!boxes.empty() && boxes.size() == times.size(), "{}: {} runs of boxes and {} of times", seq,
                boxes.size(), times.size());
  std::error_code ec;
  const fs::path folder = fs::path(results) / seq;
  fs::create_directories(folder, ec);
  KESTREL_CHECK(!ec, "{}: cannot create the folder: {}", folder.string(), ec.message());
  for (size_t r = 0; r < boxes.size(); ++r) {
    const std::string text = format_boxes(boxes[r]);
    write_file_atomic(boxes_file(results, seq, int(r + 1)), text.data(), text.size());
  }
  const std::string text = format_times(times);
  write_file_atomic(times_file(results, seq), text.data(), text.size());
}

bool sequence_finished(const std::string& results, const std::string& seq, int runs, size_t frames) {
  std::error_code ec;
  for (int r = 1; r <= runs; ++r)
    if (!fs::is_regular_file(boxes_file(results, seq, r), ec)) return false;
  try {
    const auto rows = read_number_rows(times_file(results, seq), size_t(runs));
    return rows.size() == frames;
  } catch (const Error&) {
    return false;
  }
}

bool has_sequence_results(const std::string& results, const std::string& seq) {
  std::error_code ec;
  return fs::is_regular_file(boxes_file(results, seq, 1), ec);
}

SequenceResults read_sequence_results(const std::string& results, const std::string& seq) {
  // The toolkit globs <seq>_[0-9]*.txt; runs are numbered from 001 without gaps.
  SequenceResults out;
  const std::string prefix = seq + "_";
  std::vector<int> runs;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(fs::path(results) / seq, ec)) {
    const std::string file = entry.path().filename().string();
    const bool is_run = file.size() == prefix.size() + 7 && file.starts_with(prefix) && file.ends_with(".txt") &&
                        std::all_of(file.begin() + long(prefix.size()), file.end() - 4, ::isdigit);
    if (is_run) runs.push_back(std::stoi(file.substr(prefix.size(), 3)));
  }
  KESTREL_CHECK(!ec, "{}/{}: cannot list the folder: {}", results, seq, ec.message());
  std::sort(runs.begin(), runs.end());
  for (size_t i = 0; i < runs.size(); ++i)
    KESTREL_CHECK(runs[i] == int(i + 1), "{}: run {:03d} is missing", boxes_file(results, seq, int(i + 1)), i + 1);
  for (int r : runs) out.runs.push_back(read_boxes(boxes_file(results, seq, r)));
  const std::string times = times_file(results, seq);
  if (fs::exists(times, ec))
    for (const auto& row : read_number_rows(times, 0)) out.times.insert(out.times.end(), row.begin(), row.end());
  return out;
}

}  // namespace kestrel::eval
