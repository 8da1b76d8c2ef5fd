// .npz = zip of .npy members. The .npy format is documented in numpy/lib/format.py: a magic
// string, a version, a header length and a Python dict literal describing dtype, order and shape.
#include "core/npz.h"

#include <bit>
#include <cstring>
#include <new>
#include <optional>
#include <set>
#include <string_view>

#include "core/dtype.h"
#include "core/error.h"
#include "core/tensor.h"
#include "core/zip.h"

namespace kestrel {

// .npy data is little-endian and copied as-is into HostTensor bytes.
static_assert(std::endian::native == std::endian::little, "npz io assumes a little-endian host");

namespace {

constexpr std::string_view kNpyMagic = "\x93NUMPY";
constexpr std::string_view kNpySuffix = ".npy";
constexpr size_t kNpyAlignment = 64;  // numpy aligns the data start to 64 bytes since 1.x
constexpr int kMaxLiteralDepth = 16;
constexpr const char* kSupportedDtypes = "float32, float16, int64, int32, int8, uint8, bool";

// ------------------------------------------------------------------------------------------------
// The .npy header is a Python literal; this parses the small subset numpy writes (dict, str, bool,
// None, int, tuple, list) and reports anything else, rather than evaluating it.

struct PyValue {
  enum class Kind { kString, kBool, kNone, kInt, kTuple, kList, kDict } kind = Kind::kNone;
  std::string text;
  bool flag = false;
  int64_t number = 0;
  std::vector<PyValue> items;                         // tuple, list
  std::vector<std::pair<std::string, PyValue>> keys;  // dict with string keys
};

class PyLiteralParser {
 public:
  explicit PyLiteralParser(std::string_view text) : text_(text) {}

  PyValue parse_whole() {
    PyValue value = parse_value(0);
    skip_space();
    KESTREL_CHECK(pos_ == text_.size(), "unexpected '{}' after the header dict", text_[pos_]);
    return value;
  }

 private:
  PyValue parse_value(int depth) {
    KESTREL_CHECK(depth < kMaxLiteralDepth, "header is nested too deeply");
    skip_space();
    KESTREL_CHECK(pos_ < text_.size(), "header ends unexpectedly");
    const char c = text_[pos_];
    if (c == '\'' || c == '"') return string_value(parse_string());
    if (c == '(') return parse_sequence(PyValue::Kind::kTuple, ')', depth);
    if (c == '[') return parse_sequence(PyValue::Kind::kList, ']', depth);
    if (c == '{') return parse_dict(depth);
    if (c == '-' || is_digit(c)) return parse_int();
    return parse_keyword();
  }

  static PyValue string_value(std::string s) {
    PyValue v;
    v.kind = PyValue::Kind::kString;
    v.text = std::move(s);
    return v;
  }

  std::string parse_string() {
    const char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out += text_[pos_++];
    }
    KESTREL_CHECK(pos_ < text_.size(), "unterminated string in header");
    ++pos_;
    return out;
  }

  PyValue parse_int() {
    PyValue v;
    v.kind = PyValue::Kind::kInt;
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    KESTREL_CHECK(pos_ < text_.size() && is_digit(text_[pos_]), "malformed number in header");
    uint64_t magnitude = 0;
    while (pos_ < text_.size() && is_digit(text_[pos_])) {
      magnitude = magnitude * 10 + uint64_t(text_[pos_++] - '0');
      KESTREL_CHECK(magnitude <= uint64_t(INT64_MAX), "number in header is too large");
    }
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 long, in old files
    v.number = negative ? -int64_t(magnitude) : int64_t(magnitude);
    return v;
  }

  PyValue parse_keyword() {
    PyValue v;
    if (consume("True")) {
      v.kind = PyValue::Kind::kBool;
      v.flag = true;
    } else if (consume("False")) {
      v.kind = PyValue::Kind::kBool;
    } else if (consume("None")) {
      v.kind = PyValue::Kind::kNone;
    } else {
      fail("unexpected '{}' in header", text_[pos_]);
    }
    return v;
  }

  PyValue parse_sequence(PyValue::Kind kind, char close, int depth) {
    PyValue v;
    v.kind = kind;
    ++pos_;
    while (!consume_char(close)) {
      v.items.push_back(parse_value(depth + 1));
      if (!consume_char(',')) {
        KESTREL_CHECK(consume_char(close), "expected ',' or '{}' in header", close);
        break;
      }
    }
    return v;
  }

  PyValue parse_dict(int depth) {
    PyValue v;
    v.kind = PyValue::Kind::kDict;
    ++pos_;
    while (!consume_char('}')) {
      skip_space();
      KESTREL_CHECK(pos_ < text_.size() && (text_[pos_] == '\'' || text_[pos_] == '"'),
                    "header dict keys must be strings");
      std::string key = parse_string();
      KESTREL_CHECK(consume_char(':'), "expected ':' after key '{}' in header", key);
      v.keys.emplace_back(std::move(key), parse_value(depth + 1));
      if (!consume_char(',')) {
        KESTREL_CHECK(consume_char('}'), "expected ',' or '}}' in header dict");
        break;
      }
    }
    return v;
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r'))
      ++pos_;
  }
  bool consume_char(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ------------------------------------------------------------------------------------------------
// dtypes

// numpy's name for a descr without its byte order, for messages: "f8" -> "float64".
std::string numpy_type_name(std::string_view type) {
  if (type.empty()) return "";
  const char kind = type[0];
  const std::string_view rest = type.substr(1);
  const bool numeric_size = !rest.empty() && rest.find_first_not_of("0123456789") == std::string_view::npos;
  const int bits = numeric_size ? std::stoi(std::string(rest)) * 8 : 0;
  switch (kind) {
    case 'f': return numeric_size ? fmt::format("float{}", bits) : "";
    case 'i': return numeric_size ? fmt::format("int{}", bits) : "";
    case 'u': return numeric_size ? fmt::format("uint{}", bits) : "";
    case 'c': return numeric_size ? fmt::format("complex{}", bits) : "";
    case 'b': return "bool";
    case 'U': return "str";
    case 'S': return "bytes";
    case 'O': return "object";
    case 'V': return "void";
    case 'M': return "datetime64";
    case 'm': return "timedelta64";
  }
  return "";
}

std::optional<DataType> supported_type(std::string_view type) {
  if (type == "f4") return DataType::kFLOAT;
  if (type == "f2") return DataType::kHALF;
  if (type == "i8") return DataType::kINT64;
  if (type == "i4") return DataType::kINT32;
  if (type == "i1") return DataType::kINT8;
  if (type == "u1") return DataType::kUINT8;
  if (type == "b1") return DataType::kBOOL;
  return std::nullopt;
}

[[noreturn]] void fail_unsupported_dtype(const std::string& array, const std::string& descr, std::string_view type) {
  const std::string name = numpy_type_name(type);
  if (name.empty()) fail("array '{}' has unsupported dtype '{}', supported: {}", array, descr, kSupportedDtypes);
  fail("array '{}' has dtype {} ({}), supported: {}", array, name, descr, kSupportedDtypes);
}

DataType dtype_from_descr(const std::string& array, const std::string& descr) {
  const bool has_byte_order = !descr.empty() && std::string_view("<>|=").find(descr[0]) != std::string_view::npos;
  const char byte_order = has_byte_order ? descr[0] : '=';
  const std::string_view type = std::string_view(descr).substr(has_byte_order ? 1 : 0);
  const std::optional<DataType> dtype = supported_type(type);
  if (!dtype) fail_unsupported_dtype(array, descr, type);
  // Byte order is meaningless for one-byte types, so '>u1' is as good as '|u1'.
  KESTREL_CHECK(byte_order != '>' || dtype_size(*dtype) == 1,
                "array '{}' has big-endian dtype {} ({}); only little-endian data is supported", array,
                numpy_type_name(type), descr);
  return *dtype;
}

const char* descr_of(DataType dtype) {
  switch (dtype) {
    case DataType::kFLOAT: return "<f4";
    case DataType::kHALF: return "<f2";
    case DataType::kINT8: return "|i1";
    case DataType::kINT32: return "<i4";
    case DataType::kINT64: return "<i8";
    case DataType::kUINT8: return "|u1";
    case DataType::kBOOL: return "|b1";
  }
  fail("no .npy dtype for DataType {}", int(dtype));
}

// ------------------------------------------------------------------------------------------------
// .npy reading

struct NpyHeader {
  DataType dtype = DataType::kFLOAT;
  bool fortran_order = false;
  Dims shape;
};

const PyValue& dict_entry(const std::string& array, const PyValue& dict, const char* key) {
  for (const auto& [name, value] : dict.keys)
    if (name == key) return value;
  fail("array '{}': .npy header has no '{}' key", array, key);
}

Dims shape_from(const std::string& array, const PyValue& value) {
  KESTREL_CHECK(value.kind == PyValue::Kind::kTuple, "array '{}': .npy header 'shape' is not a tuple", array);
  Dims shape;
  for (const PyValue& item : value.items) {
    KESTREL_CHECK(item.kind == PyValue::Kind::kInt && item.number >= 0,
                  "array '{}': .npy header 'shape' holds something other than non-negative integers", array);
    shape.push_back(item.number);
  }
  return shape;
}

NpyHeader interpret_header(const std::string& array, const PyValue& dict) {
  KESTREL_CHECK(dict.kind == PyValue::Kind::kDict, "array '{}': .npy header is not a dict", array);
  for (const auto& [key, value] : dict.keys)
    KESTREL_CHECK(key == "descr" || key == "fortran_order" || key == "shape",
                  "array '{}': .npy header has unexpected key '{}'", array, key);
  const PyValue& descr = dict_entry(array, dict, "descr");
  KESTREL_CHECK(descr.kind != PyValue::Kind::kList,
                "array '{}' has a structured (record) dtype, supported: {}", array, kSupportedDtypes);
  KESTREL_CHECK(descr.kind == PyValue::Kind::kString, "array '{}': .npy header 'descr' is not a string", array);
  const PyValue& fortran = dict_entry(array, dict, "fortran_order");
  KESTREL_CHECK(fortran.kind == PyValue::Kind::kBool, "array '{}': .npy header 'fortran_order' is not a bool", array);
  NpyHeader header;
  header.dtype = dtype_from_descr(array, descr.text);
  header.fortran_order = fortran.flag;
  header.shape = shape_from(array, dict_entry(array, dict, "shape"));
  return header;
}

struct NpyLayout {
  size_t header_offset = 0;  // where the dict text starts
  size_t data_offset = 0;
};

NpyLayout read_preamble(const std::string& array, const std::vector<uint8_t>& npy) {
  KESTREL_CHECK(npy.size() >= kNpyMagic.size() + 2 &&
                    std::memcmp(npy.data(), kNpyMagic.data(), kNpyMagic.size()) == 0,
                "array '{}': member is not a .npy array (bad magic)", array);
  const uint8_t major = npy[6];
  const uint8_t minor = npy[7];
  KESTREL_CHECK(minor == 0 && major >= 1 && major <= 3,
                "array '{}': unsupported .npy format version {}.{} (supported: 1.0, 2.0, 3.0)", array, major, minor);
  // Version 1.0 has a 16-bit header length; 2.0 widened it to 32 bits; 3.0 only allows UTF-8 text.
  const size_t length_size = major == 1 ? 2 : 4;
  NpyLayout layout;
  layout.header_offset = 8 + length_size;
  KESTREL_CHECK(npy.size() >= layout.header_offset, "array '{}': .npy header is truncated", array);
  size_t header_size = 0;
  for (size_t i = 0; i < length_size; ++i) header_size |= size_t(npy[8 + i]) << (8 * i);
  KESTREL_CHECK(header_size <= npy.size() - layout.header_offset,
                "array '{}': .npy header length {} runs past the end of the member ({} bytes)", array, header_size,
                npy.size());
  layout.data_offset = layout.header_offset + header_size;
  return layout;
}

NpyHeader parse_header(const std::string& array, const std::vector<uint8_t>& npy, const NpyLayout& layout) {
  const std::string_view text(reinterpret_cast<const char*>(npy.data()) + layout.header_offset,
                              layout.data_offset - layout.header_offset);
  PyValue dict;
  try {
    dict = PyLiteralParser(text).parse_whole();
  } catch (const Error& e) {
    fail("array '{}': malformed .npy header ({})", array, e.what());
  }
  return interpret_header(array, dict);
}

uint64_t checked_byte_size(const std::string& array, const Dims& shape, DataType dtype) {
  uint64_t n = dtype_size(dtype);
  for (int64_t d : shape)
    KESTREL_CHECK(!__builtin_mul_overflow(n, uint64_t(d), &n), "array '{}': shape {} is too large", array,
                  shape_str(shape));
  return n;
}

// numpy stores Fortran-ordered arrays column-major; HostTensor is row-major.
std::vector<uint8_t> fortran_to_c_order(const std::vector<uint8_t>& src, const Dims& shape, size_t item_size) {
  const size_t rank = shape.size();
  std::vector<uint64_t> column_major_stride(rank);
  uint64_t stride = item_size;
  for (size_t axis = 0; axis < rank; ++axis) {
    column_major_stride[axis] = stride;
    stride *= uint64_t(shape[axis]);
  }
  std::vector<uint8_t> dst(src.size());
  std::vector<int64_t> index(rank, 0);
  uint64_t src_offset = 0;
  for (uint64_t dst_offset = 0; dst_offset < dst.size(); dst_offset += item_size) {
    std::memcpy(&dst[dst_offset], &src[src_offset], item_size);
    for (size_t axis = rank; axis-- > 0;) {  // row-major increment: last axis fastest
      if (++index[axis] < shape[axis]) {
        src_offset += column_major_stride[axis];
        break;
      }
      src_offset -= column_major_stride[axis] * uint64_t(shape[axis] - 1);
      index[axis] = 0;
    }
  }
  return dst;
}

HostTensor decode_npy(const std::string& array, std::vector<uint8_t> npy) {
  const NpyLayout layout = read_preamble(array, npy);
  const NpyHeader header = parse_header(array, npy, layout);
  const uint64_t expected = checked_byte_size(array, header.shape, header.dtype);
  const uint64_t actual = npy.size() - layout.data_offset;
  KESTREL_CHECK(expected == actual, "array '{}': shape {} of {} needs {} data bytes but the member holds {}", array,
                shape_str(header.shape), dtype_name(header.dtype), expected, actual);
  HostTensor tensor;
  tensor.dtype = header.dtype;
  tensor.shape = header.shape;
  npy.erase(npy.begin(), npy.begin() + ptrdiff_t(layout.data_offset));  // in place, no second buffer
  tensor.bytes = header.fortran_order && header.shape.size() > 1
                     ? fortran_to_c_order(npy, header.shape, dtype_size(header.dtype))
                     : std::move(npy);
  // numpy treats any non-zero byte as true; kernels may compare with 1.
  if (tensor.dtype == DataType::kBOOL)
    for (uint8_t& b : tensor.bytes) b = b != 0;
  return tensor;
}

std::string array_name_of(const std::string& member) {
  KESTREL_CHECK(member.size() >= kNpySuffix.size() && member.ends_with(kNpySuffix),
                "member '{}' is not a .npy array (npz members are named <array>.npy)", member);
  return member.substr(0, member.size() - kNpySuffix.size());
}

NamedTensors read_npz_or_throw_reason(const std::string& path) {
  const zip::Reader archive(path);
  std::set<std::string> seen;
  for (const zip::MemberInfo& member : archive.members())
    KESTREL_CHECK(seen.insert(array_name_of(member.name)).second, "duplicate array name '{}'",
                  array_name_of(member.name));
  NamedTensors tensors;
  tensors.reserve(archive.members().size());
  for (const zip::MemberInfo& member : archive.members()) {
    std::string name = array_name_of(member.name);
    HostTensor tensor = decode_npy(name, archive.extract(member));
    tensors.emplace_back(std::move(name), std::move(tensor));
  }
  return tensors;
}

// ------------------------------------------------------------------------------------------------
// .npy writing

std::string shape_tuple(const Dims& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);  // Python's one-element tuple
  return fmt::format("({})", fmt::join(shape, ", "));
}

// Magic, version, length and the dict, padded with spaces and a newline so the data starts
// 64-byte aligned, as numpy writes it (np.load memory-maps rely on the alignment).
std::vector<uint8_t> npy_header(const HostTensor& tensor) {
  const std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                       descr_of(tensor.dtype), shape_tuple(tensor.shape));
  const bool fits_version1 = dict.size() + 1 + kNpyAlignment < 0xFFFF;
  const size_t preamble = fits_version1 ? 10 : 12;
  const size_t unpadded = preamble + dict.size() + 1;
  const size_t padding = (kNpyAlignment - unpadded % kNpyAlignment) % kNpyAlignment;
  const std::string text = dict + std::string(padding, ' ') + "\n";
  std::vector<uint8_t> out(kNpyMagic.begin(), kNpyMagic.end());
  out.push_back(fits_version1 ? 1 : 2);
  out.push_back(0);
  for (size_t i = 0; i < preamble - 8; ++i) out.push_back(uint8_t(text.size() >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

void check_writable(const std::string& name, const HostTensor& tensor) {
  for (int64_t d : tensor.shape)
    KESTREL_CHECK(d >= 0, "tensor '{}' has a negative dimension in shape {}", name, shape_str(tensor.shape));
  const uint64_t expected = checked_byte_size(name, tensor.shape, tensor.dtype);
  KESTREL_CHECK(expected == tensor.bytes.size(), "tensor '{}': shape {} of {} needs {} bytes but it holds {}", name,
                shape_str(tensor.shape), dtype_name(tensor.dtype), expected, tensor.bytes.size());
}

void write_npz_or_throw_reason(const std::string& path, const NamedTensors& tensors, bool compressed) {
  std::set<std::string> seen;
  std::vector<std::vector<uint8_t>> headers;  // kept alive: members refer to them
  headers.reserve(tensors.size());
  std::vector<zip::MemberSource> members;
  for (const auto& [name, tensor] : tensors) {
    KESTREL_CHECK(seen.insert(name).second, "duplicate tensor name '{}'", name);
    check_writable(name, tensor);
    headers.push_back(npy_header(tensor));
    members.push_back({name + std::string(kNpySuffix), {headers.back(), tensor.bytes}});
  }
  zip::WriteOptions options;
  options.method = compressed ? zip::Method::kDeflate : zip::Method::kStored;
  zip::write_atomically(path, members, options);
}

}  // namespace

NamedTensors read_npz(const std::string& path) {
  try {
    return read_npz_or_throw_reason(path);
  } catch (const std::bad_alloc&) {
    fail("{}: out of memory while reading", path);
  } catch (const std::exception& e) {
    fail("{}: {}", path, e.what());
  }
}

void write_npz(const std::string& path, const NamedTensors& tensors, bool compressed) {
  try {
    write_npz_or_throw_reason(path, tensors, compressed);
  } catch (const std::bad_alloc&) {
    fail("{}: out of memory while writing", path);
  } catch (const std::exception& e) {
    fail("{}: {}", path, e.what());
  }
}

}  // namespace kestrel
