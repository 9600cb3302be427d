// `quasar trace import`: argument parsing only; the work is in sim/trace/importers.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quasar::app {

// Adds `import` under the `trace` subcommand; the returned call runs it when it was parsed.
struct ImportCommand {
  CLI::App* cmd = nullptr;
  std::function<int()> run;
};
ImportCommand add_trace_import_command(CLI::App& trace);

}  // namespace quasar::app
