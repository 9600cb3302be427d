// Runs every data-bearing layer of a trace on an engine and compares the outputs with the
// trace's expected ones, bit for bit: `quasar validate` and `quasar regress` are built on it.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "numerics/engine.hpp"
#include "trace/trace.hpp"

namespace quasar {

struct LayerCheck {
  std::string layer;
  Scheme scheme = Scheme::fp16;
  bool has_expected = false;
  std::size_t mismatches = 0;  // outputs that differ from the expected ones
  std::size_t first = 0;       // flat index of the first mismatch
  float got = 0, want = 0;     // values at `first`
  GemmCounters counters;
  MatrixH y;
};

struct TraceCheck {
  std::string trace;
  std::string engine;  // which engine ran (and why, for a fallback)
  std::vector<LayerCheck> layers;
  bool all_match() const;
};

// Shape-only layers are skipped; a trace with no data-bearing layer is an error.
TraceCheck check_trace(const std::string& manifest_path, const GemmEngine& engine,
                       const std::string& engine_note);

void print_trace_check(std::ostream& os, const TraceCheck& c);
// The per-layer counters as stable JSON text: what golden cases store as stats.json.
std::string counters_json(const TraceCheck& c);

}  // namespace quasar
