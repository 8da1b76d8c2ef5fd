// The GOT-10k dataset layout: ROOT/<split>/list.txt and one folder per sequence with numbered
// JPEG frames, groundtruth.txt, absence.label, cover.label, cut_by_image.label and meta_info.ini.
// Every file is written atomically (temporary file renamed into place).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "synth/labels.h"
#include "synth/scene.h"

namespace kestrel::synth {

// "val", 1 -> "GOT-10k_Val_000001".
std::string sequence_name(const std::string& split, int index);
// 0 -> "00000001.jpg": GOT-10k numbers frames from 1.
std::string frame_file_name(int frame_index);

struct SequenceRecord {
  std::string name;
  uint64_t seed = 0;
  int width = 0, height = 0;
  std::vector<FrameLabel> labels;
  SceneFacts facts;
};

// groundtruth.txt: "x,y,w,h" with 4 decimals, one line per frame, or only the first frame's
// line (the test split: GOT-10k keeps the rest on its evaluation server).
void write_groundtruth(const std::string& sequence_dir, const std::vector<FrameLabel>& labels, bool first_line_only);
// absence.label, cover.label, cut_by_image.label: one integer per line and frame.
void write_attribute_labels(const std::string& sequence_dir, const std::vector<FrameLabel>& labels);
// meta_info.ini: "[METAINFO]" then "key: value" lines, the format the GOT-10k toolkit parses.
void write_meta_info(const std::string& sequence_dir, const SequenceRecord& record);
void write_sequence_list(const std::string& split_dir, const std::vector<std::string>& names);

}  // namespace kestrel::synth
