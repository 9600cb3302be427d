// Option checks shared by the subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace quasar::app {

// CLI11 reads "-1" into an unsigned option as 2^64 - 1; a seed must be written as the
// non-negative integer it is.
inline CLI::Validator seed_check() {
  return CLI::Validator(
      [](std::string& s) {
        const bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
        return digits ? std::string() : "a seed is a non-negative integer, got '" + s + "'";
      },
      "UINT");
}

}  // namespace quasar::app
