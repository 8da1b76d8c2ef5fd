// Generating a whole synthetic GOT-10k-format dataset, sequences in parallel.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kestrel::synth {

struct SplitPlan {
  std::string name;  // "train", "val", "test", "calib"
  int sequences = 0;
};

struct SynthOptions {
  std::string root;
  uint64_t seed = 1;
  int frames = 150;
  int width = 1280, height = 720;
  int quality = 90;
  int threads = 0;  // 0: two per hardware thread (half their time is spent waiting for fsync)
  std::vector<SplitPlan> splits;
};

struct SynthSummary {
  int sequences = 0;
  int64_t frames = 0;
  double seconds = 0;
  int threads = 0;
};

// The seed of one sequence: a function of the dataset seed, the split's name and the index only,
// so a split's sequences do not change when other splits, or more sequences, are generated.
uint64_t sequence_seed(uint64_t dataset_seed, const std::string& split, int index);

// Writes ROOT/<split>/... for every split with sequences > 0. A split folder is replaced only if
// this generator made it (it holds kestrel_synth.ini) or it is empty; anything else is refused,
// so a real GOT-10k copy is never overwritten. The test split's full annotations, which GOT-10k
// keeps private, go to ROOT/test_annotations/<sequence>/. Throws kestrel::Error on failure.
// `progress` receives one line per finished split.
SynthSummary generate_dataset(const SynthOptions& options, const std::function<void(const std::string&)>& progress);

// One sequence into `sequence_dir`; what generate_dataset runs on each thread.
void generate_sequence(const SynthOptions& options, const std::string& split, int index,
                       const std::string& sequence_dir, const std::string& hidden_annotation_dir);

}  // namespace kestrel::synth
