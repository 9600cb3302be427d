// C++ models of the block-scaled (OCP MX / NVFP4, arithmetic spec §5) units of rtl/units: the
// block dot products (mx_dot_e2m1_e4m3, mx_dot_e2m1_e2m1, mx_dot_int8) and the three per-block
// accumulator steps (mx_fixed_acc, mx_fp32_acc, nvfp4_fp32_acc). Each is built only from the one
// decode and the per-block steps of models/numerics/block_formats.hpp (elem_int, elem_valid,
// e8m0_valid, mx_block_shift, block_term_fixed, block_term_fp32, nvfp4_scale_product,
// nvfp4_block_term): these models restate no arithmetic of their own, so the Verilog proven
// equal to them is equal to what the reference computes.
// Operands are the bits the units' ports carry (a 4-bit E2M1 code in the low bits of a byte).
#pragma once

#include <cstdint>

#include "numerics/block_formats.hpp"

namespace quasar::units {

// A block dot product: I = sum_k elem_int(x_k) * elem_int(w_k), exact (|I| < 2^28 for every
// element pair of the spec), and how many of the 2n codes were invalid (each contributes 0).
struct BlockDot {
  std::int32_t sum = 0;
  int n_invalid = 0;
};
BlockDot block_dot(BlockElem w_fmt, const std::uint8_t* w, BlockElem x_fmt, const std::uint8_t* x,
                   int n);

// mx_dot_e2m1_e4m3: 32 E2M1 weights x 32 E4M3 activations (w4a8-mx), I in units of 2^-10.
struct MxDotE2m1E4m3 {
  static constexpr int kLanes = 32;
  static constexpr int kUnit = block_unit(BlockElem::e4m3, BlockElem::e2m1);
  static BlockDot step(const std::uint8_t* w, const std::uint8_t* x) {
    return block_dot(BlockElem::e2m1, w, BlockElem::e4m3, x, kLanes);
  }
};

// mx_dot_e2m1_e2m1: n E2M1 x n E2M1 (32: w4a4-mxfp4, 16: w4a4-nvfp4), I in units of 2^-2. No
// E2M1 code is invalid.
struct MxDotE2m1E2m1 {
  static constexpr int kUnit = block_unit(BlockElem::e2m1, BlockElem::e2m1);
  static BlockDot step(const std::uint8_t* w, const std::uint8_t* x, int n) {
    return block_dot(BlockElem::e2m1, w, BlockElem::e2m1, x, n);
  }
};

// mx_dot_int8: 32 MXINT8 x 32 MXINT8 (w8a8-mxint8), I in units of 2^-12; -128 is invalid.
struct MxDotInt8 {
  static constexpr int kLanes = 32;
  static constexpr int kUnit = block_unit(BlockElem::mxint8, BlockElem::mxint8);
  static BlockDot step(const std::uint8_t* w, const std::uint8_t* x) {
    return block_dot(BlockElem::mxint8, w, BlockElem::mxint8, x, kLanes);
  }
};

// mx_fixed_acc: acc_out = wrap(acc_in + c), c = block_term_fixed(I, mx_block_shift(sx, sw, unit)
// + frac_bits, acc_bits). overflow: the term did not fit, or the add wrapped. A 255 scale code:
// c = 0, acc_out = acc_in, only invalid_scale raised. acc_in must lie in the acc_bits range.
struct MxFixedStep {
  std::int64_t acc = 0;
  bool overflow = false;
  bool align_round = false;
  bool invalid_scale = false;
};
struct MxFixedAcc {
  static MxFixedStep step(std::int64_t acc_in, std::int32_t sum, std::uint8_t sx, std::uint8_t sw,
                          int unit, int acc_bits, int frac_bits);
};

// mx_fp32_acc: term = block_term_fp32(I, mx_block_shift(sx, sw, unit)); acc_out = acc_in + term
// in C++ floats (RNE, -ffp-contract=off), NaN canonicalized as units::canonical_f32_bits does
// (the RTL's fp32_add returns one NaN). A 255 scale code: acc_out = acc_in bit for bit (the
// block is skipped, no add happens) and invalid_scale.
struct MxFp32Step {
  std::uint32_t acc = 0;
  std::uint32_t term = 0;  // the term's bits, whatever the scale codes
  bool invalid_scale = false;
};
struct MxFp32Acc {
  static MxFp32Step step(std::uint32_t acc_in, std::int32_t sum, std::uint8_t sx, std::uint8_t sw,
                         int unit);
};

// nvfp4_fp32_acc (w4a4-nvfp4): scale = nvfp4_scale_product(sx, sw) (exact), term =
// nvfp4_block_term(I, sx, sw) = F32(F32(I) * scale), acc_out = acc_in + term in C++ floats (RNE,
// -ffp-contract=off), NaN canonicalized as MxFp32Acc. No invalid_scale: the reference rejects an
// E4M3 NaN or negative block scale before the GEMM (an OperandError, not a counted event), so
// every code pair is computed as nvfp4_block_term computes it (a NaN code is worth 0, a set sign
// bit makes the scale negative).
struct Nvfp4Fp32Step {
  std::uint32_t acc = 0;
  std::uint32_t term = 0;   // F32(F32(I) * scale)
  std::uint32_t scale = 0;  // S_x * S_w
};
struct Nvfp4Fp32Acc {
  static Nvfp4Fp32Step step(std::uint32_t acc_in, std::int32_t sum, std::uint8_t sx,
                            std::uint8_t sw);
};

}  // namespace quasar::units
