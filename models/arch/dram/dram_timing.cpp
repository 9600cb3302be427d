#include "arch/dram/dram_timing.hpp"

#include <algorithm>
#include <cmath>

#include "numerics/error.hpp"

namespace quasar::arch {
namespace {

std::uint64_t ps(double ns) { return static_cast<std::uint64_t>(std::llround(ns * 1000.0)); }

DramSpec preset(const char* standard, std::uint32_t channels, double gbps, std::uint32_t burst,
                double latency_ns, double turnaround_ns, double trefi_ns, double trfc_ns,
                double capacity_gib) {
  DramSpec d;
  d.standard = standard;
  d.channels = channels;
  d.bandwidth_gbps = gbps;
  d.burst_bytes = burst;
  d.latency_ns = latency_ns;
  d.turnaround_ns = turnaround_ns;
  d.trefi_ns = trefi_ns;
  d.trfc_ns = trfc_ns;
  d.capacity_gib = capacity_gib;
  return d;
}

}  // namespace

// Peak bandwidths are the standards' pin rates times bus widths; tREFI and tRFC are the
// standards' values for the die density named; latency and turnaround are round figures a user
// should replace with a datasheet's (docs/config-reference.md says so).
const std::vector<DramPreset>& dram_presets() {
  static const std::vector<DramPreset> p = {
      {"hbm2e", preset("hbm2e", 16, 409.6, 32, 100.0, 8.0, 3900.0, 350.0, 16.0),
       "JESD235C HBM2E, one stack: 16 pseudo-channels x 64 bit at 3.2 Gb/s per pin = 409.6 GB/s, "
       "BL4 (32 B); 8 Gb die tREFI 3.9 us, tRFC 350 ns; 16 GiB (8-high); latency 100 ns and "
       "turnaround 8 ns assumed"},
      {"hbm3", preset("hbm3", 32, 819.2, 32, 100.0, 8.0, 3900.0, 350.0, 24.0),
       "JESD238 HBM3, one stack: 32 pseudo-channels x 32 bit at 6.4 Gb/s per pin = 819.2 GB/s, "
       "BL8 (32 B); tREFI 3.9 us; tRFC 350 ns assumed as HBM2E; 24 GiB (12-high); "
       "latency 100 ns and turnaround 8 ns assumed"},
      {"lpddr5", preset("lpddr5", 4, 51.2, 32, 120.0, 10.0, 3906.0, 280.0, 16.0),
       "JESD209-5 LPDDR5-6400, x64 package: 4 channels x 16 bit at 6.4 Gb/s per pin = 51.2 GB/s, "
       "BL16 (32 B); 16 Gb die tREFI 3.906 us, tRFCab 280 ns; 16 GiB; latency 120 ns and "
       "turnaround 10 ns assumed"},
      {"ddr5", preset("ddr5", 4, 76.8, 64, 90.0, 10.0, 3900.0, 295.0, 32.0),
       "JESD79-5 DDR5-4800, two DIMMs: 4 sub-channels x 32 bit at 4.8 Gb/s per pin = 76.8 GB/s, "
       "BL16 (64 B); 16 Gb die tREFI 3.9 us, tRFC1 295 ns; "
       "32 GiB; latency 90 ns and turnaround 10 ns assumed"},
  };
  return p;
}

const DramPreset* find_dram_preset(const std::string& name) {
  for (const DramPreset& p : dram_presets())
    if (name == p.name) return &p;
  return nullptr;
}

CycleClock::CycleClock(double clock_mhz) : clock_mhz_(clock_mhz) {
  const double ppc = 1e6 / clock_mhz;
  if (ppc >= 1 && ppc < 1e9 && ppc == std::floor(ppc) &&
      static_cast<double>(static_cast<std::uint64_t>(ppc)) * clock_mhz == 1e6)
    ps_per_cycle_ = static_cast<std::uint64_t>(ppc);
}

std::uint64_t CycleClock::cycle_to_ps_fractional(std::uint64_t c) const {
  return static_cast<std::uint64_t>(std::llround(static_cast<long double>(c) * 1e6L / clock_mhz_));
}

std::uint64_t CycleClock::ps_to_cycle_fractional(std::uint64_t p) const {
  const long double c = static_cast<long double>(p) * clock_mhz_ / 1e6L;
  return static_cast<std::uint64_t>(std::ceil(c - 1e-9L));
}

DramTiming::DramTiming(const DramSpec& d)
    : ch_(std::max<std::uint32_t>(d.channels, 1)),
      burst_bytes_(std::max<std::uint32_t>(d.burst_bytes, 1)),
      latency_ps_(ps(d.latency_ns)),
      turnaround_ps_(ps(d.turnaround_ns)),
      trefi_ps_(ps(d.trefi_ns)),
      trfc_ps_(ps(d.trfc_ns)) {
  if (!(d.bandwidth_gbps > 0)) throw Error("dram.bandwidth_gbps: must be > 0");
  // GB/s is bytes per ns: one burst on one channel takes burst / (bandwidth / channels) ns.
  const double per_channel = d.bandwidth_gbps / static_cast<double>(ch_.size());
  burst_ps_ = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(
             std::ceil(static_cast<double>(burst_bytes_) * 1000.0 / per_channel - 1e-9)));
  if (trefi_ps_ != 0 && trfc_ps_ >= trefi_ps_)
    throw Error("dram: tRFC must be shorter than tREFI (the channel would never move data)");
  for (std::size_t c = 0; c < ch_.size(); ++c) {
    ch_[c].offset = trefi_ps_ * c / ch_.size();
    if (trefi_ps_ == 0 || trfc_ps_ == 0) ch_[c].hi = ~std::uint64_t{0};  // one period: all time
  }
}

std::uint64_t DramTiming::channel_transfer_end(Channel& ch, std::uint64_t start,
                                               std::uint64_t duration) {
  if (trefi_ps_ == 0 || trfc_ps_ == 0) return start + duration;
  if (start < ch.lo || start >= ch.hi) {
    // Period k of transfer_end: [k P + offset, (k + 1) P + offset), k = 0 from time 0.
    const std::uint64_t P = trefi_ps_;
    const std::uint64_t k = start < ch.offset ? 0 : (start - ch.offset) / P;
    ch.lo = k == 0 ? 0 : k * P + ch.offset;
    ch.hi = (k + 1) * P + ch.offset;
    ch.data_from = k == 0 ? 0 : k * P + ch.offset + trfc_ps_;
  }
  const std::uint64_t s = std::max(start, ch.data_from);
  if (duration <= ch.hi - s) return s + duration;
  return transfer_end(start, duration, ch.offset);
}

std::uint64_t DramTiming::transfer_end(std::uint64_t start, std::uint64_t duration,
                                       std::uint64_t offset) const {
  if (trefi_ps_ == 0 || trfc_ps_ == 0) return start + duration;
  const std::uint64_t P = trefi_ps_, R = trfc_ps_;
  // Period k runs [k P + offset, (k + 1) P + offset); its first R ps refresh (k >= 1).
  std::uint64_t k = start < offset ? 0 : (start - offset) / P;
  std::uint64_t s = start;
  if (k >= 1 && s < k * P + offset + R) s = k * P + offset + R;
  const std::uint64_t period_end = (k + 1) * P + offset;
  if (duration <= period_end - s) return s + duration;
  const std::uint64_t left = duration - (period_end - s);
  const std::uint64_t avail = P - R;  // data time in a whole period
  const std::uint64_t full = left / avail, rem = left % avail;
  const std::uint64_t next = period_end + R;  // first data ps of the next period
  return rem == 0 ? next + (full - 1) * P + avail : next + full * P + rem;
}

std::uint64_t DramTiming::serve(std::uint64_t arrival_ps, std::uint64_t bytes, DramDir dir) {
  if (bytes == 0) return arrival_ps;
  // The hot loop of a fast-mode run (a decode tile touches every channel of an HBM stack):
  // divisions hoisted, the refresh period's common case inline.
  const std::uint64_t C = ch_.size();
  const std::uint64_t bursts = (bytes + burst_bytes_ - 1) / burst_bytes_;
  const std::uint64_t per = bursts / C, extra = bursts - per * C;
  const std::uint64_t short_ps = per * burst_ps_, long_ps = short_ps + burst_ps_;
  const std::uint8_t code = dir == DramDir::read ? 1 : 2;
  std::uint64_t end = arrival_ps;
  std::uint64_t c = next_channel_;
  const std::uint64_t touched = std::min(bursts, C);
  for (std::uint64_t j = 0; j < touched; ++j) {
    Channel& ch = ch_[c];
    const std::uint64_t d = j < extra ? long_ps : short_ps;
    std::uint64_t start = std::max(arrival_ps, ch.free_ps);
    if (ch.last != code) {
      if (ch.last != 0) {
        start += turnaround_ps_;
        ++counters_.turnarounds;
      }
      ch.last = code;
    }
    // In the refresh period of the channel's last start (start >= that start >= lo: the
    // channel's data was there before; an unused channel's empty period fails the test).
    const std::uint64_t s = std::max(start, ch.data_from);
    const std::uint64_t f =
        s + d <= ch.hi ? s + d : channel_transfer_end(ch, start, d);  // staggered refresh
    ch.free_ps = f;
    end = std::max(end, f);
    if (++c == C) c = 0;
  }
  counters_.busy_ps += bursts * burst_ps_;
  // The channel after the last burst: (next + bursts) mod C; the loop went once round when
  // bursts >= C, leaving the remainder's channels.
  if (bursts >= C) {
    c += extra;
    if (c >= C) c -= C;
  }
  next_channel_ = c;
  (dir == DramDir::read ? counters_.read_bytes : counters_.write_bytes) += bursts * burst_bytes_;
  ++counters_.transactions;
  return end + latency_ps_;
}

void DramTiming::carry_into(DramCarry& c) const {
  c.last.assign(ch_.size(), 0);
  for (std::size_t i = 0; i < ch_.size(); ++i)
    c.last[i] = ch_[i].last;
  c.next_channel = next_channel_;
}

void DramTiming::resume(const DramCarry& c) {
  if (c.last.size() != ch_.size() || c.next_channel >= ch_.size())
    throw Error("dram: a carried state of " + std::to_string(c.last.size()) +
                " channels for a DRAM of " + std::to_string(ch_.size()));
  for (std::size_t i = 0; i < ch_.size(); ++i) {
    if (c.last[i] > 2)
      throw Error("dram: a carried channel direction " + std::to_string(c.last[i]) +
                  " (accepted: 0 unused, 1 read, 2 write)");
    ch_[i].last = c.last[i];
  }
  next_channel_ = c.next_channel;
}

}  // namespace quasar::arch
