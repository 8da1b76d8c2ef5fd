// The frames of a video given as an image folder: its JPEG files in name order (GOT-10k's
// 00000001.jpg, 00000002.jpg, ...), decoded with libjpeg-turbo (synth/jpeg_io.h).
#pragma once
#include <string>
#include <vector>

#include "synth/image.h"
#include "tracker/box.h"

namespace kestrel::tracker {

// Paths of the *.jpg / *.jpeg files in `folder`, sorted by name. Throws kestrel::Error when the
// folder is missing or holds none.
std::vector<std::string> list_frames(const std::string& folder);

// Decodes one frame; errors name the file.
synth::RgbImage read_frame(const std::string& path);

// Draws the box outline (clipped to the image) for --visualize.
void draw_box(synth::RgbImage& image, const Box& box, synth::Rgb colour, int thickness = 2);

}  // namespace kestrel::tracker
