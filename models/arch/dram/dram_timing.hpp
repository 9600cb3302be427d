// The DRAM's timing rules, in picoseconds: plain C++ (no SystemC), unit-tested on its own and
// driven by the DramController module (dram_controller.hpp), which decides the order requests
// are served in.
//
// What is modelled, per channel: one data bus shared by reads and writes; a transfer holds it
// for its bursts at the channel's share of the bandwidth; switching direction costs a
// turnaround; every tREFI the channel refreshes for tRFC and no data moves (channels refresh
// staggered by tREFI / channels); a request's data is complete `latency` after its last burst.
// A transaction's bursts are interleaved over the channels, each starting at the channel after
// the previous transaction's last burst (the address interleave every controller uses; quasar
// has no addresses). Not modelled: banks, row hits and misses, command-bus limits, tFAW; they
// are in the sustained bandwidth and latency a preset states.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"

namespace quasar::arch {

enum class DramDir : std::uint8_t { read, write };

// A named DRAM configuration with where its figures come from.
struct DramPreset {
  const char* name;
  DramSpec spec;
  const char* source;
};
const std::vector<DramPreset>& dram_presets();
const DramPreset* find_dram_preset(const std::string& name);

// What the DRAM did, summed over channels.
struct DramCounters {
  std::uint64_t read_bytes = 0, write_bytes = 0;  // moved, whole bursts
  std::uint64_t transactions = 0;
  std::uint64_t turnarounds = 0;                  // bus direction switches
  std::uint64_t busy_ps = 0;                      // bus occupancy (bursts only)
};

// What the DRAM carries from one transaction to the next besides each channel's free time:
// every channel's last direction (a switch costs a turnaround; 0: never used, 1 read, 2 write),
// the channel the next transaction's first burst takes, and the controller's round-robin
// requester. A run cut into segments (arch/segment) hands it from one segment's end to the
// next one's start; the free times need no handing: at a cut every transfer is over.
struct DramCarry {
  std::vector<std::uint8_t> last;
  std::uint64_t next_channel = 0;
  unsigned rr_first = 0;
  bool operator==(const DramCarry& o) const {
    return last == o.last && next_channel == o.next_channel && rr_first == o.rr_first;
  }
};

// The accelerator's cycles against the DRAM's picoseconds.
class CycleClock {
 public:
  explicit CycleClock(double clock_mhz);
  std::uint64_t cycle_to_ps(std::uint64_t c) const {
    return ps_per_cycle_ != 0 ? c * ps_per_cycle_ : cycle_to_ps_fractional(c);
  }
  // The first cycle boundary at or after p (a boundary within 1e-6 ps counts as reached).
  std::uint64_t ps_to_cycle(std::uint64_t p) const {
    // (1 GHz, most designs' clock, divides by a constant: a multiply, not a division.)
    if (ps_per_cycle_ == 1000) return (p + 999) / 1000;
    return ps_per_cycle_ != 0 ? (p + ps_per_cycle_ - 1) / ps_per_cycle_ : ps_to_cycle_fractional(p);
  }
  // The cycle a transaction served in `cycle` is complete, its data complete at `end_ps`: the
  // next cycle boundary, and never in the cycle it was served.
  std::uint64_t done_cycle(std::uint64_t cycle, std::uint64_t end_ps) const {
    return std::max(cycle + 1, ps_to_cycle(end_ps));
  }

 private:
  std::uint64_t cycle_to_ps_fractional(std::uint64_t c) const;
  std::uint64_t ps_to_cycle_fractional(std::uint64_t p) const;
  double clock_mhz_;
  // The cycle in whole picoseconds when 1e6 / clock_mhz is an integer (1000 MHz: 1000): the
  // conversions are then integer arithmetic, equal to the long-double forms (0: use those).
  std::uint64_t ps_per_cycle_ = 0;
};

// The order a controller serves the requests that arrived in one cycle: by requester in
// round-robin order starting at `first` of `n` requesters, then by arrival (a stable sort of
// `batch`, whose elements have an int member `requester`).
template <class T>
void round_robin_order(std::vector<T>& batch, unsigned first, unsigned n);

class DramTiming {
 public:
  explicit DramTiming(const DramSpec& d);
  // Serves `bytes` (> 0) arriving at `arrival_ps` after every earlier-served transaction;
  // returns the picosecond its data is complete.
  std::uint64_t serve(std::uint64_t arrival_ps, std::uint64_t bytes, DramDir dir);
  const DramCounters& counters() const { return counters_; }
  std::uint64_t burst_ps() const { return burst_ps_; }
  // The channels' directions and the next channel (DramCarry; rr_first is the controller's).
  void carry_into(DramCarry& c) const;
  // Starts from `c` (from carry_into of a DRAM of the same channel count) instead of unused
  // channels; throws when the counts differ.
  void resume(const DramCarry& c);

  // The end of `duration` ps of transfer starting no earlier than `start` on a channel whose
  // refresh windows are [k tREFI + offset, k tREFI + offset + tRFC), k >= 1 (public for tests).
  std::uint64_t transfer_end(std::uint64_t start, std::uint64_t duration,
                             std::uint64_t offset) const;

 private:
  struct Channel {
    std::uint64_t free_ps = 0;
    // The refresh period the channel's last transfer started in: starts in [lo, hi) share it,
    // and its data may move from data_from (after its refresh) to hi. A transfer that starts and
    // ends in it needs no division (transfer_end's general form: the same result). Without
    // refresh the one period is all time.
    std::uint64_t lo = 1, hi = 0, data_from = 0;
    std::uint64_t offset = 0;  // its refresh stagger: tREFI * index / channels
    std::uint8_t last = 0;     // its last direction, as DramCarry::last (0: never used)
  };
  std::uint64_t channel_transfer_end(Channel& ch, std::uint64_t start, std::uint64_t duration);
  std::vector<Channel> ch_;
  std::uint64_t burst_bytes_, burst_ps_, latency_ps_, turnaround_ps_, trefi_ps_, trfc_ps_;
  std::uint64_t next_channel_ = 0;
  DramCounters counters_;
};

// Writes the DRAM has answered only matter by when they complete: folds the answered ones at
// the front of `q` (requests with `resolved` and `done_cycle`, in issue order) into `latest` and
// lets them go, so an engine holds a few requests, not every write of a layer; `each` sees each
// one before it goes.
template <class Q, class Each>
void fold_answered(Q& q, std::uint64_t& latest, Each&& each) {
  while (!q.empty() && q.front().resolved) {
    latest = std::max(latest, q.front().done_cycle);
    each(q.front());
    q.pop_front();
  }
}
template <class Q>
void fold_answered(Q& q, std::uint64_t& latest) {
  fold_answered(q, latest, [](const auto&) {});
}

template <class T>
void round_robin_order(std::vector<T>& batch, unsigned first, unsigned n) {
  // (Most cycles serve one transaction: stable_sort would still allocate its buffer.)
  if (batch.size() > 1)
    std::stable_sort(batch.begin(), batch.end(), [first, n](const T& a, const T& b) {
      return (static_cast<unsigned>(a.requester) + n - first) % n <
             (static_cast<unsigned>(b.requester) + n - first) % n;
    });
}

}  // namespace quasar::arch
