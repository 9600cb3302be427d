// Runs a sweep's points into its store: points already stored are skipped (resume is the
// default), the rest run in up to `jobs` child processes (one SystemC simulation per process),
// each finished point is committed on its own, a failing point records its error and the rest go
// on. Progress (rate, ETA) on stderr (io::ProgressLine). SIGINT (Ctrl-C) stops it cleanly: no
// new point starts, running ones are stopped and not stored, the summary says so.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/progress.hpp"
#include "sweep/points.hpp"
#include "sweep/store.hpp"
#include "sweep/sweep_spec.hpp"

namespace quasar::sweep {

struct RunOptions {
  unsigned jobs = 1;
  io::ProgressLine::Mode progress = io::ProgressLine::Mode::off;
};

struct RunSummary {
  std::uint64_t points = 0, already = 0, ran = 0, failed = 0, skipped = 0;
  bool interrupted = false;  // by SIGINT: `not_run` points were not run (or stopped, not stored)
  std::uint64_t not_run = 0;
  // "point N (design): why" for the first failures of this run, in the order they ended, so a
  // batch job's log says why without opening the store (all of them: quasar sweep report).
  std::vector<std::string> failures;
  static constexpr std::size_t kFailuresShown = 5;
};

RunSummary run_sweep(const SweepSpec& s, const std::vector<Point>& points, Store& store,
                     const RunOptions& opt);

}  // namespace quasar::sweep
