// `quasar trace gen|show`: argument parsing only; the work is in sim/trace and sim/report.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quasar::app {

std::function<int()> add_trace_command(CLI::App& app);

}  // namespace quasar::app
