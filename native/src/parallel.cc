#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace latentlab {
namespace {

class Pool {
 public:
  void run(int tasks, int threads, const std::function<void(int)>& fn) {
    const int helpers = std::max(0, std::min(threads, tasks) - 1);
    if (helpers == 0) {
      for (int t = 0; t < tasks; t++) fn(t);
      return;
    }
    std::lock_guard<std::mutex> one(running_);  // one job at a time
    {
      std::lock_guard<std::mutex> l(mu_);
      // workers are detached and sleep forever between jobs: nothing to join at exit
      while ((int)started_ < helpers) {
        // a new worker starts from the generation before this job's, so it joins it
        std::thread([this, g = generation_] { work(g); }).detach();
        started_++;
      }
      job_ = &fn;
      tasks_ = tasks;
      next_.store(0);
      want_ = helpers;
      pending_ = helpers;
      generation_++;
    }
    wake_.notify_all();
    for (int t; (t = next_.fetch_add(1)) < tasks;) fn(t);
    std::unique_lock<std::mutex> l(mu_);
    done_.wait(l, [this] { return pending_ == 0; });
  }

 private:
  void work(uint64_t seen) {
    for (;;) {
      std::unique_lock<std::mutex> l(mu_);
      wake_.wait(l, [&] { return generation_ != seen; });
      seen = generation_;
      if (want_ <= 0) continue;  // enough helpers joined this job already
      want_--;
      const std::function<void(int)>* fn = job_;
      const int tasks = tasks_;
      l.unlock();
      for (int t; (t = next_.fetch_add(1)) < tasks;) (*fn)(t);
      l.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex running_, mu_;
  std::condition_variable wake_, done_;
  unsigned started_ = 0;
  const std::function<void(int)>* job_ = nullptr;
  int tasks_ = 0, want_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  std::atomic<int> next_{0};
};

}  // namespace

void parallel_for(int tasks, int threads, const std::function<void(int)>& fn) {
  static Pool* pool = new Pool();  // never destroyed: its workers outlive static destructors
  pool->run(tasks, threads, fn);
}

}  // namespace latentlab
