// A GOT-10k split on disk: ROOT/<split>/list.txt names the sequences; each sequence folder holds
// 00000001.jpg..., groundtruth.txt (x,y,w,h per frame; the test split has the first line only),
// absence.label, cover.label (0..8), cut_by_image.label and meta_info.ini ("resolution: (W, H)").
// Errors name the sequence and the file: "GOT-10k_Val_000004: groundtruth.txt: 99 boxes for 100 frames".
#pragma once
#include <string>
#include <vector>

#include "tracker/box.h"

namespace kestrel::eval {

using tracker::Box;

struct Split {
  std::string name;    // "val", "test", ...
  std::string folder;  // ROOT/<split>
  std::vector<std::string> sequences;  // list.txt order
};

// Reads ROOT/<split>/list.txt. Throws kestrel::Error naming the file.
Split open_split(const std::string& root, const std::string& split);

// Keeps the named sequences, in the order given; throws for a name not in the split.
std::vector<std::string> select_sequences(const Split& split, const std::vector<std::string>& names);

enum class Annotations {
  kFirstBox,  // for tracking: the first box must exist and have an area; a validation-style
              // groundtruth (more than one line) must have one box per frame
  kFull,      // for evaluation: a box and a cover label for every frame, and the resolution
};

struct Sequence {
  std::string name;
  std::string folder;
  std::vector<std::string> frames;  // image paths in order
  std::vector<Box> groundtruth;     // every frame, or just the first (test split)
  std::vector<int> cover;           // per frame, with Annotations::kFull
  int width = 0, height = 0;        // the resolution, with Annotations::kFull
};

// Throws kestrel::Error "<seq>: <file>: <reason>".
Sequence load_sequence(const Split& split, const std::string& name, Annotations annotations);

// "<name>: <message>" with the sequence folder dropped from paths in it, so that an error from a
// file of the sequence reads "GOT-10k_Val_000004: 00000007.jpg: corrupt JPEG image: ...".
std::string sequence_message(const std::string& name, const std::string& folder, std::string message);

}  // namespace kestrel::eval
