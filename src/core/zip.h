// A minimal ZIP container reader and writer: what .npz files need and nothing more.
//
// Reading trusts only the central directory (it is where ZIP64 sizes are authoritative and where
// streamed writers put sizes they did not know up front); the local header is read just to find
// where a member's data starts. Every size and offset is checked against the file size before
// anything is allocated, so a hostile or truncated file fails with an Error, never a crash.
//
// Errors carry the reason only ("member 'a.npy': CRC-32 mismatch ..."): the caller knows which
// file it asked for and prefixes the path, so messages name it exactly once.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kestrel::zip {

enum class Method : uint16_t { kStored = 0, kDeflate = 8 };

struct MemberInfo {
  std::string name;
  uint16_t method = 0;  // raw value: the reader reports methods it cannot decode when extracting
  uint16_t flags = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_header_offset = 0;
};

class RandomAccessFile;  // zip.cpp: bounds-checked positional reads

class Reader {
 public:
  // Opens `path` and reads its central directory; throws Error on any inconsistency.
  explicit Reader(const std::string& path);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Members in central-directory order (the order they were written).
  const std::vector<MemberInfo>& members() const { return members_; }
  // The member's uncompressed bytes, CRC-checked.
  std::vector<uint8_t> extract(const MemberInfo& member) const;

 private:
  std::unique_ptr<RandomAccessFile> file_;
  std::vector<MemberInfo> members_;
};

// A member to write, given as pieces that are stored back to back (e.g. a header and a payload)
// so callers need not concatenate large buffers.
struct MemberSource {
  std::string name;
  std::vector<std::span<const uint8_t>> pieces;
};

struct WriteOptions {
  Method method = Method::kStored;
  // Use ZIP64 records for every member and for the end of the archive even when sizes would
  // fit in 32 bits. Files over 4 GiB get them regardless; this exists so tests can exercise the
  // ZIP64 path with small files.
  bool force_zip64 = false;
};

// Writes the archive atomically: a temporary file in the same folder, fsync, then rename over
// `path`, so readers never see a half-written file. The temporary file is removed on failure.
void write_atomically(const std::string& path, const std::vector<MemberSource>& members,
                      const WriteOptions& options = {});

}  // namespace kestrel::zip
