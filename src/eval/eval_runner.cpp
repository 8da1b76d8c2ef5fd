#include "eval/eval_runner.h"

#include <chrono>
#include <deque>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "core/error.h"
#include "eval/progress.h"
#include "eval/results.h"
#include "tracker/frames.h"

namespace kestrel::eval {
namespace {

using Clock = std::chrono::steady_clock;

std::deque<std::string> shard_sequences(const std::vector<std::string>& sequences, const Shard& shard) {
  std::deque<std::string> owned;
  for (size_t i = 0; i < sequences.size(); ++i)
    if (shard.owns(i)) owned.push_back(sequences[i]);
  return owned;
}

std::string progress_label(const Split& split, const Shard& shard) {
  return shard.count > 1 ? fmt::format("eval {} shard {}/{}", split.name, shard.index, shard.count)
                         : fmt::format("eval {}", split.name);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One sequence being tracked: its runs may occupy several slots at once.
struct Work {
  Sequence seq;
  std::vector<std::vector<Box>> boxes;     // per run
  std::vector<std::vector<double>> times;  // per run
  int next_run = 0, runs_left = 0;
  bool failed = false;
};

// One run of one sequence in one slot.
struct Job {
  std::shared_ptr<Work> work;
  int run = 0;
  size_t next_frame = 0;
};

class Evaluation {
 public:
  Evaluation(const Split& split, const std::vector<std::string>& sequences, tracker::BatchTracker& tracker,
             const EvalOptions& options)
      : split_(split),
        tracker_(tracker),
        options_(options),
        runs_(options.manifest.runs),
        slots_(size_t(tracker.slots())),
        pending_(shard_sequences(sequences, options.manifest.shard)),
        progress_(progress_label(split, options.manifest.shard), pending_.size(), options.progress) {
    summary_.sequences = pending_.size();
  }

  EvalSummary run() {
    std::vector<const synth::RgbImage*> frames(slots_.size());
    std::vector<synth::RgbImage> images(slots_.size());
    while (true) {
      bool occupied = false;
      for (size_t s = 0; s < slots_.size(); ++s) occupied |= fill(s);
      if (!occupied) break;
      // Decode outside the timed part; a frame that fails drops its sequence (every run of it).
      for (size_t s = 0; s < slots_.size(); ++s) {
        if (!slots_[s]) continue;
        Job& job = *slots_[s];
        try {
          images[s] = tracker::read_frame(job.work->seq.frames[job.next_frame]);
        } catch (const Error& e) {
          fail(job.work, e.what());
        }
      }
      size_t active = 0;
      for (size_t s = 0; s < slots_.size(); ++s) {
        frames[s] = slots_[s] ? &images[s] : nullptr;
        active += slots_[s] ? 1 : 0;
      }
      if (active == 0) continue;
      const auto start = Clock::now();
      tracker_.track(frames);
      const double per_frame = seconds_since(start) / double(active);
      for (size_t s = 0; s < slots_.size(); ++s) {
        if (frames[s] == nullptr) continue;
        Job& job = *slots_[s];
        job.work->boxes[size_t(job.run)][job.next_frame] = tracker_.box(int(s));
        job.work->times[size_t(job.run)][job.next_frame] = per_frame;
        progress_.frame(per_frame);
        if (++job.next_frame == job.work->seq.frames.size()) finish(s);
      }
    }
    progress_.finish();
    summary_.frames = progress_.frames();
    summary_.tracking_fps = progress_.tracking_fps();
    Manifest manifest = options_.manifest;
    manifest.sequences = summary_.sequences;
    manifest.finished = summary_.tracked + summary_.resumed;
    manifest.failed = summary_.failed;
    write_manifest(options_.results, manifest);
    return summary_;
  }

 private:
  // The next run to track: another run of the current sequence, else the next sequence that
  // loads and is not finished already (with --resume).
  std::optional<Job> next_job() {
    while (true) {
      if (current_ && !current_->failed && current_->next_run < runs_) return Job{current_, current_->next_run++, 0};
      current_.reset();
      if (pending_.empty()) return std::nullopt;
      const std::string name = pending_.front();
      pending_.pop_front();
      try {
        auto work = std::make_shared<Work>();
        work->seq = load_sequence(split_, name, Annotations::kFirstBox);
        const size_t n = work->seq.frames.size();
        if (options_.resume && sequence_finished(options_.results, name, runs_, n)) {
          ++summary_.resumed;
          progress_.sequence_done(name + " (already finished)", n);
          continue;
        }
        work->boxes.assign(size_t(runs_), std::vector<Box>(n));
        work->times.assign(size_t(runs_), std::vector<double>(n, 0.0));
        work->runs_left = runs_;
        current_ = std::move(work);
      } catch (const Error& e) {
        record_failure(e.what());
      }
    }
  }

  // Puts the next job into slot `s` if it is empty and initialises the tracker there; false when
  // the slot stays empty (no job left).
  bool fill(size_t s) {
    while (!slots_[s]) {
      std::optional<Job> job = next_job();
      if (!job) return false;
      const std::shared_ptr<Work> work = job->work;
      try {
        const synth::RgbImage first = tracker::read_frame(work->seq.frames[0]);
        const auto start = Clock::now();
        tracker_.init(int(s), first, work->seq.groundtruth[0]);
        work->times[size_t(job->run)][0] = seconds_since(start);
      } catch (const Error& e) {
        fail(work, e.what());
        continue;
      }
      work->boxes[size_t(job->run)][0] = work->seq.groundtruth[0];
      job->next_frame = 1;
      slots_[s] = std::move(job);
      if (work->seq.frames.size() == 1) finish(s);
    }
    return true;
  }

  void finish(size_t s) {
    std::shared_ptr<Work> work = slots_[s]->work;
    slots_[s].reset();
    tracker_.release(int(s));
    if (--work->runs_left > 0 || work->failed) return;
    write_sequence_results(options_.results, work->seq.name, work->boxes, work->times);
    ++summary_.tracked;
    progress_.sequence_done(work->seq.name, work->seq.frames.size());
  }

  // Abandons every run of the sequence, wherever it is.
  void fail(std::shared_ptr<Work> work, const std::string& what) {  // a copy: the slots holding it are reset
    if (work->failed) return;
    work->failed = true;
    for (size_t s = 0; s < slots_.size(); ++s)
      if (slots_[s] && slots_[s]->work == work) {
        slots_[s].reset();
        tracker_.release(int(s));
      }
    record_failure(sequence_message(work->seq.name, work->seq.folder, what));
  }

  void record_failure(const std::string& message) {
    summary_.failed.push_back(message);
    progress_.sequence_failed(message + " (skipped)");
  }

  const Split& split_;
  tracker::BatchTracker& tracker_;
  const EvalOptions& options_;
  const int runs_;
  std::vector<std::optional<Job>> slots_;
  std::deque<std::string> pending_;
  std::shared_ptr<Work> current_;
  Progress progress_;
  EvalSummary summary_;
};

}  // namespace

EvalSummary run_evaluation(const Split& split, const std::vector<std::string>& sequences,
                           tracker::BatchTracker& tracker, const EvalOptions& options) {
  KESTREL_CHECK(options.manifest.runs >= 1, "--runs must be at least 1");
  return Evaluation(split, sequences, tracker, options).run();
}

}  // namespace kestrel::eval
