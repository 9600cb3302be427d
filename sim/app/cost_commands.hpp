// `quasar cost` (re-price a finished run) and `quasar compare` (runs side by side): argument
// parsing only; the work is in sim/report (cost_report, run_record) and models/cost.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quasar::app {

std::function<int()> add_cost_command(CLI::App& app);
std::function<int()> add_compare_command(CLI::App& app);

}  // namespace quasar::app
