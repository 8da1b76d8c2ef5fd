#include "eval/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/error.h"
#include "eval/text_io.h"
#include "tracker/frames.h"

namespace kestrel::eval {
namespace fs = std::filesystem;
namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

// "resolution: (1920, 1080)" in meta_info.ini; false when the file or the line is missing.
bool read_resolution(const std::string& path, int* width, int* height) {
  std::ifstream file(path);
  if (!file) return false;
  static const std::regex pattern(R"(^\s*resolution\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*$)");
  std::string line;
  std::smatch match;
  while (std::getline(file, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (std::regex_match(line, match, pattern)) {
      *width = std::stoi(match[1]);
      *height = std::stoi(match[2]);
      return *width > 0 && *height > 0;
    }
  }
  return false;
}

// Runs `body`, rewording any error as the sequence's (see sequence_message).
template <typename F>
auto in_sequence(const std::string& name, const std::string& folder, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    throw Error(sequence_message(name, folder, e.what()));
  }
}

}  // namespace

std::string sequence_message(const std::string& name, const std::string& folder, std::string message) {
  const std::string prefix = folder + "/";
  for (size_t at; (at = message.find(prefix)) != std::string::npos;) message.erase(at, prefix.size());
  return name + ": " + message;
}

Split open_split(const std::string& root, const std::string& split) {
  Split s;
  s.name = split;
  s.folder = (fs::path(root) / split).string();
  const std::string list = s.folder + "/list.txt";
  std::error_code ec;
  KESTREL_CHECK(fs::is_directory(root, ec), "{}: no such dataset folder", root);
  KESTREL_CHECK(fs::is_directory(s.folder, ec), "{}: no '{}' split in the dataset (expected {})", root, split, s.folder);
  std::ifstream file(list);
  KESTREL_CHECK(file.good(), "{}: missing: a GOT-10k split lists its sequences there", list);
  std::string line;
  while (std::getline(file, line)) {
    line = trim(line);
    if (!line.empty()) s.sequences.push_back(line);
  }
  KESTREL_CHECK(!s.sequences.empty(), "{}: lists no sequences", list);
  return s;
}

std::vector<std::string> select_sequences(const Split& split, const std::vector<std::string>& names) {
  if (names.empty()) return split.sequences;
  for (const std::string& name : names)
    KESTREL_CHECK(std::find(split.sequences.begin(), split.sequences.end(), name) != split.sequences.end(),
                  "sequence '{}' is not in {}/list.txt", name, split.folder);
  return names;
}

Sequence load_sequence(const Split& split, const std::string& name, Annotations annotations) {
  Sequence seq;
  seq.name = name;
  seq.folder = (fs::path(split.folder) / name).string();
  return in_sequence(name, seq.folder, [&] {
    std::error_code ec;
    KESTREL_CHECK(fs::is_directory(seq.folder, ec), "{}: the sequence folder is missing", seq.folder);
    seq.frames = tracker::list_frames(seq.folder);
    const std::string gt_path = seq.folder + "/groundtruth.txt";
    KESTREL_CHECK(fs::exists(gt_path, ec), "{}: missing", gt_path);
    seq.groundtruth = read_boxes(gt_path);
    KESTREL_CHECK(!seq.groundtruth.empty(), "{}: holds no box", gt_path);
    const size_t frames = seq.frames.size();
    const bool full = annotations == Annotations::kFull;
    if (full || seq.groundtruth.size() > 1)
      KESTREL_CHECK(seq.groundtruth.size() == frames, "{}: {} boxes for {} frames", gt_path, seq.groundtruth.size(),
                    frames);
    const Box& first = seq.groundtruth.front();
    KESTREL_CHECK(std::isfinite(first.x) && std::isfinite(first.y) && first.w > 0 && first.h > 0,
                  "{}: the first box {},{},{},{} has no area: a tracker cannot start from it", gt_path, first.x,
                  first.y, first.w, first.h);
    if (!full) return seq;

    const std::string cover_path = seq.folder + "/cover.label";
    KESTREL_CHECK(fs::exists(cover_path, ec), "{}: missing: evaluation counts only frames with cover > 0",
                  cover_path);
    seq.cover = read_labels(cover_path);
    KESTREL_CHECK(seq.cover.size() == frames, "{}: {} labels for {} frames", cover_path, seq.cover.size(), frames);
    if (!read_resolution(seq.folder + "/meta_info.ini", &seq.width, &seq.height)) {
      // The toolkit reads the resolution from meta_info.ini; without one, the frame says it.
      const synth::RgbImage first_frame = tracker::read_frame(seq.frames.front());
      seq.width = first_frame.width;
      seq.height = first_frame.height;
    }
    return seq;
  });
}

}  // namespace kestrel::eval
