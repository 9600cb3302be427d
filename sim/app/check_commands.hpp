// `quasar validate` and `quasar regress`: argument parsing only.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quasar::app {

std::function<int()> add_validate_command(CLI::App& app);
std::function<int()> add_regress_command(CLI::App& app);

}  // namespace quasar::app
