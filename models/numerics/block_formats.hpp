// The element and scale codes of the block-scaled formats (arithmetic spec §5: OCP MX v1.0 and
// NVFP4) as exact integers. Every element is an integer times a fixed power of two, so a block's
// dot product is an exact integer; this header is the one decode every implementation uses (the
// reference, the accelerator datapath, the CUDA kernels, and the C++ models the Verilog block
// units are proven against). Inline and host/device for that reason.
//   E2M1  s.ee.m, bias 1:  value = a * 2^-1,  a in {0, +-1, +-2, +-3, +-4, +-6, +-8, +-12}
//   E4M3  s.eeee.mmm, bias 7, subnormals; S.1111.111 is NaN, no inf:
//         value = j * 2^-9,  j = m << (e - 1), e = max(field, 1), m = 8 + mant (normal) or mant
//   INT8  (MXINT8) two's complement with an implicit 2^-6: value = k * 2^-6, k in [-127, 127];
//         -128 is invalid [spec choice]
//   E8M0  (MX scale) 2^(e - 127), e in 0..254; 255 is NaN (invalid)
// E5M2 is in the spec's table but no scheme uses it: it is not decoded here.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "float_formats.hpp"
#include "hd.hpp"
#include "int_formats.hpp"

namespace quasar {

enum class BlockElem : std::uint8_t { e2m1, e4m3, mxint8 };

// value = elem_int(code) * 2^-elem_frac_bits: the fixed unit each format's integers count in.
QUASAR_HD constexpr int elem_frac_bits(BlockElem f) {
  return f == BlockElem::e2m1 ? 1 : f == BlockElem::e4m3 ? 9 : 6;
}
// The exponent of the largest normal (the MX scale rule subtracts it from amax's exponent).
QUASAR_HD constexpr int elem_emax(BlockElem f) {
  return f == BlockElem::e2m1 ? 2 : f == BlockElem::e4m3 ? 8 : 0;
}
// Stored bits per element.
QUASAR_HD constexpr int elem_bits(BlockElem f) { return f == BlockElem::e2m1 ? 4 : 8; }
// The largest finite magnitude as an integer of the format's unit (6, 448, 127/64).
QUASAR_HD constexpr std::int32_t elem_max_int(BlockElem f) {
  return f == BlockElem::e2m1 ? 12 : f == BlockElem::e4m3 ? 229376 : 127;
}

// Is the code a valid element of the format? (E2M1: 4-bit codes; E4M3: not the NaN pattern;
// MXINT8: not -128.)
QUASAR_HD constexpr bool elem_valid(BlockElem f, std::uint8_t code) {
  return f == BlockElem::e2m1 ? code < 16
         : f == BlockElem::e4m3 ? (code & 0x7f) != 0x7f
                                : code != 0x80;
}

// The integer of a valid code (an invalid one decodes to 0; callers count it first).
QUASAR_HD constexpr std::int32_t elem_int(BlockElem f, std::uint8_t code) {
  if (!elem_valid(f, code)) return 0;
  if (f == BlockElem::mxint8) return static_cast<std::int8_t>(code);
  if (f == BlockElem::e2m1) {
    const int e = (code >> 1) & 3, m = code & 1;
    const std::int32_t a = e == 0 ? m : (2 + m) << (e - 1);
    return (code & 8) ? -a : a;
  }
  const int field = (code >> 3) & 15, mant = code & 7;
  const int e = field == 0 ? 1 : field;
  const std::int32_t m = field == 0 ? mant : 8 + mant;
  const std::int32_t j = m << (e - 1);
  return (code & 0x80) ? -j : j;
}

// E8M0: is the scale code valid (not 255), and its exponent e - 127 in [-127, 127].
QUASAR_HD constexpr bool e8m0_valid(std::uint8_t code) { return code != 0xff; }
QUASAR_HD constexpr int e8m0_exp(std::uint8_t code) { return static_cast<int>(code) - 127; }

// The value of an E4M3 code (an NVFP4 block scale) as binary32: exact (j * 2^-9, |j| <= 229376).
QUASAR_HD inline float e4m3_value(std::uint8_t code) {
  return static_cast<float>(elem_int(BlockElem::e4m3, code)) * detail::float_of(0x3b000000u);
}

// ---------------------------------------------------------------------------------------------
// Encoding (the quantizers of spec §5). Inline and host/device: an accelerator or GPU path that
// quantizes activations at run time must round exactly as the reference does.

// RNE of an exact value to an element code, saturating to +- the largest finite value. The
// value v is a double so the caller's V / X (MX, a power of two) is exact. The rounding is done
// on the format's integer unit (elem_frac_bits): t = |v| * 2^frac is exact, the grid step at t
// is 2^(max(floor(log2 t), M) - M) with M the mantissa bits (E2M1 1, E4M3 3; MXINT8 has step 1
// everywhere, M = 7 covers its whole range), so rounding t / step to an integer with ties to
// even is ties to the even mantissa LSB, also at a binade's upper edge (1.75 -> 2, 5 -> 4).
// A result beyond the largest value saturates (`saturated`); 464 in E4M3 ties to 448 and does
// not. The sign of zero follows v for E2M1 and E4M3 (-0.2 -> the -0 code) [choice: IEEE-like;
// it never changes an integer sum]; MXINT8 has one zero. A NaN v saturates (callers reject it).
struct ElemCode {
  std::uint8_t code = 0;
  bool saturated = false;
};
QUASAR_HD inline ElemCode elem_encode(BlockElem f, double v) {
  const bool neg = std::signbit(v);
  // Exact: multiplying by a power of two (2, 512 or 64) only moves the exponent.
  const double t = (neg ? -v : v) * static_cast<double>(1 << elem_frac_bits(f));
  const std::int32_t max = elem_max_int(f);
  std::int64_t j;  // the magnitude as an integer of the unit
  bool sat = false;
  if (!(t <= 2.0 * max)) {  // far beyond the range (or NaN): no need to round
    j = max;
    sat = true;
  } else if (t <= 0.5) {  // below half the smallest step, or the tie at it: 0 (even)
    j = 0;
  } else {
    // t in (0.5, 2^19] is a normal double: floor(log2 t) is its exponent field minus the bias
    // (bits, not frexp/ldexp: the quantizers call this for every element of a model).
    std::uint64_t bits;
    std::memcpy(&bits, &t, sizeof bits);
    const int lg = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
    const int mant_bits = f == BlockElem::e2m1 ? 1 : f == BlockElem::e4m3 ? 3 : 7;
    const int step = lg > mant_bits ? lg - mant_bits : 0;
    const double q = t / static_cast<double>(std::int64_t{1} << step);  // exact: a power of two
    // q >= 0: the cast is floor, and the remainder is exact.
    std::int64_t n = static_cast<std::int64_t>(q);
    const double rem = q - static_cast<double>(n);
    if (rem > 0.5 || (rem == 0.5 && (n & 1))) ++n;
    j = n << step;
    if (j > max) {
      j = max;
      sat = true;
    }
  }
  ElemCode r;
  r.saturated = sat;
  if (f == BlockElem::mxint8) {
    r.code = static_cast<std::uint8_t>(static_cast<std::int8_t>(neg ? -j : j));
    return r;
  }
  // The code of magnitude j: below 2^(M+1) the field is 0 (subnormal, j = m) or 1 (j = 2^M + m),
  // and in both cases the code's low bits are j itself; above, field e has j = (2^M + m) << (e-1).
  const int mant_bits = f == BlockElem::e2m1 ? 1 : 3;
  std::uint8_t mag;
  if (j < (std::int64_t{1} << (mant_bits + 1))) {
    mag = static_cast<std::uint8_t>(j);
  } else {
    int lg = 0;  // floor(log2 j)
    while ((j >> (lg + 1)) != 0) ++lg;
    const int e = lg - mant_bits + 1;
    const std::int64_t m = (j >> (e - 1)) - (std::int64_t{1} << mant_bits);
    mag = static_cast<std::uint8_t>((e << mant_bits) | m);
  }
  const std::uint8_t sign = f == BlockElem::e2m1 ? 0x8 : 0x80;
  r.code = static_cast<std::uint8_t>(mag | (neg ? sign : 0));
  return r;
}

// The MX shared exponent of a block (OCP v1.0 §6.3): floor(log2(amax)) - emax_elem, from amax's
// bit pattern (the exponent field, or for a subnormal the position of the leading one), never a
// float log2; clamped to [-127, 127]; amax = 0 gives -127. amax must be finite and >= 0.
QUASAR_HD inline int mx_shared_exp(float amax, BlockElem f) {
  const std::uint32_t a = detail::bits_of(amax) & 0x7fffffffu;
  if (a == 0) return -127;
  const int field = static_cast<int>(a >> 23);
  int lg;  // floor(log2(amax))
  if (field != 0) {
    lg = field - 127;
  } else {  // subnormal: mantissa * 2^-149
    int top = 22;
    while (((a >> top) & 1u) == 0) --top;
    lg = top - 149;
  }
  const int e = lg - elem_emax(f);
  return e < -127 ? -127 : e > 127 ? 127 : e;
}
// The E8M0 code of a shared exponent in [-127, 127].
QUASAR_HD constexpr std::uint8_t e8m0_code(int shared_exp) {
  return static_cast<std::uint8_t>(shared_exp + 127);
}

// ---------------------------------------------------------------------------------------------
// Accumulating blocks (spec §5). A block's products sum to an exact integer I (|I| < 2^28 for
// every element pair), worth I * 2^s with s = e_x + e_w - 254 - u for MX (e_x, e_w the E8M0
// codes, u = elem_frac_bits(x) + elem_frac_bits(w)). These steps are the whole per-block
// arithmetic of both hardware options; the reference, the datapath, CUDA and the Verilog
// units' C++ models call them, so there is one definition of each rounding.

// The two hardware options of the spec, chosen per design (and recorded per trace layer).
enum class BlockAcc : std::uint8_t { fp32, fixed };
// [choice] The fixed accumulator's width and fraction bits where a design or trace does not give
// them (the spec leaves both to the design): 48 bits with 24 fraction bits, docs/numerics.md.
inline constexpr int kBlockAccBits = 48;
inline constexpr int kBlockFracBits = 24;

// The width of a block's exact integer sum I_b: the bits of its largest magnitude, block * the
// two formats' largest integers, plus the sign (E2M1 x E4M3 over 32: 28; E2M1 x E2M1: 14 over
// 32, 13 over 16; MXINT8: 20). The block sum's adds are counted at this width.
QUASAR_HD constexpr int block_sum_bits(BlockElem x, BlockElem w, unsigned block) {
  std::uint64_t m = static_cast<std::uint64_t>(block) * static_cast<std::uint64_t>(elem_max_int(x)) *
                    static_cast<std::uint64_t>(elem_max_int(w));
  int b = 1;
  while (m) ++b, m >>= 1;
  return b;
}

// The product unit u of an element pair: the integer sum counts in 2^-u.
QUASAR_HD constexpr int block_unit(BlockElem x, BlockElem w) {
  return elem_frac_bits(x) + elem_frac_bits(w);
}
// s of an MX block pair.
QUASAR_HD constexpr int mx_block_shift(std::uint8_t scale_x, std::uint8_t scale_w, int unit) {
  return static_cast<int>(scale_x) + static_cast<int>(scale_w) - 254 - unit;
}

// F32 of an exact double: one RNE (IEEE subnormals, overflow to inf). The overflow bound is
// checked before narrowing, since a finite double beyond float's range is undefined behaviour
// to convert: values at or above the midpoint between FLT_MAX and 2^128 round to inf.
QUASAR_HD inline float f32_of_exact(double v) {
  const double kInfBound = std::ldexp(2.0 - std::ldexp(1.0, -24), 127);
  if (v >= kInfBound) return detail::float_of(0x7f800000u);
  if (v <= -kInfBound) return detail::float_of(0xff800000u);
  return static_cast<float>(v);
}

// The fp16 output of a block-scaled GEMM. An output that is NaN (opposite infinite block terms
// in fp32 mode) is the canonical quiet NaN 0x7e00, whatever NaN the fp32 add made: x86 gives
// -qNaN (0xffc00000), CUDA 0x7fffffff, the datapath's units the canonical NaN. The spec leaves
// NaN bits open; this makes the reference, the CUDA path and the datapath agree (numerics.md,
// row 50).
QUASAR_HD inline std::uint16_t block_output_f16(float v) {
  const std::uint16_t h = f32_to_f16(v);
  return (h & 0x7fffu) > 0x7c00u ? std::uint16_t{0x7e00u} : h;
}

// `block_acc: fp32`: the term F32(I * 2^s), one RNE of the exact value. I * 2^s is exact in
// double (|I| < 2^28, s in [-266, 254]).
QUASAR_HD inline float block_term_fp32(std::int32_t sum, int s) {
  return f32_of_exact(std::ldexp(static_cast<double>(sum), s));
}

// `block_acc: fixed`: c = I * 2^(s + frac_bits) as an acc_bits two's-complement value. A left
// shift is exact and wraps to acc_bits (`overflow` when it did not fit); a right shift rounds to
// nearest, ties to even, and `rounded` says a non-zero remainder was discarded (the spec's
// align_round event).
struct FixedTerm {
  std::int64_t value = 0;
  bool rounded = false;
  bool overflow = false;
};
QUASAR_HD inline FixedTerm block_term_fixed(std::int32_t sum, int shift, int acc_bits) {
  FixedTerm t;
  if (shift >= 0) {
    // |I| < 2^31: a shift of 64 or more leaves no bit below 2^64 >= 2^acc_bits. A multiply, not
    // <<: shifting a negative value left is undefined in C++17 (the product is below 2^94).
    const int128_t exact = shift >= 64 ? 0 : static_cast<int128_t>(sum) * (int128_t{1} << shift);
    t.overflow = shift >= 64 ? sum != 0 : !fits_signed(exact, acc_bits);
    t.value = wrap_signed(exact, acc_bits);
    return t;
  }
  const int sh = -shift;
  if (sh >= 40) {  // |I| * 2^-sh < 2^-9: rounds to 0
    t.rounded = sum != 0;
    return t;
  }
  const std::int64_t v = sum;
  const std::int64_t q = v >> sh;  // floor (arithmetic shift)
  const std::int64_t r = v - q * (std::int64_t{1} << sh);
  const std::int64_t half = std::int64_t{1} << (sh - 1);
  t.value = q + ((r > half || (r == half && (q & 1))) ? 1 : 0);
  t.rounded = r != 0;
  t.overflow = !fits_signed(t.value, acc_bits);
  t.value = wrap_signed(t.value, acc_bits);
  return t;
}
// The fixed accumulator's result: F32(F32(acc) * 2^-frac_bits), frac_bits in [0, 126].
QUASAR_HD inline float fixed_acc_to_f32(std::int64_t acc, int frac_bits) {
  const float a = static_cast<float>(acc);
  return a * detail::float_of(static_cast<std::uint32_t>(127 - frac_bits) << 23);
}

// NVFP4: the scale product S_x * S_w of two E4M3 block-scale codes, exact in binary32 (4-bit
// significands: an 8-bit product, 2^-18 .. 448^2).
QUASAR_HD inline float nvfp4_scale_product(std::uint8_t scale_x, std::uint8_t scale_w) {
  return e4m3_value(scale_x) * e4m3_value(scale_w);
}
// NVFP4: the term F32(F32(I) * F32(S_x * S_w)); F32(I) and S_x * S_w are exact (|I| <= 2304,
// E4M3 significands of 4 bits), so one rounding. The result: F32(F32(acc * 2^-u) * F32(s_tx *
// s_tw)).
QUASAR_HD inline float nvfp4_block_term(std::int32_t sum, std::uint8_t scale_x, std::uint8_t scale_w) {
  return static_cast<float>(sum) * nvfp4_scale_product(scale_x, scale_w);
}
QUASAR_HD inline float nvfp4_result(float acc, int unit, float tensor_scale_x, float tensor_scale_w) {
  const float a = acc * detail::float_of(static_cast<std::uint32_t>(127 - unit) << 23);
  return a * (tensor_scale_x * tensor_scale_w);
}

}  // namespace quasar
