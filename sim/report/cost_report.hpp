// Area and energy reports (the cost model's output) and `quasar compare`: tables, Markdown,
// CSV and JSON of cost::CostReport, for one run or side by side for several.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "cost/cost_model.hpp"
#include "report/run_record.hpp"

namespace quasar {

nlohmann::ordered_json cost_json(const cost::CostReport& c, const cost::Tech& t);

// A few lines under `quasar run`'s table: area, energy by component, per token, power, TOPS/W.
void print_cost_summary(std::ostream& os, const cost::CostReport& c);
// Prices a finished run (quasar cost, quasar compare, the Python API) on `stream`'s unit
// energies; a run of SCALE-Sim accounting (cycles and MACs only) is an error naming its file.
cost::CostReport price_record(const RunRecord& r, const cost::Tech& tech, const std::string& stream);
// `quasar cost`: area and energy breakdowns (every priced line with its source), per layer.
void print_cost_table(std::ostream& os, const RunRecord& r, const cost::CostReport& c);
void print_cost_markdown(std::ostream& os, const RunRecord& r, const cost::CostReport& c);
void write_cost_outputs(const std::string& dir, const RunRecord& r, const cost::CostReport& c,
                        const cost::Tech& t);  // cost.json, cost.md, energy.csv

// Tokens a trace processes, from its generator's metadata (prefill: batch x seq, decode:
// batch); 0 when the trace does not say.
std::uint64_t trace_tokens(const std::string& phase, std::uint64_t batch, std::uint64_t seq);

// Throws quasar::Error naming the first difference when the runs are not of the same workload
// (trace name, layer names and MACs per layer); needs at least two runs.
void require_same_workload(const std::vector<RunRecord>& runs);
// Whether every run has the first run's layers (names and MACs, in order): per-layer tables
// are shown only then.
bool same_layers(const std::vector<RunRecord>& runs);
// What the compared numbers leave out: per run with records it did not simulate, "design:
// record (why), ..."; empty when every run simulated its whole trace.
std::vector<std::string> not_simulated_notes(const std::vector<RunRecord>& runs);

// One design's line of a comparison (every format draws the same numbers).
struct CompareRow {
  std::string design, file;
  double ms = 0, tok_s = 0, uj = 0, uj_tok = 0, mm2 = 0, tops_w = 0, tops_mm2 = 0;
};
CompareRow compare_row(const RunRecord& r, const cost::CostReport& c);
inline double ratio_to(double x, double base) { return base > 0 ? x / base : 0.0; }

// `quasar compare`: runs side by side with ratios to the first. Refuses runs of different
// workloads (require_same_workload) unless `allow_different_traces`.
enum class CompareFormat { markdown, csv, json };
void compare_runs(std::ostream& os, const std::vector<RunRecord>& runs,
                  const std::vector<cost::CostReport>& costs, CompareFormat f,
                  bool allow_different_traces);

}  // namespace quasar
