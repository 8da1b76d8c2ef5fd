#include "eval/progress.h"

#include <cstdio>
#include <unistd.h>

#include <fmt/format.h>

namespace kestrel::eval {

Progress::Progress(std::string label, size_t sequences, bool enabled)
    : label_(std::move(label)), total_(sequences), enabled_(enabled), terminal_(::isatty(STDERR_FILENO) != 0) {}

std::string Progress::bar_line() const {
  constexpr int kWidth = 24;
  const size_t finished = done_ + failed_;
  const int filled = total_ == 0 ? kWidth : int(double(finished) / double(total_) * kWidth);
  std::string bar(size_t(filled), '#');
  bar.resize(kWidth, '.');
  std::string line = fmt::format("{} [{}] {}/{} sequences, {} frames, {:.1f} fps", label_, bar, finished, total_,
                                 frames_, tracking_fps());
  if (failed_ > 0) line += fmt::format(", {} failed", failed_);
  return line;
}

void Progress::draw(bool force) {
  if (!enabled_ || !terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::fprintf(stderr, "\r%s\033[K", bar_line().c_str());
  std::fflush(stderr);
}

void Progress::frame(double seconds) {
  ++frames_;
  tracking_seconds_ += seconds;
  draw(false);
}

void Progress::sequence_done(const std::string& name, size_t frames) {
  ++done_;
  if (enabled_ && !terminal_)
    std::fprintf(stderr, "%s: %s done (%zu frames) | %s\n", label_.c_str(), name.c_str(), frames, bar_line().c_str());
  draw(true);
}

void Progress::sequence_failed(const std::string& message) {
  ++failed_;
  note(message);
}

void Progress::note(const std::string& message) {
  if (terminal_ && enabled_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "kestrel: %s\n", message.c_str());
  draw(true);
}

void Progress::finish() {
  if (enabled_ && terminal_) std::fprintf(stderr, "\r%s\033[K\n", bar_line().c_str());
}

}  // namespace kestrel::eval
