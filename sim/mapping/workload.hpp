// A whole trace planned onto a design: the GEMM layers the design runs, as tile command
// streams for the accelerator model, and every layer it does not run, with the reason (the
// report lists them; nothing is silently dropped).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"
#include "trace/trace.hpp"

namespace quasar::mapping {

struct PlannedTrace {
  // One list per core of the design, each with every layer the design runs, in trace order:
  // the core's share of the layer (arch.linear_partition), the whole layer on one core.
  std::vector<std::vector<arch::LayerWork>> cores;
  bool empty() const { return cores.empty() || cores.front().empty(); }
  std::vector<std::pair<std::string, std::string>> not_run;  // layer, why
  std::vector<std::pair<std::string, std::string>> warnings;  // layer, buffer overflow (spills)
};

PlannedTrace plan_trace(const arch::ArchSpec& a, const trace::Trace& t);

// Layer `l`'s share for core `c` of a.cores under a.linear_partition (l itself on one core).
// Throws quasar::Error naming the layer when the partition leaves a core without work.
trace::Layer core_share(const arch::ArchSpec& a, const trace::Layer& l, std::uint32_t c);

// The layer keys with which design `a` runs scheme s (trace::for_scheme of `base`), its MX
// blocks accumulated the way its block units do (edge.block_acc and widths), so a generated
// workload is one the design can run.
trace::LayerScheme design_layer_scheme(const arch::ArchSpec& a, Scheme s,
                                       trace::LayerScheme base = {});

// Why the design does not run layer `l` ("" when it does): non-GEMM ops, schemes it lacks.
std::string why_not_run(const arch::ArchSpec& a, const trace::Layer& l);

// The trace under `accounting: scalesim`: every layer the design runs, counted with SCALE-Sim
// v2's stall-free closed form per GEMM instance (scalesim_timing.hpp); only cycles, macs and
// tiles (folds) are filled in.
arch::RunStats scalesim_run(const arch::ArchSpec& a, const trace::Trace& t);

}  // namespace quasar::mapping
