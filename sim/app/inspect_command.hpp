// `quasar inspect FILE`: list the tensors and metadata of a safetensors file (validating it).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace quasar::app {

std::function<int()> add_inspect_command(CLI::App& app);

}  // namespace quasar::app
