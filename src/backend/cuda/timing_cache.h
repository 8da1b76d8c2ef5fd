// Build-time kernel timings kept between builds (like TensorRT's timing cache): for each layer
// signature on a given GPU and library version, how long each candidate implementation took.
// A rebuild that finds every candidate layer here skips the timing runs.
//
// File format (text): the line "kestrel-timing-cache 1", then one line per entry:
//   <candidate ms> TAB <default ms> TAB <key>
// where the key names the GPU, the library versions, the choice and the layer's shapes.
#pragma once
#include <map>
#include <optional>
#include <string>

namespace kestrel::cuda {

struct KernelTiming {
  double candidate_ms = 0;  // the fused kernel under test
  double default_ms = 0;    // the default path it replaces
  bool candidate_wins() const { return candidate_ms < default_ms; }
};

class TimingCache {
 public:
  // Reads `path`; a missing file is an empty cache. Throws kestrel::Error naming the file and the
  // line for a file that is not a timing cache.
  static TimingCache load(const std::string& path);
  // Writes atomically (a reader never sees half a file).
  void save(const std::string& path) const;

  std::optional<KernelTiming> find(const std::string& key) const;
  void put(const std::string& key, KernelTiming timing) { entries_[key] = timing; }
  size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, KernelTiming> entries_;
};

}  // namespace kestrel::cuda
