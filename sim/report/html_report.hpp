// Self-contained HTML reports of priced runs: one page per run (`quasar cost --format html`,
// `quasar cost --out DIR` -> DIR/report.html) and one page for runs side by side
// (`quasar compare --format html`). Everything is in the page: inline CSS and SVG drawn from the
// numbers, no scripts, fonts, images or links to fetch at view time. Every string from a report
// is HTML-escaped; the markup is also well-formed XML (each element closed), which the browser
// test checks. The same inputs give the same bytes (fixed number formatting, no clock or locale).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "cost/cost_model.hpp"
#include "report/run_record.hpp"

namespace quasar {

// `s` with & < > " ' replaced by character references (safe in text and in quoted attributes).
std::string html_escape(const std::string& s);

// One run: header (design, trace, node, stream, latency, energy, energy per token, area,
// TOPS/W), latency breakdown per layer (load/stream/drain/stall cycles), energy by component,
// per-layer timeline, area pie, and the tables (area lines, energy lines with their sources,
// what was not priced, per-layer cycles and energy).
void write_run_html(std::ostream& os, const RunRecord& r, const cost::CostReport& c);
// The same page written to `path` (throws quasar::Error when it cannot be written).
void write_run_html_file(const std::string& path, const RunRecord& r, const cost::CostReport& c);

// Runs side by side: grouped bars of latency, energy and area normalized to the first run, the
// comparison table (the columns of `quasar compare`'s Markdown) and cycles/energy per layer.
// Throws quasar::Error with fewer than two runs or when `costs` does not match `runs`.
void write_compare_html(std::ostream& os, const std::vector<RunRecord>& runs,
                        const std::vector<cost::CostReport>& costs);
// `quasar compare --format html`: the same workload check as compare_runs (refused unless
// `allow_different_traces`), then write_compare_html.
void compare_runs_html(std::ostream& os, const std::vector<RunRecord>& runs,
                       const std::vector<cost::CostReport>& costs, bool allow_different_traces);

}  // namespace quasar
