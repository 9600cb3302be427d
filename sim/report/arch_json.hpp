// The design as report.json holds it ("arch"): one table of its fields, read by the writer and
// the reader alike, so a key cannot be written and forgotten by the reader (or the reverse) and
// a run can be reproduced from its report. The YAML reader (sim/config) stays separate: it has
// defaults, presets, format versions and file:line errors of its own.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "arch/arch_spec.hpp"

namespace quasar {

nlohmann::ordered_json arch_to_json(const arch::ArchSpec& a);
// Every field of the table from `j` (the report's "arch" object); errors name `file` and the
// key path (arch.array.rows) and what is accepted. `accounting` is not in it (report top level).
arch::ArchSpec arch_from_json(const nlohmann::json& j, const std::string& file);

}  // namespace quasar
