#include "core/file_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unistd.h>

#include "core/error.h"

namespace kestrel {

std::vector<uint8_t> read_file(const std::string& path) {
  std::error_code ec;
  KESTREL_CHECK(std::filesystem::exists(path, ec), "{}: no such file", path);
  KESTREL_CHECK(std::filesystem::is_regular_file(path, ec), "{}: not a regular file", path);
  std::ifstream file(path, std::ios::binary);
  KESTREL_CHECK(file.good(), "{}: cannot open the file: {}", path, std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  KESTREL_CHECK(!file.bad(), "{}: reading the file failed", path);
  return bytes;
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  const std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
  FILE* file = std::fopen(temp.c_str(), "wb");
  KESTREL_CHECK(file != nullptr, "{}: cannot create the file: {}", path, std::strerror(errno));
  const bool written = (size == 0 || std::fwrite(data, 1, size, file) == size) && std::fflush(file) == 0 &&
                       ::fsync(::fileno(file)) == 0;
  const int write_errno = errno;
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed) {
    std::remove(temp.c_str());
    fail("{}: writing failed: {}", path, std::strerror(write_errno));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(temp.c_str());
    fail("{}: cannot move the finished file into place: {}", path, std::strerror(rename_errno));
  }
}

}  // namespace kestrel
