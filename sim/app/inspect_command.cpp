#include "inspect_command.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "trace/safetensors.hpp"

namespace quasar::app {

std::function<int()> add_inspect_command(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Validate a safetensors file and list its tensors (dtype, shape, name) and metadata");
  cmd->add_option("file", *path, "safetensors file")->required()->check(CLI::ExistingFile);
  return [path]() {
    // The header is the whole structure (the data buffer is opaque bytes): reading only it
    // validates a multi-GB shard without loading it.
    safetensors::print_summary(std::cout, safetensors::LazyFile::open(*path).header());
    return 0;
  };
}

}  // namespace quasar::app
