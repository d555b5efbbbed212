// A small persistent thread pool for the native kernels: the workers are made
// once and sleep between jobs, so a kernel pays a wake-up (microseconds), not a
// thread creation, each time it splits its work.
#pragma once
#include <functional>

namespace latentlab {

// Runs fn(0) … fn(tasks − 1) on up to `threads` threads (the caller is one of
// them) and returns when all are done. Tasks must not call parallel_for.
void parallel_for(int tasks, int threads, const std::function<void(int)>& fn);

}  // namespace latentlab
