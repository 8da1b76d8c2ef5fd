// The synthetic GOT-10k dataset generator: deterministic bytes, a complete layout, labels true to
// the rendered pixels, and JPEG reading that fails with a clear error on damaged files.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "synth/generator.h"
#include "synth/got10k_writer.h"
#include "synth/jpeg_io.h"
#include "synth/labels.h"
#include "synth/render.h"
#include "synth/rng.h"
#include "synth/scene.h"

namespace kestrel::synth {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// ------------------------------------------------------------------------------------------------
// Helpers

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kestrel_synth_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string str() const { return path_.string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Bytes read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct Box {
  double x, y, w, h;
};

Box parse_box(const std::string& line) {
  Box b{};
  char c1 = 0, c2 = 0, c3 = 0;
  std::stringstream ss(line);
  ss >> b.x >> c1 >> b.y >> c2 >> b.w >> c3 >> b.h;
  EXPECT_TRUE(ss && c1 == ',' && c2 == ',' && c3 == ',') << "not x,y,w,h: " << line;
  return b;
}

std::vector<int> read_ints(const fs::path& path) {
  std::vector<int> values;
  for (const std::string& line : read_lines(path)) values.push_back(std::stoi(line));
  return values;
}

// Small and quick: the tiny mode the fast tests use.
constexpr int kWidth = 320, kHeight = 180, kFrames = 20;

SynthOptions tiny_options(const std::string& root, uint64_t seed, int threads = 0) {
  SynthOptions o;
  o.root = root;
  o.seed = seed;
  o.frames = kFrames;
  o.width = kWidth;
  o.height = kHeight;
  o.threads = threads;
  o.splits = {{"train", 2}, {"val", 3}, {"test", 2}, {"calib", 1}};
  return o;
}

// Every regular file under root, relative path -> bytes.
std::map<std::string, Bytes> snapshot(const fs::path& root) {
  std::map<std::string, Bytes> files;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file()) files[fs::relative(entry.path(), root).string()] = read_bytes(entry.path());
  return files;
}

RgbImage test_pattern(int width, int height) {
  RgbImage image(width, height);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t* p = image.row(y) + size_t(x) * 3;
      p[0] = uint8_t(x * 255 / std::max(width - 1, 1));
      p[1] = uint8_t(y * 255 / std::max(height - 1, 1));
      p[2] = uint8_t(128 + 100 * std::sin(x * 0.2) * std::cos(y * 0.15));
    }
  return image;
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// ------------------------------------------------------------------------------------------------
// Random numbers and labels

TEST(SynthRng, SameSeedSameStreamAndDerivedSeedsDiffer) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const uint64_t va = a.next();
    EXPECT_EQ(va, b.next());
    EXPECT_NE(va, c.next());
  }
  EXPECT_NE(sequence_seed(1, "val", 1), sequence_seed(1, "val", 2));
  EXPECT_NE(sequence_seed(1, "val", 1), sequence_seed(1, "calib", 1));
  EXPECT_NE(sequence_seed(1, "val", 1), sequence_seed(2, "val", 1));
  EXPECT_EQ(sequence_seed(7, "train", 3), sequence_seed(7, "train", 3));
  Rng r(5);
  for (int i = 0; i < 1000; ++i) {
    const double u = r.uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    const int k = r.range(3, 8);
    EXPECT_GE(k, 3);
    EXPECT_LE(k, 8);
  }
}

TEST(SynthLabels, CoverFollowsGot10kBins) {
  EXPECT_EQ(cover_level(0, 1000), 0);
  EXPECT_EQ(cover_level(1, 1000), 1);
  EXPECT_EQ(cover_level(150, 1000), 1);  // (0, 15%]
  EXPECT_EQ(cover_level(151, 1000), 2);
  EXPECT_EQ(cover_level(300, 1000), 2);
  EXPECT_EQ(cover_level(750, 1000), 5);
  EXPECT_EQ(cover_level(900, 1000), 6);  // (75%, 90%]
  EXPECT_EQ(cover_level(901, 1000), 7);  // (90%, 100%)
  EXPECT_EQ(cover_level(999, 1000), 7);
  EXPECT_EQ(cover_level(1000, 1000), 8);
  EXPECT_EQ(cover_level(0, 0), 0);
}

// ------------------------------------------------------------------------------------------------
// JPEG

TEST(SynthJpeg, RoundTripKeepsSizeAndPixels) {
  const RgbImage image = test_pattern(97, 61);  // odd sizes exercise partial MCUs
  const Bytes bytes = encode_jpeg(image, 95);
  ASSERT_GT(bytes.size(), 100u);
  EXPECT_EQ(bytes[0], 0xFF);
  EXPECT_EQ(bytes[1], 0xD8);
  const RgbImage decoded = decode_jpeg(bytes, "pattern.jpg");
  ASSERT_EQ(decoded.width, 97);
  ASSERT_EQ(decoded.height, 61);
  double total = 0;
  for (size_t i = 0; i < image.pixels.size(); ++i) total += std::abs(int(image.pixels[i]) - int(decoded.pixels[i]));
  EXPECT_LT(total / double(image.pixels.size()), 3.0);
  EXPECT_EQ(encode_jpeg(image, 95), bytes) << "encoding is not deterministic";
}

TEST(SynthJpeg, WriteAndReadAFile) {
  TempDir dir;
  const std::string path = (dir.path() / "frame.jpg").string();
  const RgbImage image = test_pattern(64, 48);
  write_jpeg(path, image, 90);
  const RgbImage back = read_jpeg(path);
  EXPECT_EQ(back.width, 64);
  EXPECT_EQ(back.height, 48);
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
}

TEST(SynthJpeg, EveryTruncationIsAnErrorNamingTheFile) {
  const Bytes bytes = encode_jpeg(test_pattern(80, 60), 90);
  for (size_t length = 0; length < bytes.size(); length += (length < 800 ? 1 : 37)) {
    const std::string message = error_of([&] { decode_jpeg(bytes.data(), length, "cut.jpg"); });
    ASSERT_NE(message, "") << "a prefix of " << length << " of " << bytes.size() << " bytes decoded";
    EXPECT_NE(message.find("cut.jpg"), std::string::npos) << message;
  }
}

TEST(SynthJpeg, GarbageEmptyAndMissingFilesAreErrors) {
  Bytes garbage(4096);
  Rng rng(3);
  for (uint8_t& b : garbage) b = uint8_t(rng.next());
  EXPECT_NE(error_of([&] { decode_jpeg(garbage, "noise.jpg"); }).find("noise.jpg"), std::string::npos);
  const Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
  EXPECT_NE(error_of([&] { decode_jpeg(png, "really.png"); }).find("really.png"), std::string::npos);
  EXPECT_NE(error_of([&] { decode_jpeg(Bytes{}, "empty.jpg"); }).find("empty.jpg"), std::string::npos);
  // A valid header followed by nothing.
  const Bytes good = encode_jpeg(test_pattern(32, 32), 90);
  EXPECT_NE(error_of([&] { decode_jpeg(good.data(), 2, "soi_only.jpg"); }), "");
  TempDir dir;
  const std::string missing = (dir.path() / "nope.jpg").string();
  EXPECT_NE(error_of([&] { read_jpeg(missing); }).find("nope.jpg"), std::string::npos);
}

TEST(SynthJpeg, DamagedBytesNeverCrash) {
  const Bytes good = encode_jpeg(test_pattern(64, 64), 90);
  Rng rng(11);
  int errors = 0;
  for (int trial = 0; trial < 300; ++trial) {
    Bytes damaged = good;
    const int flips = 1 + trial % 8;
    for (int k = 0; k < flips; ++k) damaged[size_t(rng.range(0, int(damaged.size()) - 1))] ^= uint8_t(1 + rng.range(0, 254));
    try {
      const RgbImage image = decode_jpeg(damaged, "damaged.jpg");
      EXPECT_GT(image.width, 0);  // some damage decodes to wrong but valid pixels
    } catch (const Error& e) {
      ++errors;
      EXPECT_NE(std::string(e.what()).find("damaged.jpg"), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(errors, 0);
}

// ------------------------------------------------------------------------------------------------
// Whole datasets

TEST(SynthDataset, SameSeedSameBytesDifferentSeedDifferentData) {
  TempDir a, b, c;
  generate_dataset(tiny_options(a.str(), 5, 1), nullptr);
  generate_dataset(tiny_options(b.str(), 5, 2), nullptr);  // thread count must not matter
  const auto first = snapshot(a.path()), second = snapshot(b.path());
  ASSERT_EQ(first.size(), second.size());
  for (const auto& [name, bytes] : first) {
    auto it = second.find(name);
    ASSERT_NE(it, second.end()) << name;
    EXPECT_TRUE(it->second == bytes) << name << " differs between two runs with the same seed";
  }

  generate_dataset(tiny_options(c.str(), 6), nullptr);
  const auto other = snapshot(c.path());
  int differing_frames = 0, differing_boxes = 0;
  for (const auto& [name, bytes] : first) {
    if (name.ends_with(".jpg")) differing_frames += other.at(name) != bytes;
    if (name.ends_with("groundtruth.txt")) differing_boxes += other.at(name) != bytes;
  }
  EXPECT_GT(differing_frames, int(first.size()) / 2);
  EXPECT_EQ(differing_boxes, 2 + 3 + 2 + 1 + 2);  // every sequence, and the test split's hidden copies
}

TEST(SynthDataset, SequencesDoNotDependOnOtherSplitsOrCounts) {
  TempDir all, val_only;
  generate_dataset(tiny_options(all.str(), 9), nullptr);
  SynthOptions o = tiny_options(val_only.str(), 9);
  o.splits = {{"val", 1}};
  generate_dataset(o, nullptr);
  const fs::path seq = fs::path("val") / "GOT-10k_Val_000001";
  for (const char* file : {"00000001.jpg", "00000020.jpg", "groundtruth.txt", "cover.label", "meta_info.ini"})
    EXPECT_EQ(read_bytes(all.path() / seq / file), read_bytes(val_only.path() / seq / file)) << file;
}

TEST(SynthDataset, LayoutIsComplete) {
  TempDir root;
  generate_dataset(tiny_options(root.str(), 1), nullptr);
  const std::map<std::string, int> counts = {{"train", 2}, {"val", 3}, {"test", 2}, {"calib", 1}};
  for (const auto& [split, count] : counts) {
    const fs::path dir = root.path() / split;
    const std::vector<std::string> list = read_lines(dir / "list.txt");
    ASSERT_EQ(int(list.size()), count) << split;
    for (int i = 0; i < count; ++i) {
      const std::string expected = sequence_name(split, i + 1);
      EXPECT_EQ(list[size_t(i)], expected);
      const fs::path seq = dir / expected;
      int jpgs = 0;
      for (const auto& entry : fs::directory_iterator(seq)) jpgs += entry.path().extension() == ".jpg";
      EXPECT_EQ(jpgs, kFrames) << seq;
      for (int t = 0; t < kFrames; ++t) {
        const RgbImage frame = read_jpeg((seq / frame_file_name(t)).string());
        ASSERT_EQ(frame.width, kWidth);
        ASSERT_EQ(frame.height, kHeight);
      }
      EXPECT_EQ(read_lines(seq / "groundtruth.txt").size(), split == "test" ? 1u : size_t(kFrames)) << seq;
      for (const char* label : {"absence.label", "cover.label", "cut_by_image.label"})
        EXPECT_EQ(read_lines(seq / label).size(), size_t(kFrames)) << seq / label;
      // Parsed the way the GOT-10k toolkit does: a header line, then "key: value".
      const std::vector<std::string> meta = read_lines(seq / "meta_info.ini");
      ASSERT_FALSE(meta.empty());
      EXPECT_EQ(meta[0], "[METAINFO]");
      std::map<std::string, std::string> keys;
      for (size_t k = 1; k < meta.size(); ++k) {
        const size_t colon = meta[k].find(": ");
        ASSERT_NE(colon, std::string::npos) << meta[k];
        keys[meta[k].substr(0, colon)] = meta[k].substr(colon + 2);
      }
      for (const char* key : {"url", "begin", "end", "anno_fps", "object_class", "motion_class", "major_class",
                              "root_class", "motion_adverb", "resolution"})
        EXPECT_TRUE(keys.count(key)) << key << " missing in " << seq;
      EXPECT_EQ(keys["resolution"], "(320, 180)");
      EXPECT_EQ(keys["anno_fps"], "10Hz");
    }
  }
  // The test split's full annotations, kept apart like GOT-10k's evaluation server does.
  const fs::path hidden = root.path() / "test_annotations" / sequence_name("test", 1);
  const auto full = read_lines(hidden / "groundtruth.txt");
  EXPECT_EQ(full.size(), size_t(kFrames));
  EXPECT_EQ(full[0], read_lines(root.path() / "test" / sequence_name("test", 1) / "groundtruth.txt")[0]);
}

TEST(SynthDataset, LabelsAreConsistent) {
  TempDir root;
  SynthOptions o = tiny_options(root.str(), 21);
  o.splits = {{"train", 12}};
  generate_dataset(o, nullptr);
  int absent_frames = 0, cut_frames = 0, occluded_frames = 0;
  for (int i = 1; i <= 12; ++i) {
    const fs::path seq = root.path() / "train" / sequence_name("train", i);
    const auto boxes = read_lines(seq / "groundtruth.txt");
    const auto absence = read_ints(seq / "absence.label"), cover = read_ints(seq / "cover.label"),
               cut = read_ints(seq / "cut_by_image.label");
    ASSERT_EQ(boxes.size(), size_t(kFrames));
    EXPECT_EQ(absence[0], 0) << seq;
    EXPECT_EQ(cover[0], 8) << seq << ": the target must start fully visible";
    EXPECT_EQ(cut[0], 0) << seq;
    for (int t = 0; t < kFrames; ++t) {
      const Box b = parse_box(boxes[size_t(t)]);
      EXPECT_EQ(absence[size_t(t)] == 1, cover[size_t(t)] == 0) << seq << " frame " << t + 1;
      EXPECT_GE(cover[size_t(t)], 0);
      EXPECT_LE(cover[size_t(t)], 8);
      EXPECT_TRUE(cut[size_t(t)] == 0 || cut[size_t(t)] == 1);
      EXPECT_GT(b.w, 0) << seq << " frame " << t + 1;
      EXPECT_GT(b.h, 0) << seq << " frame " << t + 1;
      EXPECT_GE(b.x, 0);
      EXPECT_GE(b.y, 0);
      EXPECT_LE(b.x + b.w, kWidth);
      EXPECT_LE(b.y + b.h, kHeight);
      if (absence[size_t(t)] == 1) EXPECT_EQ(boxes[size_t(t)], boxes[size_t(t) - 1]) << "absent frames keep the last box";
      absent_frames += absence[size_t(t)];
      cut_frames += cut[size_t(t)];
      occluded_frames += cover[size_t(t)] < 8 && cut[size_t(t)] == 0;
    }
  }
  // Over a dozen sequences the scene's events do happen.
  EXPECT_GT(cut_frames + occluded_frames, 0);
}

double perimeter(const Polygon& polygon) {
  double length = 0;
  for (size_t k = 0; k < polygon.size(); ++k) {
    const Vec2& a = polygon[k];
    const Vec2& b = polygon[(k + 1) % polygon.size()];
    length += std::hypot(b.x - a.x, b.y - a.y);
  }
  return length;
}

// The labels on disk against an independent recount on the rendered pixels: the target drawn once
// in magenta and once in green, everything else identical (no blur, neutral light); the pixels
// that change by at least half the difference are those showing the target. Its full area is the
// polygon's exact area.
TEST(SynthScene, LabelsMatchARecountOfRenderedPixels) {
  TempDir root;
  SynthOptions o = tiny_options(root.str(), 77);
  constexpr int kSequences = 8;
  o.splits = {{"val", kSequences}};
  generate_dataset(o, nullptr);

  int frames = 0, same_bounds = 0, partly_hidden = 0;
  for (int i = 1; i <= kSequences; ++i) {
    const fs::path seq = root.path() / "val" / sequence_name("val", i);
    const auto cover = read_ints(seq / "cover.label");
    const auto absence = read_ints(seq / "absence.label");
    const auto cut = read_ints(seq / "cut_by_image.label");
    const auto boxes = read_lines(seq / "groundtruth.txt");
    const Scene scene = make_scene(sequence_seed(o.seed, "val", i), kWidth, kHeight, kFrames);
    Scene plain = scene;
    for (Actor& a : plain.actors) a.exposure = 0;
    for (Lighting& l : plain.lighting) l = Lighting{};
    Scene magenta = plain, green = plain;
    magenta.actors[size_t(scene.target)].texture = solid_texture({255, 0, 255});
    green.actors[size_t(scene.target)].texture = solid_texture({0, 255, 0});
    FrameRenderer renderer;
    RgbImage a, b, frame;
    for (int t = 0; t < kFrames; ++t) {
      const std::string where = seq.filename().string() + " frame " + std::to_string(t + 1);
      const TargetObservation seen = renderer.render(scene, t, frame);
      // Files on disk = what the renderer observed.
      EXPECT_EQ(cover[size_t(t)], cover_level(seen.visible_pixels, seen.full_pixels)) << where;
      EXPECT_EQ(absence[size_t(t)], seen.visible_pixels == 0 ? 1 : 0) << where;
      EXPECT_EQ(cut[size_t(t)], seen.inside_pixels < seen.full_pixels ? 1 : 0) << where;
      if (seen.visible_pixels > 0) {
        const Box g = parse_box(boxes[size_t(t)]);
        const PixelRect& v = seen.visible_bounds;
        EXPECT_EQ(g.x, v.x0) << where;
        EXPECT_EQ(g.y, v.y0) << where;
        EXPECT_EQ(g.w, v.width()) << where;
        EXPECT_EQ(g.h, v.height()) << where;
      }
      // Recolouring, blur and light change pixels, not what the labels count.
      const TargetObservation seen_magenta = renderer.render(magenta, t, a);
      EXPECT_EQ(seen_magenta.visible_pixels, seen.visible_pixels) << where;
      renderer.render(green, t, b);

      int64_t visible = 0;
      int x0 = kWidth, y0 = kHeight, x1 = 0, y1 = 0;
      for (int y = 0; y < kHeight; ++y)
        for (int x = 0; x < kWidth; ++x) {
          const Rgb p = a.at(x, y), q = b.at(x, y);
          const int change = std::abs(p.r - q.r) + std::abs(p.g - q.g) + std::abs(p.b - q.b);
          // At least half: the 8-bit compositing rounds exact halves (frequent: coverage comes in
          // quarters along y) down by up to a unit per channel and drawing.
          if (change * 2 + 6 < 3 * 255) continue;
          ++visible;
          x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x + 1), y1 = std::max(y1, y + 1);
        }
      const Actor& target = scene.actors[size_t(scene.target)];
      const Polygon outline = place_outline(target.outline, target.poses[size_t(t)]);
      const double area = polygon_area(outline);
      ++frames;
      partly_hidden += seen.visible_pixels < seen.inside_pixels;
      // Only pixels right at the 50% threshold may differ (8-bit compositing rounds).
      EXPECT_LE(std::llabs(visible - seen.visible_pixels), 2 + seen.full_pixels / 100)
          << where << ": recount " << visible << ", label counted " << seen.visible_pixels;
      EXPECT_LE(std::fabs(double(seen.full_pixels) - area), 0.5 * perimeter(outline) + 2) << where;
      if (visible > 0 && seen.visible_pixels > 0)
        same_bounds += PixelRect{x0, y0, x1, y1}.x0 == seen.visible_bounds.x0 && x1 == seen.visible_bounds.x1 &&
                       y0 == seen.visible_bounds.y0 && y1 == seen.visible_bounds.y1;
      else
        same_bounds += visible == seen.visible_pixels;
    }
  }
  EXPECT_GE(same_bounds, frames * 95 / 100) << same_bounds << " of " << frames << " frames have the same box";
  EXPECT_GT(partly_hidden, 0) << "no occlusion happened: the recount checked nothing interesting";
}

TEST(SynthDataset, RefusesToOverwriteAFolderItDidNotMake) {
  TempDir root;
  fs::create_directories(root.path() / "val");
  std::ofstream(root.path() / "val" / "list.txt") << "GOT-10k_Val_000001\n";
  SynthOptions o = tiny_options(root.str(), 1);
  o.splits = {{"val", 1}};
  const std::string message = error_of([&] { generate_dataset(o, nullptr); });
  EXPECT_NE(message.find("refusing"), std::string::npos) << message;
  EXPECT_EQ(read_lines(root.path() / "val" / "list.txt").size(), 1u);

  // Nothing is cleared when one of the requested folders is refused.
  TempDir mixed;
  SynthOptions first = tiny_options(mixed.str(), 1);
  first.splits = {{"train", 1}};
  generate_dataset(first, nullptr);
  fs::create_directories(mixed.path() / "val");
  std::ofstream(mixed.path() / "val" / "notes.txt") << "someone else's\n";
  first.splits = {{"train", 1}, {"val", 1}};
  EXPECT_NE(error_of([&] { generate_dataset(first, nullptr); }), "");
  EXPECT_TRUE(fs::exists(mixed.path() / "train" / sequence_name("train", 1) / "00000001.jpg"));
  EXPECT_TRUE(fs::exists(mixed.path() / "val" / "notes.txt"));

  // Its own output it replaces, leaving no stale sequences behind.
  TempDir mine;
  o.root = mine.str();
  o.splits = {{"val", 2}};
  generate_dataset(o, nullptr);
  o.splits = {{"val", 1}};
  generate_dataset(o, nullptr);
  EXPECT_FALSE(fs::exists(mine.path() / "val" / sequence_name("val", 2)));
  EXPECT_EQ(read_lines(mine.path() / "val" / "list.txt").size(), 1u);
}

}  // namespace
}  // namespace kestrel::synth
