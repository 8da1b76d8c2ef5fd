// Result files in the GOT-10k toolkit's layout: RESULTS/<seq>/<seq>_001.txt (one x,y,w,h line per
// frame, the first frame holding the initial box; _002, _003 for further runs) and
// RESULTS/<seq>/<seq>_time.txt (seconds per frame, one column per run). Each file is written
// atomically and the time file last, so a sequence whose time file is complete is finished.
#pragma once
#include <string>
#include <vector>

#include "tracker/box.h"

namespace kestrel::eval {

using tracker::Box;

std::string boxes_file(const std::string& results, const std::string& seq, int run);  // run from 1
std::string times_file(const std::string& results, const std::string& seq);

// boxes[r] and times[r] are run r+1's, one entry per frame.
void write_sequence_results(const std::string& results, const std::string& seq,
                            const std::vector<std::vector<Box>>& boxes, const std::vector<std::vector<double>>& times);

// True when the sequence has `runs` box files and a time file of `frames` rows and `runs` columns
// (what --resume skips). Unreadable or partial files count as not finished.
bool sequence_finished(const std::string& results, const std::string& seq, int runs, size_t frames);

struct SequenceResults {
  std::vector<std::vector<Box>> runs;  // every <seq>_NNN.txt, in run order
  std::vector<double> times;           // every number of the time file (empty if it is missing)
};

// True when RESULTS/<seq>/<seq>_001.txt exists.
bool has_sequence_results(const std::string& results, const std::string& seq);
// Reads what has_sequence_results found; throws kestrel::Error naming the file.
SequenceResults read_sequence_results(const std::string& results, const std::string& seq);

}  // namespace kestrel::eval
