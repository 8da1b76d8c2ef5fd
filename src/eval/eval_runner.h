// `kestrel eval`'s loop: the sequences of one shard tracked through a BatchTracker (several in
// lock step when the engine has a batch; a slot freed by a finished sequence takes the next one),
// GOT-10k result files written per finished sequence, a manifest when the shard is done.
//
// Times follow the toolkit: frame 1's time is the initialisation (template crop + template
// engine), every later frame's is crop + inference + decode; JPEG decoding is excluded. In a
// batched step the step's time is shared equally by the sequences it advanced.
//
// A broken sequence (missing or mismatched groundtruth, a first box without area, an image that
// does not decode) is reported by name and file and skipped; the run goes on.
#pragma once
#include <string>
#include <vector>

#include "eval/dataset.h"
#include "eval/shard.h"
#include "tracker/batch_tracker.h"

namespace kestrel::eval {

struct EvalOptions {
  std::string results;  // output folder
  Manifest manifest;    // name, split, shard, runs and the engines, recorded when done
  bool resume = false;  // skip sequences whose results are complete
  bool progress = true;
};

struct EvalSummary {
  size_t sequences = 0;  // this shard's
  size_t tracked = 0, resumed = 0;
  std::vector<std::string> failed;  // messages naming the sequence and the file
  size_t frames = 0;
  double tracking_fps = 0;  // frames / time spent tracking (not the toolkit's mean of 1/t)
};

// Throws kestrel::Error only for what stops the whole run (an engine failing, a result file that
// cannot be written).
EvalSummary run_evaluation(const Split& split, const std::vector<std::string>& sequences,
                           tracker::BatchTracker& tracker, const EvalOptions& options);

}  // namespace kestrel::eval
