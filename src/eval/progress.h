// A progress bar on stderr: sequences done, frames tracked and the tracking speed. On a terminal
// it redraws one line (at most 10 times a second); otherwise (logs, Slurm output files) it
// prints one line per finished sequence.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

namespace kestrel::eval {

class Progress {
 public:
  Progress(std::string label, size_t sequences, bool enabled = true);
  // A frame was tracked in `seconds` (crop + inference + decode).
  void frame(double seconds);
  void sequence_done(const std::string& name, size_t frames);
  // Prints the reason (which names the sequence and the file) above the bar.
  void sequence_failed(const std::string& message);
  void note(const std::string& message);
  void finish();

  size_t frames() const { return frames_; }
  double tracking_fps() const { return tracking_seconds_ > 0 ? double(frames_) / tracking_seconds_ : 0; }

 private:
  void draw(bool force);
  std::string bar_line() const;

  std::string label_;
  size_t total_, done_ = 0, failed_ = 0, frames_ = 0;
  double tracking_seconds_ = 0;
  bool enabled_, terminal_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace kestrel::eval
