// What a sweep's store says: exports (CSV, JSON), the Pareto front over the spec's objectives
// and the best point per objective, plots (drawn by matplotlib from the JSON export), and the
// Slurm job-array script that runs a sweep in shards.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "sweep/store.hpp"
#include "sweep/sweep_spec.hpp"

namespace quasar::sweep {

// Indices of the points no other point dominates (every objective at least as good, one
// better). `values[i][k]` is point i's objective k; `minimize[k]` its direction. Points with a
// non-finite value are never on the front.
std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& values,
                                      const std::vector<bool>& minimize);

void export_csv(std::ostream& os, const std::vector<StoredPoint>& points);
void export_json(std::ostream& os, const std::vector<StoredPoint>& points);  // no reports

// Summary, Pareto front and best per objective, as Markdown.
void print_sweep_report(std::ostream& os, const SweepSpec& s, const std::vector<StoredPoint>& p);

// Writes DIR/points.json and runs the embedded matplotlib script: DIR/pareto.{png,svg} and
// DIR/sensitivity.{png,svg}. Throws when python3 or matplotlib is missing (saying which).
void draw_plots(const SweepSpec& s, const std::vector<StoredPoint>& p, const std::string& dir);

struct SlurmJob {
  std::string quasar;     // absolute path of the quasar binary
  std::string spec;       // absolute path of the sweep YAML
  std::string dir;        // where shards, logs and the merged store go
  unsigned tasks = 4;     // array tasks (shards)
  unsigned cpus = 1;      // per task (--jobs)
  std::string partition;  // "" = the cluster's default
};
std::string slurm_array_script(const SlurmJob& j);
std::string slurm_merge_script(const SlurmJob& j);

}  // namespace quasar::sweep
