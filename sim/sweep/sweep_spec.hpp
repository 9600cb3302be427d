// A design-space sweep (configs/sweeps/*.yaml, docs/sweeps.md): base designs x workloads x axes
// that override design keys by path, optional random sampling, constraints checked before
// simulating, and objectives for the Pareto front. Plain structs; sim/config parses them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace quasar::sweep {

// A trace to run: a manifest file, or one generated from an embedded model (the linear layers
// take each design's first scheme, so every design runs the same shapes in its own format).
struct Workload {
  std::string file;   // a trace manifest, or "" for a generated one
  std::string model;  // embedded model name
  std::string phase = "prefill";
  std::uint64_t seq = 2048, batch = 1, context = 4096;
  std::uint64_t decoder_layers = 1;  // 1..1024 (specs refuse 0, the generator's "whole model")
  std::uint64_t group = 128;
  std::string label() const;  // stable text naming it (part of a point's identity)
};

// One axis: a key path (array.rows, edge.intscale_acc_bits, buffers.ifmap.size_kib,
// dram.bytes_per_cycle, workload.seq, ...) and its values as YAML scalars; a zip axis moves
// several keys together (value tuples of equal length).
struct Axis {
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> values;  // values[i] = one value per key
  int line = 0;                                  // where it was declared (errors)
};

struct Constraint {
  std::string metric;  // area_mm2 | pes | sram_kib (known before simulating)
  std::string op;      // <=, <, >=, >, ==
  double value = 0;
  bool holds(double x) const;
  std::string text() const;
};

struct Objective {
  std::string metric;  // a metric of the point's results (sweep::metric_names())
  bool minimize = true;
};

struct SweepSpec {
  std::string name;
  std::string source;  // the file it came from
  std::string text;    // its full text (stored with the results)
  std::vector<std::string> designs;
  std::vector<Workload> workloads;
  std::vector<Axis> axes;
  std::string mode = "fast";
  std::optional<std::uint64_t> sample_count;
  std::uint64_t sample_seed = 1;
  std::vector<Constraint> constraints;
  std::vector<Objective> objectives;
};

// Metrics every finished point records (docs/sweeps.md).
const std::vector<std::string>& metric_names();
// A metric's label for plots: what it is and its unit ("energy (mJ)"); unknown names as given.
std::string metric_label(const std::string& metric);
const std::vector<std::string>& presim_metric_names();  // constraints may use only these

}  // namespace quasar::sweep
