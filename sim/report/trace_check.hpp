// Runs every data-bearing layer of a trace on an engine and compares the outputs with the
// trace's expected ones, bit for bit: `quasar validate` and `quasar regress` are built on it.
#pragma once

#include <ostream>
#include <functional>
#include <string>
#include <vector>

#include "numerics/engine.hpp"
#include "numerics/vector_engine.hpp"
#include "trace/trace.hpp"

namespace quasar {

// One data-bearing record: a GEMM layer (recomputed on the engine) or a non-GEMM record
// (recomputed by the numerics reference from its recorded inputs, trace/op_data.hpp).
struct LayerCheck {
  std::string layer;
  Scheme scheme = Scheme::fp16;  // GEMM layers
  std::string kind;              // what it computes: the scheme's name, or e.g. "rmsnorm"
  bool gemm = true;
  bool has_expected = false;
  std::size_t compared = 0;    // output values compared
  std::size_t mismatches = 0;  // outputs that differ from the expected ones
  std::size_t first = 0;       // flat index of the first mismatch (in `first_role`'s tensor)
  std::string first_role;      // its output role (y for a GEMM)
  std::string first_at;        // its index in that tensor's shape, "[r, c]" or "[h, q, t]"
  float got = 0, want = 0;     // values at `first`
  GemmCounters counters;
  // The GEMM's output; for a non-GEMM record, its recomputed `y` where it has that role (empty
  // otherwise).
  MatrixH y;
};

struct TraceCheck {
  std::string trace;
  std::string engine;                   // which engine ran (and why, for a fallback)
  std::string vector_engine = "cpu";    // which ran the non-GEMM records (VectorEngine::name)
  std::vector<LayerCheck> layers;       // the data-bearing records, in trace order
  std::vector<std::string> shape_only;  // the records that carry no tensors
  // GEMM layers `engine` does not run (an accelerator design without their scheme), checked on
  // the CPU reference instead: "layer (why)".
  std::vector<std::string> on_reference;
  bool all_match() const;
};

// Shape-only layers are skipped; a trace with no data-bearing layer is an error. Records are
// checked in trace order, GEMM layers on `engine`, non-GEMM records on `vector_engine` (the
// numerics reference unless given; trace::run_op_record says what always runs on the
// reference): every output role compared bit for bit.
// `not_run_by_engine`, when set, says why `engine` cannot run a GEMM layer ("" when it can):
// such a layer is checked on the CPU reference and listed in on_reference.
TraceCheck check_trace(const std::string& manifest_path, const GemmEngine& engine,
                       const std::string& engine_note,
                       const std::function<std::string(const trace::Layer&)>& not_run_by_engine = {},
                       const VectorEngine& vector_engine = cpu_vector_engine());

void print_trace_check(std::ostream& os, const TraceCheck& c);
// The per-layer counters as stable JSON text: what golden cases store as stats.json.
std::string counters_json(const TraceCheck& c);

}  // namespace quasar
