// The DRAM timing rules (models/arch/dram/dram_timing.hpp), counted by hand: burst time from
// GB/s, one bus per channel shared by reads and writes with a turnaround, latency after the
// last burst, bursts interleaved over channels, refresh windows, and the presets' sources.
// Each rule has a case that fails when the rule is changed (the mutation list is in the names).
#include <gtest/gtest.h>

#include "arch/dram/dram_timing.hpp"
#include "numerics/error.hpp"

namespace quasar::arch {
namespace {

DramSpec one_channel() {
  DramSpec d;
  d.channels = 1;
  d.bandwidth_gbps = 64.0;  // 64 B per ns: a 64 B burst takes 1000 ps
  d.burst_bytes = 64;
  d.latency_ns = 100.0;
  return d;
}

TEST(DramTiming, BurstTimeComesFromGigabytesPerSecondNotTheClock) {
  DramTiming t(one_channel());
  EXPECT_EQ(t.burst_ps(), 1000u);
  // 256 B = 4 bursts = 4000 ps, then 100 ns latency.
  EXPECT_EQ(t.serve(0, 256, DramDir::read), 4000u + 100000u);
  // Partial bursts move whole bursts: 65 B is 2 bursts, after the first transaction's bus time.
  EXPECT_EQ(t.serve(0, 65, DramDir::read), 4000u + 2000u + 100000u);
  DramSpec slow = one_channel();
  slow.bandwidth_gbps = 12.8;  // LPDDR5 channel: 32 B in 2500 ps
  slow.burst_bytes = 32;
  EXPECT_EQ(DramTiming(slow).burst_ps(), 2500u);
}

TEST(DramTiming, ReadsAndWritesShareTheBusAndPayATurnaround) {
  DramSpec d = one_channel();
  d.turnaround_ns = 5.0;
  DramTiming t(d);
  EXPECT_EQ(t.serve(0, 128, DramDir::read), 2000u + 100000u);
  // The write waits for the reads' bursts (bus shared) and a 5 ns switch.
  EXPECT_EQ(t.serve(0, 64, DramDir::write), 2000u + 5000u + 1000u + 100000u);
  // Same direction again: no switch.
  EXPECT_EQ(t.serve(0, 64, DramDir::write), 9000u + 100000u);
  EXPECT_EQ(t.counters().turnarounds, 1u);
  EXPECT_EQ(t.counters().read_bytes, 128u);
  EXPECT_EQ(t.counters().write_bytes, 128u);
}

TEST(DramTiming, BurstsInterleaveOverChannels) {
  DramSpec d = one_channel();
  d.channels = 4;  // 16 GB/s each: a 64 B burst takes 4000 ps
  DramTiming t(d);
  EXPECT_EQ(t.burst_ps(), 4000u);
  // 6 bursts from channel 0: channels 0, 1 take 2 each, 2, 3 one: done after 8000 ps.
  EXPECT_EQ(t.serve(0, 6 * 64, DramDir::read), 8000u + 100000u);
  // The next starts at channel 2 (after the last burst's channel 1): channels 2 and 3 are free
  // at 4000 ps, so 2 bursts end at 8000 ps.
  EXPECT_EQ(t.serve(0, 2 * 64, DramDir::read), 8000u + 100000u);
  // Then channel 0 (busy to 8000) again.
  EXPECT_EQ(t.serve(0, 64, DramDir::read), 12000u + 100000u);
}

TEST(DramTiming, RefreshStopsTheBus) {
  DramSpec d = one_channel();
  d.latency_ns = 0;
  d.trefi_ns = 10.0;  // refresh [10, 12) ns, [20, 22) ns, ...
  d.trfc_ns = 2.0;
  DramTiming t(d);
  EXPECT_EQ(t.transfer_end(0, 5000, 0), 5000u);        // before the first window
  EXPECT_EQ(t.transfer_end(9000, 2000, 0), 13000u);    // 1 ns, pause 2 ns, 1 ns
  EXPECT_EQ(t.transfer_end(10500, 1000, 0), 13000u);   // starts inside a window
  EXPECT_EQ(t.transfer_end(12000, 8000, 0), 20000u);   // exactly to a window's start
  EXPECT_EQ(t.transfer_end(12000, 24000, 0), 40000u);  // 8 + 8 + 8 ns: [12,20) [22,30) [32,40)
  EXPECT_EQ(t.transfer_end(0, 5000, 3000), 5000u);     // a staggered channel: windows at 13 ns
  EXPECT_EQ(t.transfer_end(12000, 2000, 3000), 16000u);
  // 20 bursts of 1 ns from 0: 10 before the window, 8 more to 20 ns, 2 after 22 ns.
  EXPECT_EQ(t.serve(0, 20 * 64, DramDir::read), 24000u);
}

TEST(DramTiming, ChannelsRefreshStaggered) {
  DramSpec d = one_channel();
  d.channels = 2;
  d.bandwidth_gbps = 128.0;  // 64 GB/s a channel: 1000 ps a burst
  d.latency_ns = 0;
  d.trefi_ns = 10.0, d.trfc_ns = 2.0;  // channel 0 refreshes at [10, 12), channel 1 at [15, 17)
  DramTiming t(d);
  EXPECT_EQ(t.serve(0, 64, DramDir::read), 1000u);           // channel 0
  EXPECT_EQ(t.serve(10000, 64, DramDir::read), 11000u);      // channel 1: not refreshing
  EXPECT_EQ(t.serve(10000, 64, DramDir::read), 13000u);      // channel 0: waits out [10, 12)
}

TEST(DramTiming, RefreshLongerThanItsIntervalIsRefused) {
  DramSpec d = one_channel();
  d.trefi_ns = 100.0;
  d.trfc_ns = 100.0;
  EXPECT_THROW(DramTiming{d}, Error);
}

TEST(DramPresets, EveryPresetNamesItsSourceAndIsConsistent) {
  ASSERT_EQ(dram_presets().size(), 4u);
  for (const DramPreset& p : dram_presets()) {
    EXPECT_EQ(p.spec.standard, p.name);
    EXPECT_NE(std::string(p.source).find("JESD"), std::string::npos) << p.name;
    EXPECT_GT(p.spec.trefi_ns, p.spec.trfc_ns) << p.name;
    EXPECT_GT(p.spec.capacity_gib, 0.0) << p.name;
    EXPECT_NO_THROW(DramTiming{p.spec}) << p.name;
    EXPECT_EQ(find_dram_preset(p.name), &p);
  }
  // HBM3: 819.2 GB/s over 32 pseudo-channels is 25.6 GB/s each: a 32 B burst in 1250 ps.
  EXPECT_EQ(DramTiming(find_dram_preset("hbm3")->spec).burst_ps(), 1250u);
  EXPECT_EQ(find_dram_preset("gddr6"), nullptr);
}

}  // namespace
}  // namespace quasar::arch
