// One DRAM channel seen from the accelerator: requests are served in issue order; a request
// moves whole bursts (bytes rounded up to burst_bytes), holds the channel for
// ceil(burst bytes / bytes_per_cycle) cycles, and its data is there `latency` cycles after that
// (latency overlaps the next request's transfer). Plain C++ policy, shared by
// both fidelity modes, in cycles.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace quasar::arch {

class DramChannel {
 public:
  DramChannel(double bytes_per_cycle, std::uint64_t latency_cycles, std::uint64_t burst_bytes)
      : bpc_(bytes_per_cycle), latency_(latency_cycles), burst_(burst_bytes ? burst_bytes : 1) {}

  // Issues `bytes` at cycle `now`; returns the cycle the transfer is complete (now if 0 bytes).
  std::uint64_t request(std::uint64_t now, std::uint64_t bytes) {
    if (bytes == 0) return now;
    const std::uint64_t start = std::max(now, free_);
    const std::uint64_t moved = (bytes + burst_ - 1) / burst_ * burst_;
    const auto occupancy = static_cast<std::uint64_t>(std::ceil(static_cast<double>(moved) / bpc_));
    free_ = start + occupancy;
    return free_ + latency_;
  }

 private:
  double bpc_;
  std::uint64_t latency_;
  std::uint64_t burst_;
  std::uint64_t free_ = 0;
};

}  // namespace quasar::arch
