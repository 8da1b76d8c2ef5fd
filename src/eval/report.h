// Reading result sets back and scoring them against a split's annotations, for `kestrel report`.
//
// A result set is one or more folders: folders whose manifests (shard_K_of_N.txt, see shard.h)
// carry the same name are the shards of one set and are merged; a folder without a manifest
// (e.g. results of another tracker, in the toolkit's layout) is a set of its own, named after
// the folder.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "eval/dataset.h"
#include "eval/metrics.h"
#include "eval/shard.h"

namespace kestrel::eval {

struct ResultSet {
  std::string name;
  std::vector<std::string> folders;
  std::vector<Manifest> manifests;
};

// Throws kestrel::Error for a folder that does not exist or holds a malformed manifest.
std::vector<ResultSet> group_result_sets(const std::vector<std::string>& folders);

// The split's annotations, loaded once for all sets; a sequence whose annotations are broken
// has an error instead. With `full` false (the test split) only frames are listed.
struct Annotated {
  std::string name;
  std::optional<Sequence> sequence;
  std::string error;
};
std::vector<Annotated> load_annotations(const Split& split, const std::vector<std::string>& sequences, bool full);

struct SequenceScore {
  std::string name;
  std::string folder;  // where its results are
  int runs = 0;
  Metrics metrics;
};

struct SetReport {
  std::string name;
  std::vector<std::string> folders;
  Metrics overall;  // all sequences pooled, as the toolkit does
  std::vector<SequenceScore> sequences;
  std::vector<std::string> missing;   // sequences with no results in any folder of the set
  std::vector<std::string> problems;  // unreadable results, missing shards, failures the eval recorded
  bool complete() const { return missing.empty() && problems.empty(); }
};

// Scores a set; with `full` false only speeds are computed (AO and SR stay NaN).
SetReport evaluate_set(const ResultSet& set, const std::vector<Annotated>& annotations, bool full,
                       const std::string& split_name);

// The folder of `set` that holds the sequence's results; empty when none does.
std::string find_sequence_folder(const ResultSet& set, const std::string& sequence);

}  // namespace kestrel::eval
