// Whole-file reads and atomic writes: results are written to a temporary file in the same folder
// and renamed into place, so a reader never sees a half-written file.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace kestrel {

// Throws an Error naming the path when the file is missing or unreadable.
std::vector<uint8_t> read_file(const std::string& path);
void write_file_atomic(const std::string& path, const void* data, size_t size);

}  // namespace kestrel
