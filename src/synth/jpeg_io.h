// JPEG encoding and decoding through libjpeg(-turbo). Every failure, including data that libjpeg
// only warns about (a truncated file, a corrupt Huffman stream), throws kestrel::Error with a
// message naming the file: a tracker fed a half-grey frame would fail silently, an error does not.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "synth/image.h"

namespace kestrel::synth {

// Baseline JPEG, 4:2:0 chroma, quality 1..100. Same pixels and quality give the same bytes.
std::vector<uint8_t> encode_jpeg(const RgbImage& image, int quality);

// Decodes to RGB (greyscale files are expanded). `source_name` names the data in errors.
RgbImage decode_jpeg(const uint8_t* data, size_t size, const std::string& source_name);
inline RgbImage decode_jpeg(const std::vector<uint8_t>& bytes, const std::string& source_name) {
  return decode_jpeg(bytes.data(), bytes.size(), source_name);
}

RgbImage read_jpeg(const std::string& path);
// Atomic: a temporary file renamed into place.
void write_jpeg(const std::string& path, const RgbImage& image, int quality);

}  // namespace kestrel::synth
