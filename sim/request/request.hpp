// An end-to-end request (issue 16): a batch of B prompts of P tokens is prefilled, then G - 1
// decode steps generate the rest of the G tokens each (the prefill's logits give the first),
// the KV cache growing by one token a step. Each phase is a generated trace (trace/generate),
// simulated as its own run of the design from an idle accelerator: between steps nothing is on
// chip (a step ends when its last write is complete; the KV cache lives in DRAM), so a step
// depends only on its own trace. Steps whose traces have the same records (a sliding-window
// model past its window) are therefore the same run: simulated once, by determinism. Steps are
// also cut where the accelerator is idle and a segment an earlier step ran is reused
// (SegmentedRunner, arch/segment: exact; RequestSpec::reuse_segments).
//
// Definitions (printed with the figures):
//   TTFT   the prefill's time (its logits give every sequence its first token);
//   TPOT   the mean decode step time (each step gives every sequence one more token);
//   tokens/s  B x G / (prefill + every decode step);
//   J/token   the request's energy / (B x G) generated tokens.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"
#include "report/run_report.hpp"
#include "trace/model_config.hpp"
#include "trace/trace.hpp"

namespace quasar::request {

struct RequestSpec {
  trace::ModelConfig model;
  std::uint64_t prompt = 2048, generate = 128, batch = 1;
  trace::LayerScheme linear_scheme;
  std::uint64_t decoder_layers = 0;  // 0: the model's depth
  // Simulations run at once in forked processes (run_traces' workers): the report is the same
  // for any count.
  unsigned workers = 1;
  unsigned traces_per_worker = 4;  // run_traces': a worker process's share at a time
  // Steps cut where the accelerator is idle and a segment seen in an earlier step (same work,
  // same DRAM state) not simulated again (SegmentedRunner: exact), on designs that allow it
  // (arch::why_not_segmented); false: every distinct step simulated whole.
  bool reuse_segments = true;
};

// Where a layer's time and energy go: its op class, DRAM traffic, and leakage.
enum class OpClass { linear, attention, vector, data_movement, leakage };
inline constexpr int kOpClasses = 5;
const char* op_class_name(OpClass c);
OpClass op_class(const trace::Layer& l);

struct PhaseTotals {
  double seconds[kOpClasses] = {};  // data_movement and leakage: 0 (they are not a time share)
  double joules[kOpClasses] = {};
};

struct Step {
  std::string phase;         // "prefill" or "decode"
  std::uint64_t context = 0; // keys attended (decode); the prompt length (prefill)
  std::size_t run = 0;       // index into RequestReport::runs (shared by equal steps)
  bool reused = false;       // its run was simulated for an earlier step
};

struct RequestReport {
  RequestSpec spec;
  arch::ArchSpec arch;
  std::vector<RunReport> runs;  // the distinct simulations: runs[0] is the prefill
  std::vector<PhaseTotals> run_classes;
  std::vector<Step> steps;      // prefill, then every decode step
  double ttft_s = 0, tpot_s = 0, total_s = 0, tokens_per_s = 0, joules = 0, j_per_token = 0;
  PhaseTotals prefill, decode;  // by op class, summed over the steps of each phase
  std::vector<std::pair<std::string, std::string>> not_run;  // records no step simulates
  // Segments (RequestSpec::reuse_segments): simulated and found again; or why steps ran whole.
  bool segmented = false;
  std::uint64_t segments_simulated = 0, segments_reused = 0;
  std::string whole_steps_why;
};

// Throws quasar::Error naming the key when the request cannot run: a context past the model's
// maximum positions, zero tokens, a design that cannot price or run it.
RequestReport run_request(const arch::ArchSpec& a, const RequestSpec& r, arch::Fidelity mode,
                          const arch::Progress& progress = {});

void print_request_table(std::ostream& os, const RequestReport& r);
void print_request_json(std::ostream& os, const RequestReport& r);

}  // namespace quasar::request
