#include "synth/jpeg_io.h"

// clang-format off
#include <csetjmp>
#include <cstdio>   // jpeglib.h needs FILE and size_t declared first
#include <cstdlib>
#include <cstring>
#include <jpeglib.h>
// clang-format on

#include "core/error.h"
#include "core/file_io.h"

namespace kestrel::synth {
namespace {

// libjpeg reports fatal errors through error_exit, which must not return. We longjmp back to the
// libjpeg call site, which is plain C: unwinding a C++ exception through libjpeg's frames is not
// something the library was compiled for. Functions that call setjmp below hold no C++ objects.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool warned;  // a warning means damaged data: treated as an error by the decoder
};

void on_fatal_error(j_common_ptr info) {
  auto* manager = reinterpret_cast<ErrorManager*>(info->err);
  (*info->err->format_message)(info, manager->message);
  std::longjmp(manager->jump, 1);
}

// Level -1 is a warning (corrupt data); higher levels are trace messages we ignore.
void on_message(j_common_ptr info, int level) {
  auto* manager = reinterpret_cast<ErrorManager*>(info->err);
  if (level < 0 && !manager->warned) {
    (*info->err->format_message)(info, manager->message);
    manager->warned = true;
  }
}

void install(ErrorManager& manager) {
  jpeg_std_error(&manager.base);
  manager.base.error_exit = on_fatal_error;
  manager.base.emit_message = on_message;
  manager.message[0] = '\0';
  manager.warned = false;
}

// Decompression split in two steps so the output buffer is allocated (by C++) between them,
// outside any frame that setjmp guards.
class Decoder {
 public:
  Decoder() {
    install(errors_);
    info_.err = &errors_.base;
    jpeg_create_decompress(&info_);
  }
  ~Decoder() { jpeg_destroy_decompress(&info_); }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  bool read_header(const uint8_t* data, size_t size, int* width, int* height) {
    if (setjmp(errors_.jump)) return false;
    jpeg_mem_src(&info_, data, static_cast<unsigned long>(size));
    jpeg_read_header(&info_, TRUE);
    info_.out_color_space = JCS_RGB;  // libjpeg-turbo converts greyscale and YCbCr; CMYK errors
    jpeg_start_decompress(&info_);
    if (errors_.warned) return false;
    *width = int(info_.output_width);
    *height = int(info_.output_height);
    return true;
  }

  bool read_pixels(uint8_t* pixels, size_t row_bytes) {
    if (setjmp(errors_.jump)) return false;
    if (info_.output_components != 3) {
      std::snprintf(errors_.message, sizeof errors_.message, "decodes to %d components, not 3 (RGB)",
                    info_.output_components);
      return false;
    }
    while (info_.output_scanline < info_.output_height) {
      JSAMPROW row = pixels + size_t(info_.output_scanline) * row_bytes;
      jpeg_read_scanlines(&info_, &row, 1);
    }
    jpeg_finish_decompress(&info_);
    return !errors_.warned;
  }

  const char* message() const { return errors_.message[0] ? errors_.message : "unknown libjpeg error"; }

 private:
  ErrorManager errors_;
  jpeg_decompress_struct info_;
};

// Returns false with the message in `errors`; on success *out/*out_size hold malloc'ed bytes.
bool compress(const RgbImage& image, int quality, ErrorManager& errors, unsigned char** out,
              unsigned long* out_size) {
  jpeg_compress_struct info;
  info.err = &errors.base;
  jpeg_create_compress(&info);
  if (setjmp(errors.jump)) {
    jpeg_destroy_compress(&info);
    return false;
  }
  jpeg_mem_dest(&info, out, out_size);
  info.image_width = JDIMENSION(image.width);
  info.image_height = JDIMENSION(image.height);
  info.input_components = 3;
  info.in_color_space = JCS_RGB;
  jpeg_set_defaults(&info);
  jpeg_set_quality(&info, quality, TRUE);
  jpeg_start_compress(&info, TRUE);
  while (info.next_scanline < info.image_height) {
    // libjpeg's API takes non-const rows but only reads them when compressing.
    JSAMPROW row = const_cast<uint8_t*>(image.row(int(info.next_scanline)));
    jpeg_write_scanlines(&info, &row, 1);
  }
  jpeg_finish_compress(&info);
  jpeg_destroy_compress(&info);
  return true;
}

// Headers can claim up to 65500 x 65500 pixels; refuse before allocating 12 GB for a damaged file.
constexpr int64_t kMaxPixels = int64_t(1) << 28;

}  // namespace

std::vector<uint8_t> encode_jpeg(const RgbImage& image, int quality) {
  KESTREL_CHECK(image.width > 0 && image.height > 0, "cannot encode an empty {}x{} image", image.width,
                image.height);
  KESTREL_CHECK(quality >= 1 && quality <= 100, "JPEG quality {} is outside 1..100", quality);
  ErrorManager errors;
  install(errors);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const bool ok = compress(image, quality, errors, &buffer, &size);
  std::vector<uint8_t> bytes;
  if (ok) bytes.assign(buffer, buffer + size);
  std::free(buffer);  // jpeg_mem_dest allocates with malloc, also when it fails midway
  if (!ok) fail("JPEG encoding of a {}x{} image failed: {}", image.width, image.height, errors.message);
  return bytes;
}

RgbImage decode_jpeg(const uint8_t* data, size_t size, const std::string& source_name) {
  KESTREL_CHECK(size > 0, "{}: not a JPEG image: the file is empty", source_name);
  Decoder decoder;
  int width = 0, height = 0;
  if (!decoder.read_header(data, size, &width, &height))
    fail("{}: not a readable JPEG image: {}", source_name, decoder.message());
  KESTREL_CHECK(width > 0 && height > 0 && int64_t(width) * height <= kMaxPixels,
                "{}: JPEG image of {}x{} pixels is empty or too large", source_name, width, height);
  RgbImage image(width, height);
  if (!decoder.read_pixels(image.pixels.data(), size_t(width) * 3))
    fail("{}: corrupt JPEG image: {}", source_name, decoder.message());
  return image;
}

RgbImage read_jpeg(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  return decode_jpeg(bytes, path);
}

void write_jpeg(const std::string& path, const RgbImage& image, int quality) {
  const std::vector<uint8_t> bytes = encode_jpeg(image, quality);
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace kestrel::synth
