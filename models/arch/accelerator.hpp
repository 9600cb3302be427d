// The accelerator model (SystemC), one folder per block:
//   dram/   the DRAM controller module shared by every requester (DramController) and its
//           clock-independent timing rules (DramTiming: channels, a read/write bus per channel
//           with turnaround, refresh, latency), with presets for HBM2e, HBM3, LPDDR5 and DDR5;
//   core/   a core (Core): a fetch process that prefetches each tile's operands into the
//           buffer slots, the array (one tile at a time, or with double-buffered weights the
//           next tile's load during this one's stream and drain), the edge units, and a writer
//           that writes finished outputs and closes layers.
// Two fidelities with the same results: `fast` advances the array by its closed forms
// (units::systolic_ws_timing, WsDoubleBufferedSchedule); `cycle` ticks the register-level array
// model (units::SystolicWsArray, proven equal to the Verilog) every cycle and ends each phase
// when the model says so. Everything else is the same event-driven system in both modes.
// Decision 0003 says what is modelled and what is not.
//
// One simulation per process (SystemC 2.3 cannot elaborate twice): simulate() builds the
// modules, runs to the end and returns the statistics. Fast-fidelity jobs run on a kernel of
// their own by default (FastKernel; arch/event_loop), with the same results and without that
// limit, but callers keep to one simulation per process, as any job may need SystemC.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/dram/dram_timing.hpp"
#include "arch/workload.hpp"

namespace quasar::arch {

// Runs `work` on `spec` with each fidelity in `modes` (all elaborated side by side in one
// simulation), returning one RunStats per mode in that order.
// `progress`, when set, is called with the fraction of tiles done (0..1], at most about four
// times a second of wall time, and once at the end.
using Progress = std::function<void(double fraction_done)>;
std::vector<RunStats> simulate(const ArchSpec& spec, const std::vector<LayerWork>& work,
                               const std::vector<Fidelity>& modes, const Progress& progress = {});
std::vector<RunStats> simulate(const ArchSpec& spec,
                               const std::vector<std::vector<LayerWork>>& core_work,
                               const std::vector<Fidelity>& modes, const Progress& progress = {});

// Under AddressSanitizer, tells it again that the calling thread runs on its own stack: after
// sc_start returns, ASan still records the last SystemC coroutine's stack as the thread's, and
// LeakSanitizer can crash at exit scanning it (docs/limits.md, "Sanitizers"). simulate_jobs
// calls it; code that runs sc_start itself (tests) calls it after. A no-op in other builds.
void restore_sanitizer_stack();

// Independent runs, possibly of different designs, elaborated side by side in one simulation
// (the only way to run several in one process). The pointers must outlive the call.
// `work` runs on a one-core design; `core_work` (one list of layers per core, every list with
// the same layers in the same order) on a design of spec->cores cores.
// `tile_log`, when set, gets one list per core of its tiles' times (TileEvents), in the order
// each core ran them (validation against RTL, tests/tile).
// Which kernel runs a fast-fidelity job: the event loop (arch/event_loop: plain C++, about
// three times faster, the same results), or SystemC (the modules the cycle fidelity runs).
// `from_env`: QUASAR_FAST_KERNEL=systemc or event-loop, else the event loop. Cycle-fidelity
// jobs, jobs with a tile log and waveform runs run on SystemC whatever this says.
enum class FastKernel { from_env, event_loop, systemc };
// The kernel `k` stands for (from_env read from the environment; an unknown value is an error
// naming the variable and what it accepts).
FastKernel resolve(FastKernel k);

struct SimJob {
  const ArchSpec* spec = nullptr;
  const std::vector<LayerWork>* work = nullptr;
  Fidelity mode = Fidelity::fast;
  const std::vector<std::vector<LayerWork>>* core_work = nullptr;
  std::vector<std::vector<TileEvents>>* tile_log = nullptr;
  // A segment of a longer run (arch/segment): the DRAM starts from `resume` (the previous
  // segment's end) instead of unused; `carry`, when set, gets the DRAM's state at the end.
  const DramCarry* resume = nullptr;
  DramCarry* carry = nullptr;
  FastKernel kernel = FastKernel::from_env;
};
// `vcd`, when not empty, writes a VCD waveform of every core's array inputs and outputs and its
// DMA engines' progress to that path (sc_trace; 1 ns = one cycle): load, stream step, result,
// the tile being loaded and streamed, the fetches issued and the writes pending. The plain
// variables are sampled at every simulated time step, so waveforms are complete in cycle
// fidelity only (the fast mode jumps over the array's cycles; the caller refuses it).
std::vector<RunStats> simulate_jobs(const std::vector<SimJob>& jobs, const Progress& progress = {},
                                    const std::string& vcd = "");

}  // namespace quasar::arch
