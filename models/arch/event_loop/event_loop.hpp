// The fast fidelity on a kernel of its own: the same accelerator model as the SystemC modules
// (core/, dma/, dram/, interconnect/, vector/), run by a plain C++ event loop instead of the
// SystemC scheduler, with the same results to the bit (tests/arch/test_event_loop.cpp runs both
// on every shipped design and a seeded corpus, and every fast-vs-cycle test compares it with
// the SystemC cycle mode).
//
// Why: a fast-mode run spends about half its host time in the SystemC kernel (three process
// activations a tile through its timed-event heap and coroutine switches; docs/performance.md).
// The model's processes only ever wait for a cycle, for another process's progress, or for a
// DRAM answer, and what they do depends on the times they see, not on the order processes run
// within a cycle: the DRAM controller orders a cycle's requests by requester and arrival
// (round_robin_order), not by which process ran first. So the event loop runs each process as a
// resumable function (a protothread: its locals are members, each wait a case label), runs every
// process due in a cycle until none can go on, then serves that cycle's DRAM requests, and moves
// to the next cycle anything waits for.
//
// What it does not do (those jobs run on SystemC; simulate_jobs decides): the cycle fidelity,
// tile logs (validation against RTL), waveforms.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/core/layer_barrier.hpp"
#include "arch/dram/dram_timing.hpp"
#include "arch/workload.hpp"

namespace quasar::arch {

class TileMeter;

class EventLoopRun {
 public:
  // One accelerator of `lists.size()` cores (each list: one core's share of every layer, in the
  // same order), the DRAM starting from `resume` when set (a segment of a longer run).
  EventLoopRun(const ArchSpec& a, const std::vector<const std::vector<LayerWork>*>& lists,
               std::vector<std::size_t> order, TileMeter& meter, const DramCarry* resume);
  ~EventLoopRun();
  // Runs to the end; throws when a process is left waiting for something that never comes.
  void run();

  std::size_t cores() const;
  const RunStats& core_stats(std::size_t c) const;
  std::uint64_t core_end(std::size_t c) const;  // when the core's last work was complete
  const LayerEnds& ends() const;
  DramCarry carry() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quasar::arch
