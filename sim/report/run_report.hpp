// `quasar run`: a trace on a design through the SystemC model, and its report (table, JSON,
// per-layer CSV). The library does the work; the CLI only parses arguments.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "arch/accelerator.hpp"
#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"
#include "cost/cost_model.hpp"
#include "cost/timing.hpp"
#include "trace/trace.hpp"

namespace quasar {

// report.json's schema (docs/run-report.md): bumped when a key changes meaning or disappears,
// or a counter the cost model needs is added; readers accept only their own.
inline constexpr int kReportSchema = 6;

struct RunReport {
  arch::ArchSpec arch;
  std::string trace_name;
  std::uint64_t tokens = 0;  // tokens the trace processes (from its metadata; 0: unknown)
  // Decoder layers the trace holds and the model has (its metadata; 0: unknown).
  std::uint64_t decoder_layers = 0, model_layers = 0;
  arch::RunStats stats;
  std::vector<std::pair<std::string, std::string>> not_run;  // layer, why
  std::vector<std::pair<std::string, std::string>> warnings;  // layer, buffer overflow (spills)
  // Area and energy with the shipped technology tables; when they cannot price the design
  // (e.g. a DRAM standard without a sourced figure), `cost_error` says why.
  std::optional<cost::CostReport> cost;
  std::string cost_error;
  cost::Tech tech;
  // The design's units against its clock (cost/timing.hpp): derived latencies were checked by
  // the loader; given ones are shown against what timing says, unchecked.
  std::optional<cost::DesignTiming> timing;
};

// Plans the trace on the design and simulates it (one SystemC elaboration per process).
// What `quasar run` simulates without --trace (and quasar.run without a trace): one LLaMA-2-7B
// decoder layer, prefill of 2048 tokens, in the design's first scheme.
trace::Trace default_run_trace(const arch::ArchSpec& a);
// `vcd`: a waveform file of the cycle mode (arch::simulate_jobs); refused in fast mode.
RunReport run_trace(const arch::ArchSpec& a, const trace::Trace& t, arch::Fidelity mode,
                    const arch::Progress& progress = {}, const std::string& vcd = "");
// Several traces on one design, each its own accelerator, in one simulation (the only way to
// run several in one process); reports in the traces' order. With `workers` > 1, or more traces
// than `traces_per_worker`, the simulations run in forked child processes instead, at most
// `workers` at once, each child planning and simulating a group of about `traces_per_worker`
// traces (memory stays bounded by a group's plans); the same results, since the traces'
// accelerators share nothing; this process elaborates nothing then. With `segments` (a runner
// of design `a` and mode `mode`), each trace is planned in turn and run through it instead (the
// same results: SegmentedRunner; `workers` unused).
std::vector<RunReport> run_traces(const arch::ArchSpec& a, const std::vector<trace::Trace>& ts,
                                  arch::Fidelity mode, const arch::Progress& progress = {},
                                  const std::string& vcd = "", unsigned workers = 1,
                                  unsigned traces_per_worker = 4,
                                  class SegmentedRunner* segments = nullptr);

// arch::simulate_jobs in a forked child (so this process elaborates nothing and may simulate
// again): the same statistics, and each job's `carry` filled here.
std::vector<arch::RunStats> simulate_in_child(const std::vector<arch::SimJob>& jobs);

// Runs planned traces on one design a segment at a time (arch/segment: cut where the
// accelerator is idle), each segment in a forked child from the DRAM state the one before left,
// and remembers every segment it simulated: a later segment with the same work from the same
// DRAM state is that segment's statistics again, not a new simulation (exact, by the argument
// of arch/segment.hpp; Segments.* test it against whole runs). Traces of a design that cannot be
// cut (why_not_segmented) are not given to it.
class SegmentedRunner {
 public:
  SegmentedRunner(const arch::ArchSpec& a, arch::Fidelity mode);
  arch::RunStats run(const std::vector<std::vector<arch::LayerWork>>& core_work);
  std::uint64_t simulated() const { return simulated_; }  // segments simulated so far
  std::uint64_t reused() const { return reused_; }        // and found in the memo

 private:
  struct Entry {
    std::string work;
    arch::DramCarry in, out;
    arch::RunStats stats;
  };
  arch::ArchSpec a_;  // a copy: a runner may outlive the spec it was made from
  arch::Fidelity mode_;
  std::unordered_map<std::size_t, std::vector<Entry>> memo_;
  std::uint64_t simulated_ = 0, reused_ = 0;
};

void print_run_table(std::ostream& os, const RunReport& r);
// What the run covers: records simulated and not, decoder layers of the model, tokens (and so
// what "per token" divides by). Every report says it.
std::string coverage_line(const RunReport& r);
void print_run_json(std::ostream& os, const RunReport& r);
// report.json, layers.csv, and report.html when the run is priced.
void write_run_outputs(const std::string& dir, const RunReport& r);
// The files write_run_outputs owns in DIR (published together: io/output_set.hpp).
const std::vector<std::string>& run_output_files();

// Golden timing of regression cases (`quasar regress`, timing.json): every shipped design that
// runs at least one layer of a case's trace, simulated in both fidelities (all cases and
// designs in one elaboration). Per trace: the fast mode's per-layer statistics of every such
// design as JSON, and "" or the first statistic where the cycle mode differs from the fast.
struct GoldenTiming {
  std::string json;
  std::string cycle_vs_fast;
};
std::vector<GoldenTiming> golden_timing(const std::vector<trace::Trace>& traces);

}  // namespace quasar
