// `quasar run`: a trace on a design through the SystemC model, and its report (table, JSON,
// per-layer CSV). The library does the work; the CLI only parses arguments.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"
#include "trace/trace.hpp"

namespace quasar {

struct RunReport {
  arch::ArchSpec arch;
  std::string trace_name;
  arch::RunStats stats;
  std::vector<std::pair<std::string, std::string>> not_run;  // layer, why
};

// Plans the trace on the design and simulates it (one SystemC elaboration per process).
RunReport run_trace(const arch::ArchSpec& a, const trace::Trace& t, arch::Fidelity mode);

void print_run_table(std::ostream& os, const RunReport& r);
void print_run_json(std::ostream& os, const RunReport& r);
void write_run_outputs(const std::string& dir, const RunReport& r);  // report.json, layers.csv

}  // namespace quasar
