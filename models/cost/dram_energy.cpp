#include "cost/dram_energy.hpp"

#include <cmath>
#include <cstdio>

#include "numerics/error.hpp"

namespace quasar::cost {
namespace {

std::string fmt3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace

std::string DramEnergy::derivation(bool has_io) const {
  std::string s = "read " + fmt3(read_pj_per_bit()) + " = burst " + fmt3(read_burst_pj_per_bit) +
                  " + activation " + fmt3(activation_pj_per_bit);
  if (has_io) s += " + I/O " + fmt3(io_pj_per_bit);
  s += "; write " + fmt3(write_pj_per_bit()) + " = burst " + fmt3(write_burst_pj_per_bit) +
       " + activation " + fmt3(activation_pj_per_bit);
  if (has_io) s += " + I/O " + fmt3(io_pj_per_bit);
  s += " pJ/bit (IDD method, TN-41-01, rails " + rails + "; activation " + fmt3(activation_pj) +
       " pJ per row";
  // A sheet's VDDQ rail holds the device's own DQ drivers; the bus and the host are in no rail.
  if (!has_io) s += "; I/O not priced beyond these rails";
  return s + ")";
}

DramEnergy dram_energy(const DramDatasheet& d, const std::string& where) {
  auto fail = [&](const std::string& what) { throw Error(where + ": " + what); };
  if (!(d.data_rate_mtps > 0) || d.width_bits == 0 || d.page_bytes == 0)
    fail("data_rate_mtps, width_bits and page_bytes must be > 0");
  if (!(d.tras_ns > 0) || !(d.trc_ns > d.tras_ns)) fail("needs 0 < tras_ns < trc_ns");
  if (d.rails.empty()) fail("needs at least one supply rail with its IDD currents");
  // mW per (Mb/s per pin x pins) is nJ per 1e3 bits: x 1e3 gives pJ/bit.
  const double bits_per_us = d.data_rate_mtps * d.width_bits;
  DramEnergy e;
  for (const DramRail& r : d.rails) {
    const std::string rail = "rail " + r.name + ": ";
    e.rails += (e.rails.empty() ? "" : " + ") + r.name;
    if (r.idd4r_ma < r.idd3n_ma) fail(rail + "idd4r_ma is below idd3n_ma");
    if (r.idd4w_ma < r.idd3n_ma) fail(rail + "idd4w_ma is below idd3n_ma");
    e.read_burst_pj_per_bit += r.volts * (r.idd4r_ma - r.idd3n_ma) * 1e3 / bits_per_us;
    e.write_burst_pj_per_bit += r.volts * (r.idd4w_ma - r.idd3n_ma) * 1e3 / bits_per_us;
    // mA x ns x V = pJ.
    e.activation_pj += r.volts * (r.idd0_ma * d.trc_ns - r.idd3n_ma * d.tras_ns -
                                  r.idd2n_ma * (d.trc_ns - d.tras_ns));
  }
  if (!(e.read_burst_pj_per_bit > 0) || !(e.write_burst_pj_per_bit > 0))
    fail("the read or write burst current is not above IDD3N on any rail");
  if (!(e.activation_pj > 0)) {
    fail("the activation energy IDD0 x tRC - IDD3N x tRAS - IDD2N x (tRC - tRAS) is " +
         fmt3(e.activation_pj) +
         " pJ, not > 0; the sheet's IDD3N is probably measured with all banks open, which this "
         "method (TN-41-01) cannot use");
  }
  e.activation_pj_per_bit = e.activation_pj / (8.0 * d.page_bytes);
  e.io_pj_per_bit = d.has_io ? d.io_pj_per_bit : 0.0;
  return e;
}

}  // namespace quasar::cost
