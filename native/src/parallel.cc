#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LL_PAUSE() _mm_pause()
#else
#define LL_PAUSE() std::this_thread::yield()
#endif

namespace latentlab {
namespace {

// How long an idle worker keeps polling for the next job before it sleeps. A
// training step issues its kernels microseconds apart, and waking a sleeping
// thread costs ~50 µs on a virtual machine (more than a 70k-element kernel
// takes), so workers poll through a step and sleep only between steps.
// LATENTLAB_SPIN_US sets it (0: sleep at once).
std::chrono::microseconds spin() {
  static const std::chrono::microseconds us([] {
    const char* env = std::getenv("LATENTLAB_SPIN_US");
    return env ? std::max(0L, std::atol(env)) : 2000L;
  }());
  return us;
}

class Pool {
 public:
  void run(int tasks, int threads, const std::function<void(int)>& fn) {
    const int helpers = std::max(0, std::min(threads, tasks) - 1);
    if (helpers == 0) {
      for (int t = 0; t < tasks; t++) fn(t);
      return;
    }
    std::lock_guard<std::mutex> one(running_);  // one job at a time
    while ((int)started_ < helpers) {
      // workers are detached and idle forever between jobs: nothing to join at exit.
      // A new worker starts from the generation before this job's, so it joins it.
      std::thread([this, g = generation_.load()] { work(g); }).detach();
      started_++;
    }
    // everything a helper reads is set before want_, its ticket to join: a worker
    // still looking at the last generation may take a ticket as soon as it exists
    job_ = &fn;
    tasks_ = tasks;
    next_.store(0);
    pending_.store(helpers);
    want_.store(helpers);
    generation_.fetch_add(1);  // wakes the pollers (seq_cst)
    if (sleeping_.load() > 0) {
      std::lock_guard<std::mutex> l(mu_);
      wake_.notify_all();
    }
    for (int t; (t = next_.fetch_add(1)) < tasks;) fn(t);
    while (pending_.load() != 0) LL_PAUSE();
  }

 private:
  void work(uint64_t seen) {
    for (;;) {
      // poll, then sleep until a new generation
      const auto until = std::chrono::steady_clock::now() + spin();
      unsigned polls = 0;
      while (generation_.load() == seen) {
        LL_PAUSE();
        if (++polls % 256 == 0 && std::chrono::steady_clock::now() > until) {
          std::unique_lock<std::mutex> l(mu_);
          sleeping_.fetch_add(1);
          wake_.wait(l, [&] { return generation_.load() != seen; });
          sleeping_.fetch_sub(1);
          break;
        }
      }
      seen = generation_.load();
      if (want_.fetch_sub(1) <= 0) continue;  // enough helpers joined this job already
      const std::function<void(int)>* fn = job_;
      const int tasks = tasks_;
      for (int t; (t = next_.fetch_add(1)) < tasks;) (*fn)(t);
      pending_.fetch_sub(1);
    }
  }

  std::mutex running_, mu_;
  std::condition_variable wake_;
  unsigned started_ = 0;
  const std::function<void(int)>* job_ = nullptr;
  int tasks_ = 0;
  std::atomic<int> next_{0}, want_{0}, pending_{0}, sleeping_{0};
  std::atomic<uint64_t> generation_{0};
};

}  // namespace

void parallel_for(int tasks, int threads, const std::function<void(int)>& fn) {
  static Pool* pool = new Pool();  // never destroyed: its workers outlive static destructors
  pool->run(tasks, threads, fn);
}

}  // namespace latentlab
