#include "tracker/frames.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "synth/jpeg_io.h"

namespace kestrel::tracker {
namespace fs = std::filesystem;

std::vector<std::string> list_frames(const std::string& folder) {
  std::error_code ec;
  KESTREL_CHECK(fs::is_directory(folder, ec), "{}: no such folder", folder);
  std::vector<std::string> frames;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, ec)) {
    std::string ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if ((ext == ".jpg" || ext == ".jpeg") && entry.is_regular_file(ec)) frames.push_back(entry.path().string());
  }
  KESTREL_CHECK(!ec, "{}: cannot list the folder: {}", folder, ec.message());
  KESTREL_CHECK(!frames.empty(), "{}: holds no JPEG frames (*.jpg)", folder);
  std::sort(frames.begin(), frames.end());
  return frames;
}

synth::RgbImage read_frame(const std::string& path) { return synth::read_jpeg(path); }

void draw_box(synth::RgbImage& image, const Box& box, synth::Rgb colour, int thickness) {
  const int x0 = int(std::lround(box.x)), y0 = int(std::lround(box.y));
  const int x1 = int(std::lround(box.x + box.w)) - 1, y1 = int(std::lround(box.y + box.h)) - 1;
  auto put = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
    uint8_t* p = image.row(y) + size_t(x) * 3;
    p[0] = colour.r, p[1] = colour.g, p[2] = colour.b;
  };
  for (int t = 0; t < thickness; ++t) {
    for (int x = x0; x <= x1; ++x) put(x, y0 + t), put(x, y1 - t);
    for (int y = y0; y <= y1; ++y) put(x0 + t, y), put(x1 - t, y);
  }
}

}  // namespace kestrel::tracker
