// `quasar run`: argument parsing only; the work is run_trace (sim/report).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quasar::app {

std::function<int()> add_run_command(CLI::App& app);

}  // namespace quasar::app
