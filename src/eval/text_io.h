// The plain-text formats of GOT-10k: boxes as "x,y,w,h" lines, labels as one integer per line,
// times as one comma-separated row per frame. Parsers throw kestrel::Error naming the file and
// line; the caller prefixes the sequence.
#pragma once
#include <string>
#include <vector>

#include "tracker/box.h"

namespace kestrel::eval {

using tracker::Box;

// Lines of numbers separated by commas (whitespace and tabs also accepted, as np.loadtxt users
// write them); blank lines are skipped. Every row must hold `columns` numbers (0: any, but the
// same on every row).
std::vector<std::vector<double>> read_number_rows(const std::string& path, size_t columns);

std::vector<Box> read_boxes(const std::string& path);
std::vector<int> read_labels(const std::string& path);

// np.savetxt(fmt='%.3f', delimiter=','), as the toolkit records boxes.
std::string format_boxes(const std::vector<Box>& boxes);
// One row per frame, one column per run, '%.8f', as the toolkit records times.
std::string format_times(const std::vector<std::vector<double>>& runs);

}  // namespace kestrel::eval
