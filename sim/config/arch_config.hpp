// Accelerator configs (configs/arch/*.yaml, documented in docs/config-reference.md) -> the
// validated arch::ArchSpec. Unknown keys, wrong types and impossible values are errors naming
// file:line and the key path, and saying what is accepted.
#pragma once

#include <string>
#include <vector>

#include "arch/arch_spec.hpp"

namespace quasar::config {

// Version 2 gives the DRAM in clock-independent units (GB/s, ns) with channels, turnaround,
// refresh and capacity, or by preset. Version 1 files (bytes_per_cycle, latency_cycles) are
// still read: their figures are converted at the file's clock to one channel with no
// turnaround or refresh.
inline constexpr int kArchFormatVersion = 2;
inline constexpr int kOldestArchFormatVersion = 1;

arch::ArchSpec read_arch_config(const std::string& path);
// check_timing false: latencies are derived but a clock the units miss is not an error (a
// sweep's per-axis check: whether a clock is met depends on the other axes, so the point says).
arch::ArchSpec parse_arch_config(const std::string& yaml_text, const std::string& source,
                                 bool check_timing = true);

// A path to a YAML file, or the name of a shipped design (configs/arch/NAME.yaml, compiled in).
arch::ArchSpec load_arch(const std::string& path_or_name);
std::vector<std::string> shipped_arch_names();

}  // namespace quasar::config
