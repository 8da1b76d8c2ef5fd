// The zip the GOT-10k evaluation server takes for the test split: <seq>/<seq>_001.txt (and
// further runs) and <seq>/<seq>_time.txt for every sequence, stored (no compression), written
// atomically with the zip writer in core/zip.h.
#pragma once
#include <string>
#include <vector>

#include "eval/report.h"

namespace kestrel::eval {

// Throws kestrel::Error naming the first sequence without results, or a file it cannot read.
void write_submission_zip(const std::string& path, const ResultSet& set, const std::vector<std::string>& sequences);

}  // namespace kestrel::eval
