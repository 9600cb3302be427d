// One sweep point: the design with its overrides, the workload's trace, `quasar run` (timing
// and cost) and the metrics the store and the Pareto report use. evaluate_point runs the
// SystemC model, so it runs once per process (the runner forks one child per point).
#pragma once

#include <string>

#include "sweep/points.hpp"
#include "sweep/store.hpp"
#include "sweep/sweep_spec.hpp"

namespace quasar::sweep {

// The point as the store keeps it: status ok with metrics and report, or error with why.
StoredPoint evaluate_point(const SweepSpec& s, const Point& p);

// What a point's metrics depend on besides its design and workload: the counters' schema and
// the technology tables that price them. Part of a point's identity, so that stored results
// from another model or other tables are recomputed, not reused.
std::string model_fingerprint();

// "" when the point meets the spec's constraints (checked without simulating), else why not:
// such a point is stored as skipped.
std::string constraint_violation(const SweepSpec& s, const Point& p);

// The point's identity fields without results (settings as JSON, workload label).
StoredPoint stored_header(const Point& p);

}  // namespace quasar::sweep
