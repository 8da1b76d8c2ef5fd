#include "synth/got10k_writer.h"

#include <cctype>
#include <filesystem>

#include <fmt/format.h>

#include "core/file_io.h"

namespace kestrel::synth {
namespace {

void write_text(const std::string& path, const std::string& text) { write_file_atomic(path, text.data(), text.size()); }

std::string join(const std::string& dir, const char* file) { return (std::filesystem::path(dir) / file).string(); }

// GOT-10k annotates at 10 Hz: 150 frames span 15 seconds.
constexpr int kAnnotationHz = 10;

std::string clock_time(int seconds) {
  return fmt::format("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60);
}

}  // namespace

std::string sequence_name(const std::string& split, int index) {
  std::string title = split;
  if (!title.empty()) title[0] = char(std::toupper(static_cast<unsigned char>(title[0])));
  return fmt::format("GOT-10k_{}_{:06}", title, index);
}

std::string frame_file_name(int frame_index) { return fmt::format("{:08}.jpg", frame_index + 1); }

void write_groundtruth(const std::string& sequence_dir, const std::vector<FrameLabel>& labels, bool first_line_only) {
  std::string text;
  const size_t lines = first_line_only ? std::min<size_t>(labels.size(), 1) : labels.size();
  for (size_t i = 0; i < lines; ++i)
    text += fmt::format("{:.4f},{:.4f},{:.4f},{:.4f}\n", labels[i].x, labels[i].y, labels[i].w, labels[i].h);
  write_text(join(sequence_dir, "groundtruth.txt"), text);
}

void write_attribute_labels(const std::string& sequence_dir, const std::vector<FrameLabel>& labels) {
  std::string absence, cover, cut;
  for (const FrameLabel& label : labels) {
    absence += label.absent ? "1\n" : "0\n";
    cover += fmt::format("{}\n", label.cover);
    cut += label.cut_by_image ? "1\n" : "0\n";
  }
  write_text(join(sequence_dir, "absence.label"), absence);
  write_text(join(sequence_dir, "cover.label"), cover);
  write_text(join(sequence_dir, "cut_by_image.label"), cut);
}

void write_meta_info(const std::string& sequence_dir, const SequenceRecord& record) {
  const SceneFacts& f = record.facts;
  const int frames = int(record.labels.size());
  std::string text = "[METAINFO]\n";
  auto add = [&](const char* key, const std::string& value) { text += fmt::format("{}: {}\n", key, value); };
  add("url", fmt::format("kestrel-synth://{:016x}", record.seed));
  add("begin", clock_time(0));
  add("end", clock_time((frames + kAnnotationHz - 1) / kAnnotationHz));
  add("anno_fps", fmt::format("{}Hz", kAnnotationHz));
  add("object_class", f.texture + " " + f.shape);
  add("motion_class", f.motion);
  add("major_class", f.shape);
  add("root_class", "synthetic object");
  add("motion_adverb", f.motion_adverb);
  add("resolution", fmt::format("({}, {})", record.width, record.height));
  // Beyond GOT-10k's keys: how the sequence was made, for slicing results by difficulty.
  add("texture", f.texture);
  add("background", f.background);
  add("camera", f.camera);
  add("lighting", f.lighting);
  add("occluders", std::to_string(f.occluders));
  add("distractors", std::to_string(f.distractors));
  add("look_alikes", std::to_string(f.look_alikes));
  add("leaves_frame", f.may_leave_frame ? "possibly" : "no");
  add("motion_blur", fmt::format("{:.2f}", f.exposure));
  add("mean_speed", fmt::format("{:.2f} px/frame", f.mean_speed));
  add("generator", "kestrel synth");
  add("seed", fmt::format("{:016x}", record.seed));
  write_text(join(sequence_dir, "meta_info.ini"), text);
}

void write_sequence_list(const std::string& split_dir, const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += name + "\n";
  write_text(join(split_dir, "list.txt"), text);
}

}  // namespace kestrel::synth
