#include "eval/shard.h"

#include <filesystem>
#include <fstream>
#include <regex>

#include <fmt/format.h>

#include "core/error.h"
#include "core/file_io.h"

namespace kestrel::eval {
namespace fs = std::filesystem;

Shard parse_shard(const std::string& text) {
  static const std::regex pattern(R"((\d{1,6})/(\d{1,6}))");
  std::smatch match;
  KESTREL_CHECK(std::regex_match(text, match, pattern), "--shard '{}': expected K/N, e.g. 0/4", text);
  Shard shard{std::stoi(match[1]), std::stoi(match[2])};
  KESTREL_CHECK(shard.count >= 1 && shard.index < shard.count, "--shard '{}': K must be in 0..N-1", text);
  return shard;
}

std::string default_set_name(const std::string& results) {
  const fs::path folder = fs::path(results).lexically_normal();
  return folder.has_filename() ? folder.filename().string() : folder.parent_path().filename().string();
}

std::string manifest_file(const std::string& results, const Shard& shard) {
  return fmt::format("{}/shard_{}_of_{}.txt", results, shard.index, shard.count);
}

void write_manifest(const std::string& results, const Manifest& m) {
  std::string text = fmt::format(
      "# kestrel eval: one shard of a result set, written when the shard finished\n"
      "name: {}\nsplit: {}\nshard: {}/{}\nruns: {}\ntemplate_engine: {}\ntrack_engine: {}\ndevice: {}\nbatch: {}\n"
      "sequences: {}\nfinished: {}\n",
      m.name, m.split, m.shard.index, m.shard.count, m.runs, m.template_engine, m.track_engine, m.device, m.batch,
      m.sequences, m.finished);
  for (const std::string& f : m.failed) {
    std::string line = f;
    for (char& c : line)
      if (c == '\n') c = ' ';
    text += fmt::format("failed: {}\n", line);
  }
  write_file_atomic(manifest_file(results, m.shard), text.data(), text.size());
}

std::vector<Manifest> read_manifests(const std::string& results) {
  static const std::regex file_name(R"(shard_\d+_of_\d+\.txt)");
  std::vector<std::string> paths;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(results, ec))
    if (std::regex_match(entry.path().filename().string(), file_name)) paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  std::vector<Manifest> manifests;
  for (const std::string& path : paths) {
    std::ifstream file(path);
    KESTREL_CHECK(file.good(), "{}: cannot read the file", path);
    Manifest m;
    bool has_shard = false;
    std::string line;
    while (std::getline(file, line)) {
      if (line.empty() || line[0] == '#') continue;
      const size_t colon = line.find(": ");
      KESTREL_CHECK(colon != std::string::npos, "{}: '{}' is not a 'key: value' line", path, line);
      const std::string key = line.substr(0, colon), value = line.substr(colon + 2);
      try {
        if (key == "name") m.name = value;
        else if (key == "split") m.split = value;
        else if (key == "shard") m.shard = parse_shard(value), has_shard = true;
        else if (key == "runs") m.runs = std::stoi(value);
        else if (key == "template_engine") m.template_engine = value;
        else if (key == "track_engine") m.track_engine = value;
        else if (key == "device") m.device = value;
        else if (key == "batch") m.batch = std::stoi(value);
        else if (key == "sequences") m.sequences = std::stoul(value);
        else if (key == "finished") m.finished = std::stoul(value);
        else if (key == "failed") m.failed.push_back(value);
      } catch (const std::exception& e) {
        fail("{}: bad value in '{}': {}", path, line, e.what());
      }
    }
    KESTREL_CHECK(has_shard && !m.name.empty(), "{}: not a kestrel eval manifest (no name or shard)", path);
    manifests.push_back(std::move(m));
  }
  return manifests;
}

}  // namespace kestrel::eval
