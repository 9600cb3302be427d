// DRAM access energy per bit, computed from a device datasheet's current (IDD) table by
// Micron's method (TN-41-01 "Calculating Memory System Power for DDR3", TN-40-07 for DDR4;
// LPDDR4/5 and DDR5 sheets publish the same currents, one set per supply rail).
//
// Why compute instead of typing pJ/bit: a per-bit figure hides what it includes (activation?
// I/O? which rails?) and datasheet arithmetic done by hand is where transcriptions go wrong.
// A technology table can give the datasheet's numbers instead; quasar derives, per rail r:
//   read burst  = sum_r V_r (IDD4R_r - IDD3N_r) / (data rate x DQ width)      [pJ/bit]
//   write burst = sum_r V_r (IDD4W_r - IDD3N_r) / (data rate x DQ width)
//   activation  = sum_r V_r (IDD0_r tRC - IDD3N_r tRAS - IDD2N_r (tRC - tRAS))  [pJ per ACT+PRE]
//                 spread over one row (page) of bits: a streaming DMA reads or writes every
//                 bit of each row it opens, so one activation serves page_bytes x 8 bits
//   I/O         = an optional per-bit figure with its own source (the IDD table measures the
//                 device's rails; a VDDQ rail, where the sheet gives one, is the device's own DQ
//                 drivers and input buffers; the bus termination and the host PHY are in none)
// and reads cost read burst + activation + I/O per bit, writes write burst + activation + I/O.
// Background, refresh and power-down currents are time-based, not per access: not priced here.
#pragma once

#include <string>
#include <vector>

namespace quasar::cost {

struct DramRail {
  std::string name;  // the datasheet's rail: VDD, VDD2H, VPP, ...
  double volts = 0.0;
  double idd0_ma = 0.0, idd2n_ma = 0.0, idd3n_ma = 0.0, idd4r_ma = 0.0, idd4w_ma = 0.0;
};

struct DramDatasheet {
  std::string device;           // part and speed grade, as the datasheet names them
  double data_rate_mtps = 0.0;  // per DQ pin
  unsigned width_bits = 0;      // DQ pins of one device
  unsigned page_bytes = 0;      // row (page) size of one device
  double trc_ns = 0.0, tras_ns = 0.0;
  std::vector<DramRail> rails;
  double io_pj_per_bit = 0.0;  // 0 when the table gives none (then the I/O is not priced)
  bool has_io = false;
};

struct DramEnergy {
  double read_burst_pj_per_bit = 0.0;
  double write_burst_pj_per_bit = 0.0;
  double activation_pj = 0.0;  // one ACT + PRE, all rails
  double activation_pj_per_bit = 0.0;
  double io_pj_per_bit = 0.0;
  std::string rails;  // the rails summed, as the sheet names them: "VDD1 + VDD2 + VDDQ"
  double read_pj_per_bit() const {
    return read_burst_pj_per_bit + activation_pj_per_bit + io_pj_per_bit;
  }
  double write_pj_per_bit() const {
    return write_burst_pj_per_bit + activation_pj_per_bit + io_pj_per_bit;
  }
  // One line saying how the figures were obtained, for reports ("read 3.1 = burst 2.9 + ...").
  std::string derivation(bool has_io) const;
};

// Throws quasar::Error, naming `where` (e.g. "configs/tech/x.yaml: dram.ddr5.datasheet") and
// the offending quantity, when a current difference the method needs is not positive (for
// instance an IDD3N measured with all banks open, above IDD0: the activation term goes negative
// and the sheet needs another method).
DramEnergy dram_energy(const DramDatasheet& d, const std::string& where);

}  // namespace quasar::cost
