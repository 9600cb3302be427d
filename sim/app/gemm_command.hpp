// `quasar gemm`: argument parsing only; the work is run_gemm_study (sim/report).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quasar::app {

// Registers the subcommand on `app`; the returned function runs it after parsing and gives
// the exit status.
std::function<int()> add_gemm_command(CLI::App& app);

}  // namespace quasar::app
