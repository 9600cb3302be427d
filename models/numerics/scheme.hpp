// The list of schemes (spec section 2): one table, from which names, parsing and help text
// are derived.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace quasar {

enum class Scheme { fp16, w8a8, w4a16, w4a8_fs, w4a8_is, w4a8_dgq, w4a8_dint, w4a8_qserve };

struct SchemeInfo {
  Scheme id;
  std::string_view name;     // as written in traces, configs and on the command line
  std::string_view summary;  // one line for --help and reports
};

const std::array<SchemeInfo, 8>& all_schemes();
std::string_view scheme_name(Scheme s);
std::optional<Scheme> scheme_from_name(std::string_view name);
std::string scheme_names_joined(std::string_view separator = ", ");

}  // namespace quasar
