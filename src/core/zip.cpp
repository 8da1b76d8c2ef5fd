// ZIP reading and writing per PKWARE's APPNOTE (sections 4.3 and 4.5 for ZIP64), restricted to
// single-disk archives with stored or deflated members.
#include "core/zip.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>

#include "core/error.h"

namespace kestrel::zip {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndOfCentralDirectorySignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;

constexpr uint64_t kLocalHeaderSize = 30;
constexpr uint64_t kCentralHeaderSize = 46;
constexpr uint64_t kEndOfCentralDirectorySize = 22;
constexpr uint64_t kZip64EndSize = 56;
constexpr uint64_t kZip64LocatorSize = 20;
constexpr uint64_t kMaxCommentSize = 0xFFFF;

// A 32-bit field holding this value means "the real value is in the ZIP64 extra field".
constexpr uint32_t kZip64Marker32 = 0xFFFFFFFF;
constexpr uint16_t kZip64Marker16 = 0xFFFF;

constexpr uint16_t kFlagEncrypted = 1 << 0;
constexpr uint16_t kFlagUtf8Name = 1 << 11;
constexpr uint16_t kVersionDefault = 20;  // 2.0: deflate
constexpr uint16_t kVersionZip64 = 45;    // 4.5: ZIP64
constexpr uint16_t kMadeByUnix = 3 << 8;
constexpr uint16_t kDosDate1980Jan1 = (0 << 9) | (1 << 5) | 1;  // fixed, so output is reproducible
constexpr uint32_t kRegularFileMode644 = 0100644u << 16;

// Deflate cannot expand data more than ~1032:1 (258-byte matches coded in 2 bits); a declared
// size beyond that is corrupt, and refusing it keeps a tiny file from demanding gigabytes.
constexpr uint64_t kMaxDeflateRatio = 1032;
constexpr uint64_t kStreamChunk = 1 << 20;
constexpr uint64_t kZlibMaxChunk = 1u << 30;  // zlib counts in 32-bit uInt

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) { return uint32_t(le16(p)) | (uint32_t(le16(p + 2)) << 16); }
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | (uint64_t(le32(p + 4)) << 32); }

// True when [offset, offset + size) lies within [0, limit), without overflowing.
bool fits_within(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

std::string errno_text() { return std::strerror(errno); }

// Sequential little-endian parsing of a buffer; running off its end is an Error, never a crash.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, std::string what) : data_(data), size_(size), what_(std::move(what)) {}
  uint16_t u16() { return le16(take(2)); }
  uint32_t u32() { return le32(take(4)); }
  uint64_t u64() { return le64(take(8)); }
  std::string text(size_t n) {
    const uint8_t* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  Cursor sub(size_t n, std::string what) { return Cursor(take(n), n, std::move(what)); }
  void skip(size_t n) { take(n); }
  size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* take(size_t n) {
    KESTREL_CHECK(n <= size_ - pos_, "{} is truncated", what_);
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string what_;
};

// Little-endian record building for the writer.
class RecordBuilder {
 public:
  RecordBuilder& u16(uint16_t v) { return put(v, 2); }
  RecordBuilder& u32(uint32_t v) { return put(v, 4); }
  RecordBuilder& u64(uint64_t v) { return put(v, 8); }
  RecordBuilder& bytes(const std::string& s) {
    bytes_.insert(bytes_.end(), s.begin(), s.end());
    return *this;
  }
  RecordBuilder& bytes(const std::vector<uint8_t>& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  const std::vector<uint8_t>& data() const { return bytes_; }

 private:
  RecordBuilder& put(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_.push_back(uint8_t(v >> (8 * i)));
    return *this;
  }
  std::vector<uint8_t> bytes_;
};

class ZlibInflater {
 public:
  ZlibInflater() {
    // Negative window bits: raw deflate, as ZIP stores it (no zlib header or adler32).
    KESTREL_CHECK(inflateInit2(&stream, -MAX_WBITS) == Z_OK, "cannot initialise zlib inflate");
  }
  ~ZlibInflater() { inflateEnd(&stream); }
  z_stream stream{};
};

class ZlibDeflater {
 public:
  ZlibDeflater() {
    KESTREL_CHECK(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8,
                               Z_DEFAULT_STRATEGY) == Z_OK,
                  "cannot initialise zlib deflate");
  }
  ~ZlibDeflater() { deflateEnd(&stream); }
  z_stream stream{};
};

uint32_t crc32_update(uint32_t crc, const uint8_t* data, uint64_t size) {
  if (size == 0) return crc;  // crc32_z(crc, nullptr, 0) would return the initial value, not crc
  return uint32_t(crc32_z(crc, data, size_t(size)));
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Reading

class RandomAccessFile {
 public:
  explicit RandomAccessFile(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    KESTREL_CHECK(fd_ >= 0, "cannot open: {}", errno_text());
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      const std::string reason = S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file";
      ::close(fd_);
      fail("{}", reason);
    }
    size_ = uint64_t(st.st_size);
  }
  ~RandomAccessFile() { ::close(fd_); }
  uint64_t size() const { return size_; }

  void read(uint64_t offset, uint8_t* dst, uint64_t n) const {
    KESTREL_CHECK(fits_within(offset, n, size_),
                  "read of {} bytes at offset {} runs past the end of the file ({} bytes)", n, offset, size_);
    while (n > 0) {
      const ssize_t got = ::pread(fd_, dst, size_t(std::min<uint64_t>(n, kZlibMaxChunk)), off_t(offset));
      if (got < 0 && errno == EINTR) continue;
      KESTREL_CHECK(got >= 0, "read failed at offset {}: {}", offset, errno_text());
      KESTREL_CHECK(got > 0, "unexpected end of file at offset {} (file shrank while reading?)", offset);
      dst += got;
      offset += uint64_t(got);
      n -= uint64_t(got);
    }
  }
  std::vector<uint8_t> read(uint64_t offset, uint64_t n) const {
    KESTREL_CHECK(fits_within(offset, n, size_),
                  "read of {} bytes at offset {} runs past the end of the file ({} bytes)", n, offset, size_);
    std::vector<uint8_t> bytes(n);
    read(offset, bytes.data(), n);
    return bytes;
  }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
};

namespace {

struct CentralDirectory {
  uint64_t offset = 0;
  uint64_t size = 0;
  uint64_t entries = 0;
};

// The end-of-central-directory record ends the file, except for a comment of up to 64 KiB;
// scanning backwards finds the last signature whose comment length matches the space after it.
uint64_t find_end_of_central_directory(const RandomAccessFile& file) {
  const uint64_t tail_size = std::min(file.size(), kEndOfCentralDirectorySize + kMaxCommentSize);
  const uint64_t tail_offset = file.size() - tail_size;
  const std::vector<uint8_t> tail = file.read(tail_offset, tail_size);
  for (uint64_t pos = tail_size; pos-- > 0;) {
    if (tail_size - pos < kEndOfCentralDirectorySize) continue;
    if (le32(&tail[pos]) != kEndOfCentralDirectorySignature) continue;
    const uint16_t comment_size = le16(&tail[pos + 20]);
    if (pos + kEndOfCentralDirectorySize + comment_size <= tail_size) return tail_offset + pos;
  }
  fail("not a zip archive, or truncated: no end-of-central-directory record in its last {} bytes", tail_size);
}

// Returns the ZIP64 end record's offset when a locator precedes the end record, else nothing.
std::optional<uint64_t> find_zip64_end(const RandomAccessFile& file, uint64_t eocd_offset) {
  if (eocd_offset < kZip64LocatorSize) return std::nullopt;
  const uint64_t locator_offset = eocd_offset - kZip64LocatorSize;
  const std::vector<uint8_t> locator = file.read(locator_offset, kZip64LocatorSize);
  Cursor c(locator.data(), locator.size(), "ZIP64 end-of-central-directory locator");
  if (c.u32() != kZip64LocatorSignature) return std::nullopt;
  const uint32_t disk_with_record = c.u32();
  const uint64_t record_offset = c.u64();
  const uint32_t total_disks = c.u32();
  KESTREL_CHECK(disk_with_record == 0 && total_disks <= 1, "multi-disk (spanned) zip archives are not supported");
  KESTREL_CHECK(fits_within(record_offset, kZip64EndSize, locator_offset),
                "ZIP64 end-of-central-directory record offset {} lies outside the file (truncated?)", record_offset);
  return record_offset;
}

CentralDirectory read_zip64_end(const RandomAccessFile& file, uint64_t record_offset) {
  const std::vector<uint8_t> record = file.read(record_offset, kZip64EndSize);
  Cursor c(record.data(), record.size(), "ZIP64 end-of-central-directory record");
  KESTREL_CHECK(c.u32() == kZip64EndSignature, "bad ZIP64 end-of-central-directory signature at offset {}",
                record_offset);
  c.skip(8 + 2 + 2);  // record size, versions
  const uint32_t disk = c.u32();
  const uint32_t directory_disk = c.u32();
  const uint64_t entries_on_disk = c.u64();
  CentralDirectory cd;
  cd.entries = c.u64();
  cd.size = c.u64();
  cd.offset = c.u64();
  KESTREL_CHECK(disk == 0 && directory_disk == 0 && entries_on_disk == cd.entries,
                "multi-disk (spanned) zip archives are not supported");
  return cd;
}

CentralDirectory read_end_record(const RandomAccessFile& file, uint64_t eocd_offset) {
  const std::vector<uint8_t> record = file.read(eocd_offset, kEndOfCentralDirectorySize);
  Cursor c(record.data(), record.size(), "end-of-central-directory record");
  c.skip(4);
  const uint16_t disk = c.u16();
  const uint16_t directory_disk = c.u16();
  const uint16_t entries_on_disk = c.u16();
  CentralDirectory cd;
  cd.entries = c.u16();
  cd.size = c.u32();
  cd.offset = c.u32();
  KESTREL_CHECK(disk == 0 && directory_disk == 0 && entries_on_disk == cd.entries,
                "multi-disk (spanned) zip archives are not supported");
  return cd;
}

CentralDirectory locate_central_directory(const RandomAccessFile& file) {
  const uint64_t eocd_offset = find_end_of_central_directory(file);
  const std::optional<uint64_t> zip64_end = find_zip64_end(file, eocd_offset);
  const CentralDirectory cd = zip64_end ? read_zip64_end(file, *zip64_end) : read_end_record(file, eocd_offset);
  const uint64_t directory_limit = zip64_end ? *zip64_end : eocd_offset;
  KESTREL_CHECK(fits_within(cd.offset, cd.size, directory_limit),
                "central directory ({} bytes at offset {}) lies outside the file (truncated or corrupt)", cd.size,
                cd.offset);
  KESTREL_CHECK(cd.entries <= cd.size / kCentralHeaderSize,
                "central directory of {} bytes cannot hold the {} entries it claims", cd.size, cd.entries);
  return cd;
}

// Replaces 32-bit fields that hold the ZIP64 marker with the 64-bit values from the ZIP64 extra
// field; the extra field lists only the marked fields, in this fixed order.
void apply_zip64_extra(Cursor extra, MemberInfo& member, uint32_t raw_offset) {
  while (extra.remaining() >= 4) {
    const uint16_t id = extra.u16();
    const uint16_t size = extra.u16();
    Cursor block = extra.sub(size, fmt::format("extra field of member '{}'", member.name));
    if (id != kZip64ExtraId) continue;
    if (member.uncompressed_size == kZip64Marker32) member.uncompressed_size = block.u64();
    if (member.compressed_size == kZip64Marker32) member.compressed_size = block.u64();
    if (raw_offset == kZip64Marker32) member.local_header_offset = block.u64();
    return;
  }
}

MemberInfo parse_central_entry(Cursor& c, uint64_t index) {
  KESTREL_CHECK(c.u32() == kCentralHeaderSignature, "central directory entry {} has a bad signature (corrupt)",
                index);
  MemberInfo member;
  c.skip(2 + 2);  // versions made by / needed
  member.flags = c.u16();
  member.method = c.u16();
  c.skip(2 + 2);  // time, date
  member.crc32 = c.u32();
  member.compressed_size = c.u32();
  member.uncompressed_size = c.u32();
  const uint16_t name_size = c.u16();
  const uint16_t extra_size = c.u16();
  const uint16_t comment_size = c.u16();
  const uint16_t start_disk = c.u16();
  c.skip(2 + 4);  // internal, external attributes
  const uint32_t raw_offset = c.u32();
  member.local_header_offset = raw_offset;
  member.name = c.text(name_size);
  apply_zip64_extra(c.sub(extra_size, fmt::format("extra field of member '{}'", member.name)), member, raw_offset);
  c.skip(comment_size);
  KESTREL_CHECK(start_disk == 0 || start_disk == kZip64Marker16, "member '{}' is on another disk of a spanned archive",
                member.name);
  return member;
}

std::vector<MemberInfo> read_central_directory(const RandomAccessFile& file, const CentralDirectory& cd) {
  const std::vector<uint8_t> bytes = file.read(cd.offset, cd.size);
  Cursor c(bytes.data(), bytes.size(), "central directory");
  std::vector<MemberInfo> members;
  members.reserve(size_t(cd.entries));  // bounded above by cd.size / 46
  for (uint64_t i = 0; i < cd.entries; ++i) members.push_back(parse_central_entry(c, i));
  return members;
}

// Finds where the member's data begins: right after its local header, whose name and extra field
// lengths may differ from the central directory's.
uint64_t locate_member_data(const RandomAccessFile& file, const MemberInfo& member) {
  KESTREL_CHECK(fits_within(member.local_header_offset, kLocalHeaderSize, file.size()),
                "member '{}' local header at offset {} lies outside the file (truncated?)", member.name,
                member.local_header_offset);
  const std::vector<uint8_t> header = file.read(member.local_header_offset, kLocalHeaderSize);
  KESTREL_CHECK(le32(&header[0]) == kLocalHeaderSignature, "member '{}' has a bad local header signature at offset {}",
                member.name, member.local_header_offset);
  const uint64_t name_offset = member.local_header_offset + kLocalHeaderSize;
  const uint16_t name_size = le16(&header[26]);
  const uint16_t extra_size = le16(&header[28]);
  KESTREL_CHECK(fits_within(name_offset, uint64_t(name_size) + extra_size, file.size()),
                "member '{}' local header runs past the end of the file (truncated?)", member.name);
  const std::vector<uint8_t> name_bytes = file.read(name_offset, name_size);
  const std::string name(name_bytes.begin(), name_bytes.end());
  KESTREL_CHECK(name == member.name, "member '{}' local header names '{}' instead (corrupt)", member.name, name);
  const uint64_t data_offset = name_offset + name_size + extra_size;
  KESTREL_CHECK(fits_within(data_offset, member.compressed_size, file.size()),
                "member '{}' data ({} bytes at offset {}) extends past the end of the file ({} bytes; truncated?)",
                member.name, member.compressed_size, data_offset, file.size());
  return data_offset;
}

void check_extractable(const MemberInfo& member) {
  KESTREL_CHECK(!(member.flags & kFlagEncrypted), "member '{}' is encrypted, which is not supported", member.name);
  KESTREL_CHECK(member.method == uint16_t(Method::kStored) || member.method == uint16_t(Method::kDeflate),
                "member '{}' uses unsupported compression method {} (supported: 0 stored, 8 deflate)", member.name,
                member.method);
  if (member.method == uint16_t(Method::kStored)) {
    KESTREL_CHECK(member.compressed_size == member.uncompressed_size,
                  "stored member '{}' has compressed size {} but size {} (corrupt)", member.name,
                  member.compressed_size, member.uncompressed_size);
  } else {
    KESTREL_CHECK(member.uncompressed_size <= member.compressed_size * kMaxDeflateRatio + 1024,
                  "member '{}' claims {} bytes from {} deflated bytes, more than deflate can produce (corrupt size)",
                  member.name, member.uncompressed_size, member.compressed_size);
  }
}

std::vector<uint8_t> read_stored(const RandomAccessFile& file, const MemberInfo& member, uint64_t data_offset) {
  return file.read(data_offset, member.compressed_size);
}

std::vector<uint8_t> read_deflated(const RandomAccessFile& file, const MemberInfo& member, uint64_t data_offset) {
  // One spare byte: if inflate fills it, the data is longer than declared.
  std::vector<uint8_t> out(member.uncompressed_size + 1);
  std::vector<uint8_t> chunk(std::min(member.compressed_size, kStreamChunk));
  ZlibInflater inflater;
  z_stream& zs = inflater.stream;
  uint64_t input_left = member.compressed_size;
  uint64_t input_offset = data_offset;
  uint64_t produced = 0;
  for (;;) {
    if (zs.avail_in == 0 && input_left > 0) {
      const uint64_t n = std::min<uint64_t>(input_left, chunk.size());
      file.read(input_offset, chunk.data(), n);
      input_offset += n;
      input_left -= n;
      zs.next_in = chunk.data();
      zs.avail_in = uInt(n);
    }
    KESTREL_CHECK(produced < out.size(), "member '{}' inflates to more than its declared {} bytes (corrupt)",
                  member.name, member.uncompressed_size);
    const uInt room = uInt(std::min<uint64_t>(out.size() - produced, kZlibMaxChunk));
    zs.next_out = out.data() + produced;
    zs.avail_out = room;
    const int ret = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (ret == Z_STREAM_END) break;
    if (ret == Z_OK) continue;
    KESTREL_CHECK(ret == Z_BUF_ERROR, "member '{}' has corrupt deflate data: {}", member.name,
                  zs.msg ? zs.msg : "zlib error");
    // Z_BUF_ERROR: no progress was possible; the only input-side cause is running out of it.
    KESTREL_CHECK(produced < out.size(), "member '{}' inflates to more than its declared {} bytes (corrupt)",
                  member.name, member.uncompressed_size);
    KESTREL_CHECK(!(zs.avail_in == 0 && input_left == 0),
                  "member '{}' is truncated: its deflate stream ends before the end marker", member.name);
  }
  KESTREL_CHECK(produced <= member.uncompressed_size, "member '{}' inflates to more than its declared {} bytes (corrupt)",
                member.name, member.uncompressed_size);
  KESTREL_CHECK(produced == member.uncompressed_size,
                "member '{}' inflates to {} bytes, fewer than its declared {} (truncated or corrupt)", member.name,
                produced, member.uncompressed_size);
  out.resize(produced);
  return out;
}

}  // namespace

Reader::Reader(const std::string& path) : file_(std::make_unique<RandomAccessFile>(path)) {
  KESTREL_CHECK(file_->size() > 0, "file is empty (0 bytes), not a zip archive");
  members_ = read_central_directory(*file_, locate_central_directory(*file_));
}

Reader::~Reader() = default;

std::vector<uint8_t> Reader::extract(const MemberInfo& member) const {
  check_extractable(member);
  const uint64_t data_offset = locate_member_data(*file_, member);
  std::vector<uint8_t> bytes = member.method == uint16_t(Method::kStored)
                                   ? read_stored(*file_, member, data_offset)
                                   : read_deflated(*file_, member, data_offset);
  const uint32_t crc = crc32_update(0, bytes.data(), bytes.size());
  KESTREL_CHECK(crc == member.crc32, "member '{}' fails its CRC-32 check (stored {:08x}, computed {:08x}; corrupt)",
                member.name, member.crc32, crc);
  return bytes;
}

// ------------------------------------------------------------------------------------------------
// Writing

namespace {

// The temporary file lives next to the target (rename is only atomic within one file system) and
// is removed unless commit() succeeds.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : target_(target) {
    const std::filesystem::path target_path(target);
    const std::filesystem::path folder = target_path.has_parent_path() ? target_path.parent_path() : ".";
    static std::atomic<uint64_t> counter{0};
    std::random_device random;
    for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
      const std::string name = fmt::format(".{}.tmp-{}-{}-{:08x}", target_path.filename().string(), ::getpid(),
                                           counter++, random());
      path_ = (folder / name).string();
      // 0666 lets the umask decide permissions, as for any newly created file.
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ < 0 && errno != EEXIST) break;
    }
    KESTREL_CHECK(fd_ >= 0, "cannot create a temporary file in '{}': {}", folder.string(), errno_text());
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  uint64_t position() const { return position_; }

  void write(const uint8_t* data, uint64_t n) {
    while (n > 0) {
      const ssize_t put = ::write(fd_, data, size_t(std::min<uint64_t>(n, kZlibMaxChunk)));
      if (put < 0 && errno == EINTR) continue;
      KESTREL_CHECK(put > 0, "write failed: {}", errno_text());
      data += put;
      n -= uint64_t(put);
      position_ += uint64_t(put);
    }
  }
  void write(const std::vector<uint8_t>& bytes) { write(bytes.data(), bytes.size()); }

  // Rewrites bytes already written (a local header whose sizes are known only afterwards).
  void overwrite(uint64_t offset, const std::vector<uint8_t>& bytes) {
    const uint8_t* data = bytes.data();
    uint64_t n = bytes.size();
    while (n > 0) {
      const ssize_t put = ::pwrite(fd_, data, size_t(n), off_t(offset));
      if (put < 0 && errno == EINTR) continue;
      KESTREL_CHECK(put > 0, "write failed: {}", errno_text());
      data += put;
      offset += uint64_t(put);
      n -= uint64_t(put);
    }
  }

  void commit() {
    KESTREL_CHECK(::fsync(fd_) == 0, "fsync of temporary file '{}' failed: {}", path_, errno_text());
    const int fd = fd_;
    fd_ = -1;
    KESTREL_CHECK(::close(fd) == 0, "closing temporary file '{}' failed: {}", path_, errno_text());
    KESTREL_CHECK(::rename(path_.c_str(), target_.c_str()) == 0, "cannot rename temporary file '{}' into place: {}",
                  path_, errno_text());
    committed_ = true;
    sync_folder();
  }

 private:
  // Makes the rename itself durable. Best effort: some file systems refuse fsync on folders, and
  // the data is already safe.
  void sync_folder() const {
    const std::filesystem::path target_path(target_);
    const std::string folder = target_path.has_parent_path() ? target_path.parent_path().string() : ".";
    const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
  }

  std::string target_;
  std::string path_;
  int fd_ = -1;
  uint64_t position_ = 0;
  bool committed_ = false;
};

struct WrittenMember {
  std::string name;
  Method method = Method::kStored;
  bool zip64 = false;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t uncompressed_size = 0;
  uint64_t local_header_offset = 0;
};

bool needs_utf8_flag(const std::string& name) {
  return std::any_of(name.begin(), name.end(), [](char c) { return uint8_t(c) >= 0x80; });
}

uint16_t name_flags(const std::string& name) { return needs_utf8_flag(name) ? kFlagUtf8Name : 0; }

// A ZIP64 local header keeps both sizes in its extra field, so its length does not change when the
// real sizes are patched in after the data is written.
std::vector<uint8_t> local_header(const WrittenMember& m) {
  RecordBuilder r;
  r.u32(kLocalHeaderSignature)
      .u16(m.zip64 ? kVersionZip64 : kVersionDefault)
      .u16(name_flags(m.name))
      .u16(uint16_t(m.method))
      .u16(0)
      .u16(kDosDate1980Jan1)
      .u32(m.crc32)
      .u32(m.zip64 ? kZip64Marker32 : uint32_t(m.compressed_size))
      .u32(m.zip64 ? kZip64Marker32 : uint32_t(m.uncompressed_size))
      .u16(uint16_t(m.name.size()))
      .u16(m.zip64 ? 4 + 16 : 0)
      .bytes(m.name);
  if (m.zip64) r.u16(kZip64ExtraId).u16(16).u64(m.uncompressed_size).u64(m.compressed_size);
  return r.data();
}

std::vector<uint8_t> central_header(const WrittenMember& m, bool force_zip64) {
  const bool sizes_in_extra =
      force_zip64 || m.compressed_size >= kZip64Marker32 || m.uncompressed_size >= kZip64Marker32;
  const bool offset_in_extra = force_zip64 || m.local_header_offset >= kZip64Marker32;
  RecordBuilder extra;
  if (sizes_in_extra || offset_in_extra) {
    extra.u16(kZip64ExtraId).u16(uint16_t(8 * (sizes_in_extra ? 2 : 0) + 8 * (offset_in_extra ? 1 : 0)));
    if (sizes_in_extra) extra.u64(m.uncompressed_size).u64(m.compressed_size);
    if (offset_in_extra) extra.u64(m.local_header_offset);
  }
  const uint16_t version = m.zip64 || !extra.data().empty() ? kVersionZip64 : kVersionDefault;
  RecordBuilder r;
  r.u32(kCentralHeaderSignature)
      .u16(kMadeByUnix | version)
      .u16(version)
      .u16(name_flags(m.name))
      .u16(uint16_t(m.method))
      .u16(0)
      .u16(kDosDate1980Jan1)
      .u32(m.crc32)
      .u32(sizes_in_extra ? kZip64Marker32 : uint32_t(m.compressed_size))
      .u32(sizes_in_extra ? kZip64Marker32 : uint32_t(m.uncompressed_size))
      .u16(uint16_t(m.name.size()))
      .u16(uint16_t(extra.data().size()))
      .u16(0)   // comment
      .u16(0)   // disk
      .u16(0)   // internal attributes
      .u32(kRegularFileMode644)
      .u32(offset_in_extra ? kZip64Marker32 : uint32_t(m.local_header_offset))
      .bytes(m.name)
      .bytes(extra.data());
  return r.data();
}

uint64_t total_size(const MemberSource& source) {
  uint64_t n = 0;
  for (const auto& piece : source.pieces) n += piece.size();
  return n;
}

void write_stored_data(TempFile& out, const MemberSource& source, WrittenMember& m) {
  for (const auto& piece : source.pieces) {
    m.crc32 = crc32_update(m.crc32, piece.data(), piece.size());
    out.write(piece.data(), piece.size());
  }
  m.compressed_size = m.uncompressed_size;
}

// Drains whatever deflate has produced in `buffer` into the file.
void flush_deflate_output(TempFile& out, z_stream& zs, std::vector<uint8_t>& buffer, WrittenMember& m) {
  const uint64_t n = buffer.size() - zs.avail_out;
  out.write(buffer.data(), n);
  m.compressed_size += n;
  zs.next_out = buffer.data();
  zs.avail_out = uInt(buffer.size());
}

void write_deflated_data(TempFile& out, const MemberSource& source, ZlibDeflater& deflater, WrittenMember& m) {
  z_stream& zs = deflater.stream;
  std::vector<uint8_t> buffer(kStreamChunk);
  zs.next_out = buffer.data();
  zs.avail_out = uInt(buffer.size());
  for (const auto& piece : source.pieces) {
    m.crc32 = crc32_update(m.crc32, piece.data(), piece.size());
    for (uint64_t done = 0; done < piece.size();) {
      const uint64_t n = std::min<uint64_t>(piece.size() - done, kZlibMaxChunk);
      zs.next_in = const_cast<Bytef*>(piece.data() + done);
      zs.avail_in = uInt(n);
      while (zs.avail_in > 0) {
        KESTREL_CHECK(deflate(&zs, Z_NO_FLUSH) == Z_OK, "deflate of member '{}' failed", m.name);
        if (zs.avail_out == 0) flush_deflate_output(out, zs, buffer, m);
      }
      done += n;
    }
  }
  for (;;) {
    const int ret = deflate(&zs, Z_FINISH);
    KESTREL_CHECK(ret == Z_OK || ret == Z_STREAM_END || ret == Z_BUF_ERROR, "deflate of member '{}' failed",
                  m.name);
    flush_deflate_output(out, zs, buffer, m);
    if (ret == Z_STREAM_END) break;
  }
}

WrittenMember write_member(TempFile& out, const MemberSource& source, const WriteOptions& options) {
  KESTREL_CHECK(source.name.size() <= 0xFFFF, "member name of {} bytes is too long for zip", source.name.size());
  WrittenMember m;
  m.name = source.name;
  m.method = options.method;
  m.uncompressed_size = total_size(source);
  m.local_header_offset = out.position();
  std::optional<ZlibDeflater> deflater;
  uint64_t worst_compressed_size = m.uncompressed_size;
  if (m.method == Method::kDeflate) {
    deflater.emplace();
    worst_compressed_size = deflateBound(&deflater->stream, uLong(m.uncompressed_size));
  }
  // Decided before writing: the local header goes out first and its layout cannot change later.
  m.zip64 = options.force_zip64 || m.uncompressed_size >= kZip64Marker32 || worst_compressed_size >= kZip64Marker32;
  out.write(local_header(m));
  if (deflater) {
    write_deflated_data(out, source, *deflater, m);
  } else {
    write_stored_data(out, source, m);
  }
  out.overwrite(m.local_header_offset, local_header(m));
  return m;
}

void write_end_records(TempFile& out, uint64_t entries, uint64_t directory_offset, uint64_t directory_size,
                       bool force_zip64) {
  const bool zip64 = force_zip64 || entries >= kZip64Marker16 || directory_offset >= kZip64Marker32 ||
                     directory_size >= kZip64Marker32;
  if (zip64) {
    const uint64_t record_offset = out.position();
    RecordBuilder record;
    record.u32(kZip64EndSignature)
        .u64(kZip64EndSize - 12)  // size of the rest of the record
        .u16(kMadeByUnix | kVersionZip64)
        .u16(kVersionZip64)
        .u32(0)
        .u32(0)
        .u64(entries)
        .u64(entries)
        .u64(directory_size)
        .u64(directory_offset);
    record.u32(kZip64LocatorSignature).u32(0).u64(record_offset).u32(1);
    out.write(record.data());
  }
  // With ZIP64 every field is the marker, so readers cannot mistake a clamped value for the truth.
  RecordBuilder end;
  end.u32(kEndOfCentralDirectorySignature)
      .u16(0)
      .u16(0)
      .u16(zip64 ? kZip64Marker16 : uint16_t(entries))
      .u16(zip64 ? kZip64Marker16 : uint16_t(entries))
      .u32(zip64 ? kZip64Marker32 : uint32_t(directory_size))
      .u32(zip64 ? kZip64Marker32 : uint32_t(directory_offset))
      .u16(0);
  out.write(end.data());
}

}  // namespace

void write_atomically(const std::string& path, const std::vector<MemberSource>& members,
                      const WriteOptions& options) {
  TempFile out(path);
  std::vector<WrittenMember> written;
  written.reserve(members.size());
  for (const MemberSource& source : members) written.push_back(write_member(out, source, options));
  const uint64_t directory_offset = out.position();
  for (const WrittenMember& m : written) out.write(central_header(m, options.force_zip64));
  const uint64_t directory_size = out.position() - directory_offset;
  write_end_records(out, written.size(), directory_offset, directory_size, options.force_zip64);
  out.commit();
}

}  // namespace kestrel::zip
