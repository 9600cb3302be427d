#include "parallel.hpp"

#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "numerics/error.hpp"

namespace quasar::cpu {

void parallel_for(std::size_t n, unsigned workers,
                  const std::function<void(std::size_t, unsigned)>& body) {
  if (n == 0) return;
  if (workers > n) workers = static_cast<unsigned>(n);
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) body(i, 0);
    return;
  }
  // Items are claimed one at a time from a shared counter: tiles cost about the same, and
  // dynamic claiming keeps a slow (shared, preempted) core from holding up the rest.
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto run = [&](unsigned worker) {
    try {
      for (std::size_t i = next++; i < n; i = next++) body(i, worker);
    } catch (...) {
      next = n;  // stop handing out work
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (unsigned t = 1; t < workers; ++t) threads.emplace_back(run, t);
  run(0);
  for (std::thread& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);
}

unsigned default_threads() {
  if (const char* env = std::getenv("QUASAR_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(env, &end, 10);
    if (end == env || *end != '\0' || v < 1 || v > 4096) {
      throw Error(std::string("QUASAR_THREADS='") + env +
                  "' is not a thread count; accepted: an integer 1..4096");
    }
    return static_cast<unsigned>(v);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? hw : 1;
}

std::function<void(std::size_t, const std::function<void(std::size_t)>&)> for_each_parallel(
    unsigned workers) {
  const unsigned w = workers ? workers : default_threads();
  return [w](std::size_t n, const std::function<void(std::size_t)>& body) {
    parallel_for(n, w, [&](std::size_t i, unsigned) { body(i); });
  };
}

}  // namespace quasar::cpu
