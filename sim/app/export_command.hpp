// `quasar export`: other tools' input formats from quasar's simulations (argument parsing only;
// the work is in sim/interop).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quasar::app {

// `quasar export llmservingsim`: LLMServingSim's profile bundle (docs/interop-llmservingsim.md).
std::function<int()> add_export_command(CLI::App& app);

}  // namespace quasar::app
