// A finished run read back from its report.json (docs/run-report.md): what `quasar cost`
// re-prices and `quasar compare` puts side by side. Plain C++ (no SystemC): reports can be
// priced and compared on any build.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"

namespace quasar {

struct RunRecord {
  std::string file;
  std::string trace, design, mode, accounting;
  std::uint64_t tokens = 0;  // tokens the trace processes (0: unknown)
  arch::ArchSpec arch;
  arch::RunStats stats;
  // What the run covers: the records it did not simulate (name, why) and the decoder layers
  // the trace holds of the model's (0: unknown).
  std::vector<std::pair<std::string, std::string>> not_simulated;
  std::uint64_t decoder_layers = 0, model_layers = 0;
};

// Throws quasar::Error naming the file and the key when it is not a report of the current
// schema (kReportSchema) or holds values no run produces.
RunRecord read_run_report(const std::string& path);

}  // namespace quasar
