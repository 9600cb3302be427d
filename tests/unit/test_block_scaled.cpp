// Is the block-scaled reference (arithmetic spec §5: OCP MX and NVFP4) right? Element and scale
// values against hand tables from the spec, the encoders' ties and saturation, both quantizers
// on blocks worked out by hand, the GEMM on small cases worked out by hand for every element
// pair and accumulation mode, a slow independent oracle (the spec's roundings applied one by one
// to exact block values in double) on random tensors, and every check's error message.
//
// fp16 codes in comments: sign | (exponent + 15) << 10 | mantissa * 1024.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "numerics/block_formats.hpp"
#include "numerics/block_scaled.hpp"
#include "numerics/counters.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {
namespace {

using ::testing::HasSubstr;

// ---------------------------------------------------------------------------------------------
// Hand tables and an independent decode (from the spec's table, not from block_formats.hpp)

// E2M1: s.ee.m, bias 1: +-{0, 0.5, 1, 1.5, 2, 3, 4, 6}.
constexpr std::array<double, 16> kE2m1{0.0,  0.5,  1.0,  1.5,  2.0,  3.0,  4.0,  6.0,
                                       -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0};

// E4M3: s.eeee.mmm, bias 7; field 0 is subnormal m/8 * 2^-6; S.1111.111 is NaN.
double e4m3_ref(std::uint8_t c) {
  if ((c & 0x7f) == 0x7f) return NAN;
  const int e = (c >> 3) & 15, m = c & 7;
  const double mag = e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1.0 + m / 8.0, e - 7);
  return (c & 0x80) ? -mag : mag;
}
double mxint8_ref(std::uint8_t c) { return c == 0x80 ? NAN : static_cast<std::int8_t>(c) / 64.0; }
double elem_ref(BlockElem f, std::uint8_t c) {
  if (f == BlockElem::e2m1) return c < 16 ? kE2m1[c] : NAN;
  return f == BlockElem::e4m3 ? e4m3_ref(c) : mxint8_ref(c);
}

// F32 with RNE and IEEE overflow of an exact double (a plain cast is undefined out of range).
float f32(double v) {
  const double half_above_max = std::ldexp(2.0 - std::ldexp(1.0, -24), 127);
  if (v >= half_above_max) return INFINITY;
  if (v <= -half_above_max) return -INFINITY;
  return static_cast<float>(v);
}

BlockTensor tensor(BlockElem e, BlockScale s, std::size_t rows, std::size_t K) {
  BlockTensor t;
  t.elem = e;
  t.scale = s;
  t.block = s == BlockScale::e8m0 ? 32 : 16;
  t.codes = MatrixU8(rows, K);
  t.scales = MatrixU8(rows, K / t.block, s == BlockScale::e8m0 ? 127 : 0x38);  // 1.0
  return t;
}

std::uint16_t h(const GemmResult& r, std::size_t m, std::size_t n) { return r.y(m, n); }

// ---------------------------------------------------------------------------------------------
// Element and scale values

TEST(BlockElements, E2m1AllSixteenCodes) {
  for (int c = 0; c < 16; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    ASSERT_TRUE(elem_valid(BlockElem::e2m1, code)) << c;
    EXPECT_EQ(elem_int(BlockElem::e2m1, code) * 0.5, kE2m1[c]) << c;
  }
  EXPECT_FALSE(elem_valid(BlockElem::e2m1, 16));
  EXPECT_FALSE(elem_valid(BlockElem::e2m1, 0xff));
}

TEST(BlockElements, E4m3HandTable) {
  // {code, value}: zero, subnormals 2^-9 .. 7 * 2^-9, smallest normal 2^-6, the last field-1
  // value 1.875 * 2^-6, 1, 1.5, 2, 8, 20, the largest 448, negatives.
  const std::vector<std::pair<int, double>> table{
      {0x00, 0.0},   {0x01, 1.0 / 512}, {0x07, 7.0 / 512},  {0x08, 1.0 / 64}, {0x0f, 1.875 / 64},
      {0x38, 1.0},   {0x3c, 1.5},       {0x40, 2.0},        {0x50, 8.0},      {0x5a, 20.0},
      {0x7e, 448.0}, {0xfe, -448.0},    {0x81, -1.0 / 512}, {0xb8, -1.0}};
  for (const auto& [code, v] : table) {
    const auto c = static_cast<std::uint8_t>(code);
    ASSERT_TRUE(elem_valid(BlockElem::e4m3, c)) << code;
    EXPECT_EQ(std::ldexp(static_cast<double>(elem_int(BlockElem::e4m3, c)), -9), v) << code;
    EXPECT_EQ(static_cast<double>(e4m3_value(c)), v) << code;
  }
  EXPECT_FALSE(elem_valid(BlockElem::e4m3, 0x7f));  // S.1111.111 = NaN, both signs
  EXPECT_FALSE(elem_valid(BlockElem::e4m3, 0xff));
  EXPECT_TRUE(elem_valid(BlockElem::e4m3, 0x78));  // 256: no inf pattern, field 15 is normal
  EXPECT_EQ(elem_int(BlockElem::e4m3, 0x78), 256 * 512);
}

TEST(BlockElements, Mxint8AndE8m0) {
  EXPECT_EQ(elem_int(BlockElem::mxint8, 0x7f), 127);  // 127/64
  EXPECT_EQ(elem_int(BlockElem::mxint8, 0x81), -127);
  EXPECT_EQ(elem_int(BlockElem::mxint8, 0x01), 1);
  EXPECT_EQ(elem_int(BlockElem::mxint8, 0xff), -1);
  EXPECT_FALSE(elem_valid(BlockElem::mxint8, 0x80));  // -128 unused [spec choice]
  EXPECT_EQ(elem_frac_bits(BlockElem::mxint8), 6);
  EXPECT_EQ(e8m0_exp(0), -127);
  EXPECT_EQ(e8m0_exp(127), 0);
  EXPECT_EQ(e8m0_exp(254), 127);
  EXPECT_TRUE(e8m0_valid(254));
  EXPECT_FALSE(e8m0_valid(255));
}

// ---------------------------------------------------------------------------------------------
// Encoders

TEST(BlockEncoders, RoundTripEveryCode) {
  for (BlockElem f : {BlockElem::e2m1, BlockElem::e4m3, BlockElem::mxint8}) {
    const int codes = f == BlockElem::e2m1 ? 16 : 256;
    for (int c = 0; c < codes; ++c) {
      const auto code = static_cast<std::uint8_t>(c);
      const double v = elem_ref(f, code);
      if (std::isnan(v)) continue;
      const ElemCode e = elem_encode(f, v);
      EXPECT_EQ(e.code, code) << "format " << static_cast<int>(f) << " value " << v;
      EXPECT_FALSE(e.saturated) << c;
    }
  }
}

TEST(BlockEncoders, TiesGoToTheEvenMantissa) {
  // E2M1 grid 0, 0.5, 1, 1.5, 2, 3, 4, 6: ties go to the code with mantissa bit 0, also where
  // the even neighbour is the next binade's first value (1.75 -> 2, 3.5 -> 4) and where it is
  // the lower one (5 -> 4, 2.5 -> 2).
  const std::vector<std::pair<double, int>> e2m1{{0.25, 0x0}, {0.75, 0x2}, {1.25, 0x2}, {1.75, 0x4},
                                                 {2.5, 0x4},  {3.5, 0x6},  {5.0, 0x6},  {-5.0, 0xe},
                                                 {2.75, 0x5}, {0.3, 0x1},  {-0.2, 0x8}, {6.9, 0x7}};
  for (const auto& [v, code] : e2m1) {
    const ElemCode e = elem_encode(BlockElem::e2m1, v);
    EXPECT_EQ(e.code, code) << v;
    EXPECT_FALSE(e.saturated) << v;
  }
  // E4M3: subnormal ties (2^-10 -> 0, 3 * 2^-10 -> 2^-8, 5 * 2^-10 -> 2^-8), the subnormal/
  // normal edge (15.5 units -> 16 = 2^-5), normal ties, and 464 (between 448 and the 480 the
  // format lacks) ties down to 448 with no saturation.
  const std::vector<std::pair<double, int>> e4m3{{std::ldexp(1.0, -10), 0x00},
                                                 {std::ldexp(3.0, -10), 0x02},
                                                 {std::ldexp(5.0, -10), 0x02},
                                                 {std::ldexp(15.5, -9), 0x10},
                                                 {1.0625, 0x38},
                                                 {1.1875, 0x3a},
                                                 {300.0, 0x79},
                                                 {464.0, 0x7e},
                                                 {-464.0, 0xfe}};
  for (const auto& [v, code] : e4m3) {
    const ElemCode e = elem_encode(BlockElem::e4m3, v);
    EXPECT_EQ(e.code, code) << v;
    EXPECT_FALSE(e.saturated) << v;
  }
  // MXINT8: k = RNE(64 v).
  const std::vector<std::pair<double, int>> i8{{0.5 / 64, 0x00},   {1.5 / 64, 0x02},
                                               {2.5 / 64, 0x02},   {-2.5 / 64, 0xfe},
                                               {127.4 / 64, 0x7f}, {-0.4 / 64, 0x00}};
  for (const auto& [v, code] : i8) {
    const ElemCode e = elem_encode(BlockElem::mxint8, v);
    EXPECT_EQ(e.code, code) << v;
    EXPECT_FALSE(e.saturated) << v;
  }
}

TEST(BlockEncoders, SaturationIsFlagged) {
  // {format, value, code}: 7 ties to 8, which E2M1 lacks; values far out; 127.5/64 rounds to 128.
  const std::vector<std::tuple<BlockElem, double, int>> cases{
      {BlockElem::e2m1, 7.0, 0x7},     {BlockElem::e2m1, 100.0, 0x7},
      {BlockElem::e2m1, -1e30, 0xf},   {BlockElem::e4m3, 464.01, 0x7e},
      {BlockElem::e4m3, -1e9, 0xfe},   {BlockElem::mxint8, 127.5 / 64, 0x7f},
      {BlockElem::mxint8, -3.0, 0x81}, {BlockElem::e2m1, INFINITY, 0x7}};
  for (const auto& [f, v, code] : cases) {
    const ElemCode e = elem_encode(f, v);
    EXPECT_EQ(e.code, code) << v;
    EXPECT_TRUE(e.saturated) << v;
  }
}

// ---------------------------------------------------------------------------------------------
// MX quantizer

TEST(MxQuantizer, SharedExponentFromTheBitPattern) {
  EXPECT_EQ(mx_shared_exp(1.0f, BlockElem::e2m1), -2);  // floor(log2 1) - 2
  // Just below 2: a float log2 rounds to 1.0; the exponent field says 0.
  EXPECT_EQ(mx_shared_exp(std::nextafter(2.0f, 0.0f), BlockElem::e2m1), -2);
  EXPECT_EQ(mx_shared_exp(2.0f, BlockElem::e4m3), -7);
  EXPECT_EQ(mx_shared_exp(0.75f, BlockElem::mxint8), -1);
  EXPECT_EQ(mx_shared_exp(FLT_MAX, BlockElem::e2m1), 125);
  EXPECT_EQ(mx_shared_exp(0.0f, BlockElem::e4m3), -127);  // amax = 0
  // Subnormal amax: the leading one's position. 2^-127 (bit 22) with emax 0 is exactly -127;
  // 3 * 2^-140 has floor(log2) = -139, clamped to -127.
  EXPECT_EQ(mx_shared_exp(std::ldexp(1.0f, -127), BlockElem::mxint8), -127);
  EXPECT_EQ(mx_shared_exp(std::ldexp(3.0f, -140), BlockElem::mxint8), -127);
  EXPECT_EQ(mx_shared_exp(std::ldexp(1.0f, -125), BlockElem::mxint8), -125);
  EXPECT_EQ(mx_shared_exp(std::ldexp(1.0f, -125), BlockElem::e2m1), -127);  // -127 clamped
  EXPECT_EQ(e8m0_code(-127), 0);
  EXPECT_EQ(e8m0_code(127), 254);
}

TEST(MxQuantizer, KnownBlocksByHand) {
  MatrixF v(4, 32, 0.0f);
  // Row 0, E2M1: amax 13.9, floor(log2) = 3, shared_exp = 3 - 2 = 1, X = 2 (E8M0 128).
  // 12/2 = 6 -> 0x7; -7/2 = -3.5 ties to -4 -> 0xe; 1/2 = 0.5 -> 0x1; 2.9/2 = 1.45 -> 1.5
  // -> 0x3; 13.9/2 = 6.95 -> 6 (below the 7 midpoint, not saturated) -> 0x7.
  const std::vector<float> r0{12.0f, -7.0f, 1.0f, 2.9f, 13.9f};
  // Row 1: amax 15.5 -> X = 2; 15.5/2 = 7.75 saturates to 6 (counted).
  const std::vector<float> r1{15.5f, 0.1f};
  for (std::size_t i = 0; i < r0.size(); ++i) v(0, i) = r0[i];
  for (std::size_t i = 0; i < r1.size(); ++i) v(1, i) = r1[i];
  // Row 2: all zero -> shared_exp -127 (E8M0 0), codes 0. Row 3: subnormal amax 2^-140 ->
  // clamped -127, and 2^-140 / 2^-127 = 2^-13 rounds to 0.
  v(3, 5) = std::ldexp(1.0f, -140);
  BlockQuantStats st;
  const BlockTensor t = quantize_mx(v, BlockElem::e2m1, "x", &st);
  EXPECT_EQ(t.scales(0, 0), 128);
  const std::vector<int> c0{0x7, 0xe, 0x1, 0x3, 0x7};
  for (std::size_t i = 0; i < c0.size(); ++i) EXPECT_EQ(t.codes(0, i), c0[i]) << i;
  EXPECT_EQ(t.scales(1, 0), 128);
  EXPECT_EQ(t.codes(1, 0), 0x7);
  EXPECT_EQ(t.codes(1, 1), 0x0);  // 0.05 -> 0
  EXPECT_EQ(t.scales(2, 0), 0);
  EXPECT_EQ(t.scales(3, 0), 0);
  EXPECT_EQ(t.codes(3, 5), 0x0);
  EXPECT_EQ(st.saturated, 1u);
  EXPECT_EQ(st.zero_scale_blocks, 0u);
  EXPECT_EQ(t.tensor_scale, 1.0f);

  // E4M3: amax 500 -> floor(log2) 8 - emax 8 = 0, X = 1: 300 -> 288 (0x79), 500 saturates.
  MatrixF e(1, 32, 0.0f);
  e(0, 0) = 300.0f;
  e(0, 1) = 500.0f;
  e(0, 2) = -0.001f;  // 0.001 = 0.512 * 2^-9 -> 2^-9, sign kept (0x81)
  BlockQuantStats se;
  const BlockTensor te = quantize_mx(e, BlockElem::e4m3, "x", &se);
  EXPECT_EQ(te.scales(0, 0), 127);
  EXPECT_EQ(te.codes(0, 0), 0x79);
  EXPECT_EQ(te.codes(0, 1), 0x7e);
  EXPECT_EQ(te.codes(0, 2), 0x81);
  EXPECT_EQ(se.saturated, 1u);

  // MXINT8: amax 0.75 -> floor(log2) -1, X = 0.5 (E8M0 126): 0.75/0.5 * 64 = 96; 0.1 -> 12.8
  // -> 13; -0.3 -> -38.4 -> -38 (0xda).
  MatrixF q(1, 32, 0.0f);
  q(0, 0) = 0.75f;
  q(0, 1) = 0.1f;
  q(0, 2) = -0.3f;
  const BlockTensor tq = quantize_mx(q, BlockElem::mxint8, "x");
  EXPECT_EQ(tq.scales(0, 0), 126);
  EXPECT_EQ(tq.codes(0, 0), 96);
  EXPECT_EQ(tq.codes(0, 1), 13);
  EXPECT_EQ(tq.codes(0, 2), 0xda);

  // The values come back exactly.
  const MatrixF d = dequantize(t);
  EXPECT_EQ(d(0, 0), 12.0f);
  EXPECT_EQ(d(0, 1), -8.0f);
  EXPECT_EQ(d(0, 3), 3.0f);
  EXPECT_EQ(d(1, 0), 12.0f);
  EXPECT_EQ(dequantize(tq)(0, 2), -38.0f / 128.0f);
}

TEST(MxQuantizer, BadInputIsNamed) {
  MatrixF v(2, 32, 1.0f);
  v(1, 7) = NAN;
  EXPECT_THAT([&] { quantize_mx(v, BlockElem::e2m1, "x"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("tensor 'x': element [1, 7] is NaN")));
  EXPECT_THAT([&] { quantize_mx(MatrixF(1, 40), BlockElem::e2m1, "w"); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("tensor 'w': K = 40 is not a multiple of the block size 32")));
  EXPECT_THAT([&] { quantize_nvfp4(MatrixF(1, 24), "w"); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("tensor 'w': K = 24 is not a multiple of the block size 16")));
}

// ---------------------------------------------------------------------------------------------
// NVFP4 quantizer

TEST(Nvfp4Quantizer, KnownAnswer) {
  MatrixF v(1, 48, 0.0f);
  // amax 2688 -> s_t = F32(2688 / 2688) = 1.
  // Block 0: amax_b 2688 -> S_b = 448 (0x7e), d = 448: 2688 -> 6 (0x7), 448 -> 1 (0x2),
  // -1000 -> -2.23 -> -2 (0xc), 700 -> 1.5625 -> 1.5 (0x3).
  v(0, 0) = 2688.0f, v(0, 1) = 448.0f, v(0, 2) = -1000.0f, v(0, 3) = 700.0f;
  // Block 1: amax_b 3 -> S_b = 0.5 (0x30), d = 0.5: 3 -> 6 (0x7), 1 -> 2 (0x4), 0.3 -> 0.6
  // -> 0.5 (0x1), -0.8 -> -1.6 -> -1.5 (0xb).
  v(0, 16) = 3.0f, v(0, 17) = 1.0f, v(0, 18) = 0.3f, v(0, 19) = -0.8f;
  // Block 2: amax_b 10 -> F32(10/6) = 1.6666666 -> E4M3 1.625 (0x3d, nearer than 1.75);
  // d = 1.625: 10 -> 6.15 -> 6 (0x7), 5 -> 3.08 -> 3 (0x5).
  v(0, 32) = 10.0f, v(0, 33) = 5.0f;
  BlockQuantStats st;
  const BlockTensor t = quantize_nvfp4(v, "w", &st);
  EXPECT_EQ(t.elem, BlockElem::e2m1);
  EXPECT_EQ(t.scale, BlockScale::e4m3);
  EXPECT_EQ(t.block, 16u);
  EXPECT_EQ(t.tensor_scale, 1.0f);
  EXPECT_EQ(t.scales(0, 0), 0x7e);
  EXPECT_EQ(t.scales(0, 1), 0x30);
  EXPECT_EQ(t.scales(0, 2), 0x3d);
  const std::vector<std::pair<std::size_t, int>> codes{{0, 0x7},  {1, 0x2},  {2, 0xc},  {3, 0x3},
                                                       {16, 0x7}, {17, 0x4}, {18, 0x1}, {19, 0xb},
                                                       {32, 0x7}, {33, 0x5}, {40, 0x0}};
  for (const auto& [k, c] : codes) EXPECT_EQ(t.codes(0, k), c) << k;
  EXPECT_EQ(st.saturated, 0u);
  EXPECT_EQ(st.zero_scale_blocks, 0u);
  const MatrixF d = dequantize(t);
  EXPECT_EQ(d(0, 2), -896.0f);
  EXPECT_EQ(d(0, 33), 4.875f);

  // s_t is F32(amax / F32(6 * 448)) and 1 for an all-zero tensor.
  MatrixF one(1, 16, 0.0f);
  one(0, 3) = -1.0f;
  EXPECT_EQ(quantize_nvfp4(one, "x").tensor_scale, 1.0f / 2688.0f);
  EXPECT_EQ(quantize_nvfp4(MatrixF(2, 16, 0.0f), "x").tensor_scale, 1.0f);
}

TEST(Nvfp4Quantizer, ScaleThatRoundsToZeroGetsTheSmallestSubnormal) {
  MatrixF v(1, 48, 0.0f);
  v(0, 0) = 2688.0f;  // s_t = 1
  // Block 1: amax_b 0.003 -> 0.0005 < 2^-10 (half the smallest subnormal): S_b rounds to 0 and
  // becomes 2^-9 (0x01) [spec choice]; d = 2^-9: 0.003 / 2^-9 = 1.536 -> 1.5 (0x3).
  v(0, 16) = 0.003f;
  // Block 2 is all zero: S_b = 0 -> 2^-9 as well, codes 0.
  BlockQuantStats st;
  const BlockTensor t = quantize_nvfp4(v, "w", &st);
  EXPECT_EQ(t.scales(0, 1), 0x01);
  EXPECT_EQ(t.codes(0, 16), 0x3);
  EXPECT_EQ(t.scales(0, 2), 0x01);
  EXPECT_EQ(st.zero_scale_blocks, 2u);
  // Just above: 6 * 2^-10 * 1.01 gives S_b = 2^-9 by rounding, not by the choice.
  MatrixF u(1, 32, 0.0f);
  u(0, 0) = 2688.0f;
  u(0, 16) = static_cast<float>(6.0 * std::ldexp(1.0, -10) * 1.01);
  BlockQuantStats su;
  EXPECT_EQ(quantize_nvfp4(u, "w", &su).scales(0, 1), 0x01);
  EXPECT_EQ(su.zero_scale_blocks, 0u);
}

// [choice] A tensor whose amax / 2688 underflows: s_t = 2^-149 instead of 0. Then F32(amax_b/6)
// = 0 too, so S_b = 2^-9 (the zero-scale choice), d = F32(2^-9 * 2^-149) = 0, and F32(V / 0) =
// inf saturates to 6 as the spec's rule says; V = 0 stays 0 instead of 0/0 = NaN.
TEST(Nvfp4Quantizer, UnderflowingTensorScale) {
  MatrixF v(1, 16, std::ldexp(1.0f, -149));
  v(0, 4) = 0.0f;
  v(0, 5) = -std::ldexp(1.0f, -149);
  BlockQuantStats st;
  const BlockTensor t = quantize_nvfp4(v, "x", &st);
  EXPECT_EQ(t.tensor_scale, std::ldexp(1.0f, -149));
  EXPECT_EQ(t.scales(0, 0), 0x01);
  EXPECT_EQ(t.codes(0, 0), 0x7);
  EXPECT_EQ(t.codes(0, 4), 0x0);
  EXPECT_EQ(t.codes(0, 5), 0xf);
  EXPECT_EQ(st.saturated, 15u);
  EXPECT_EQ(st.zero_scale_blocks, 1u);
  EXPECT_NO_THROW(check_block_tensor(t, "x"));
}

// ---------------------------------------------------------------------------------------------
// GEMM known answers (operands built from codes; expected codes worked out in the comments)

TEST(BlockGemm, Mxfp4Fp32TwoBlocks) {
  BlockTensor x = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 64);
  BlockTensor w = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 64);
  // Block 0: x = (6, 1.5) = a (12, 3), w = (3, -2) = a (6, -4): I = 72 - 12 = 60, u = 2;
  // scales 2^1 and 2^-1: s = 128 + 126 - 254 - 2 = -2, term = 60 * 2^-2 = 15.
  x.codes(0, 0) = 0x7, x.codes(0, 1) = 0x3, w.codes(0, 0) = 0x5, w.codes(0, 1) = 0xc;
  x.scales(0, 0) = 128, w.scales(0, 0) = 126;
  // Block 1: 0.5 * 0.5: I = 1, s = 100 + 127 - 254 - 2 = -29: 15 + 2^-29 rounds to 15 in fp32.
  x.codes(0, 32) = 0x1, w.codes(0, 32) = 0x1;
  x.scales(0, 1) = 100;
  const GemmResult r = gemm_block_scaled(x, w);
  EXPECT_EQ(h(r, 0, 0), 0x4b80);  // 15 = 1.875 * 2^3
  const GemmCounters& c = r.counters;
  EXPECT_EQ(c.action(act::kMulE2m1xE2m1), 64u);
  EXPECT_EQ(c.action("add.int14"), 64u);  // |I| <= 32 * 12 * 12 = 4608 < 2^13
  EXPECT_EQ(c.action(act::kCvtIntToFp32), 2u);
  EXPECT_EQ(c.action(act::kAddFp32), 2u);
  EXPECT_EQ(c.action(act::kCvtFp32ToFp16), 1u);
  EXPECT_EQ(c.overflow_events(), 0u);
  EXPECT_EQ(c.invalid_codes, 0u);
}

TEST(BlockGemm, W4a8MxFp32) {
  BlockTensor x = tensor(BlockElem::e4m3, BlockScale::e8m0, 1, 32);
  BlockTensor w = tensor(BlockElem::e2m1, BlockScale::e8m0, 2, 32);
  // x = 448 (j 229376), 2^-9 (j 1), 1 (j 512). w row 0 = 0.5, 6, -6 (a 1, 12, -12):
  // I = 229376 + 12 - 6144 = 223244, u = 10, s = -10: 218.01171875 (exact in fp32);
  // F16 keeps 11 bits: 218 = 1.703125 * 2^7 -> 0x5ad0.
  x.codes(0, 0) = 0x7e, x.codes(0, 1) = 0x01, x.codes(0, 2) = 0x38;
  w.codes(0, 0) = 0x1, w.codes(0, 1) = 0x7, w.codes(0, 2) = 0xf;
  // w row 1 = -0.5 with scale 2^3: I = -229376, s = 127 + 130 - 254 - 10 = -7: -1792
  // = -1.75 * 2^10 -> 0xe700.
  w.codes(1, 0) = 0x9;
  w.scales(1, 0) = 130;
  const GemmResult r = gemm_block_scaled(x, w);
  EXPECT_EQ(h(r, 0, 0), 0x5ad0);
  EXPECT_EQ(h(r, 0, 1), 0xe700);
  EXPECT_EQ(r.counters.action(act::kMulE2m1xE4m3), 64u);
  EXPECT_EQ(r.counters.action("add.int28"), 64u);  // 32 * 12 * 229376 < 2^27
}

// Terms 2^12, 2^-12, 2^-12, -2^12: fp32 loses each 2^-12 (a tie at 4096's half ulp, to even)
// and ends at +0; the fixed accumulator keeps them: 2^-11 (fp16 0x1000).
TEST(BlockGemm, Fp32AndFixedDifferWhereTheSpecSays) {
  BlockTensor x = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 128);
  BlockTensor w = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 128);
  // Every block: x = +-1, w = 1 (a = +-2, 2): I = +-4, u = 2. s = e_x + 127 - 254 - 2.
  const std::array<int, 4> ex{139, 115, 115, 139};  // s = 10, -14, -14, 10
  for (std::size_t b = 0; b < 4; ++b) {
    x.codes(0, 32 * b) = b == 3 ? 0xa : 0x2;
    w.codes(0, 32 * b) = 0x2;
    x.scales(0, b) = static_cast<std::uint8_t>(ex[b]);
  }
  const GemmResult f = gemm_block_scaled(x, w);
  EXPECT_EQ(h(f, 0, 0), 0x0000);
  BlockAccOptions fixed;
  fixed.mode = BlockAcc::fixed;  // 48 bits, 24 fraction bits: c = 2^36, 2^12, 2^12, -2^36
  const GemmResult g = gemm_block_scaled(x, w, fixed);
  EXPECT_EQ(h(g, 0, 0), 0x1000);
  EXPECT_EQ(g.counters.overflow_events(), 0u);
  EXPECT_EQ(g.counters.action(act::kShiftAlign), 4u);
  EXPECT_EQ(g.counters.action("add.int48"), 4u);
  EXPECT_EQ(g.counters.action(act::kCvtIntToFp32), 1u);
  EXPECT_EQ(g.counters.action(act::kMulFp32), 1u);
  EXPECT_EQ(g.counters.action(act::kAddFp32), 0u);
  EXPECT_EQ(g.counters.action(act::kMulE2m1xE2m1), 128u);
}

TEST(BlockGemm, FixedRightShiftRoundsToEvenAndCounts) {
  BlockTensor x = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 32);
  BlockTensor w = tensor(BlockElem::e2m1, BlockScale::e8m0, 4, 32);
  x.codes(0, 0) = 0x2, x.codes(0, 1) = 0x1;  // a = 2, 1
  // w rows (a): (2, 1) -> I = 5; (-2, -1) -> -5; (6, 0) -> 12; (3, 1) -> 7.
  const std::array<std::array<int, 2>, 4> wc{{{0x2, 0x1}, {0xa, 0x9}, {0x5, 0x0}, {0x3, 0x1}}};
  for (std::size_t n = 0; n < 4; ++n) {
    w.codes(n, 0) = static_cast<std::uint8_t>(wc[n][0]);
    w.codes(n, 1) = static_cast<std::uint8_t>(wc[n][1]);
  }
  BlockAccOptions o;
  o.mode = BlockAcc::fixed;
  o.frac_bits = 1;  // shift = -2 + 1 = -1: c = RNE(I / 2)
  const GemmResult r = gemm_block_scaled(x, w, o);
  EXPECT_EQ(h(r, 0, 0), 0x3c00);  // 2.5 -> 2 (even), 2 * 2^-1 = 1
  EXPECT_EQ(h(r, 0, 1), 0xbc00);  // -2.5 -> -2: -1
  EXPECT_EQ(h(r, 0, 2), 0x4200);  // 6 exact: 3
  EXPECT_EQ(h(r, 0, 3), 0x4000);  // 3.5 -> 4: 2
  EXPECT_EQ(r.counters.overflow.at(stage::kBlockAlignRound), 3u);
  EXPECT_EQ(r.counters.overflow.count(stage::kBlockAcc), 0u);
}

TEST(BlockGemm, FixedWrapsCountBlockAcc) {
  BlockTensor x = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 96);
  BlockTensor w = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 96);
  // 8-bit accumulator, 2 fraction bits: shift = -2 + 2 = 0, c = I.
  // Block 0: 6 * 4 (a 12 * 8) -> 96; acc 96.  Block 1: 96 again -> 192 wraps to -64 (1).
  // Block 2: 6 * 6 (a 12 * 12) = 144 does not fit 8 bits (1) -> -112; acc -176 wraps to 80 (1).
  // 96 + 96 + 144 = 336 = 80 mod 256: F32(80) * 2^-2 = 20 -> 0x4d00.
  x.codes(0, 0) = 0x7, w.codes(0, 0) = 0x6;
  x.codes(0, 32) = 0x7, w.codes(0, 32) = 0x6;
  x.codes(0, 64) = 0x7, w.codes(0, 64) = 0x7;
  BlockAccOptions o;
  o.mode = BlockAcc::fixed;
  o.acc_bits = 8;
  o.frac_bits = 2;
  const GemmResult r = gemm_block_scaled(x, w, o);
  EXPECT_EQ(h(r, 0, 0), 0x4d00);
  EXPECT_EQ(r.counters.overflow.at(stage::kBlockAcc), 3u);
  EXPECT_EQ(r.counters.overflow.count(stage::kBlockAlignRound), 0u);
  EXPECT_EQ(r.counters.action("add.int8"), 3u);
}

TEST(BlockGemm, InvalidScaleContributesZeroAndIsCountedOnce) {
  BlockTensor x = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 64);
  BlockTensor w = tensor(BlockElem::e2m1, BlockScale::e8m0, 2, 64);
  // Block 0 has x's scale 255: its 6 * 6 is dropped. Block 1: 1 * 1 = 1 (0x3c00).
  x.codes(0, 0) = 0x7, x.codes(0, 32) = 0x2;
  for (std::size_t n = 0; n < 2; ++n) w.codes(n, 0) = 0x7, w.codes(n, 32) = 0x2;
  x.scales(0, 0) = 255;
  for (BlockAcc mode : {BlockAcc::fp32, BlockAcc::fixed}) {
    BlockAccOptions o;
    o.mode = mode;
    const GemmResult r = gemm_block_scaled(x, w, o);
    EXPECT_EQ(h(r, 0, 0), 0x3c00);
    EXPECT_EQ(h(r, 0, 1), 0x3c00);
    // One event per E8M0 255 code, not per output that reads it [choice, as invalid codes].
    EXPECT_EQ(r.counters.overflow.at(stage::kInvalidScale), 1u);
  }
}

TEST(BlockGemm, InvalidElementCodesCountAndContributeZero) {
  // MXINT8 -128 [spec choice]: x = (-128, 1), w = (1, 1): I = 1, u = 12 -> 2^-12 (0x0c00).
  BlockTensor x = tensor(BlockElem::mxint8, BlockScale::e8m0, 1, 32);
  BlockTensor w = tensor(BlockElem::mxint8, BlockScale::e8m0, 1, 32);
  x.codes(0, 0) = 0x80, x.codes(0, 1) = 0x01;
  w.codes(0, 0) = 0x01, w.codes(0, 1) = 0x01;
  const GemmResult r = gemm_block_scaled(x, w);
  EXPECT_EQ(h(r, 0, 0), 0x0c00);
  EXPECT_EQ(r.counters.invalid_codes, 1u);
  EXPECT_EQ(r.counters.action(act::kMulInt8xInt8), 32u);
  EXPECT_EQ(r.counters.action("add.int20"), 32u);  // 32 * 127 * 127 = 516128 < 2^19
  // An E4M3 NaN element [choice: an event like -128]: x = (NaN, 1), w = (6, 1): 1 (0x3c00).
  BlockTensor x8 = tensor(BlockElem::e4m3, BlockScale::e8m0, 1, 32);
  BlockTensor w4 = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 32);
  x8.codes(0, 0) = 0xff, x8.codes(0, 1) = 0x38;
  w4.codes(0, 0) = 0x7, w4.codes(0, 1) = 0x2;
  const GemmResult r8 = gemm_block_scaled(x8, w4);
  EXPECT_EQ(h(r8, 0, 0), 0x3c00);
  EXPECT_EQ(r8.counters.invalid_codes, 1u);
}

TEST(BlockGemm, Nvfp4KnownAnswer) {
  BlockTensor x = tensor(BlockElem::e2m1, BlockScale::e4m3, 1, 32);
  BlockTensor w = tensor(BlockElem::e2m1, BlockScale::e4m3, 1, 32);
  x.tensor_scale = 0.5f;
  w.tensor_scale = 3.0f;
  // Block 0: 6 * 3 (a 12 * 6): I = 72; S = 1 * 2 -> 144. Block 1: 1.5 * -1 (a 3 * -2): I = -6;
  // S = 0.5 * 1.5 = 0.75 -> -4.5. acc = 139.5.
  // F32(139.5 * 2^-2) = 34.875; * F32(0.5 * 3) = 52.3125 = 1674 * 2^-5 -> 0x528a.
  x.codes(0, 0) = 0x7, w.codes(0, 0) = 0x5;
  x.scales(0, 0) = 0x38, w.scales(0, 0) = 0x40;
  x.codes(0, 16) = 0x3, w.codes(0, 16) = 0xa;
  x.scales(0, 1) = 0x30, w.scales(0, 1) = 0x3c;
  const GemmResult r = gemm_block_scaled(x, w);
  EXPECT_EQ(h(r, 0, 0), 0x528a);
  const GemmCounters& c = r.counters;
  EXPECT_EQ(c.action(act::kMulE2m1xE2m1), 32u);
  EXPECT_EQ(c.action("add.int13"), 32u);  // 16 * 144 = 2304 < 2^12
  EXPECT_EQ(c.action(act::kCvtIntToFp32), 2u);
  EXPECT_EQ(c.action(act::kMulFp32), 2u * 2 + 2 + 1);
  EXPECT_EQ(c.action(act::kAddFp32), 2u);
  EXPECT_THAT(
      [&] {
        BlockAccOptions o;
        o.mode = BlockAcc::fixed;
        gemm_block_scaled(x, w, o);
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("block_acc: fixed is not defined for NVFP4")));
}

// The tensor scales multiply each other first, as the spec writes: F32(acc 2^-u) * F32(s_tx
// s_tw). With acc = 36 (3 * 3, S = 1 * 1) and these 24-bit scales the product is 6.021484375
// (fp16 0x4606), while (9 * s_tx) * s_tw would give 0x4605 (found with Python's struct
// float32/float16 rounding, not with this code).
TEST(BlockGemm, Nvfp4TensorScalesMultiplyFirst) {
  BlockTensor x = tensor(BlockElem::e2m1, BlockScale::e4m3, 1, 16);
  BlockTensor w = tensor(BlockElem::e2m1, BlockScale::e4m3, 1, 16);
  x.codes(0, 0) = 0x5, w.codes(0, 0) = 0x5;
  x.tensor_scale = std::ldexp(12395824.0f, -24);
  w.tensor_scale = std::ldexp(15192366.0f, -24);
  EXPECT_EQ(h(gemm_block_scaled(x, w), 0, 0), 0x4606);
}

TEST(BlockGemm, OverflowToInfIsCounted) {
  BlockTensor x = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 32);
  BlockTensor w = tensor(BlockElem::e2m1, BlockScale::e8m0, 2, 32);
  // 6 * 6: I = 144. Row 0: s = 254 + 254 - 254 - 2 = 252, 144 * 2^252 overflows fp32 itself.
  // Row 1: s = 254 + 13 - 254 - 2 = 11, 144 * 2^11 = 294912 is finite in fp32, beyond fp16.
  x.codes(0, 0) = 0x7, w.codes(0, 0) = 0x7, w.codes(1, 0) = 0x7;
  x.scales(0, 0) = 254;
  w.scales(0, 0) = 254;
  w.scales(1, 0) = 13;
  const GemmResult r = gemm_block_scaled(x, w);
  EXPECT_EQ(h(r, 0, 0), 0x7c00);
  EXPECT_EQ(h(r, 0, 1), 0x7c00);
  EXPECT_EQ(r.counters.overflow.at(stage::kOutputFp16Inf), 2u);
}

// ---------------------------------------------------------------------------------------------
// The independent oracle: exact block values in double from the hand decode, then the spec's
// roundings one at a time (F32 of each term, each fp32 add; the fixed accumulator as an exact
// 128-bit integer reduced modulo 2^acc_bits by hand).

struct OracleResult {
  MatrixH y;
  std::uint64_t align_round = 0, acc_events = 0, invalid_scale = 0, invalid_codes = 0, inf = 0;
};

std::int64_t wrap(int128_t v, int bits) {
  const int128_t m = int128_t{1} << bits;
  int128_t r = v % m;
  if (r < 0) r += m;
  if (r >= m / 2) r -= m;
  return static_cast<std::int64_t>(r);
}
bool fits(int128_t v, int bits) {
  const int128_t half = int128_t{1} << (bits - 1);
  return v >= -half && v < half;
}

OracleResult oracle(const BlockTensor& x, const BlockTensor& w, const BlockAccOptions& o) {
  const std::size_t M = x.rows(), N = w.rows(), K = x.cols(), B = x.block;
  const bool nv = x.scale == BlockScale::e4m3;
  OracleResult r;
  r.y = MatrixH(M, N);
  for (std::uint8_t c : x.codes.values()) r.invalid_codes += std::isnan(elem_ref(x.elem, c));
  for (std::uint8_t c : w.codes.values()) r.invalid_codes += std::isnan(elem_ref(w.elem, c));
  if (!nv) {
    for (std::uint8_t c : x.scales.values()) r.invalid_scale += c == 255;
    for (std::uint8_t c : w.scales.values()) r.invalid_scale += c == 255;
  }
  const auto val = [](BlockElem f, std::uint8_t c) {
    const double v = elem_ref(f, c);
    return std::isnan(v) ? 0.0 : v;
  };
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      float facc = 0.0f;
      int128_t iacc = 0;
      for (std::size_t b = 0; b < K / B; ++b) {
        double blk = 0.0;  // exact: products are multiples of 2^-12 below 2^12, 32 of them
        for (std::size_t k = b * B; k < (b + 1) * B; ++k) {
          blk += val(x.elem, x.codes(m, k)) * val(w.elem, w.codes(n, k));
        }
        const std::uint8_t sx = x.scales(m, b), sw = w.scales(n, b);
        if (nv) {
          // F32(F32(I) * F32(S_x S_w)), I = blk * 2^2; both factors and the product exact.
          facc = facc + f32(std::ldexp(blk, 2) * e4m3_ref(sx) * e4m3_ref(sw));
          continue;
        }
        if (sx == 255 || sw == 255) continue;
        const int e = sx + sw - 254;
        if (o.mode == BlockAcc::fp32) {
          facc = facc + f32(std::ldexp(blk, e));
          continue;
        }
        const double v = std::ldexp(blk, e + o.frac_bits);
        int128_t c;
        if (std::fabs(v) >= std::ldexp(1.0, 100)) {  // a multiple of 2^73: 0 modulo 2^64
          c = 0;
          r.acc_events += 1;
        } else {
          const double rv = std::nearbyint(v);  // RNE in the default rounding mode
          r.align_round += rv != v;
          const auto exact = static_cast<int128_t>(rv);
          if (!fits(exact, o.acc_bits)) r.acc_events += 1;
          c = wrap(exact, o.acc_bits);
        }
        const int128_t sum = iacc + c;
        if (!fits(sum, o.acc_bits)) r.acc_events += 1;
        iacc = wrap(sum, o.acc_bits);
      }
      float out;
      if (nv) {
        const float a = f32(static_cast<double>(facc) / 4.0);
        const float ts = f32(static_cast<double>(x.tensor_scale) * w.tensor_scale);
        out = f32(static_cast<double>(a) * ts);
      } else if (o.mode == BlockAcc::fp32) {
        out = facc;
      } else {
        const auto a = static_cast<float>(static_cast<std::int64_t>(iacc));
        out = f32(std::ldexp(static_cast<double>(a), -o.frac_bits));
      }
      // A NaN output is the canonical 0x7e00 (numerics.md row 50), not the host's -qNaN.
      const std::uint16_t hv = std::isnan(out) ? std::uint16_t{0x7e00} : f32_to_f16(out);
      r.inf += (hv & 0x7c00) == 0x7c00;
      r.y(m, n) = hv;
    }
  }
  return r;
}

enum class Pair { w4a8_mx, mxfp4, mxint8, nvfp4 };

// Random codes of the pair's formats; with `events`, some invalid codes and E8M0 255s. Scales
// near 1 with `spread` around it (wide spreads reach fp32's subnormals and infinity).
std::pair<BlockTensor, BlockTensor> random_pair(Pair p, std::size_t M, std::size_t N, std::size_t K,
                                                Rng& rng, int spread, bool events) {
  const bool nv = p == Pair::nvfp4;
  const BlockScale s = nv ? BlockScale::e4m3 : BlockScale::e8m0;
  const BlockElem xe = p == Pair::w4a8_mx  ? BlockElem::e4m3
                       : p == Pair::mxint8 ? BlockElem::mxint8
                                           : BlockElem::e2m1;
  const BlockElem we = p == Pair::mxint8 ? BlockElem::mxint8 : BlockElem::e2m1;
  BlockTensor x = tensor(xe, s, M, K), w = tensor(we, s, N, K);
  for (BlockTensor* t : {&x, &w}) {
    for (std::uint8_t& c : t->codes.values()) {
      std::uint8_t v =
          static_cast<std::uint8_t>(rng.next() & (t->elem == BlockElem::e2m1 ? 15 : 255));
      if (!events && !elem_valid(t->elem, v)) v = 0;
      c = v;
    }
    for (std::uint8_t& c : t->scales.values()) {
      if (nv) {
        c = static_cast<std::uint8_t>(rng.next() % 0x7f);  // 0x00..0x7e
      } else {
        const auto d = static_cast<int>(rng.next() % static_cast<std::uint64_t>(2 * spread + 1));
        c = static_cast<std::uint8_t>(std::clamp(127 - spread + d, 0, 254));
        if (events && rng.next() % 23 == 0) c = 255;
      }
    }
    if (nv) t->tensor_scale = static_cast<float>(std::ldexp(0.5 + rng.uniform(), spread / 4 - 4));
  }
  return {x, w};
}

void expect_same(const GemmResult& g, const OracleResult& o, const std::string& what) {
  ASSERT_EQ(g.y.rows(), o.y.rows()) << what;
  std::size_t diffs = 0;
  for (std::size_t i = 0; i < o.y.size(); ++i) {
    if (g.y.values()[i] != o.y.values()[i] && diffs++ < 3) {
      ADD_FAILURE() << what << ": output " << i << " is 0x" << std::hex << g.y.values()[i]
                    << ", oracle 0x" << o.y.values()[i];
    }
  }
  EXPECT_EQ(diffs, 0u) << what;
  const auto ev = [&](const char* s) {
    const auto it = g.counters.overflow.find(s);
    return it == g.counters.overflow.end() ? std::uint64_t{0} : it->second;
  };
  EXPECT_EQ(ev(stage::kBlockAlignRound), o.align_round) << what;
  EXPECT_EQ(ev(stage::kBlockAcc), o.acc_events) << what;
  EXPECT_EQ(ev(stage::kInvalidScale), o.invalid_scale) << what;
  EXPECT_EQ(ev(stage::kOutputFp16Inf), o.inf) << what;
  EXPECT_EQ(g.counters.invalid_codes, o.invalid_codes) << what;
}

TEST(BlockGemmOracle, RandomCodesEveryPairAndMode) {
  struct Mode {
    BlockAcc mode;
    int acc_bits, frac_bits;
  };
  const std::vector<Mode> modes{{BlockAcc::fp32, 48, 24}, {BlockAcc::fixed, 48, 24},
                                {BlockAcc::fixed, 24, 8}, {BlockAcc::fixed, 64, 40},
                                {BlockAcc::fixed, 16, 2}, {BlockAcc::fixed, 40, 126},
                                {BlockAcc::fixed, 2, 0}};
  std::uint64_t seed = 1;
  OracleResult seen;  // event totals over the sweep
  std::uint64_t outputs = 0;
  for (Pair p : {Pair::w4a8_mx, Pair::mxfp4, Pair::mxint8, Pair::nvfp4}) {
    for (const Mode& md : modes) {
      if (p == Pair::nvfp4 && md.mode == BlockAcc::fixed) continue;
      for (int spread : {0, 4, 20, 127}) {
        for (int rep = 0; rep < 6; ++rep) {
          const bool events = rep % 2 == 1;
          Rng rng(seed++);
          auto [x, w] = random_pair(p, 5, 7, 128, rng, spread, events);
          BlockAccOptions o;
          o.mode = md.mode;
          o.acc_bits = md.acc_bits;
          o.frac_bits = md.frac_bits;
          const GemmResult g = gemm_block_scaled(x, w, o);
          const OracleResult want = oracle(x, w, o);
          expect_same(g, want,
                      "pair " + std::to_string(static_cast<int>(p)) + " mode " +
                          std::to_string(static_cast<int>(md.mode)) + "/" +
                          std::to_string(md.acc_bits) + "/" + std::to_string(md.frac_bits) +
                          " spread " + std::to_string(spread) + (events ? " events" : ""));
          seen.align_round += want.align_round;
          seen.acc_events += want.acc_events;
          seen.inf += want.inf;
          seen.invalid_scale += want.invalid_scale;
          seen.invalid_codes += want.invalid_codes;
          outputs += want.y.size();
        }
      }
    }
  }
  // The sweep reached every event path it is meant to compare.
  EXPECT_GT(seen.align_round, 100u);
  EXPECT_GT(seen.acc_events, 100u);
  EXPECT_GT(seen.inf, 100u);
  EXPECT_GT(seen.invalid_scale, 100u);
  EXPECT_GT(seen.invalid_codes, 100u);
  EXPECT_EQ(outputs, (3u * 7 + 1) * 4 * 6 * 35);
  std::printf(
      "oracle sweep: %llu outputs, align_round %llu, block_acc %llu, inf %llu, "
      "invalid_scale %llu, invalid_codes %llu\n",
      static_cast<unsigned long long>(outputs), static_cast<unsigned long long>(seen.align_round),
      static_cast<unsigned long long>(seen.acc_events), static_cast<unsigned long long>(seen.inf),
      static_cast<unsigned long long>(seen.invalid_scale),
      static_cast<unsigned long long>(seen.invalid_codes));
}

TEST(BlockGemmOracle, QuantizedRandomMatrices) {
  Rng rng(77);
  MatrixF xf(6, 256), wf(9, 256);
  for (float& v : xf.values())
    v = static_cast<float>(rng.normal() * (rng.uniform() < 0.02 ? 50 : 1));
  for (float& v : wf.values()) v = static_cast<float>(rng.normal() * 0.02);
  const std::vector<std::pair<BlockElem, BlockElem>> mx{{BlockElem::e4m3, BlockElem::e2m1},
                                                        {BlockElem::e2m1, BlockElem::e2m1},
                                                        {BlockElem::mxint8, BlockElem::mxint8}};
  for (const auto& [xe, we] : mx) {
    const BlockTensor x = quantize_mx(xf, xe, "x"), w = quantize_mx(wf, we, "w");
    for (BlockAcc mode : {BlockAcc::fp32, BlockAcc::fixed}) {
      BlockAccOptions o;
      o.mode = mode;
      expect_same(gemm_block_scaled(x, w, o), oracle(x, w, o), "quantized mx");
    }
  }
  const BlockTensor x = quantize_nvfp4(xf, "x"), w = quantize_nvfp4(wf, "w");
  expect_same(gemm_block_scaled(x, w), oracle(x, w, {}), "quantized nvfp4");
  // And the quantized GEMM is close to the float one (a sanity bound, not bit-exactness).
  const MatrixF xd = dequantize(x), wd = dequantize(w);
  const GemmResult g = gemm_block_scaled(x, w);
  for (std::size_t m = 0; m < 6; ++m) {
    for (std::size_t n = 0; n < 9; ++n) {
      double ref = 0.0;
      for (std::size_t k = 0; k < 256; ++k) ref += static_cast<double>(xd(m, k)) * wd(n, k);
      EXPECT_NEAR(f16_to_f32(g.y(m, n)), ref, 1e-3 + 1e-3 * std::fabs(ref)) << m << " " << n;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Errors: every check names the tensor and the element or block

TEST(BlockChecks, EveryErrorNamesTensorAndElement) {
  const auto throws = [](const BlockTensor& t, const char* name, const std::string& msg) {
    EXPECT_THAT([&] { check_block_tensor(t, name); },
                ::testing::ThrowsMessage<Error>(HasSubstr(msg)))
        << msg;
  };
  BlockTensor ok = tensor(BlockElem::e2m1, BlockScale::e8m0, 2, 64);
  EXPECT_NO_THROW(check_block_tensor(ok, "w"));

  BlockTensor t = ok;
  t.codes(1, 5) = 0x10;
  throws(t, "w",
         "tensor 'w.codes': element [1, 5] = 0x10 is not an E2M1 code; accepted: 0x00..0x0f");
  t = tensor(BlockElem::e4m3, BlockScale::e8m0, 2, 32);
  t.codes(0, 3) = 0x7f;
  throws(t, "x", "tensor 'x.codes': element [0, 3] = 0x7f is the E4M3 NaN");
  t.codes(0, 3) = 0xff;
  throws(t, "x", "element [0, 3] = 0xff is the E4M3 NaN");
  t = tensor(BlockElem::mxint8, BlockScale::e8m0, 2, 32);
  t.codes(1, 0) = 0x80;
  throws(t, "x", "tensor 'x.codes': element [1, 0] = 0x80 (-128) is not an MXINT8 value");
  t = ok;
  t.scales(1, 1) = 255;
  throws(t, "w", "tensor 'w.scales': block [1, 1] (K 32..63) = 0xff is the E8M0 NaN");
  t = tensor(BlockElem::e2m1, BlockScale::e4m3, 1, 32);
  t.scales(0, 1) = 0x7f;
  throws(t, "w", "tensor 'w.scales': block [0, 1] (K 16..31) = 0x7f is the E4M3 NaN");
  t.scales(0, 1) = 0xb8;
  throws(t, "w", "block [0, 1] (K 16..31) = 0xb8 has its sign bit set");
  t = tensor(BlockElem::e2m1, BlockScale::e4m3, 1, 32);
  t.tensor_scale = NAN;
  throws(t, "w",
         "tensor 'w.tensor_scale' is nan; accepted: an NVFP4 tensor scale is finite and > 0");
  t.tensor_scale = 0.0f;
  throws(t, "w", "tensor 'w.tensor_scale' is 0;");
  t.tensor_scale = -2.0f;
  throws(t, "w", "tensor 'w.tensor_scale' is -2;");
  t = ok;
  t.tensor_scale = 2.0f;
  throws(t, "w", "tensor 'w.tensor_scale' is 2; accepted: 1 (MX tensors");
  t = ok;
  t.codes = MatrixU8(2, 40);
  throws(t, "w", "tensor 'w.codes': K = 40 is not a multiple of the block size 32");
  t = ok;
  t.scales = MatrixU8(2, 1, 127);
  throws(t, "w", "tensor 'w.scales' has shape [2, 1], expected [2, 2]");
  t = tensor(BlockElem::e4m3, BlockScale::e4m3, 1, 16);
  throws(t, "w", "tensor 'w': E4M3 elements with E4M3 scales per 16 is not a block format");
  t = ok;
  t.block = 16;
  t.scales = MatrixU8(2, 4, 127);
  throws(t, "w", "tensor 'w': E2M1 elements with E8M0 scales per 16 is not a block format");
}

TEST(BlockChecks, GemmErrorsVersusEvents) {
  const auto gemm_throws = [](const BlockTensor& x, const BlockTensor& w, const BlockAccOptions& o,
                              const std::string& msg) {
    EXPECT_THAT([&] { gemm_block_scaled(x, w, o); },
                ::testing::ThrowsMessage<Error>(HasSubstr(msg)))
        << msg;
  };
  const BlockTensor f4 = tensor(BlockElem::e2m1, BlockScale::e8m0, 2, 64);
  const BlockTensor f8 = tensor(BlockElem::e4m3, BlockScale::e8m0, 2, 64);
  const BlockTensor i8 = tensor(BlockElem::mxint8, BlockScale::e8m0, 2, 64);
  const BlockTensor nv = tensor(BlockElem::e2m1, BlockScale::e4m3, 2, 64);
  gemm_throws(f4, f8, {}, "x E2M1 (E8M0 per 32) with w E4M3 (E8M0 per 32) is not an accepted pair");
  gemm_throws(i8, f4, {}, "is not an accepted pair");
  gemm_throws(f4, nv, {}, "x E2M1 (E8M0 per 32) with w E2M1 (E4M3 per 16) is not an accepted");
  gemm_throws(f4, tensor(BlockElem::e2m1, BlockScale::e8m0, 2, 96), {},
              "'x.codes' has K = 64 but 'w.codes' has K = 96");
  BlockAccOptions bad;
  bad.mode = BlockAcc::fixed;
  bad.acc_bits = 65;
  gemm_throws(f4, f4, bad, "fixed block accumulator width 65 is not supported; accepted: 2..64");
  bad.acc_bits = 48;
  bad.frac_bits = 127;
  gemm_throws(f4, f4, bad, "fraction bits 127 are not supported; accepted: 0..126");
  EXPECT_NO_THROW(gemm_block_scaled(f4, f4, BlockAccOptions{BlockAcc::fp32, 65, 127}));
  BlockTensor x = f4;
  x.codes(1, 9) = 0x1f;
  gemm_throws(x, f4, {}, "tensor 'x.codes': element [1, 9] = 0x1f is not an E2M1 code");
  BlockTensor n2 = nv;
  n2.scales(1, 3) = 0xff;
  gemm_throws(nv, n2, {}, "tensor 'w.scales': block [1, 3] (K 48..63) = 0xff is the E4M3 NaN");
  n2 = nv;
  n2.tensor_scale = INFINITY;
  gemm_throws(n2, nv, {}, "tensor 'x.tensor_scale' is inf");
  // What the spec counts is not an error at the GEMM (check_block_tensor still refuses it).
  BlockTensor e = f4;
  e.scales(0, 1) = 255;
  EXPECT_NO_THROW(gemm_block_scaled(e, f4));
  BlockTensor j = i8;
  j.codes(0, 0) = 0x80;
  EXPECT_NO_THROW(gemm_block_scaled(j, i8));
  BlockTensor k = f8;
  k.codes(1, 1) = 0x7f;
  EXPECT_NO_THROW(gemm_block_scaled(k, f4));
}

TEST(BlockDequantize, InvalidCodesAndScalesAreNaN) {
  BlockTensor t = tensor(BlockElem::mxint8, BlockScale::e8m0, 1, 64);
  t.codes(0, 0) = 0x80;
  t.codes(0, 1) = 0x40;  // 1.0
  t.codes(0, 40) = 0x40;
  t.scales(0, 1) = 255;
  const MatrixF d = dequantize(t);
  EXPECT_TRUE(std::isnan(d(0, 0)));
  EXPECT_EQ(d(0, 1), 1.0f);
  EXPECT_TRUE(std::isnan(d(0, 40)));
  // MX values are exact down to fp32's subnormals: 0.5 * 2^-127 = 2^-128.
  BlockTensor s = tensor(BlockElem::e2m1, BlockScale::e8m0, 1, 32);
  s.codes(0, 0) = 0x1;
  s.scales(0, 0) = 0;
  EXPECT_EQ(dequantize(s)(0, 0), std::ldexp(1.0f, -128));
}

}  // namespace
}  // namespace quasar
