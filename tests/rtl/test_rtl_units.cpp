// Does each Verilog unit (rtl/units) compute exactly what its C++ model (models/units) does?
// The combinational outputs are compared exhaustively over every operand pair of the 8x8, 4x8,
// block-format (E2M1 x E4M3, E2M1 x E2M1) and dequant units, each pair with random accumulators and
// the accumulators at which the overflow flag must switch; intscale_acc gets >= 10^6 random vectors
// plus directed corners at each accumulator width. A random clocked stream checks the registers
// (reset, enable, the acc_in / own-register select). The dint4 decode of the Verilog is checked
// against numerics' table, the one source of truth the Verilog cannot include.
#include <gtest/gtest.h>

#include <Vdequant_dgq.h>
#include <Vdint4_decode_a.h>
#include <Vdint4_decode_b.h>
#include <Vintscale_acc_32.h>
#include <Vintscale_acc_40.h>
#include <Vintscale_acc_48.h>
#include <Vintscale_acc_64.h>
#include <Vmac_dint4_a.h>
#include <Vmac_dint4_b.h>
#include <Vmac_e2m1xe2m1.h>
#include <Vmac_e2m1xe4m3.h>
#include <Vmac_int8.h>
#include <Vmac_int8_acc18.h>
#include <Vmac_w4a8.h>
#include <Vregfile_4x16.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "numerics/block_formats.hpp"
#include "numerics/dint4.hpp"
#include "numerics/int_formats.hpp"
#include "rtl/verilated_unit.hpp"
#include "units/dequant_dgq.hpp"
#include "units/intscale_acc.hpp"
#include "units/mac.hpp"

namespace quasar::rtl {
namespace {

using units::AccStep;

// Counts vectors, mismatches and flag outcomes; reports the first few mismatches in full.
class Tally {
 public:
  explicit Tally(std::string unit) : unit_(std::move(unit)) {}
  template <class Describe>
  void check(bool equal, bool flag, Describe describe) {
    ++vectors_;
    flagged_ += flag;
    if (equal) return;
    if (++mismatches_ <= 10) ADD_FAILURE() << unit_ << ": " << describe();
  }
  std::uint64_t vectors() const { return vectors_; }
  std::uint64_t mismatches() const { return mismatches_; }
  std::uint64_t flagged() const { return flagged_; }
  // The sweep must have compared something and seen the flag both raised and not raised, or a
  // stuck flag would pass.
  void expect_done(std::uint64_t min_vectors) const {
    EXPECT_EQ(mismatches_, 0u) << unit_ << ": mismatches in " << vectors_ << " vectors";
    EXPECT_GE(vectors_, min_vectors) << unit_;
    EXPECT_GT(flagged_, 0u) << unit_ << ": the flag was never raised";
    EXPECT_LT(flagged_, vectors_) << unit_ << ": the flag was always raised";
  }

 private:
  std::string unit_;
  std::uint64_t vectors_ = 0, mismatches_ = 0, flagged_ = 0;
};

// Random accumulator values, plus those at which acc + term crosses either edge of the range:
// acc = MAX - term (largest without overflow), MAX - term + 1 (smallest with), and the same at
// MIN. Only values a `bits`-wide register can hold are returned.
std::vector<std::int64_t> accumulators_for(int128_t term, int bits, int n_random,
                                           std::mt19937_64& rng) {
  const IntRange r = signed_range(bits);
  std::vector<std::int64_t> out;
  for (int i = 0; i < n_random; ++i) out.push_back(units::sign_extend(rng(), bits));
  for (int128_t a : {static_cast<int128_t>(r.hi) - term, static_cast<int128_t>(r.hi) - term + 1,
                     static_cast<int128_t>(r.lo) - term, static_cast<int128_t>(r.lo) - term - 1,
                     int128_t{0}, static_cast<int128_t>(r.hi), static_cast<int128_t>(r.lo)}) {
    if (fits_signed(a, bits)) out.push_back(static_cast<std::int64_t>(a));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// dint4: the Verilog decode equals numerics' table

template <class Top>
void expect_decode_equals_table(DintSet set) {
  VerilatedUnit<Top> u;
  const Dint4Table& table = dint4_table(set);
  for (int code = 0; code < 16; ++code) {
    put(u.io().code, code, 4);
    u.eval();
    const int mag = u.io().mag;
    const int magnitude2 = u.io().denorm ? 1 : 2 * mag;  // |w2|: a denormal is 0.5
    const int w2 = u.io().neg ? -magnitude2 : magnitude2;
    EXPECT_EQ(w2, table.w2[code]) << table.name << " code " << code;
    EXPECT_EQ(u.io().valid != 0, table.valid[code]) << table.name << " code " << code;
    // The denormal path replaces the product: its magnitude field must be unused (0).
    if (u.io().denorm) {
      EXPECT_EQ(mag, 0) << table.name << " code " << code;
    }
  }
}

TEST(Dint4Decode, VerilogSetAEqualsNumericsTable) {
  expect_decode_equals_table<Vdint4_decode_a>(DintSet::A);
}
TEST(Dint4Decode, VerilogSetBEqualsNumericsTable) {
  expect_decode_equals_table<Vdint4_decode_b>(DintSet::B);
}

// ---------------------------------------------------------------------------------------------
// MACs: every (weight, activation) pair, combinational path, random + edge accumulators

// One MAC step as the test compares it: sum, overflow flag, invalid-code flag (dint4 only).
struct MacOut {
  std::int64_t sum;
  bool ovf;
  bool invalid;
};

// w_bits: width of the weight port (8 or 4); model(acc, w_raw, x) -> MacOut.
template <class Top, class Model>
void sweep_mac(const std::string& name, int w_bits, int acc_bits, Model model) {
  VerilatedUnit<Top> u;
  std::mt19937_64 rng(0x5eed + static_cast<unsigned>(acc_bits));
  Tally tally(name);
  u.io().use_acc_in = 1;
  for (int w = 0; w < (1 << w_bits); ++w) {
    for (int x = -128; x < 128; ++x) {
      // The term itself (for the edge accumulators): the model's sum from acc = 0 is exact for
      // every width used here (|term| < 2^12 or 2^15 < 2^(acc_bits - 1)).
      const int128_t term = model(0, w, x).sum;
      for (std::int64_t acc : accumulators_for(term, acc_bits, 3, rng)) {
        if constexpr (std::is_same_v<Top, Vmac_int8> || std::is_same_v<Top, Vmac_int8_acc18>) {
          put(u.io().w, w, 8);
        } else if constexpr (std::is_same_v<Top, Vmac_w4a8>) {
          put(u.io().w, w, 4);
        } else {
          put(u.io().code, w, 4);
        }
        put(u.io().x, x, 8);
        put(u.io().acc_in, acc, acc_bits);
        u.eval();
        const MacOut want = model(acc, w, x);
        const std::int64_t got = get_signed(u.io().sum, acc_bits);
        bool equal = got == want.sum && (u.io().ovf != 0) == want.ovf;
        bool got_invalid = false;
        if constexpr (std::is_same_v<Top, Vmac_dint4_a> || std::is_same_v<Top, Vmac_dint4_b>) {
          got_invalid = u.io().invalid != 0;
          equal = equal && got_invalid == want.invalid;
        }
        tally.check(equal, want.ovf, [&] {
          std::ostringstream s;
          s << "w=" << w << " x=" << x << " acc_in=" << acc << ": rtl sum=" << got
            << " ovf=" << int(u.io().ovf) << " invalid=" << got_invalid
            << "; model sum=" << want.sum << " ovf=" << want.ovf << " invalid=" << want.invalid;
          return s.str();
        });
      }
    }
  }
  // Every pair was seen with at least 3 random and 2 edge accumulators.
  tally.expect_done(std::uint64_t{5} << (w_bits + 8));
}

MacOut from(const AccStep& s) { return {s.acc, s.overflow, false}; }

TEST(MacInt8, AllPairsEqualModel_Acc32) {
  const units::MacInt8 m(32);
  sweep_mac<Vmac_int8>("mac_int8 acc32", 8, 32, [&](std::int64_t acc, int w, int x) {
    return from(m.step(acc, static_cast<std::int8_t>(w), static_cast<std::int8_t>(x)));
  });
}

TEST(MacInt8, AllPairsEqualModel_Acc18) {
  const units::MacInt8 m(18);
  sweep_mac<Vmac_int8_acc18>("mac_int8 acc18", 8, 18, [&](std::int64_t acc, int w, int x) {
    return from(m.step(acc, static_cast<std::int8_t>(w), static_cast<std::int8_t>(x)));
  });
}

TEST(MacW4A8, AllPairsEqualModel) {
  const units::MacW4A8 m(32);
  sweep_mac<Vmac_w4a8>("mac_w4a8", 4, 32, [&](std::int64_t acc, int w, int x) {
    return from(m.step(acc, static_cast<std::uint8_t>(w), static_cast<std::int8_t>(x)));
  });
}

template <class Top>
void sweep_dint4(DintSet set) {
  const units::MacDint4 m(set, 32);
  sweep_mac<Top>(std::string("mac_dint4 ") + std::string(dint_set_name(set)), 4, 32,
                 [&](std::int64_t acc, int code, int x) {
                   const units::MacDint4Step s =
                       m.step(acc, static_cast<std::uint8_t>(code), static_cast<std::int8_t>(x));
                   return MacOut{s.acc, s.overflow, s.invalid_code};
                 });
}

TEST(MacDint4, AllPairsEqualModel_SetA) { sweep_dint4<Vmac_dint4_a>(DintSet::A); }
TEST(MacDint4, AllPairsEqualModel_SetB) { sweep_dint4<Vmac_dint4_b>(DintSet::B); }

// The block formats' PEs: every (weight code, activation code) pair, the E4M3 NaN codes
// included (they contribute 0), each with random accumulators and the edge accumulators at
// which the 32-bit add wraps. The model is numerics' elem_int product (units::MacE2m1E4m3 /
// MacE2m1E2m1).
template <class Top, class Model>
void sweep_block_mac(const std::string& name, int x_bits, const Model& m) {
  VerilatedUnit<Top> u;
  std::mt19937_64 rng(0xb10c + static_cast<unsigned>(x_bits));
  Tally tally(name);
  u.io().use_acc_in = 1;
  std::uint64_t nonzero_terms = 0;
  for (int w = 0; w < 16; ++w) {
    for (int x = 0; x < (1 << x_bits); ++x) {
      const auto wc = static_cast<std::uint8_t>(w), xc = static_cast<std::uint8_t>(x);
      const int128_t term = m.step(0, wc, xc).acc;  // exact: |term| < 2^22
      nonzero_terms += term != 0;
      for (std::int64_t acc : accumulators_for(term, 32, 3, rng)) {
        put(u.io().w, w, 4);
        put(u.io().x, x, x_bits);
        put(u.io().acc_in, acc, 32);
        u.eval();
        const AccStep want = m.step(acc, wc, xc);
        const std::int64_t got = get_signed(u.io().sum, 32);
        tally.check(got == want.acc && (u.io().ovf != 0) == want.overflow, want.overflow, [&] {
          std::ostringstream s;
          s << "w=" << w << " x=" << x << " acc_in=" << acc << ": rtl sum=" << got
            << " ovf=" << int(u.io().ovf) << "; model sum=" << want.acc << " ovf=" << want.overflow;
          return s.str();
        });
      }
    }
  }
  tally.expect_done(std::uint64_t{5} << (4 + x_bits));
  EXPECT_GT(nonzero_terms, 0u);
}

TEST(MacE2m1E4m3, AllPairsEqualModel) {
  const units::MacE2m1E4m3 m(32);
  // The largest product: 6 x 448 = 12 x 229376 units of 2^-10.
  EXPECT_EQ(m.step(0, 0x7, 0x7e).acc, 12 * 229376);
  EXPECT_EQ(m.step(0, 0x7, 0x7f).acc, 0);  // E4M3 NaN contributes 0
  sweep_block_mac<Vmac_e2m1xe4m3>("mac_e2m1xe4m3", 8, m);
}

TEST(MacE2m1E2m1, AllPairsEqualModel) {
  const units::MacE2m1E2m1 m(32);
  EXPECT_EQ(m.step(0, 0x7, 0xF).acc, -144);  // 6 x -6 = -144 units of 2^-2
  sweep_block_mac<Vmac_e2m1xe2m1>("mac_e2m1xe2m1", 4, m);
}

// ---------------------------------------------------------------------------------------------
// dequant_dgq: every (q, z, S2), S2 over all 256 int8 values (1..127 valid, the rest invalid)

TEST(DequantDgq, AllInputsEqualModel) {
  VerilatedUnit<Vdequant_dgq> u;
  Tally tally("dequant_dgq");
  std::uint64_t valid_s2_in_range = 0;
  for (int q = 0; q < 16; ++q) {
    for (int z = 0; z < 16; ++z) {
      for (int s2 = -128; s2 < 128; ++s2) {
        put(u.io().q, q, 4);
        put(u.io().z, z, 4);
        put(u.io().s2, s2, 8);
        u.eval();
        const units::DequantDgqResult want =
            units::dequant_dgq(static_cast<std::uint8_t>(q), static_cast<std::uint8_t>(z),
                               static_cast<std::int8_t>(s2));
        const std::int64_t got = get_signed(u.io().w8, 8);
        const bool got_oor = u.io().oor != 0;
        if (s2 >= 1 && !want.out_of_range) ++valid_s2_in_range;
        tally.check(got == want.w8 && got_oor == want.out_of_range, want.out_of_range, [&] {
          std::ostringstream s;
          s << "q=" << q << " z=" << z << " s2=" << s2 << ": rtl w8=" << got << " oor=" << got_oor
            << "; model w8=" << int(want.w8) << " oor=" << want.out_of_range;
          return s.str();
        });
      }
    }
  }
  tally.expect_done(16 * 16 * 256);
  EXPECT_GT(valid_s2_in_range, 0u);
}

// ---------------------------------------------------------------------------------------------
// intscale_acc: random and directed vectors at ACC_W = 32, 40, 48, 64

// Log-uniform magnitudes: a random width 1..max_bits, then a random value of that width, so
// small scales and partial sums (the common case) and full-range ones are both well covered.
std::int64_t random_signed(std::mt19937_64& rng, int max_bits) {
  const int b = 1 + static_cast<int>(rng() % static_cast<unsigned>(max_bits));
  return units::sign_extend(rng(), b);
}

template <class Top>
void sweep_intscale(int acc_bits) {
  VerilatedUnit<Top> u;
  const units::IntScaleAcc model(acc_bits);
  std::mt19937_64 rng(0x15ca1e + static_cast<unsigned>(acc_bits));
  Tally tally("intscale_acc acc" + std::to_string(acc_bits));
  u.io().use_acc_in = 1;
  auto check = [&](std::int64_t p, std::int64_t s, std::int64_t acc) {
    put(u.io().p, p, 32);
    put(u.io().s, s, 32);
    put(u.io().acc_in, acc, acc_bits);
    u.eval();
    const AccStep want = model.step(acc, p, s);
    const std::int64_t got = get_signed(u.io().sum, acc_bits);
    tally.check(got == want.acc && (u.io().ovf != 0) == want.overflow, want.overflow, [&] {
      std::ostringstream o;
      o << "p=" << p << " s=" << s << " acc_in=" << acc << ": rtl sum=" << got
        << " ovf=" << int(u.io().ovf) << "; model sum=" << want.acc << " ovf=" << want.overflow;
      return o.str();
    });
  };
  // Directed: the int32 edges and values whose products sit at powers of two.
  const std::vector<std::int64_t> edges = {0,         1,         -1,         2,       -2,
                                           INT32_MAX, INT32_MIN, -INT32_MAX, 46341,   -46341,
                                           65536,     -65536,    1024,       1 << 30, -(1 << 30)};
  for (std::int64_t p : edges) {
    for (std::int64_t s : edges) {
      for (std::int64_t acc : accumulators_for(static_cast<int128_t>(p) * s, acc_bits, 2, rng)) {
        check(p, s, acc);
      }
    }
  }
  // Random: 10^6 vectors.
  for (int i = 0; i < 1000000; ++i) {
    check(random_signed(rng, 32), random_signed(rng, 32), random_signed(rng, acc_bits));
  }
  tally.expect_done(1000000);
}

TEST(IntScaleAcc, RandomAndEdgeVectorsEqualModel_Acc32) { sweep_intscale<Vintscale_acc_32>(32); }
TEST(IntScaleAcc, RandomAndEdgeVectorsEqualModel_Acc40) { sweep_intscale<Vintscale_acc_40>(40); }
TEST(IntScaleAcc, RandomAndEdgeVectorsEqualModel_Acc48) { sweep_intscale<Vintscale_acc_48>(48); }
TEST(IntScaleAcc, RandomAndEdgeVectorsEqualModel_Acc64) { sweep_intscale<Vintscale_acc_64>(64); }

// ---------------------------------------------------------------------------------------------
// Registers: a random clocked stream (reset, enable, acc_in vs own register) against a
// register model built from the unit model's step.

template <class Top, class Step>
void clocked_stream(const std::string& name, int acc_bits, Step step) {
  VerilatedUnit<Top> u;
  std::mt19937_64 rng(0xc10c + static_cast<unsigned>(acc_bits));
  std::int64_t acc = 0;  // the model's register
  bool acc_ovf = false;
  std::uint64_t mismatches = 0, enabled_steps = 0, resets = 0;
  u.io().rst = 1;  // registers power up unknown: reset first, as the hardware must
  u.tick();
  for (int cycle = 0; cycle < 20000; ++cycle) {
    const bool rst = rng() % 100 == 0;
    const bool en = rng() % 4 != 0;
    const bool use_acc_in = rng() % 3 == 0;
    const std::int64_t acc_in = units::sign_extend(rng(), acc_bits);
    u.io().rst = rst;
    u.io().en = en;
    u.io().use_acc_in = use_acc_in;
    put(u.io().acc_in, acc_in, acc_bits);
    const AccStep next = step(u, rng, use_acc_in ? acc_in : acc);
    u.eval();
    // Combinational outputs before the edge...
    bool ok = get_signed(u.io().sum, acc_bits) == next.acc && (u.io().ovf != 0) == next.overflow;
    u.tick();
    if (rst) {
      acc = 0, acc_ovf = false, ++resets;
    } else if (en) {
      acc = next.acc, acc_ovf = next.overflow, ++enabled_steps;
    }
    // ...and the registers after it.
    ok = ok && get_signed(u.io().acc, acc_bits) == acc && (u.io().acc_ovf != 0) == acc_ovf;
    if (!ok && ++mismatches <= 5) {
      ADD_FAILURE() << name << " cycle " << cycle
                    << ": rtl acc=" << get_signed(u.io().acc, acc_bits)
                    << " acc_ovf=" << int(u.io().acc_ovf) << "; model acc=" << acc
                    << " acc_ovf=" << acc_ovf;
    }
  }
  EXPECT_EQ(mismatches, 0u) << name;
  EXPECT_GT(resets, 0u);
  EXPECT_GT(enabled_steps, 0u);
}

TEST(Registers, MacInt8StreamEqualsRegisterModel) {
  const units::MacInt8 m(18);
  clocked_stream<Vmac_int8_acc18>(
      "mac_int8 acc18", 18,
      [&](VerilatedUnit<Vmac_int8_acc18>& u, std::mt19937_64& rng, std::int64_t src) {
        const auto w = static_cast<std::int8_t>(rng()), x = static_cast<std::int8_t>(rng());
        put(u.io().w, w, 8);
        put(u.io().x, x, 8);
        return m.step(src, w, x);
      });
}

TEST(Registers, MacDint4StreamEqualsRegisterModel) {
  const units::MacDint4 m(DintSet::A, 32);
  clocked_stream<Vmac_dint4_a>(
      "mac_dint4", 32, [&](VerilatedUnit<Vmac_dint4_a>& u, std::mt19937_64& rng, std::int64_t src) {
        const auto code = static_cast<std::uint8_t>(rng() & 0xFu);
        const auto x = static_cast<std::int8_t>(rng());
        put(u.io().code, code, 4);
        put(u.io().x, x, 8);
        const units::MacDint4Step s = m.step(src, code, x);
        return AccStep{s.acc, s.overflow};
      });
}

TEST(Registers, MacW4A8StreamEqualsRegisterModel) {
  const units::MacW4A8 m(32);
  clocked_stream<Vmac_w4a8>(
      "mac_w4a8", 32, [&](VerilatedUnit<Vmac_w4a8>& u, std::mt19937_64& rng, std::int64_t src) {
        const auto w = static_cast<std::uint8_t>(rng() & 0xFu);
        const auto x = static_cast<std::int8_t>(rng());
        put(u.io().w, w, 4);
        put(u.io().x, x, 8);
        return m.step(src, w, x);
      });
}

TEST(Registers, MacE2m1E4m3StreamEqualsRegisterModel) {
  const units::MacE2m1E4m3 m(32);
  clocked_stream<Vmac_e2m1xe4m3>(
      "mac_e2m1xe4m3", 32,
      [&](VerilatedUnit<Vmac_e2m1xe4m3>& u, std::mt19937_64& rng, std::int64_t src) {
        const auto w = static_cast<std::uint8_t>(rng() & 0xFu);
        const auto x = static_cast<std::uint8_t>(rng());
        put(u.io().w, w, 4);
        put(u.io().x, x, 8);
        return m.step(src, w, x);
      });
}

TEST(Registers, MacE2m1E2m1StreamEqualsRegisterModel) {
  const units::MacE2m1E2m1 m(32);
  clocked_stream<Vmac_e2m1xe2m1>(
      "mac_e2m1xe2m1", 32,
      [&](VerilatedUnit<Vmac_e2m1xe2m1>& u, std::mt19937_64& rng, std::int64_t src) {
        const auto w = static_cast<std::uint8_t>(rng() & 0xFu);
        const auto x = static_cast<std::uint8_t>(rng() & 0xFu);
        put(u.io().w, w, 4);
        put(u.io().x, x, 4);
        return m.step(src, w, x);
      });
}

TEST(Registers, IntScaleAcc40StreamEqualsRegisterModel) {
  const units::IntScaleAcc m(40);
  clocked_stream<Vintscale_acc_40>(
      "intscale_acc acc40", 40,
      [&](VerilatedUnit<Vintscale_acc_40>& u, std::mt19937_64& rng, std::int64_t src) {
        const std::int64_t p = random_signed(rng, 32), s = random_signed(rng, 16);
        put(u.io().p, p, 32);
        put(u.io().s, s, 32);
        return m.step(src, p, s);
      });
}

// The group-scale register file (no C++ model in models/units: its behaviour is storage): a
// word written at a clock edge reads back from the next cycle on, a cycle without we changes
// nothing, and a read in the writing cycle still shows the old word. Checked against a plain
// array over 20,000 random cycles of writes, reads and both at once.
TEST(RtlRegfile, ReadsBackWhatWasWrittenFromTheNextCycle) {
  VerilatedUnit<Vregfile_4x16> u;
  std::mt19937_64 rng(7);
  std::vector<std::uint16_t> words(4, 0);
  for (int a = 0; a < 4; ++a) {  // defined contents first (no reset)
    put(u.io().we, 1, 1);
    put(u.io().waddr, a, 2);
    put(u.io().wdata, 0, 16);
    u.tick();
  }
  std::uint64_t mismatches = 0, writes = 0;
  for (int cycle = 0; cycle < 20000; ++cycle) {
    const bool we = rng() % 2 == 0;
    const int waddr = static_cast<int>(rng() % 4), raddr = static_cast<int>(rng() % 4);
    const auto wdata = static_cast<std::uint16_t>(rng());
    put(u.io().we, we, 1);
    put(u.io().waddr, waddr, 2);
    put(u.io().wdata, wdata, 16);
    put(u.io().raddr, raddr, 2);
    u.eval();
    if (u.io().rdata != words[raddr]) ++mismatches;  // before the edge: the old word
    u.tick();
    if (we) {
      words[waddr] = wdata;
      ++writes;
    }
    u.eval();
    if (u.io().rdata != words[raddr]) ++mismatches;  // after it: the new contents
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(writes, 9000u);
}

}  // namespace
}  // namespace quasar::rtl
