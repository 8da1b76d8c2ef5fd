// Splitting a layer's work between the context's threads (OpenMP, the runtime oneDNN uses too,
// so both share one pool of threads). Small work runs on the calling thread: waking the other
// threads costs microseconds, more than a small layer takes.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace kestrel::cpu::fast {

// Elements per thread below which a memory-bound layer stays on one thread. On a small machine
// the second thread mostly moves data between the cores' caches: measured on SMAT's attention
// tensors (0.6 MB), two threads were slower than one for every copy, norm and element-wise layer.
constexpr int64_t kMemoryGrain = 131072;

// Calls f(begin, end) on disjoint ranges covering [0, n), in parallel when each thread gets at
// least `grain` items; range boundaries are multiples of `align` (except the last).
template <typename F>
void parallel_for(int64_t n, int threads, int64_t grain, F&& f, int64_t align = 1) {
  if (n <= 0) return;
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(threads, n / std::max<int64_t>(1, grain)));
  if (chunks <= 1) {
    f(int64_t(0), n);
    return;
  }
#pragma omp parallel num_threads(int(chunks))
  {
    const int64_t t = omp_get_thread_num(), count = omp_get_num_threads();
    int64_t per = (n + count - 1) / count;
    per = (per + align - 1) / align * align;
    const int64_t begin = std::min(n, t * per), end = std::min(n, begin + per);
    if (begin < end) f(begin, end);
  }
}

// Sets the OpenMP thread count of the calling thread for a scope (oneDNN primitives size their
// parallel regions from it, when they are created and when they run).
class ScopedThreads {
 public:
  explicit ScopedThreads(int threads) : previous_(omp_get_max_threads()) {
    if (threads != previous_) omp_set_num_threads(threads);
  }
  ~ScopedThreads() {
    if (omp_get_max_threads() != previous_) omp_set_num_threads(previous_);
  }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int previous_;
};

// Threads for a layer of about `flops` operations: one below a few microseconds of work, where
// waking other threads costs more than it saves (and a busy machine makes every extra
// rendezvous expensive).
inline int threads_for_work(double flops, int threads) {
  constexpr double kSerialBelow = 4e6;
  return flops < kSerialBelow ? 1 : threads;
}

}  // namespace kestrel::cpu::fast
