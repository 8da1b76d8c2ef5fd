// numpy .npz archives (a zip of .npy arrays) in and out of HostTensors: how users hand inputs,
// reference outputs and weights to kestrel without writing a loader.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "kestrel/types.h"

namespace kestrel {

// Name (the member name without ".npy") and tensor, in file order.
using NamedTensors = std::vector<std::pair<std::string, HostTensor>>;

// Reads what np.savez and np.savez_compressed write: stored or deflated members, ZIP64 records,
// .npy format 1.0-3.0, dtypes float32, float16, int64, int32, int8, uint8 and bool, C or Fortran
// order (Fortran arrays are transposed to row-major). Throws Error("<path>: <reason>") on any
// problem, including unsupported dtypes, which are named.
NamedTensors read_npz(const std::string& path);

// Writes an archive that np.load reads: stored members by default, deflated when `compressed`.
// Atomic: the file is either the complete new archive or untouched. Throws Error naming the path.
void write_npz(const std::string& path, const NamedTensors& tensors, bool compressed = false);

}  // namespace kestrel
