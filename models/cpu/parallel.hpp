// A minimal parallel loop for the fast CPU path: n independent work items on a fixed number of
// workers. Which worker runs an item varies from run to run, so callers keep per-worker state
// only for order-free sums (integer event counts); every output has exactly one writer, which
// makes results independent of the thread count and of scheduling.
#pragma once

#include <cstddef>
#include <functional>

namespace quasar::cpu {

// Runs body(item, worker) once for every item in [0, n), worker in [0, workers). workers <= 1
// or n <= 1 runs inline on the calling thread. The first exception thrown by any item is
// rethrown here after every worker stopped.
void parallel_for(std::size_t n, unsigned workers,
                  const std::function<void(std::size_t item, unsigned worker)>& body);

// Workers to use when the caller gives 0: QUASAR_THREADS when set (a positive integer, else
// quasar::Error), otherwise the hardware's thread count (at least 1).
unsigned default_threads();

// parallel_for as a numerics::ForEachIndex (numerics/error_metrics.hpp), for the reference
// routines that take one: on `workers` threads (0: default_threads()).
std::function<void(std::size_t, const std::function<void(std::size_t)>&)> for_each_parallel(
    unsigned workers = 0);

}  // namespace quasar::cpu
