// .npz reading and writing: round trips, files numpy wrote (tests/data, made by
// make_npz_fixtures.py), numpy loading our files, and every kind of damaged input.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/npz.h"
#include "core/zip.h"

namespace kestrel {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

const fs::path kDataDir = fs::path(__FILE__).parent_path().parent_path() / "data";
const std::string kFixtureScript = (kDataDir / "make_npz_fixtures.py").string();
constexpr const char* kPython = "/usr/bin/python3";

// ------------------------------------------------------------------------------------------------
// Helpers

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kestrel_npz_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const Bytes& bytes) {
  // A fresh file rather than a truncated one: ext4 flushes files truncated and rewritten, which
  // makes the byte-by-byte damage tests crawl.
  std::error_code ignored;
  fs::remove(path, ignored);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

void put_le16(Bytes& b, size_t at, uint16_t v) {
  b.at(at) = uint8_t(v);
  b.at(at + 1) = uint8_t(v >> 8);
}
void put_le32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.at(at + i) = uint8_t(v >> (8 * i));
}
uint16_t get_le16(const Bytes& b, size_t at) { return uint16_t(b.at(at) | (b.at(at + 1) << 8)); }
uint32_t get_le32(const Bytes& b, size_t at) {
  return uint32_t(get_le16(b, at)) | (uint32_t(get_le16(b, at + 2)) << 16);
}

// Offset of the n-th record with this 4-byte signature ("PK\1\2" central entry, ...).
size_t find_record(const Bytes& b, uint32_t signature, int n = 0) {
  for (size_t i = 0; i + 4 <= b.size(); ++i)
    if (get_le32(b, i) == signature && n-- == 0) return i;
  throw std::runtime_error("record not found");
}
constexpr uint32_t kLocal = 0x04034b50, kCentral = 0x02014b50, kEnd = 0x06054b50;
// Central directory entry field offsets (APPNOTE 4.3.12).
constexpr size_t kCentralFlags = 8, kCentralMethod = 10, kCentralCrc = 16, kCentralCompressedSize = 20,
                 kCentralSize = 24, kCentralLocalOffset = 42;

template <typename T>
HostTensor make_tensor(DataType dtype, Dims shape, std::vector<T> values) {
  HostTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

// Mirrors reference_arrays() in tests/data/make_npz_fixtures.py.
NamedTensors reference_tensors() {
  return {
      {"f32", make_tensor<float>(DataType::kFLOAT, {2, 3}, {-1.f, -0.5f, 0.f, 0.5f, 1.f, 1.5f})},
      // 1.5, -2, 65504 (largest half), 0 as binary16
      {"f16", make_tensor<uint16_t>(DataType::kHALF, {4}, {0x3E00, 0xC000, 0x7BFF, 0x0000})},
      {"i64", make_tensor<int64_t>(DataType::kINT64, {3}, {-(int64_t(1) << 62), 0, (int64_t(1) << 62) + 5})},
      {"i32", make_tensor<int32_t>(DataType::kINT32, {3, 2}, {-3, -2, -1, 0, 1, 2})},
      {"i8", make_tensor<int8_t>(DataType::kINT8, {4}, {-128, -1, 0, 127})},
      {"u8", make_tensor<uint8_t>(DataType::kUINT8, {2, 2}, {0, 1, 200, 255})},
      {"flags", make_tensor<uint8_t>(DataType::kBOOL, {3}, {1, 0, 1})},
      {"scalar", make_tensor<float>(DataType::kFLOAT, {}, {3.25f})},
      {"empty", make_tensor<int32_t>(DataType::kINT32, {0, 4}, {})},
  };
}

::testing::AssertionResult same_tensors(const NamedTensors& actual, const NamedTensors& expected) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << actual.size() << " tensors, expected " << expected.size();
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [name, want] = expected[i];
    const auto& [got_name, got] = actual[i];
    if (got_name != name) return ::testing::AssertionFailure() << "tensor " << i << " is '" << got_name << "', expected '" << name << "'";
    if (got.dtype != want.dtype) return ::testing::AssertionFailure() << name << ": dtype " << to_string(got.dtype);
    if (got.shape != want.shape) return ::testing::AssertionFailure() << name << ": shape differs";
    if (got.bytes != want.bytes) return ::testing::AssertionFailure() << name << ": bytes differ";
  }
  return ::testing::AssertionSuccess();
}

// read_npz must throw an Error whose message starts with the path and contains the reason.
::testing::AssertionResult fails_to_read(const std::string& path, const std::string& reason) {
  try {
    read_npz(path);
  } catch (const Error& e) {
    const std::string message = e.what();
    if (message.rfind(path + ": ", 0) == 0 && message.find(reason) != std::string::npos)
      return ::testing::AssertionSuccess() << message;
    return ::testing::AssertionFailure() << "message '" << message << "' lacks the path or '" << reason << "'";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-Error: " << e.what();
  }
  return ::testing::AssertionFailure() << "read_npz('" << path << "') did not throw";
}

// A .npy member from raw header text, built independently of the library's writer.
Bytes npy_member(const std::string& header, const Bytes& payload, uint8_t major = 1) {
  Bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', major, 0};
  const size_t length_size = major == 1 ? 2 : 4;
  for (size_t i = 0; i < length_size; ++i) out.push_back(uint8_t(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Bytes npy_member(const std::string& descr, const std::string& shape, const Bytes& payload) {
  return npy_member("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n", payload);
}

std::string npy_descr(DataType dtype) {
  switch (dtype) {
    case DataType::kFLOAT: return "<f4";
    case DataType::kHALF: return "<f2";
    case DataType::kINT8: return "|i1";
    case DataType::kINT32: return "<i4";
    case DataType::kINT64: return "<i8";
    case DataType::kUINT8: return "|u1";
    case DataType::kBOOL: return "|b1";
  }
  return "?";
}

std::string shape_tuple(const Dims& shape) {
  std::string s = "(";
  for (int64_t d : shape) s += std::to_string(d) + ",";
  return s + ")";
}

void write_members(const std::string& path, const std::vector<std::pair<std::string, Bytes>>& members,
                   zip::WriteOptions options = {}) {
  std::vector<zip::MemberSource> sources;
  for (const auto& [name, bytes] : members) sources.push_back({name, {bytes}});
  zip::write_atomically(path, sources, options);
}

// The reference tensors as hand-built .npy members, for zip-level tests.
std::vector<std::pair<std::string, Bytes>> reference_members() {
  std::vector<std::pair<std::string, Bytes>> members;
  for (const auto& [name, t] : reference_tensors())
    members.emplace_back(name + ".npy", npy_member(npy_descr(t.dtype), shape_tuple(t.shape), t.bytes));
  return members;
}

// A one-array archive whose member holds exactly `npy`.
std::string archive_with(const TempDir& dir, const Bytes& npy, const std::string& name = "bad.npz") {
  const std::string path = dir.file(name);
  write_members(path, {{"x.npy", npy}});
  return path;
}

std::string fixture(const std::string& name) { return (kDataDir / name).string(); }

// Runs a shell command; returns its exit status and appends its output to `output`.
int run_command(const std::string& command, std::string& output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Why numpy cannot be used here, or "" when it can.
std::string numpy_unavailable_reason() {
  if (::access(kPython, X_OK) != 0) return std::string(kPython) + " is missing";
  std::string output;
  if (run_command(std::string(kPython) + " -c 'import numpy'", output) != 0)
    return std::string(kPython) + " has no numpy: " + output;
  return "";
}

#define SKIP_WITHOUT_NUMPY()                                                         \
  do {                                                                               \
    const std::string reason = numpy_unavailable_reason();                           \
    if (!reason.empty()) GTEST_SKIP() << "numpy interop not checked: " << reason;    \
  } while (0)

::testing::AssertionResult fixture_script(const std::string& arguments) {
  std::string output;
  const int status = run_command(std::string(kPython) + " " + kFixtureScript + " " + arguments, output);
  if (status == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "make_npz_fixtures.py " << arguments << " exited " << status << ":\n"
                                       << output;
}

// ------------------------------------------------------------------------------------------------
// Round trips through our own writer and reader

TEST(NpzRoundTrip, AllDtypesStored) {
  TempDir dir;
  write_npz(dir.file("a.npz"), reference_tensors());
  EXPECT_TRUE(same_tensors(read_npz(dir.file("a.npz")), reference_tensors()));
}

TEST(NpzRoundTrip, AllDtypesCompressed) {
  TempDir dir;
  write_npz(dir.file("a.npz"), reference_tensors(), /*compressed=*/true);
  EXPECT_TRUE(same_tensors(read_npz(dir.file("a.npz")), reference_tensors()));
}

TEST(NpzRoundTrip, CompressedIsSmallerForRedundantData) {
  TempDir dir;
  const NamedTensors zeros = {{"z", make_tensor<float>(DataType::kFLOAT, {1000}, std::vector<float>(1000, 0.f))}};
  write_npz(dir.file("s.npz"), zeros);
  write_npz(dir.file("c.npz"), zeros, true);
  EXPECT_LT(fs::file_size(dir.file("c.npz")) * 10, fs::file_size(dir.file("s.npz")));
  EXPECT_TRUE(same_tensors(read_npz(dir.file("c.npz")), zeros));
}

TEST(NpzRoundTrip, EmptyArchiveAndEmptyShapes) {
  TempDir dir;
  write_npz(dir.file("none.npz"), {});
  EXPECT_TRUE(read_npz(dir.file("none.npz")).empty());
  const NamedTensors shapes = {
      {"zero_d", make_tensor<int64_t>(DataType::kINT64, {}, {-7})},
      {"empty_1d", make_tensor<float>(DataType::kFLOAT, {0}, {})},
      {"empty_3d", make_tensor<uint8_t>(DataType::kBOOL, {2, 0, 3}, {})},
  };
  for (bool compressed : {false, true}) {
    write_npz(dir.file("shapes.npz"), shapes, compressed);
    EXPECT_TRUE(same_tensors(read_npz(dir.file("shapes.npz")), shapes)) << "compressed=" << compressed;
  }
}

TEST(NpzRoundTrip, LargeArray) {
  TempDir dir;
  std::vector<float> values(3 * 1024 * 1024 + 7);
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(i % 1000) * 0.25f;
  const NamedTensors big = {{"big", make_tensor<float>(DataType::kFLOAT, {int64_t(values.size())}, values)}};
  for (bool compressed : {false, true}) {
    write_npz(dir.file("big.npz"), big, compressed);
    EXPECT_TRUE(same_tensors(read_npz(dir.file("big.npz")), big)) << "compressed=" << compressed;
  }
}

TEST(NpzRoundTrip, KeepsOrderAndUnusualNames) {
  TempDir dir;
  const NamedTensors tensors = {
      {"zeta", make_tensor<int32_t>(DataType::kINT32, {1}, {1})},
      {"alpha/beta", make_tensor<int32_t>(DataType::kINT32, {1}, {2})},
      {"h\xC3\xA4user", make_tensor<int32_t>(DataType::kINT32, {1}, {3})},  // UTF-8
      {"", make_tensor<int32_t>(DataType::kINT32, {1}, {4})},
  };
  write_npz(dir.file("n.npz"), tensors);
  EXPECT_TRUE(same_tensors(read_npz(dir.file("n.npz")), tensors));
}

TEST(NpzWrite, ReplacesAnExistingFileAndLeavesNoTemporaryFiles) {
  TempDir dir;
  write_bytes(dir.file("out.npz"), Bytes(100, 'x'));
  write_npz(dir.file("out.npz"), reference_tensors());
  EXPECT_TRUE(same_tensors(read_npz(dir.file("out.npz")), reference_tensors()));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(NpzWrite, RejectsBadTensorsWithoutTouchingTheTarget) {
  TempDir dir;
  const std::string path = dir.file("out.npz");
  write_bytes(path, Bytes{'o', 'l', 'd'});
  HostTensor short_bytes = make_tensor<float>(DataType::kFLOAT, {2, 2}, {1.f, 2.f, 3.f});
  HostTensor negative = make_tensor<float>(DataType::kFLOAT, {-1}, {});
  const HostTensor ok = make_tensor<float>(DataType::kFLOAT, {1}, {1.f});
  const auto expect_write_error = [&](const NamedTensors& tensors, const std::string& reason) {
    try {
      write_npz(path, tensors);
      ADD_FAILURE() << "no error for " << reason;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
      EXPECT_NE(message.find(reason), std::string::npos) << message;
    }
  };
  expect_write_error({{"a", short_bytes}}, "needs 16 bytes but it holds 12");
  expect_write_error({{"a", negative}}, "negative dimension");
  expect_write_error({{"a", ok}, {"a", ok}}, "duplicate tensor name 'a'");
  EXPECT_EQ(read_bytes(path), (Bytes{'o', 'l', 'd'}));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(NpzWrite, MissingFolderNamesThePath) {
  TempDir dir;
  const std::string path = dir.file("no/such/folder/out.npz");
  try {
    write_npz(path, reference_tensors());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": cannot create a temporary file", 0), 0u) << e.what();
  }
}

// ------------------------------------------------------------------------------------------------
// Files numpy wrote (tests/data/*.npz, from make_npz_fixtures.py)

TEST(NpzNumpyFixtures, Savez) {
  EXPECT_TRUE(same_tensors(read_npz(fixture("numpy_savez.npz")), reference_tensors()));
}

TEST(NpzNumpyFixtures, SavezCompressed) {
  EXPECT_TRUE(same_tensors(read_npz(fixture("numpy_savez_compressed.npz")), reference_tensors()));
}

// Written to an unseekable stream: sizes and CRC follow the data in data descriptors and the
// local headers hold zeros, so only the central directory tells the truth.
TEST(NpzNumpyFixtures, DataDescriptors) {
  const Bytes bytes = read_bytes(fixture("numpy_streamed_stored.npz"));
  ASSERT_NE(get_le16(bytes, find_record(bytes, kLocal) + 6) & 0x8, 0) << "fixture lacks data descriptors";
  EXPECT_TRUE(same_tensors(read_npz(fixture("numpy_streamed_stored.npz")), reference_tensors()));
  EXPECT_TRUE(same_tensors(read_npz(fixture("numpy_streamed_compressed.npz")), reference_tensors()));
}

// Sizes and offsets in ZIP64 extra fields plus ZIP64 end records, as numpy writes past 2 GiB.
TEST(NpzNumpyFixtures, Zip64Records) {
  const Bytes bytes = read_bytes(fixture("numpy_zip64_records.npz"));
  ASSERT_NO_THROW(find_record(bytes, 0x07064b50)) << "fixture lacks a ZIP64 locator";
  EXPECT_TRUE(same_tensors(read_npz(fixture("numpy_zip64_records.npz")), reference_tensors()));
}

TEST(NpzNumpyFixtures, NpyVersionsAndFortranOrder) {
  std::vector<int32_t> c_order(24);
  for (int i = 0; i < 24; ++i) c_order[size_t(i)] = i;
  const NamedTensors expected = {
      {"v1", make_tensor<int32_t>(DataType::kINT32, {5}, {0, 1, 2, 3, 4})},
      {"v2", make_tensor<int32_t>(DataType::kINT32, {5}, {0, 10, 20, 30, 40})},
      {"v3", make_tensor<int32_t>(DataType::kINT32, {5}, {0, 100, 200, 300, 400})},
      {"fortran", make_tensor<int32_t>(DataType::kINT32, {2, 3, 4}, c_order)},
  };
  EXPECT_TRUE(same_tensors(read_npz(fixture("numpy_npy_versions.npz")), expected));
}

// ------------------------------------------------------------------------------------------------
// numpy reading our files, and our reader on numpy output made now (large arrays)

TEST(NpzNumpyInterop, NumpyLoadsOurStoredAndCompressedFiles) {
  SKIP_WITHOUT_NUMPY();
  TempDir dir;
  write_npz(dir.file("stored.npz"), reference_tensors());
  write_npz(dir.file("compressed.npz"), reference_tensors(), true);
  EXPECT_TRUE(fixture_script("check " + dir.file("stored.npz")));
  EXPECT_TRUE(fixture_script("check " + dir.file("compressed.npz")));
}

TEST(NpzNumpyInterop, NumpyLoadsForcedZip64Archives) {
  SKIP_WITHOUT_NUMPY();
  TempDir dir;
  for (zip::Method method : {zip::Method::kStored, zip::Method::kDeflate}) {
    const std::string path = dir.file("zip64.npz");
    write_members(path, reference_members(), {method, /*force_zip64=*/true});
    EXPECT_TRUE(fixture_script("check " + path));
    EXPECT_TRUE(same_tensors(read_npz(path), reference_tensors()));
  }
}

TEST(NpzNumpyInterop, LargeArraysBothWays) {
  SKIP_WITHOUT_NUMPY();
  TempDir dir;
  const int64_t n = 5'000'003;
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) values[size_t(i)] = float(i % 1000);
  const NamedTensors big = {{"big", make_tensor<float>(DataType::kFLOAT, {n}, values)}};
  for (const char* mode : {"", " compressed"}) {
    const std::string path = dir.file("numpy_big.npz");
    ASSERT_TRUE(fixture_script("write-large " + path + " " + std::to_string(n) + mode));
    EXPECT_TRUE(same_tensors(read_npz(path), big)) << "numpy" << mode;
    write_npz(dir.file("ours_big.npz"), big, std::string(mode) == " compressed");
    EXPECT_TRUE(fixture_script("check-large " + dir.file("ours_big.npz") + " " + std::to_string(n)));
  }
}

// ------------------------------------------------------------------------------------------------
// dtypes

TEST(NpzDtypes, AcceptsByteOrderVariants) {
  TempDir dir;
  const std::vector<std::pair<std::string, DataType>> cases = {
      {"<u1", DataType::kUINT8}, {"|u1", DataType::kUINT8}, {">u1", DataType::kUINT8}, {"|i1", DataType::kINT8},
      {"<i1", DataType::kINT8},  {"=i4", DataType::kINT32}, {"=f4", DataType::kFLOAT}, {"<b1", DataType::kBOOL},
      {"=f2", DataType::kHALF},  {"<i8", DataType::kINT64},
  };
  for (const auto& [descr, dtype] : cases) {
    const size_t item = dtype == DataType::kINT64 ? 8 : dtype == DataType::kHALF ? 2 : descr.back() == '4' ? 4 : 1;
    const Bytes payload(item, 1);
    const NamedTensors got = read_npz(archive_with(dir, npy_member(descr, "(1,)", payload)));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].second.dtype, dtype) << descr;
    EXPECT_EQ(got[0].second.bytes, payload) << descr;
  }
}

TEST(NpzDtypes, NormalisesBoolBytes) {
  TempDir dir;
  const NamedTensors got = read_npz(archive_with(dir, npy_member("|b1", "(3,)", {0, 2, 255})));
  EXPECT_EQ(got.at(0).second.bytes, (Bytes{0, 1, 1}));
}

TEST(NpzDtypes, Float64IsAClearError) {
  TempDir dir;
  const std::string path = archive_with(dir, npy_member("<f8", "(2,)", Bytes(16, 0)));
  EXPECT_THROW(read_npz(path), Error);
  EXPECT_TRUE(fails_to_read(
      path, "array 'x' has dtype float64 (<f8), supported: float32, float16, int64, int32, int8, uint8, bool"));
}

TEST(NpzDtypes, RejectsOtherDtypesByName) {
  TempDir dir;
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member(">f4", "(1,)", Bytes(4, 0))), "big-endian dtype float32 (>f4)"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member(">i8", "(1,)", Bytes(8, 0))), "big-endian dtype int64 (>i8)"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("<i2", "(1,)", Bytes(2, 0))), "dtype int16 (<i2)"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("<u4", "(1,)", Bytes(4, 0))), "dtype uint32 (<u4)"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("<c8", "(1,)", Bytes(8, 0))), "dtype complex64 (<c8)"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("<U3", "(1,)", Bytes(12, 0))), "dtype str (<U3)"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("|O", "(1,)", Bytes(8, 0))), "dtype object (|O)"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("<M8[ns]", "(1,)", Bytes(8, 0))), "datetime64 (<M8[ns])"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("zz", "(1,)", Bytes(8, 0))), "unsupported dtype 'zz'"));
  EXPECT_TRUE(fails_to_read(
      archive_with(dir, npy_member("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", Bytes(4, 0))),
      "array 'x' has a structured (record) dtype"));
}

TEST(NpzDtypes, FortranOrderIsTransposedForEveryRank) {
  TempDir dir;
  // 2x3 int32 in column-major order: columns (0,3) (1,4) (2,5).
  const Bytes column_major = make_tensor<int32_t>(DataType::kINT32, {6}, {0, 3, 1, 4, 2, 5}).bytes;
  const std::string header = "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }";
  NamedTensors got = read_npz(archive_with(dir, npy_member(header, column_major)));
  EXPECT_EQ(got.at(0).second.bytes, make_tensor<int32_t>(DataType::kINT32, {6}, {0, 1, 2, 3, 4, 5}).bytes);
  // 1-d, 0-d and empty Fortran arrays are laid out as in C order.
  for (const char* shape : {"(3,)", "()", "(0, 5)", "(4, 0, 2)"}) {
    const std::string h = std::string("{'descr': '|u1', 'fortran_order': True, 'shape': ") + shape + ", }";
    const Bytes payload = std::string(shape) == "(3,)" ? Bytes{7, 8, 9} : std::string(shape) == "()" ? Bytes{7} : Bytes{};
    got = read_npz(archive_with(dir, npy_member(h, payload)));
    EXPECT_EQ(got.at(0).second.bytes, payload) << shape;
  }
}

// ------------------------------------------------------------------------------------------------
// Damaged or hostile input: always an Error naming the file, never a crash, hang or huge allocation

TEST(NpzMalformed, MissingFileAndDirectory) {
  TempDir dir;
  EXPECT_TRUE(fails_to_read(dir.file("absent.npz"), "cannot open"));
  EXPECT_TRUE(fails_to_read(dir.path().string(), "is a directory"));
}

TEST(NpzMalformed, EmptyFile) {
  TempDir dir;
  write_bytes(dir.file("empty.npz"), {});
  EXPECT_THROW(read_npz(dir.file("empty.npz")), Error);
  EXPECT_TRUE(fails_to_read(dir.file("empty.npz"), "file is empty"));
}

TEST(NpzMalformed, NotAZip) {
  TempDir dir;
  const std::string text = "this is a text file, not an archive\n";
  write_bytes(dir.file("text.npz"), Bytes(text.begin(), text.end()));
  EXPECT_TRUE(fails_to_read(dir.file("text.npz"), "not a zip archive"));
  // A bare .npy file is a common mistake.
  write_bytes(dir.file("bare.npz"), npy_member("<f4", "(1,)", Bytes(4, 0)));
  EXPECT_TRUE(fails_to_read(dir.file("bare.npz"), "not a zip archive"));
}

TEST(NpzMalformed, TruncatedFile) {
  TempDir dir;
  const Bytes whole = read_bytes(fixture("numpy_savez.npz"));
  write_bytes(dir.file("half.npz"), Bytes(whole.begin(), whole.begin() + ptrdiff_t(whole.size() / 2)));
  EXPECT_TRUE(fails_to_read(dir.file("half.npz"), "truncated"));
}

TEST(NpzMalformed, EveryPrefixOfAnArchiveFailsCleanly) {
  TempDir dir;
  for (const char* name : {"numpy_savez.npz", "numpy_savez_compressed.npz", "numpy_zip64_records.npz"}) {
    const Bytes whole = read_bytes(fixture(name));
    const std::string path = dir.file("prefix.npz");
    for (size_t size = 0; size < whole.size(); ++size) {
      write_bytes(path, Bytes(whole.begin(), whole.begin() + ptrdiff_t(size)));
      ASSERT_TRUE(fails_to_read(path, "")) << name << " cut to " << size << " bytes";
    }
  }
}

// Flipping any single byte must give an Error or, where the byte is immaterial (a timestamp, an
// attribute), the right tensors; never a crash or a wrong tensor.
TEST(NpzMalformed, EverySingleByteCorruptionIsDetectedOrHarmless) {
  TempDir dir;
  for (const char* name : {"numpy_savez.npz", "numpy_savez_compressed.npz"}) {
    const Bytes whole = read_bytes(fixture(name));
    const std::string path = dir.file("flipped.npz");
    for (size_t at = 0; at < whole.size(); ++at) {
      Bytes damaged = whole;
      damaged[at] ^= 0x5A;
      write_bytes(path, damaged);
      try {
        const NamedTensors got = read_npz(path);
        ASSERT_TRUE(same_tensors(got, reference_tensors())) << name << " byte " << at;
      } catch (const Error& e) {
        ASSERT_EQ(std::string(e.what()).rfind(path + ": ", 0), 0u) << e.what();
      }
    }
  }
}

TEST(NpzMalformed, TruncatedMember) {
  TempDir dir;
  Bytes bytes = read_bytes(fixture("numpy_savez_compressed.npz"));
  const size_t entry = find_record(bytes, kCentral);
  put_le32(bytes, entry + kCentralCompressedSize, get_le32(bytes, entry + kCentralCompressedSize) / 2);
  write_bytes(dir.file("t.npz"), bytes);
  EXPECT_TRUE(fails_to_read(dir.file("t.npz"), "member 'f32.npy' is truncated"));
}

TEST(NpzMalformed, DeclaredSizeDisagreesWithInflatedSize) {
  TempDir dir;
  const Bytes original = read_bytes(fixture("numpy_savez_compressed.npz"));
  const size_t entry = find_record(original, kCentral);
  const uint32_t size = get_le32(original, entry + kCentralSize);
  Bytes smaller = original, larger = original;
  put_le32(smaller, entry + kCentralSize, size - 1);
  put_le32(larger, entry + kCentralSize, size + 1);
  write_bytes(dir.file("smaller.npz"), smaller);
  write_bytes(dir.file("larger.npz"), larger);
  EXPECT_TRUE(fails_to_read(dir.file("smaller.npz"), "inflates to more than its declared"));
  EXPECT_TRUE(fails_to_read(dir.file("larger.npz"), "fewer than its declared"));
}

TEST(NpzMalformed, BadCrc) {
  TempDir dir;
  Bytes bytes = read_bytes(fixture("numpy_savez.npz"));
  // Flip the last payload byte of the first (stored) member.
  const size_t data = 30 + get_le16(bytes, 26) + get_le16(bytes, 28);
  bytes.at(data + get_le32(bytes, find_record(bytes, kCentral) + kCentralSize) - 1) ^= 0x01;
  write_bytes(dir.file("crc.npz"), bytes);
  EXPECT_TRUE(fails_to_read(dir.file("crc.npz"), "member 'f32.npy' fails its CRC-32 check"));
}

TEST(NpzMalformed, GarbledNpyHeaders) {
  TempDir dir;
  const Bytes four(4, 0);
  const auto bad = [&](const Bytes& npy, const std::string& reason) {
    EXPECT_TRUE(fails_to_read(archive_with(dir, npy), reason));
  };
  const std::string hello = "hello world";
  bad(Bytes(hello.begin(), hello.end()), "array 'x': member is not a .npy array (bad magic)");
  bad(Bytes{0x93, 'N', 'U', 'M'}, "bad magic");
  bad(Bytes{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0xFF}, ".npy header is truncated");
  bad(npy_member("{}", four, 4), "unsupported .npy format version 4.0");
  Bytes long_header = npy_member("<f4", "(1,)", four);
  put_le16(long_header, 8, 0xFFF0);
  bad(long_header, "header length 65520 runs past the end of the member");
  bad(npy_member("{'descr': '<f4', 'fortran_order': False, 'shape': (1,", four), "malformed .npy header");
  bad(npy_member("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } trailing", four), "malformed .npy header");
  bad(npy_member("{'descr: '<f4'}", four), "malformed .npy header");
  bad(npy_member("[1, 2]", four), ".npy header is not a dict");
  bad(npy_member("{'descr': '<f4', 'fortran_order': False}", four), "no 'shape' key");
  bad(npy_member("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", four), "unexpected key 'extra'");
  bad(npy_member("{'descr': 4, 'fortran_order': False, 'shape': (1,)}", four), "'descr' is not a string");
  bad(npy_member("{'descr': '<f4', 'fortran_order': 'yes', 'shape': (1,)}", four), "'fortran_order' is not a bool");
  bad(npy_member("{'descr': '<f4', 'fortran_order': False, 'shape': 1}", four), "'shape' is not a tuple");
  bad(npy_member("<f4", "(-1,)", four), "non-negative integers");
  bad(npy_member("<f4", "(1.5,)", four), "malformed .npy header");
  bad(npy_member("<f4", "(99999999999999999999,)", four), "too large");
  bad(npy_member("<f4", "(4294967296, 4294967296, 4294967296)", four), "is too large");
  bad(npy_member("{'shape': " + std::string(5000, '(') + std::string(5000, ')') + "}", four), "nested too deeply");
  bad(npy_member("{'descr': '<f4", four), "unterminated string");
}

TEST(NpzMalformed, ShapeAndDataSizeMismatch) {
  TempDir dir;
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("<f4", "(10,)", Bytes(8, 0))),
                            "array 'x': shape [10] of float32 needs 40 data bytes but the member holds 8"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("<i8", "()", Bytes(9, 0))), "needs 8 data bytes but the member holds 9"));
  EXPECT_TRUE(fails_to_read(archive_with(dir, npy_member("<i4", "(0, 3)", Bytes(4, 0))), "needs 0 data bytes"));
}

TEST(NpzMalformed, UnknownCompressionMethod) {
  TempDir dir;
  Bytes bytes = read_bytes(fixture("numpy_savez_compressed.npz"));
  put_le16(bytes, find_record(bytes, kCentral) + kCentralMethod, 12);  // bzip2
  put_le16(bytes, find_record(bytes, kLocal) + 8, 12);
  write_bytes(dir.file("bz.npz"), bytes);
  EXPECT_TRUE(fails_to_read(dir.file("bz.npz"), "member 'f32.npy' uses unsupported compression method 12"));
}

TEST(NpzMalformed, EncryptedMember) {
  TempDir dir;
  Bytes bytes = read_bytes(fixture("numpy_savez.npz"));
  const size_t entry = find_record(bytes, kCentral);
  put_le16(bytes, entry + kCentralFlags, get_le16(bytes, entry + kCentralFlags) | 1);
  write_bytes(dir.file("enc.npz"), bytes);
  EXPECT_TRUE(fails_to_read(dir.file("enc.npz"), "is encrypted"));
}

TEST(NpzMalformed, SizesLargerThanTheFileFailBeforeAllocating) {
  TempDir dir;
  const Bytes stored = read_bytes(fixture("numpy_savez.npz"));
  const Bytes deflated = read_bytes(fixture("numpy_savez_compressed.npz"));
  const size_t entry = find_record(stored, kCentral);
  const size_t deflated_entry = find_record(deflated, kCentral);
  const size_t end = find_record(stored, kEnd);
  const auto patched = [&](const Bytes& base, size_t at, uint32_t value, const char* name) {
    Bytes b = base;
    put_le32(b, at, value);
    write_bytes(dir.file(name), b);
    return dir.file(name);
  };
  Bytes both_sizes = stored;
  put_le32(both_sizes, entry + kCentralCompressedSize, 0xFFFFFFF0u);
  put_le32(both_sizes, entry + kCentralSize, 0xFFFFFFF0u);
  write_bytes(dir.file("sizes.npz"), both_sizes);
  EXPECT_TRUE(fails_to_read(dir.file("sizes.npz"), "extends past the end of the file"));
  EXPECT_TRUE(fails_to_read(patched(deflated, deflated_entry + kCentralSize, 0xFFFFFFF0u, "bomb.npz"),
                            "more than deflate can produce"));
  EXPECT_TRUE(fails_to_read(patched(stored, entry + kCentralLocalOffset, 0x7FFFFFFF, "offset.npz"),
                            "local header at offset 2147483647 lies outside the file"));
  EXPECT_TRUE(fails_to_read(patched(stored, end + 12, 0x7FFFFFFF, "cdsize.npz"), "central directory"));
  EXPECT_TRUE(fails_to_read(patched(stored, end + 16, 0x7FFFFFFF, "cdoffset.npz"), "lies outside the file"));
  Bytes entries = stored;
  put_le16(entries, end + 8, 0xFFFF);
  put_le16(entries, end + 10, 0xFFFF);
  write_bytes(dir.file("entries.npz"), entries);
  EXPECT_TRUE(fails_to_read(dir.file("entries.npz"), "cannot hold the 65535 entries"));
}

TEST(NpzMalformed, Zip64SizesLargerThanTheFile) {
  TempDir dir;
  Bytes bytes = read_bytes(fixture("numpy_zip64_records.npz"));
  // The first central entry's ZIP64 extra field holds the 64-bit sizes right after the name.
  const size_t entry = find_record(bytes, kCentral);
  const size_t extra = entry + 46 + get_le16(bytes, entry + 28);
  ASSERT_EQ(get_le16(bytes, extra), 1) << "fixture layout changed";
  for (size_t i = 0; i < 16; ++i) bytes.at(extra + 4 + i) = 0xEE;  // ~17 exabytes each
  write_bytes(dir.file("z64.npz"), bytes);
  EXPECT_TRUE(fails_to_read(dir.file("z64.npz"), "extends past the end of the file"));
}

TEST(NpzMalformed, DuplicateNames) {
  TempDir dir;
  const Bytes npy = npy_member("<f4", "(1,)", Bytes(4, 0));
  write_members(dir.file("dup.npz"), {{"a.npy", npy}, {"b.npy", npy}, {"a.npy", npy}});
  EXPECT_TRUE(fails_to_read(dir.file("dup.npz"), "duplicate array name 'a'"));
}

TEST(NpzMalformed, MemberThatIsNotAnArray) {
  TempDir dir;
  write_members(dir.file("txt.npz"), {{"readme.txt", Bytes{'h', 'i'}}});
  EXPECT_TRUE(fails_to_read(dir.file("txt.npz"), "member 'readme.txt' is not a .npy array"));
}

// ------------------------------------------------------------------------------------------------
// The zip layer on its own

TEST(NpzZip, ForcedZip64RoundTripsThroughOurReader) {
  TempDir dir;
  for (zip::Method method : {zip::Method::kStored, zip::Method::kDeflate}) {
    const std::string path = dir.file("z.npz");
    write_members(path, reference_members(), {method, /*force_zip64=*/true});
    const Bytes bytes = read_bytes(path);
    EXPECT_NO_THROW(find_record(bytes, 0x06064b50)) << "no ZIP64 end record";
    const zip::Reader reader(path);
    ASSERT_EQ(reader.members().size(), reference_members().size());
    for (size_t i = 0; i < reader.members().size(); ++i) {
      EXPECT_EQ(reader.members()[i].name, reference_members()[i].first);
      EXPECT_EQ(reader.members()[i].method, uint16_t(method));
      EXPECT_EQ(reader.extract(reader.members()[i]), reference_members()[i].second);
    }
  }
}

TEST(NpzZip, PiecesAreStoredBackToBack) {
  TempDir dir;
  const Bytes head = {1, 2, 3}, tail = {4, 5};
  zip::write_atomically(dir.file("p.zip"), {{"m", {head, tail}}}, {zip::Method::kDeflate, false});
  const zip::Reader reader(dir.file("p.zip"));
  EXPECT_EQ(reader.extract(reader.members().at(0)), (Bytes{1, 2, 3, 4, 5}));
}

}  // namespace
}  // namespace kestrel
