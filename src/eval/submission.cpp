#include "eval/submission.h"

#include <filesystem>

#include "core/error.h"
#include "core/file_io.h"
#include "core/zip.h"
#include "eval/results.h"

namespace kestrel::eval {
namespace fs = std::filesystem;

void write_submission_zip(const std::string& path, const ResultSet& set, const std::vector<std::string>& sequences) {
  struct File {
    std::string name;
    std::vector<uint8_t> bytes;
  };
  std::vector<File> files;
  for (const std::string& seq : sequences) {
    const std::string folder = find_sequence_folder(set, seq);
    KESTREL_CHECK(!folder.empty(), "{}: no results for sequence {} in {}", path, seq, fmt::join(set.folders, ", "));
    std::error_code ec;
    for (int run = 1; fs::is_regular_file(boxes_file(folder, seq, run), ec); ++run)
      files.push_back({fmt::format("{}/{}_{:03d}.txt", seq, seq, run), read_file(boxes_file(folder, seq, run))});
    const std::string times = times_file(folder, seq);
    KESTREL_CHECK(fs::is_regular_file(times, ec), "{}: missing: the server needs the times too", times);
    files.push_back({fmt::format("{}/{}_time.txt", seq, seq), read_file(times)});
  }
  std::vector<zip::MemberSource> members;
  for (const File& f : files) members.push_back({f.name, {std::span<const uint8_t>(f.bytes)}});
  zip::write_atomically(path, members);
}

}  // namespace kestrel::eval
