// Sweep specs (configs/sweeps/*.yaml, docs/sweeps.md) -> sweep::SweepSpec, and designs with a
// point's key overrides applied. Unknown keys, wrong types, impossible values, and axis values
// a design rejects are errors naming the sweep file, line and key path.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "arch/arch_spec.hpp"
#include "sweep/sweep_spec.hpp"

namespace quasar::config {

// Relative paths in a spec (design YAML files, trace manifests) are relative to `base_dir`:
// the spec file's folder when read from a file.
sweep::SweepSpec read_sweep_spec(const std::string& path);
// With `quasar sweep --set KEY.PATH=VALUE` overrides: each a one-value axis appended to the spec
// (design keys and workload.* keys), checked like the spec's axes. The spec text the store
// records is the re-emitted YAML, so error lines refer to it.
sweep::SweepSpec read_sweep_spec(const std::string& path, const std::vector<std::string>& sets);
// "KEY.PATH=VALUE" -> (key, value); an error naming the argument otherwise.
std::pair<std::string, std::string> parse_set(const std::string& kv);
sweep::SweepSpec parse_sweep_spec(const std::string& text, const std::string& source,
                                  const std::string& base_dir = ".");

// The design (a shipped name or a YAML path) with `overrides` (key path -> YAML scalar) set,
// as canonical YAML text (its identity) and as the checked spec.
struct ResolvedDesign {
  std::string yaml;
  arch::ArchSpec spec;
};
ResolvedDesign resolve_design(const std::string& design,
                              const std::vector<std::pair<std::string, std::string>>& overrides,
                              bool check_timing = true);

// The design with the command line's `--set KEY.PATH=VALUE` overrides (each checked like the
// YAML, the error naming the key; workload keys are refused): `quasar run --set`.
arch::ArchSpec load_arch_with(const std::string& design, const std::vector<std::string>& sets);

}  // namespace quasar::config
