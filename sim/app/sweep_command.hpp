// `quasar sweep`: argument parsing only; the work is in sim/sweep.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quasar::app {

std::function<int()> add_sweep_command(CLI::App& app);

}  // namespace quasar::app
