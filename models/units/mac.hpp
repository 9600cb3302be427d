// C++ models of the MAC units of rtl/units (mac_int8, mac_w4a8, mac_dint4): one combinational
// step acc_out = wrap_W(acc_in + w * x) with its flags, bit for bit what the Verilog computes.
// Operands are taken as the bits the unit's ports carry (4-bit codes in the low bits of a byte),
// so a test can drive the RTL and the model with the same numbers.
#pragma once

#include <cstdint>

#include "numerics/block_formats.hpp"
#include "numerics/dint4.hpp"
#include "units/acc_step.hpp"

namespace quasar::units {

// int8 weight x int8 activation + acc (W8A8, and DGQ after dequantization).
class MacInt8 {
 public:
  explicit MacInt8(int acc_bits = 32);
  int acc_bits() const { return acc_bits_; }
  AccStep step(std::int64_t acc_in, std::int8_t w, std::int8_t x) const {
    return accumulate(acc_in, static_cast<int>(w) * static_cast<int>(x), acc_bits_);
  }

 private:
  int acc_bits_;
};

// The value of an int4 weight port: the low 4 bits of `code`, two's complement (-8..7).
inline int int4_value(std::uint8_t code) { return static_cast<int>(sign_extend(code & 0xFu, 4)); }

// int4 weight x int8 activation + acc (W4A8 symmetric group schemes).
class MacW4A8 {
 public:
  explicit MacW4A8(int acc_bits = 32);
  int acc_bits() const { return acc_bits_; }
  AccStep step(std::int64_t acc_in, std::uint8_t w_code, std::int8_t x) const {
    return accumulate(acc_in, int4_value(w_code) * static_cast<int>(x), acc_bits_);
  }

 private:
  int acc_bits_;
};

struct MacDint4Step {
  std::int64_t acc;
  bool overflow;
  bool invalid_code;  // a code the table marks invalid (set A 1000): it contributed 0
};

// dint4 weight code x int8 activation + acc, in half-LSB units: the term is w2 * x with
// w2 = 2 * value from numerics' decode table (the only copy), so acc is acc2 of spec w4a8-dint.
class MacDint4 {
 public:
  explicit MacDint4(DintSet set = DintSet::A, int acc_bits = 32);
  DintSet set() const { return set_; }
  int acc_bits() const { return acc_bits_; }
  MacDint4Step step(std::int64_t acc_in, std::uint8_t code, std::int8_t x) const {
    const unsigned c = code & 0xFu;
    const AccStep s = accumulate(acc_in, table_->w2[c] * static_cast<int>(x), acc_bits_);
    return {s.acc, s.overflow, !table_->valid[c]};
  }

 private:
  DintSet set_;
  int acc_bits_;
  const Dint4Table* table_;
};

// The block formats' PEs (spec §5): the exact element-integer product (numerics' elem_int, the
// one decode; an invalid code, E4M3 NaN, contributes 0) + acc. A block's products summed from 0
// are the block's exact integer I; the scales are applied at the edge (units::MxFp32Acc /
// MxFixedAcc).
// E2M1 weight code (low 4 bits) x E4M3 activation code, in units of 2^-10 (fp4xfp8, w4a8-mx).
class MacE2m1E4m3 {
 public:
  explicit MacE2m1E4m3(int acc_bits = 32);
  int acc_bits() const { return acc_bits_; }
  AccStep step(std::int64_t acc_in, std::uint8_t w_code, std::uint8_t x_code) const {
    return accumulate(acc_in,
                      static_cast<std::int64_t>(elem_int(BlockElem::e2m1, w_code & 0xFu)) *
                          elem_int(BlockElem::e4m3, x_code),
                      acc_bits_);
  }

 private:
  int acc_bits_;
};

// E2M1 x E2M1 codes (low 4 bits each), in units of 2^-2 (fp4: w4a4-mxfp4, w4a4-nvfp4).
class MacE2m1E2m1 {
 public:
  explicit MacE2m1E2m1(int acc_bits = 32);
  int acc_bits() const { return acc_bits_; }
  AccStep step(std::int64_t acc_in, std::uint8_t w_code, std::uint8_t x_code) const {
    return accumulate(acc_in,
                      static_cast<std::int64_t>(elem_int(BlockElem::e2m1, w_code & 0xFu)) *
                          elem_int(BlockElem::e2m1, x_code & 0xFu),
                      acc_bits_);
  }

 private:
  int acc_bits_;
};

}  // namespace quasar::units
