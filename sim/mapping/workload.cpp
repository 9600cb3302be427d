#include "workload.hpp"

#include <algorithm>

#include "mapping/gemm_tiling.hpp"
#include "numerics/error.hpp"

namespace quasar::mapping {

PlannedTrace plan_trace(const arch::ArchSpec& a, const trace::Trace& t) {
  if (a.array.dataflow != arch::Dataflow::ws) {
    throw Error("design '" + a.name + "': dataflow os is not modelled yet (ws is)");
  }
  PlannedTrace p;
  for (const trace::Layer& l : t.layers) {
    if (!trace::is_gemm(l.op)) {
      p.not_run.emplace_back(
          l.name, std::string(trace::op_name(l.op)) + ": non-GEMM ops are not modelled yet");
      continue;
    }
    const Scheme s = l.scheme->scheme;
    if (std::find(a.schemes.begin(), a.schemes.end(), s) == a.schemes.end()) {
      p.not_run.emplace_back(l.name, "scheme " + std::string(scheme_name(s)) +
                                         " is not run by design '" + a.name + "'");
      continue;
    }
    const GemmPlan g = plan_gemm_ws(a, l);
    arch::LayerWork w;
    w.name = l.name;
    w.tiles = g.tiles;
    w.instances = g.instances;
    w.materialize_bytes = g.materialize_bytes;
    p.work.push_back(std::move(w));
  }
  return p;
}

}  // namespace quasar::mapping
