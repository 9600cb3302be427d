// A finished run read back from its report.json (docs/run-report.md): what `quasar cost`
// re-prices and `quasar compare` puts side by side. Plain C++ (no SystemC): reports can be
// priced and compared on any build.
#pragma once

#include <cstdint>
#include <string>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"

namespace quasar {

struct RunRecord {
  std::string file;
  std::string trace, design, mode, accounting;
  std::uint64_t tokens = 0;  // tokens the trace processes (0: unknown)
  arch::ArchSpec arch;
  arch::RunStats stats;
};

// Throws quasar::Error naming the file and the key when it is not a report of the current
// schema (kReportSchema) or holds values no run produces.
RunRecord read_run_report(const std::string& path);

}  // namespace quasar
