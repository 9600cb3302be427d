// Do the block-scaled units of rtl/units (arithmetic spec §5: OCP MX and NVFP4) compute bit for
// bit what their C++ models (models/units/block_units.hpp, built on numerics/block_formats.hpp)
// compute?
//   - the dot products mx_dot_e2m1_e4m3, mx_dot_e2m1_e2m1 (N = 32 and 16), mx_dot_int8: every
//     code pair in every lane, with the other lanes at zero and at random; >= 10^6 random blocks
//     (uniform codes, max-magnitude blocks of one sign, mixed signs, zeros, invalid codes);
//     I must reach both of its extremes +-N * max_w * max_x, and the invalid count 0, some and
//     all codes;
//   - mx_fixed_acc at six (UNIT, ACC_W, FRAC) variants, units.list's three rows (u = 10, 2, 12
//     at 48 bits, 24 fraction bits) among them: >= 10^6 random vectors each over every shift
//     regime (right shifts that round, ties both ways, shifts of 32..39 and >= 40, left shifts
//     that fit, that overflow, of ACC_W and more), accumulators at the wrap edges, and 255 scale
//     codes; every flag seen set and clear, both overflow causes seen;
//   - mx_fp32_acc at UNIT = 10, 2 and 12 (units.list's three rows): every reachable scale sum
//     sx + sw with corner I values and accumulators, then >= 10^6 random vectors aimed at
//     subnormal, normal, overflowing and underflowing terms, with accumulators that are zeros of
//     both signs, infinities, NaNs or cancel the term; the term and the sum compared bit for bit
//     (canonical NaN), every result class seen;
//   - nvfp4_fp32_acc: every E4M3 scale code pair (256 x 256, NaN and negative codes included:
//     the unit computes the model's arithmetic for them too) with nine block sums each (zero,
//     +-1, NVFP4's extremes +-2304, sums F32(I) rounds, a random one) and a random accumulator;
//     every accumulator corner with corner sums and scales; then >= 10^6 random vectors (NVFP4
//     sums, any int32, scale codes mostly valid) with accumulators that are zeros of both signs,
//     subnormals, infinities, NaNs or cancel the term; the scale product, the term and the sum
//     compared bit for bit, every result class seen, terms whose multiply rounds (and ties) seen;
//   - a random clocked stream per accumulator checks its registers (reset, enable, acc_in or
//     the unit's own register).
#include <gtest/gtest.h>

#include <Vmx_dot_e2m1_e2m1.h>
#include <Vmx_dot_e2m1_e2m1_n16.h>
#include <Vmx_dot_e2m1_e4m3.h>
#include <Vmx_dot_int8.h>
#include <Vmx_fixed_acc_u10_a24.h>
#include <Vmx_fixed_acc_u10_a48.h>
#include <Vmx_fixed_acc_u12_a32.h>
#include <Vmx_fixed_acc_u12_a48.h>
#include <Vmx_fixed_acc_u2_a48.h>
#include <Vmx_fixed_acc_u2_a64.h>
#include <Vmx_fp32_acc_u10.h>
#include <Vmx_fp32_acc_u12.h>
#include <Vmx_fp32_acc_u2.h>
#include <Vnvfp4_fp32_acc.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iomanip>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "numerics/block_formats.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/int_formats.hpp"
#include "rtl/verilated_unit.hpp"
#include "units/block_units.hpp"

namespace quasar::rtl {
namespace {

using units::BlockDot;
using units::MxFixedAcc;
using units::MxFixedStep;
using units::MxFp32Acc;
using units::MxFp32Step;
using units::Nvfp4Fp32Acc;
using units::Nvfp4Fp32Step;

std::string hex(std::uint32_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << std::setw(8) << std::setfill('0') << v;
  return s.str();
}

// Packs n codes of `bits` bits (4 or 8: a code never straddles a 32-bit word) into a port, code
// k at bit bits * k.
template <class Port>
void pack(Port& port, const std::uint8_t* codes, int n, int bits) {
  const std::uint32_t mask = (1u << bits) - 1;
  if constexpr (std::is_integral_v<Port>) {
    std::uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<std::uint64_t>(codes[k] & mask) << (bits * k);
    port = static_cast<Port>(v);
  } else {
    const int words = (n * bits + 31) / 32;
    for (int j = 0; j < words; ++j) port[static_cast<std::size_t>(j)] = 0;
    for (int k = 0; k < n; ++k) {
      port[static_cast<std::size_t>(bits * k / 32)] |= (codes[k] & mask) << (bits * k % 32);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Element codes for the sweeps (test data only: the values come from block_formats.hpp).

// The code of the largest magnitude, with the given sign.
std::uint8_t max_code(BlockElem f, bool neg) {
  switch (f) {
    case BlockElem::e2m1:
      return neg ? 0xf : 0x7;
    case BlockElem::e4m3:
      return neg ? 0xfe : 0x7e;
    default:
      return neg ? 0x81 : 0x7f;
  }
}

// An invalid code (none for E2M1: all 16 codes are valid; then a random code).
std::uint8_t invalid_code(BlockElem f, std::mt19937_64& rng) {
  switch (f) {
    case BlockElem::e4m3:
      return (rng() & 1) ? 0xff : 0x7f;
    case BlockElem::mxint8:
      return 0x80;
    default:
      return static_cast<std::uint8_t>(rng() & 0xf);
  }
}

std::uint8_t random_code(BlockElem f, std::mt19937_64& rng) {
  return static_cast<std::uint8_t>(rng() & ((1u << elem_bits(f)) - 1));
}

// One lane's code under a block "mix": uniform, max magnitude (random sign), zero, invalid.
std::uint8_t mixed_code(BlockElem f, std::mt19937_64& rng, const std::array<int, 4>& weights) {
  const int total = weights[0] + weights[1] + weights[2] + weights[3];
  int r = static_cast<int>(rng() % static_cast<unsigned>(total));
  if ((r -= weights[0]) < 0) return random_code(f, rng);
  if ((r -= weights[1]) < 0) return max_code(f, rng() & 1);
  if ((r -= weights[2]) < 0) return 0;
  return invalid_code(f, rng);
}

// ---------------------------------------------------------------------------------------------
// Block dot products

// One Verilated dot unit with its model; every check compares sum, and n_invalid / invalid
// where the unit has them, and records the coverage the sweep asserts at the end.
template <class Top, bool kHasInvalid>
class DotSweep {
 public:
  DotSweep(std::string name, BlockElem w_fmt, BlockElem x_fmt, int n)
      : name_(std::move(name)), w_fmt_(w_fmt), x_fmt_(x_fmt), n_(n) {}

  void check(const std::uint8_t* w, const std::uint8_t* x) {
    pack(u_.io().w, w, n_, elem_bits(w_fmt_));
    pack(u_.io().x, x, n_, elem_bits(x_fmt_));
    u_.eval();
    const BlockDot want = units::block_dot(w_fmt_, w, x_fmt_, x, n_);
    const auto got = static_cast<std::int32_t>(get_signed(u_.io().sum, 32));
    bool ok = got == want.sum;
    int got_invalid = 0;
    if constexpr (kHasInvalid) {
      got_invalid = u_.io().n_invalid;
      ok = ok && got_invalid == want.n_invalid && (u_.io().invalid != 0) == (want.n_invalid != 0);
    }
    ++vectors_;
    lo_ = std::min(lo_, want.sum);
    hi_ = std::max(hi_, want.sum);
    ++invalid_seen_[static_cast<std::size_t>(want.n_invalid == 0               ? 0
                                             : want.n_invalid == max_invalid() ? 2
                                                                               : 1)];
    if (ok) return;
    if (++mismatches_ <= 10) {
      std::ostringstream s;
      s << name_ << ": w =";
      for (int k = 0; k < n_; ++k) s << ' ' << std::hex << int(w[k]);
      s << "; x =";
      for (int k = 0; k < n_; ++k) s << ' ' << std::hex << int(x[k]);
      s << std::dec << ": rtl sum " << got << " n_invalid " << got_invalid << ", model sum "
        << want.sum << " n_invalid " << want.n_invalid;
      ADD_FAILURE() << s.str();
    }
  }

  int n() const { return n_; }
  BlockElem w_fmt() const { return w_fmt_; }
  BlockElem x_fmt() const { return x_fmt_; }

  void expect_done(std::uint64_t min_vectors) const {
    EXPECT_EQ(mismatches_, 0u) << name_ << ": mismatches in " << vectors_ << " vectors";
    EXPECT_GE(vectors_, min_vectors) << name_;
    // The extremes of I: every lane at the largest magnitudes, all products of one sign.
    const std::int32_t extreme = n_ * elem_max_int(w_fmt_) * elem_max_int(x_fmt_);
    EXPECT_EQ(hi_, extreme) << name_ << ": I never reached its maximum";
    EXPECT_EQ(lo_, -extreme) << name_ << ": I never reached its minimum";
    EXPECT_GT(invalid_seen_[0], 0u) << name_ << ": no block without invalid codes";
    if (max_invalid() > 0) {
      EXPECT_GT(invalid_seen_[1], 0u) << name_ << ": no block with some invalid codes";
      EXPECT_GT(invalid_seen_[2], 0u) << name_ << ": no block of invalid codes only";
    }
  }

 private:
  // The most invalid codes a block can have (E2M1 has none).
  int max_invalid() const {
    return (w_fmt_ == BlockElem::e2m1 ? 0 : n_) + (x_fmt_ == BlockElem::e2m1 ? 0 : n_);
  }

  VerilatedUnit<Top> u_;
  std::string name_;
  BlockElem w_fmt_, x_fmt_;
  int n_;
  std::uint64_t vectors_ = 0, mismatches_ = 0;
  std::int32_t lo_ = std::numeric_limits<std::int32_t>::max();
  std::int32_t hi_ = std::numeric_limits<std::int32_t>::min();
  std::array<std::uint64_t, 3> invalid_seen_{};  // blocks with none, some, all codes invalid
};

// Every code pair in every lane: the other lanes at zero (the pair alone: a wrong lane product
// shows as itself) and at random codes (the pair inside a live sum).
template <class Sweep>
std::uint64_t every_pair_every_lane(Sweep& s, std::mt19937_64& rng) {
  const int n = s.n();
  const int wc = 1 << elem_bits(s.w_fmt()), xc = 1 << elem_bits(s.x_fmt());
  std::vector<std::uint8_t> w(static_cast<std::size_t>(n)), x(w.size());
  std::uint64_t count = 0;
  for (int lane = 0; lane < n; ++lane) {
    for (int cw = 0; cw < wc; ++cw) {
      for (int cx = 0; cx < xc; ++cx) {
        std::fill(w.begin(), w.end(), 0);
        std::fill(x.begin(), x.end(), 0);
        w[static_cast<std::size_t>(lane)] = static_cast<std::uint8_t>(cw);
        x[static_cast<std::size_t>(lane)] = static_cast<std::uint8_t>(cx);
        s.check(w.data(), x.data());
        for (int k = 0; k < n; ++k) {
          if (k == lane) continue;
          w[static_cast<std::size_t>(k)] = random_code(s.w_fmt(), rng);
          x[static_cast<std::size_t>(k)] = random_code(s.x_fmt(), rng);
        }
        s.check(w.data(), x.data());
        count += 2;
      }
    }
  }
  return count;
}

// Random blocks of several kinds; returns the number checked.
template <class Sweep>
std::uint64_t random_blocks(Sweep& s, std::mt19937_64& rng, int blocks) {
  const int n = s.n();
  std::vector<std::uint8_t> w(static_cast<std::size_t>(n)), x(w.size());
  for (int b = 0; b < blocks; ++b) {
    const int kind = static_cast<int>(rng() % 8);
    const bool wneg = rng() & 1, xneg = rng() & 1;
    for (std::size_t k = 0; k < w.size(); ++k) {
      switch (kind) {
        case 0:  // every lane at the largest magnitude, one sign per operand: I = +-extreme
          w[k] = max_code(s.w_fmt(), wneg);
          x[k] = max_code(s.x_fmt(), xneg);
          break;
        case 1:  // largest magnitudes, random signs
          w[k] = max_code(s.w_fmt(), rng() & 1);
          x[k] = max_code(s.x_fmt(), rng() & 1);
          break;
        case 2:  // a mix with many invalid codes and zeros
          w[k] = mixed_code(s.w_fmt(), rng, {4, 2, 1, 3});
          x[k] = mixed_code(s.x_fmt(), rng, {4, 2, 1, 3});
          break;
        case 3:  // every code invalid (n_invalid at its maximum)
          w[k] = invalid_code(s.w_fmt(), rng);
          x[k] = invalid_code(s.x_fmt(), rng);
          break;
        case 4:  // mostly large, a few invalid
          w[k] = mixed_code(s.w_fmt(), rng, {2, 12, 1, 1});
          x[k] = mixed_code(s.x_fmt(), rng, {2, 12, 1, 1});
          break;
        default:  // uniform codes
          w[k] = random_code(s.w_fmt(), rng);
          x[k] = random_code(s.x_fmt(), rng);
          break;
      }
    }
    s.check(w.data(), x.data());
  }
  return static_cast<std::uint64_t>(blocks);
}

TEST(MxDotE2m1E4m3, EveryPairAndRandomBlocksEqualModel) {
  DotSweep<Vmx_dot_e2m1_e4m3, true> s("mx_dot_e2m1_e4m3", BlockElem::e2m1, BlockElem::e4m3, 32);
  std::mt19937_64 rng(0xe2e4);
  const std::uint64_t pairs = every_pair_every_lane(s, rng);
  EXPECT_EQ(pairs, 2u * 32 * 16 * 256);
  random_blocks(s, rng, 1000000);
  s.expect_done(pairs + 1000000);
}

TEST(MxDotE2m1E2m1, EveryPairAndRandomBlocksEqualModel_N32) {
  DotSweep<Vmx_dot_e2m1_e2m1, false> s("mx_dot_e2m1_e2m1 N=32", BlockElem::e2m1, BlockElem::e2m1,
                                       32);
  std::mt19937_64 rng(0xe2e2);
  const std::uint64_t pairs = every_pair_every_lane(s, rng);
  EXPECT_EQ(pairs, 2u * 32 * 16 * 16);
  random_blocks(s, rng, 1000000);
  s.expect_done(pairs + 1000000);
}

TEST(MxDotE2m1E2m1, EveryPairAndRandomBlocksEqualModel_N16) {
  DotSweep<Vmx_dot_e2m1_e2m1_n16, false> s("mx_dot_e2m1_e2m1 N=16", BlockElem::e2m1,
                                           BlockElem::e2m1, 16);
  std::mt19937_64 rng(0x16e2);
  const std::uint64_t pairs = every_pair_every_lane(s, rng);
  EXPECT_EQ(pairs, 2u * 16 * 16 * 16);
  random_blocks(s, rng, 1000000);
  s.expect_done(pairs + 1000000);
}

TEST(MxDotInt8, EveryPairAndRandomBlocksEqualModel) {
  DotSweep<Vmx_dot_int8, true> s("mx_dot_int8", BlockElem::mxint8, BlockElem::mxint8, 32);
  std::mt19937_64 rng(0x1818);
  const std::uint64_t pairs = every_pair_every_lane(s, rng);
  EXPECT_EQ(pairs, 2u * 32 * 256 * 256);
  random_blocks(s, rng, 1000000);
  s.expect_done(pairs + 1000000);
}

// ---------------------------------------------------------------------------------------------
// Scale codes and block sums for the accumulators

// Log-uniform int32: a random width 1..32, then a random value of that width.
std::int32_t random_i(std::mt19937_64& rng) {
  const int bits = 1 + static_cast<int>(rng() % 32);
  return static_cast<std::int32_t>(units::sign_extend(rng(), bits));
}

// Block sums worth checking by name: zero, +-1, the int32 edges, the dot units' extremes, and
// values at which a conversion to binary32 rounds (2^24 + 1: a tie to even, 2^24 + 3: a tie up,
// 2^25 + 2 / + 6, 0x7fffffbf / 0x7fffffc0 below / at the tie to 2^31).
const std::vector<std::int32_t> kSpecialI = {0,
                                             1,
                                             -1,
                                             2,
                                             3,
                                             -3,
                                             5,
                                             7,
                                             INT32_MAX,
                                             INT32_MIN,
                                             -INT32_MAX,
                                             88080384,
                                             -88080384,
                                             4608,
                                             -4608,
                                             516128,
                                             -516128,
                                             16777216,
                                             16777217,
                                             16777219,
                                             -16777217,
                                             33554434,
                                             33554438,
                                             0x7fffffbf,
                                             0x7fffffc0,
                                             1 << 30,
                                             -(1 << 30),
                                             0x00ffffff,
                                             -0x00ffffff,
                                             12345,
                                             -(1 << 27) + 1};

// Scale codes (sx, sw), both in 0..254, with sx + sw = total (clamped to 0..508), split at
// random.
std::pair<std::uint8_t, std::uint8_t> scales_for_total(int total, std::mt19937_64& rng) {
  total = std::clamp(total, 0, 508);
  const int lo = std::max(0, total - 254), hi = std::min(254, total);
  const int sx = lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1));
  return {static_cast<std::uint8_t>(sx), static_cast<std::uint8_t>(total - sx)};
}

// With probability 1/16 one or both codes become 255 (E8M0 NaN).
void maybe_invalid_scale(std::uint8_t& sx, std::uint8_t& sw, std::mt19937_64& rng) {
  switch (rng() % 48) {
    case 0:
      sx = 0xff;
      break;
    case 1:
      sw = 0xff;
      break;
    case 2:
      sx = sw = 0xff;
      break;
    default:
      break;
  }
}

int uniform_int(std::mt19937_64& rng, int lo, int hi) {
  return lo + static_cast<int>(rng() % static_cast<unsigned>(hi - lo + 1));
}

// ---------------------------------------------------------------------------------------------
// mx_fixed_acc

struct FixedCoverage {
  std::array<std::uint64_t, 2> ovf{}, round{}, invalid{};
  std::uint64_t term_ovf = 0, add_ovf_only = 0, tie_down = 0, tie_up = 0, shift_ge40 = 0,
                shift_32_39 = 0, shift_ge64 = 0, left_fits = 0;
};

template <class Top>
void sweep_fixed(const std::string& name, int unit, int acc_bits, int frac_bits, int n_random) {
  VerilatedUnit<Top> u;
  std::mt19937_64 rng(0xf1ed + static_cast<unsigned>(acc_bits * 131 + unit));
  const IntRange range = signed_range(acc_bits);
  FixedCoverage cov;
  std::uint64_t vectors = 0, mismatches = 0;
  u.io().use_acc_in = 1;
  auto check = [&](std::int32_t i, std::uint8_t sx, std::uint8_t sw, std::int64_t acc) {
    u.io().i = static_cast<std::uint32_t>(i);
    u.io().sx = sx;
    u.io().sw = sw;
    put(u.io().acc_in, acc, acc_bits);
    u.eval();
    const MxFixedStep want = MxFixedAcc::step(acc, i, sx, sw, unit, acc_bits, frac_bits);
    const std::int64_t got = get_signed(u.io().sum, acc_bits);
    // The overflow's two causes apart (the spec counts each; the tile counts both): the term
    // alone not fitting, and the add of the wrapped term wrapping (as the accelerator engine
    // tells them apart).
    bool want_term = false, want_add = false;
    if (!want.invalid_scale) {
      const FixedTerm t =
          block_term_fixed(i, mx_block_shift(sx, sw, unit) + frac_bits, acc_bits);
      want_term = t.overflow;
      want_add = !fits_signed(int128_t{acc} + t.value, acc_bits);
    }
    const bool ok = got == want.acc && (u.io().ovf != 0) == want.overflow &&
                    (u.io().ovf_term != 0) == want_term && (u.io().ovf_add != 0) == want_add &&
                    (u.io().align_round != 0) == want.align_round &&
                    (u.io().invalid_scale != 0) == want.invalid_scale;
    ++vectors;
    ++cov.ovf[want.overflow];
    ++cov.round[want.align_round];
    ++cov.invalid[want.invalid_scale];
    if (!want.invalid_scale) {
      // Coverage by regime: the shift, and the term alone (from acc = 0).
      const int shift = mx_block_shift(sx, sw, unit) + frac_bits;
      const MxFixedStep alone = MxFixedAcc::step(0, i, sx, sw, unit, acc_bits, frac_bits);
      if (alone.overflow) ++cov.term_ovf;
      if (want.overflow && !alone.overflow) ++cov.add_ovf_only;
      if (shift >= 0 && !alone.overflow && i != 0) ++cov.left_fits;
      if (shift >= 64 && i != 0) ++cov.shift_ge64;
      if (shift <= -40 && i != 0) ++cov.shift_ge40;
      if (shift <= -32 && shift > -40 && i != 0) ++cov.shift_32_39;
      if (shift < 0 && shift > -32) {
        const int sh = -shift;
        const std::int64_t r = static_cast<std::int64_t>(i) & ((std::int64_t{1} << sh) - 1);
        if (r == std::int64_t{1} << (sh - 1)) {
          ++((static_cast<std::int64_t>(i) >> sh) & 1 ? cov.tie_up : cov.tie_down);
        }
      }
    }
    if (ok) return;
    if (++mismatches <= 10) {
      ADD_FAILURE() << name << ": I=" << i << " sx=" << int(sx) << " sw=" << int(sw)
                    << " acc_in=" << acc << ": rtl sum=" << got << " ovf=" << int(u.io().ovf)
                    << " round=" << int(u.io().align_round)
                    << " invalid=" << int(u.io().invalid_scale) << "; model sum=" << want.acc
                    << " ovf=" << want.overflow << " round=" << want.align_round
                    << " invalid=" << want.invalid_scale;
    }
  };
  // sx + sw for a fixed-accumulator shift t.
  const int total_offset = 254 + unit - frac_bits;
  // Accumulators: random, or at the edges where acc + c wraps (c from acc = 0).
  auto acc_for = [&](std::int32_t i, std::uint8_t sx, std::uint8_t sw) -> std::int64_t {
    const std::int64_t random = units::sign_extend(rng(), acc_bits);
    if (rng() % 3 != 0) return random;
    const int128_t c = MxFixedAcc::step(0, i, sx, sw, unit, acc_bits, frac_bits).acc;
    const int128_t edge[] = {range.hi - c, range.hi - c + 1, range.lo - c, range.lo - c - 1};
    const int128_t a = edge[rng() % 4];
    return fits_signed(a, acc_bits) ? static_cast<std::int64_t>(a) : random;
  };

  // Directed: every reachable sx + sw with each special I, accumulator random or at an edge.
  for (int total = 0; total <= 508; ++total) {
    for (std::int32_t i : kSpecialI) {
      const auto [sx, sw] = scales_for_total(total, rng);
      check(i, sx, sw, acc_for(i, sx, sw));
    }
  }
  for (std::int32_t i : kSpecialI) {  // 255 codes
    check(i, 0xff, 127, 5);
    check(i, 127, 0xff, -5);
    check(i, 0xff, 0xff, range.hi);
  }
  // Random: a shift regime, then I and the scale codes.
  for (int v = 0; v < n_random; ++v) {
    int shift;
    std::int32_t i = random_i(rng);
    switch (rng() % 8) {
      case 0:  // right shifts that round, and exact ties (q odd: up; q even: down)
      case 1: {
        shift = uniform_int(rng, -31, -1);
        if (rng() & 1) {
          const int sh = -shift;
          const std::int64_t q = units::sign_extend(rng(), 32 - sh);
          const std::int64_t tie = q * (std::int64_t{1} << sh) + (std::int64_t{1} << (sh - 1));
          if (fits_signed(tie, 32)) i = static_cast<std::int32_t>(tie);
        }
        break;
      }
      case 2:  // far right: 32..39 (still int64 in the model) and >= 40 (rounds to 0)
        shift = uniform_int(rng, -60, -32);
        break;
      case 3:  // left shifts that fit or just overflow
        shift = uniform_int(rng, 0, acc_bits);
        break;
      case 4:  // left shifts of ACC_W and more (only I = 0 fits)
        shift = uniform_int(rng, acc_bits, 300);
        if (rng() % 4 == 0) i = 0;
        break;
      case 5:  // the overflow boundary of a full-width I
        shift = uniform_int(rng, acc_bits - 33, acc_bits - 20);
        break;
      default:  // any scale codes
        shift = uniform_int(rng, 0, 508) - total_offset;
        break;
    }
    auto [sx, sw] = scales_for_total(shift + total_offset, rng);
    maybe_invalid_scale(sx, sw, rng);
    check(i, sx, sw, acc_for(i, sx, sw));
  }

  EXPECT_EQ(mismatches, 0u) << name << ": mismatches in " << vectors << " vectors";
  EXPECT_GE(vectors, static_cast<std::uint64_t>(n_random)) << name;
  const char* const flags[] = {"overflow", "align_round", "invalid_scale"};
  const std::array<std::uint64_t, 2>* seen[] = {&cov.ovf, &cov.round, &cov.invalid};
  for (int f = 0; f < 3; ++f) {
    EXPECT_GT((*seen[f])[0], 0u) << name << ": " << flags[f] << " never clear";
    EXPECT_GT((*seen[f])[1], 0u) << name << ": " << flags[f] << " never set";
  }
  EXPECT_GT(cov.term_ovf, 0u) << name << ": no term that did not fit";
  EXPECT_GT(cov.add_ovf_only, 0u) << name << ": no add that wrapped with a fitting term";
  EXPECT_GT(cov.left_fits, 0u) << name << ": no fitting left shift";
  EXPECT_GT(cov.tie_down, 0u) << name << ": no tie rounded down (to even)";
  EXPECT_GT(cov.tie_up, 0u) << name << ": no tie rounded up (to even)";
  EXPECT_GT(cov.shift_32_39, 0u) << name << ": no right shift of 32..39";
  EXPECT_GT(cov.shift_ge40, 0u) << name << ": no right shift of 40 or more";
  EXPECT_GT(cov.shift_ge64, 0u) << name << ": no left shift of 64 or more";
}

TEST(MxFixedAcc, RandomAndDirectedVectorsEqualModel_U10Acc48Frac24) {
  sweep_fixed<Vmx_fixed_acc_u10_a48>("mx_fixed_acc u10 acc48 frac24", 10, 48, 24, 1000000);
}
// The synthesized rows of w4a4-mxfp4 and w8a8-mxint8 (mx_fixed_acc_u2, _u12 of units.list).
TEST(MxFixedAcc, RandomAndDirectedVectorsEqualModel_U2Acc48Frac24) {
  sweep_fixed<Vmx_fixed_acc_u2_a48>("mx_fixed_acc u2 acc48 frac24", 2, 48, 24, 1000000);
}
TEST(MxFixedAcc, RandomAndDirectedVectorsEqualModel_U12Acc48Frac24) {
  sweep_fixed<Vmx_fixed_acc_u12_a48>("mx_fixed_acc u12 acc48 frac24", 12, 48, 24, 1000000);
}
TEST(MxFixedAcc, RandomAndDirectedVectorsEqualModel_U12Acc32Frac16) {
  sweep_fixed<Vmx_fixed_acc_u12_a32>("mx_fixed_acc u12 acc32 frac16", 12, 32, 16, 1000000);
}
TEST(MxFixedAcc, RandomAndDirectedVectorsEqualModel_U2Acc64Frac40) {
  sweep_fixed<Vmx_fixed_acc_u2_a64>("mx_fixed_acc u2 acc64 frac40", 2, 64, 40, 1000000);
}
// An accumulator narrower than I: even a right-shifted term can overflow.
TEST(MxFixedAcc, RandomAndDirectedVectorsEqualModel_U10Acc24Frac8) {
  sweep_fixed<Vmx_fixed_acc_u10_a24>("mx_fixed_acc u10 acc24 frac8", 10, 24, 8, 1000000);
}

// ---------------------------------------------------------------------------------------------
// mx_fp32_acc

enum FloatClass { kPosZero, kNegZero, kSubnormal, kNormal, kInf, kNan, kClasses };
FloatClass classify(std::uint32_t f) {
  const std::uint32_t e = (f >> 23) & 0xffu, m = f & 0x7fffffu;
  if (e == 0) return m ? kSubnormal : (f >> 31 ? kNegZero : kPosZero);
  if (e == 0xffu) return m ? kNan : kInf;
  return kNormal;
}
const char* const kClassNames[] = {"+0", "-0", "subnormal", "normal", "inf", "NaN"};

const std::vector<std::uint32_t> kAccCorners = {
    0x00000000, 0x80000000,  // +-0
    0x00000001, 0x807fffff,  // subnormals
    0x00800000, 0x3f800000, 0xbf800000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000,  // +-inf
    0x7fc00000, 0xffc00001, 0x7f800001,  // NaNs (canonical, payload, signalling)
};

// A random accumulator: any pattern, a corner, a subnormal, one near 1, or near -+term (a
// cancellation: an exact zero, or a few ulps).
std::uint32_t random_acc(std::uint32_t term, std::mt19937_64& rng) {
  const auto r = static_cast<std::uint32_t>(rng());
  switch (rng() % 8) {
    case 0:
      return r;
    case 1:
      return kAccCorners[rng() % kAccCorners.size()];
    case 2:
      return r & 0x807fffffu;
    case 3:
      return (r & 0x807fffffu) | (static_cast<std::uint32_t>(112 + rng() % 32) << 23);
    default: {
      const auto ulps = static_cast<std::uint32_t>(static_cast<int>(rng() % 5) - 2);
      const std::uint32_t flip = (rng() % 4 != 0) ? 0x80000000u : 0u;
      return (((term & 0x7fffffffu) + ulps) & 0x7fffffffu) | ((term ^ flip) & 0x80000000u);
    }
  }
}

template <class Top>
void sweep_fp32(const std::string& name, int unit, int n_random) {
  VerilatedUnit<Top> u;
  std::mt19937_64 rng(0xf32ac + static_cast<unsigned>(unit));
  std::uint64_t vectors = 0, mismatches = 0, invalid = 0;
  std::array<std::uint64_t, kClasses> sum_classes{}, term_classes{};
  u.io().use_acc_in = 1;
  auto check = [&](std::int32_t i, std::uint8_t sx, std::uint8_t sw, std::uint32_t acc) {
    u.io().i = static_cast<std::uint32_t>(i);
    u.io().sx = sx;
    u.io().sw = sw;
    u.io().acc_in = acc;
    u.eval();
    const MxFp32Step want = MxFp32Acc::step(acc, i, sx, sw, unit);
    const bool ok = u.io().sum == want.acc && u.io().term == want.term &&
                    (u.io().invalid_scale != 0) == want.invalid_scale;
    ++vectors;
    invalid += want.invalid_scale;
    if (!want.invalid_scale) ++sum_classes[classify(want.acc)];
    ++term_classes[classify(want.term)];
    if (ok) return;
    if (++mismatches <= 10) {
      ADD_FAILURE() << name << ": I=" << i << " sx=" << int(sx) << " sw=" << int(sw)
                    << " acc_in=" << hex(acc) << ": rtl term " << hex(u.io().term) << " sum "
                    << hex(u.io().sum) << " invalid " << int(u.io().invalid_scale)
                    << "; model term " << hex(want.term) << " sum " << hex(want.acc) << " invalid "
                    << want.invalid_scale;
    }
  };
  const int total_offset = 254 + unit;  // sx + sw = s + total_offset
  auto term_of = [&](std::int32_t i, std::uint8_t sx, std::uint8_t sw) {
    return MxFp32Acc::step(0x80000000u, i, sx, sw, unit).term;
  };

  // Directed: every reachable sx + sw, each special I, corner and cancelling accumulators;
  // then subnormal ties (odd I at s = -150, -151: halfway between subnormals).
  for (int total = 0; total <= 508; ++total) {
    for (std::int32_t i : kSpecialI) {
      const auto [sx, sw] = scales_for_total(total, rng);
      check(i, sx, sw, kAccCorners[rng() % kAccCorners.size()]);
      check(i, sx, sw, random_acc(term_of(i, sx, sw), rng));
    }
  }
  for (int s = -152; s <= -148; ++s) {
    for (std::int32_t i = -64; i <= 64; ++i) {
      const auto [sx, sw] = scales_for_total(s + total_offset, rng);
      check(i, sx, sw, 0x00000000u);
      check(i, sx, sw, 0x80000000u);
    }
  }
  for (std::int32_t i : kSpecialI) {  // 255 codes: the accumulator passes unchanged
    for (std::uint32_t acc : kAccCorners) {
      check(i, 0xff, 100, acc);
      check(i, 100, 0xff, acc);
    }
  }
  // Random: aim the term's exponent (|I| has `bits` bits: the term is about 2^(bits - 1 + s)).
  for (int v = 0; v < n_random; ++v) {
    const std::int32_t i = rng() % 16 == 0 ? kSpecialI[rng() % kSpecialI.size()] : random_i(rng);
    const std::uint32_t mag =
        i < 0 ? 0u - static_cast<std::uint32_t>(i) : static_cast<std::uint32_t>(i);
    int bits = 0;
    while (bits < 32 && (mag >> bits) != 0) ++bits;
    int target;  // the term's binary exponent
    switch (rng() % 6) {
      case 0:
        target = uniform_int(rng, -152, -126);  // subnormal, and the underflow edge
        break;
      case 1:
        target = uniform_int(rng, 120, 130);  // the overflow edge
        break;
      case 2:
        target = uniform_int(rng, -200, 200);  // anything, underflow to zero included
        break;
      default:
        target = uniform_int(rng, -20, 20);  // the common case
        break;
    }
    auto [sx, sw] = scales_for_total(target - (bits - 1) + total_offset, rng);
    maybe_invalid_scale(sx, sw, rng);
    check(i, sx, sw, random_acc(term_of(i, sx, sw), rng));
  }

  EXPECT_EQ(mismatches, 0u) << name << ": mismatches in " << vectors << " vectors";
  EXPECT_GE(vectors, static_cast<std::uint64_t>(n_random)) << name;
  EXPECT_GT(invalid, 0u) << name << ": no 255 scale code";
  EXPECT_LT(invalid, vectors) << name;
  for (int c = 0; c < kClasses; ++c) {
    EXPECT_GT(sum_classes[static_cast<std::size_t>(c)], 0u)
        << name << ": no " << kClassNames[c] << " sum";
    if (c != kNan) {
      EXPECT_GT(term_classes[static_cast<std::size_t>(c)], 0u)
          << name << ": no " << kClassNames[c] << " term";
    }
  }
  EXPECT_EQ(term_classes[kNan], 0u) << name << ": a NaN term";
}

TEST(MxFp32Acc, RandomAndDirectedVectorsEqualModel_U10) {
  sweep_fp32<Vmx_fp32_acc_u10>("mx_fp32_acc u10", 10, 1000000);
}
TEST(MxFp32Acc, RandomAndDirectedVectorsEqualModel_U2) {
  sweep_fp32<Vmx_fp32_acc_u2>("mx_fp32_acc u2", 2, 1000000);
}
TEST(MxFp32Acc, RandomAndDirectedVectorsEqualModel_U12) {
  sweep_fp32<Vmx_fp32_acc_u12>("mx_fp32_acc u12", 12, 1000000);
}

// ---------------------------------------------------------------------------------------------
// nvfp4_fp32_acc

// NVFP4's block sums: E2M1 x E2M1 over 16 lanes, |I| <= 16 * 12 * 12.
constexpr std::int32_t kNvfp4MaxI = 16 * 12 * 12;

// Does F32(F32(I) * scale) differ from the exact product (the multiply rounded), and was the
// exact product halfway between two binary32 values (a tie)? Both factors are binary32, so the
// product is exact in double (48 significant bits); a finite normal result is assumed.
struct MulRounding {
  bool rounded = false, tie = false;
};
MulRounding mul_rounding(std::int32_t i, std::uint32_t scale, std::uint32_t term) {
  MulRounding r;
  const double exact =
      static_cast<double>(static_cast<float>(i)) * static_cast<double>(detail::float_of(scale));
  const double got = static_cast<double>(detail::float_of(term));
  r.rounded = exact != got;
  if (r.rounded && exact != 0.0) {
    // Half an ulp of the rounded result (a normal binary32: 2^(e - 23), e = floor(log2 |got|)).
    int e = 0;
    std::frexp(got, &e);
    r.tie = std::fabs(exact - got) == std::ldexp(1.0, e - 1 - 24);
  }
  return r;
}

TEST(Nvfp4Fp32Acc, EveryScalePairAndRandomVectorsEqualModel) {
  VerilatedUnit<Vnvfp4_fp32_acc> u;
  std::mt19937_64 rng(0x4f4f);
  std::uint64_t vectors = 0, mismatches = 0, mul_rounded = 0, mul_ties = 0, conv_rounded = 0;
  std::array<std::uint64_t, kClasses> sum_classes{}, term_classes{}, scale_classes{};
  std::uint64_t neg_scale = 0, pairs = 0;
  u.io().use_acc_in = 1;
  auto check = [&](std::int32_t i, std::uint8_t sx, std::uint8_t sw, std::uint32_t acc) {
    u.io().i = static_cast<std::uint32_t>(i);
    u.io().sx = sx;
    u.io().sw = sw;
    u.io().acc_in = acc;
    u.eval();
    const Nvfp4Fp32Step want = Nvfp4Fp32Acc::step(acc, i, sx, sw);
    const bool ok =
        u.io().sum == want.acc && u.io().term == want.term && u.io().scale == want.scale;
    ++vectors;
    ++sum_classes[classify(want.acc)];
    ++term_classes[classify(want.term)];
    ++scale_classes[classify(want.scale)];
    neg_scale += classify(want.scale) == kNormal && (want.scale >> 31) != 0;
    if (classify(want.term) == kNormal) {
      const MulRounding m = mul_rounding(i, want.scale, want.term);
      mul_rounded += m.rounded;
      mul_ties += m.tie;
    }
    conv_rounded += static_cast<std::int64_t>(static_cast<float>(i)) != i;
    if (ok) return;
    if (++mismatches <= 10) {
      ADD_FAILURE() << "nvfp4_fp32_acc: I=" << i << " sx=" << hex(sx) << " sw=" << hex(sw)
                    << " acc_in=" << hex(acc) << ": rtl scale " << hex(u.io().scale) << " term "
                    << hex(u.io().term) << " sum " << hex(u.io().sum) << "; model scale "
                    << hex(want.scale) << " term " << hex(want.term) << " sum " << hex(want.acc);
    }
  };
  auto term_of = [&](std::int32_t i, std::uint8_t sx, std::uint8_t sw) {
    return Nvfp4Fp32Acc::step(0x80000000u, i, sx, sw).term;
  };
  auto nvfp4_i = [&]() {
    return static_cast<std::int32_t>(uniform_int(rng, -kNvfp4MaxI, kNvfp4MaxI));
  };

  // Every scale code pair, each with zero, +-1, NVFP4's extremes, two sums F32(I) rounds (a tie
  // to even and INT32_MIN + 1), a random NVFP4 sum and a random int32; a random accumulator.
  for (int cx = 0; cx < 256; ++cx) {
    for (int cw = 0; cw < 256; ++cw) {
      const auto sx = static_cast<std::uint8_t>(cx), sw = static_cast<std::uint8_t>(cw);
      const std::int32_t is[] = {0,        1,          -1,        kNvfp4MaxI,   -kNvfp4MaxI,
                                 16777217, -INT32_MAX, nvfp4_i(), random_i(rng)};
      for (std::int32_t i : is) check(i, sx, sw, random_acc(term_of(i, sx, sw), rng));
      ++pairs;
    }
  }
  EXPECT_EQ(pairs, 65536u);
  // Every accumulator corner with the special sums at a few scale pairs (1 x 1, the largest,
  // the smallest subnormal, a NaN code, a negative scale, zero scales of both signs).
  const std::pair<std::uint8_t, std::uint8_t> corner_scales[] = {
      {0x38, 0x38}, {0x7e, 0x7e}, {0x01, 0x01}, {0x7f, 0x38},
      {0xb8, 0x38}, {0x00, 0xb8}, {0x80, 0x38}, {0xfe, 0xfe}};
  for (std::uint32_t acc : kAccCorners) {
    for (std::int32_t i : kSpecialI) {
      for (const auto& [sx, sw] : corner_scales) check(i, sx, sw, acc);
    }
  }
  // Random: NVFP4 sums, or any int32 (log-uniform) or a special one; scale codes valid (sign
  // clear, not NaN) 7 times in 8, else any code.
  for (int v = 0; v < 1000000; ++v) {
    std::int32_t i;
    switch (rng() % 4) {
      case 0:
      case 1:
        i = nvfp4_i();
        break;
      case 2:
        i = random_i(rng);
        break;
      default:
        i = kSpecialI[rng() % kSpecialI.size()];
        break;
    }
    auto scale_code = [&]() {
      return static_cast<std::uint8_t>(rng() % 8 == 0 ? rng() % 256 : rng() % 127);
    };
    const std::uint8_t sx = scale_code(), sw = scale_code();
    check(i, sx, sw, random_acc(term_of(i, sx, sw), rng));
  }

  EXPECT_EQ(mismatches, 0u) << "nvfp4_fp32_acc: mismatches in " << vectors << " vectors";
  EXPECT_GE(vectors, 65536u * 9 + 1000000u);
  for (int c = 0; c < kClasses; ++c) {
    EXPECT_GT(sum_classes[static_cast<std::size_t>(c)], 0u)
        << "nvfp4_fp32_acc: no " << kClassNames[c] << " sum";
  }
  // Both factors are finite and |F32(I) * scale| lies in [2^-18, 2^49]: the term is a zero of
  // either sign or a normal number, never subnormal, infinite or NaN; so is the scale.
  for (FloatClass c : {kPosZero, kNegZero, kNormal}) {
    EXPECT_GT(term_classes[c], 0u) << "nvfp4_fp32_acc: no " << kClassNames[c] << " term";
    EXPECT_GT(scale_classes[c], 0u) << "nvfp4_fp32_acc: no " << kClassNames[c] << " scale";
  }
  for (FloatClass c : {kSubnormal, kInf, kNan}) {
    EXPECT_EQ(term_classes[c], 0u) << "nvfp4_fp32_acc: a " << kClassNames[c] << " term";
    EXPECT_EQ(scale_classes[c], 0u) << "nvfp4_fp32_acc: a " << kClassNames[c] << " scale";
  }
  EXPECT_GT(neg_scale, 0u) << "nvfp4_fp32_acc: no negative scale product";
  EXPECT_GT(conv_rounded, 0u) << "nvfp4_fp32_acc: no block sum that F32(I) rounds";
  EXPECT_GT(mul_rounded, 0u) << "nvfp4_fp32_acc: no term whose multiply rounds";
  EXPECT_GT(mul_ties, 0u) << "nvfp4_fp32_acc: no multiply that ties";
  std::printf(
      "nvfp4_fp32_acc: %llu vectors (65536 scale code pairs), F32(I) rounded in %llu, the "
      "multiply rounded in %llu (%llu ties), negative scale products %llu\n",
      static_cast<unsigned long long>(vectors), static_cast<unsigned long long>(conv_rounded),
      static_cast<unsigned long long>(mul_rounded), static_cast<unsigned long long>(mul_ties),
      static_cast<unsigned long long>(neg_scale));
}

// ---------------------------------------------------------------------------------------------
// Registers: random clocked streams against a register model built from the step.

TEST(Registers, MxFixedAccStreamEqualsRegisterModel) {
  VerilatedUnit<Vmx_fixed_acc_u10_a48> u;
  constexpr int kUnit = 10, kAccBits = 48, kFrac = 24;
  std::mt19937_64 rng(0xc10c);
  MxFixedStep reg;  // the model's registers
  std::uint64_t mismatches = 0, enabled = 0, resets = 0;
  u.io().rst = 1;  // registers power up unknown: reset first, as the hardware must
  u.tick();
  for (int cycle = 0; cycle < 20000; ++cycle) {
    const bool rst = rng() % 100 == 0, en = rng() % 4 != 0, use_acc_in = rng() % 3 == 0;
    const std::int64_t acc_in = units::sign_extend(rng(), kAccBits);
    const std::int32_t i = random_i(rng);
    auto [sx, sw] = scales_for_total(uniform_int(rng, 230, 270), rng);
    maybe_invalid_scale(sx, sw, rng);
    u.io().rst = rst;
    u.io().en = en;
    u.io().use_acc_in = use_acc_in;
    put(u.io().acc_in, acc_in, kAccBits);
    u.io().i = static_cast<std::uint32_t>(i);
    u.io().sx = sx;
    u.io().sw = sw;
    const MxFixedStep next =
        MxFixedAcc::step(use_acc_in ? acc_in : reg.acc, i, sx, sw, kUnit, kAccBits, kFrac);
    u.eval();
    bool ok = get_signed(u.io().sum, kAccBits) == next.acc;
    u.tick();
    if (rst) {
      reg = MxFixedStep{}, ++resets;
    } else if (en) {
      reg = next, ++enabled;
    }
    ok = ok && get_signed(u.io().acc, kAccBits) == reg.acc &&
         (u.io().acc_ovf != 0) == reg.overflow && (u.io().acc_round != 0) == reg.align_round &&
         (u.io().acc_invalid != 0) == reg.invalid_scale;
    if (!ok && ++mismatches <= 5) {
      ADD_FAILURE() << "mx_fixed_acc cycle " << cycle
                    << ": rtl acc=" << get_signed(u.io().acc, kAccBits)
                    << "; model acc=" << reg.acc;
    }
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(resets, 0u);
  EXPECT_GT(enabled, 0u);
}

TEST(Registers, MxFp32AccStreamEqualsRegisterModel) {
  VerilatedUnit<Vmx_fp32_acc_u10> u;
  constexpr int kUnit = 10;
  std::mt19937_64 rng(0xc10d);
  MxFp32Step reg;  // the model's registers (acc = +0 after reset)
  std::uint64_t mismatches = 0, enabled = 0, resets = 0;
  u.io().rst = 1;
  u.tick();
  for (int cycle = 0; cycle < 20000; ++cycle) {
    const bool rst = rng() % 100 == 0, en = rng() % 4 != 0, use_acc_in = rng() % 3 == 0;
    const std::uint32_t acc_in = random_acc(0x3f800000u, rng);
    // Small I at scales around 1: the accumulator stays finite for long runs.
    const auto i = static_cast<std::int32_t>(units::sign_extend(rng(), 16));
    auto [sx, sw] = scales_for_total(uniform_int(rng, 250, 270), rng);
    maybe_invalid_scale(sx, sw, rng);
    u.io().rst = rst;
    u.io().en = en;
    u.io().use_acc_in = use_acc_in;
    u.io().acc_in = acc_in;
    u.io().i = static_cast<std::uint32_t>(i);
    u.io().sx = sx;
    u.io().sw = sw;
    const MxFp32Step next = MxFp32Acc::step(use_acc_in ? acc_in : reg.acc, i, sx, sw, kUnit);
    u.eval();
    bool ok = u.io().sum == next.acc;
    u.tick();
    if (rst) {
      reg = MxFp32Step{}, ++resets;
    } else if (en) {
      reg = next, ++enabled;
    }
    ok = ok && u.io().acc == reg.acc && (u.io().acc_invalid != 0) == reg.invalid_scale;
    if (!ok && ++mismatches <= 5) {
      ADD_FAILURE() << "mx_fp32_acc cycle " << cycle << ": rtl acc " << hex(u.io().acc)
                    << ", model acc " << hex(reg.acc);
    }
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(resets, 0u);
  EXPECT_GT(enabled, 0u);
}

TEST(Registers, Nvfp4Fp32AccStreamEqualsRegisterModel) {
  VerilatedUnit<Vnvfp4_fp32_acc> u;
  std::mt19937_64 rng(0xc10e);
  Nvfp4Fp32Step reg;  // the model's registers (acc = +0 after reset)
  std::uint64_t mismatches = 0, enabled = 0, resets = 0;
  u.io().rst = 1;
  u.tick();
  for (int cycle = 0; cycle < 20000; ++cycle) {
    const bool rst = rng() % 100 == 0, en = rng() % 4 != 0, use_acc_in = rng() % 3 == 0;
    const std::uint32_t acc_in = random_acc(0x3f800000u, rng);
    const auto i = static_cast<std::int32_t>(uniform_int(rng, -kNvfp4MaxI, kNvfp4MaxI));
    const auto sx = static_cast<std::uint8_t>(rng() % 127),
               sw = static_cast<std::uint8_t>(rng() % 127);
    u.io().rst = rst;
    u.io().en = en;
    u.io().use_acc_in = use_acc_in;
    u.io().acc_in = acc_in;
    u.io().i = static_cast<std::uint32_t>(i);
    u.io().sx = sx;
    u.io().sw = sw;
    const Nvfp4Fp32Step next = Nvfp4Fp32Acc::step(use_acc_in ? acc_in : reg.acc, i, sx, sw);
    u.eval();
    bool ok = u.io().sum == next.acc;
    u.tick();
    if (rst) {
      reg = Nvfp4Fp32Step{}, ++resets;
    } else if (en) {
      reg = next, ++enabled;
    }
    ok = ok && u.io().acc == reg.acc;
    if (!ok && ++mismatches <= 5) {
      ADD_FAILURE() << "nvfp4_fp32_acc cycle " << cycle << ": rtl acc " << hex(u.io().acc)
                    << ", model acc " << hex(reg.acc);
    }
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(resets, 0u);
  EXPECT_GT(enabled, 0u);
}

}  // namespace
}  // namespace quasar::rtl
