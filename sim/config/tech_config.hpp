// Technology tables (configs/tech/*.yaml, sources in docs/cost-model.md) -> cost::Tech. The
// units table is generated (scripts/gen-tech-units.sh); the literature table is written by
// hand with a source for every number, and read strictly: unknown keys, missing sources and
// impossible values are errors naming file:line and the key path.
#pragma once

#include <string>
#include <vector>

#include "cost/tech.hpp"
#include "cost/timing.hpp"

namespace quasar::config {

// A path to a YAML file, or the name of a shipped table (configs/tech/NAME.yaml, compiled in).
// Defaults: units-osu018 and literature-45nm.
inline constexpr const char* kDefaultUnitsTable = "units-osu018";
inline constexpr const char* kDefaultLiteratureTable = "literature-45nm";
cost::Tech load_tech(const std::string& units = kDefaultUnitsTable,
                     const std::string& literature = kDefaultLiteratureTable);
std::vector<std::string> shipped_tech_names();
// The YAML text of a table (a path, or a shipped name): what a result priced with it depends on.
std::string tech_table_text(const std::string& path_or_name);

// The units' static timing (configs/tech/timing-*.yaml, scripts/sta-units.sh): a path or the
// name of a shipped table. The design loader derives latencies and checks clocks with it.
inline constexpr const char* kDefaultTimingTable = "timing-osu018";
cost::TimingTable load_timing_table(const std::string& path_or_name = kDefaultTimingTable);
cost::TimingTable parse_timing_table(const std::string& yaml_text, const std::string& source);

// The two halves from text (tests, and load_tech).
void parse_units_table(const std::string& yaml_text, const std::string& source, cost::Tech& t);
void parse_literature_table(const std::string& yaml_text, const std::string& source, cost::Tech& t);

}  // namespace quasar::config
