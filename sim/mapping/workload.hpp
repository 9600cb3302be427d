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
  std::vector<arch::LayerWork> work;
  std::vector<std::pair<std::string, std::string>> not_run;  // layer, why
  std::vector<std::pair<std::string, std::string>> warnings;  // layer, buffer overflow (spills)
};

PlannedTrace plan_trace(const arch::ArchSpec& a, const trace::Trace& t);

// Why the design does not run layer `l` ("" when it does): non-GEMM ops, schemes it lacks.
std::string why_not_run(const arch::ArchSpec& a, const trace::Layer& l);

// The trace under `accounting: scalesim`: every layer the design runs, counted with SCALE-Sim
// v2's stall-free closed form per GEMM instance (scalesim_timing.hpp); only cycles, macs and
// tiles (folds) are filled in.
arch::RunStats scalesim_run(const arch::ArchSpec& a, const trace::Trace& t);

}  // namespace quasar::mapping
