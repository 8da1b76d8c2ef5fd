#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/error.h"
#include "eval/results.h"

namespace kestrel::eval {
namespace fs = std::filesystem;

std::vector<ResultSet> group_result_sets(const std::vector<std::string>& folders) {
  std::vector<ResultSet> sets;
  for (const std::string& folder : folders) {
    std::error_code ec;
    KESTREL_CHECK(fs::is_directory(folder, ec), "{}: no such results folder", folder);
    std::vector<Manifest> manifests = read_manifests(folder);
    std::string name = default_set_name(folder);
    if (!manifests.empty()) {
      name = manifests.front().name;
      for (const Manifest& m : manifests)
        KESTREL_CHECK(m.name == name, "{}: holds shards of two result sets, '{}' and '{}'", folder, name, m.name);
    }
    auto it = std::find_if(sets.begin(), sets.end(), [&](const ResultSet& s) { return s.name == name; });
    if (it == sets.end() || manifests.empty()) {
      // Folders without a manifest are never merged, even when their names collide.
      sets.push_back({name, {}, {}});
      it = sets.end() - 1;
    }
    it->folders.push_back(folder);
    it->manifests.insert(it->manifests.end(), manifests.begin(), manifests.end());
  }
  return sets;
}

std::vector<Annotated> load_annotations(const Split& split, const std::vector<std::string>& sequences, bool full) {
  std::vector<Annotated> out;
  for (const std::string& name : sequences) {
    Annotated a{name, std::nullopt, {}};
    try {
      a.sequence = load_sequence(split, name, full ? Annotations::kFull : Annotations::kFirstBox);
    } catch (const Error& e) {
      a.error = e.what();
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string find_sequence_folder(const ResultSet& set, const std::string& sequence) {
  for (const std::string& folder : set.folders)
    if (has_sequence_results(folder, sequence)) return folder;
  return {};
}

namespace {

// Shards that never finished: no manifest for some K of N.
void check_shards(const ResultSet& set, const std::string& split_name, std::vector<std::string>& problems) {
  if (set.manifests.empty()) return;
  const int count = set.manifests.front().shard.count;
  std::set<int> seen;
  for (const Manifest& m : set.manifests) {
    if (m.shard.count != count)
      problems.push_back(fmt::format("shards of different splittings: {}/{} and ?/{}", m.shard.index, m.shard.count,
                                     count));
    seen.insert(m.shard.index);
    if (m.split != split_name)
      problems.push_back(fmt::format("shard {}/{} was run on the '{}' split, not '{}'", m.shard.index, m.shard.count,
                                     m.split, split_name));
    for (const std::string& f : m.failed) problems.push_back(fmt::format("failed during eval: {}", f));
  }
  for (int k = 0; k < count; ++k)
    if (!seen.count(k))
      problems.push_back(fmt::format("shard {}/{} has no manifest (shard_{}_of_{}.txt): it did not finish", k, count,
                                     k, count));
}

}  // namespace

SetReport evaluate_set(const ResultSet& set, const std::vector<Annotated>& annotations, bool full,
                       const std::string& split_name) {
  SetReport report;
  report.name = set.name;
  report.folders = set.folders;
  check_shards(set, split_name, report.problems);
  std::vector<double> all_ious, all_times;
  for (const Annotated& a : annotations) {
    const std::string folder = find_sequence_folder(set, a.name);
    if (folder.empty()) {
      report.missing.push_back(a.name);
      continue;
    }
    if (!a.sequence) {
      report.problems.push_back(fmt::format("{} (not scored)", a.error));
      continue;
    }
    try {
      const Sequence& seq = *a.sequence;
      const SequenceResults results = read_sequence_results(folder, a.name);
      std::vector<double> ious;
      for (size_t r = 0; r < results.runs.size(); ++r) {
        const std::string file = boxes_file(folder, a.name, int(r + 1));
        KESTREL_CHECK(results.runs[r].size() == seq.frames.size(), "{}: {} boxes for {} frames", file,
                      results.runs[r].size(), seq.frames.size());
        if (full) {
          const auto run_ious = sequence_ious(results.runs[r], seq.groundtruth, seq.cover, seq.width, seq.height);
          ious.insert(ious.end(), run_ious.begin(), run_ious.end());
        }
      }
      SequenceScore score{a.name, folder, int(results.runs.size()), summarize(ious, results.times)};
      all_ious.insert(all_ious.end(), ious.begin(), ious.end());
      all_times.insert(all_times.end(), results.times.begin(), results.times.end());
      report.sequences.push_back(std::move(score));
    } catch (const Error& e) {
      report.problems.push_back(fmt::format("{}: {} (not scored)", a.name, e.what()));
    }
  }
  report.overall = summarize(all_ious, all_times);
  return report;
}

}  // namespace kestrel::eval
