// Are the reference GEMMs right on cases small enough to check by hand? Each test builds its
// operands directly (codes, zeros, scales chosen to be powers of two or otherwise exact), and
// asserts the fp16 output code and the counters worked out in the comments from the arithmetic
// spec (docs/arithmetic-spec.md) alone. No expected value is computed by the code under test.
//
// Notation in the comments: P = per-group integer partial sum, acc = integer accumulator,
// fp16 codes are written as sign | exponent (bias 15) << 10 | mantissa (10 bits), e.g.
// 5.375 = 1.34375 * 2^2 -> (2 + 15) << 10 | 0.34375 * 1024 = 0x4400 | 0x160 = 0x4560.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "numerics/counters.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm.hpp"
#include "numerics/operands.hpp"

namespace quasar {
namespace {

// ---------------------------------------------------------------------------------------------
// Operand builders (plain data; nothing here computes an expected value)

template <class T>
Matrix<T> mat(std::size_t rows, std::size_t cols, std::initializer_list<int> v) {
  Matrix<T> m(rows, cols);
  EXPECT_EQ(v.size(), rows * cols) << "test bug: wrong number of matrix entries";
  std::size_t i = 0;
  for (int e : v) {
    if (i < rows * cols) m.values()[i] = static_cast<T>(e);
    ++i;
  }
  return m;
}

MatrixF matf(std::size_t rows, std::size_t cols, std::initializer_list<float> v) {
  MatrixF m(rows, cols);
  EXPECT_EQ(v.size(), rows * cols) << "test bug: wrong number of matrix entries";
  std::size_t i = 0;
  for (float e : v) {
    if (i < rows * cols) m.values()[i] = e;
    ++i;
  }
  return m;
}

QuantizedActivations acts(std::size_t M, std::size_t K, std::initializer_list<int> codes,
                          std::vector<float> scales) {
  return QuantizedActivations{mat<std::int8_t>(M, K, codes), std::move(scales)};
}

// Single-level weights: N x K codes, scales N x groups (or 1 x groups per tensor).
QuantizedWeights weights(WeightFormat f, std::size_t N, std::size_t K, std::size_t group,
                         std::initializer_list<int> codes, MatrixF scales,
                         MatrixI8 zeros = MatrixI8()) {
  QuantizedWeights w;
  w.format = f;
  w.group_size = group;
  w.codes = mat<std::int8_t>(N, K, codes);
  w.scales = std::move(scales);
  w.zeros = std::move(zeros);
  return w;
}

TwoLevelWeights two_level(std::size_t N, std::size_t K, std::size_t group,
                          std::initializer_list<int> q, std::initializer_list<int> zeros,
                          std::initializer_list<int> group_scale, std::vector<float> channel) {
  TwoLevelWeights w;
  w.group_size = group;
  w.q = mat<std::uint8_t>(N, K, q);
  w.zeros = mat<std::uint8_t>(N, K / group, zeros);
  w.group_scale = mat<std::int32_t>(N, K / group, group_scale);
  w.channel_scale = std::move(channel);
  return w;
}

// Checks one output: its fp16 code (exact) and the value that code stands for.
void expect_y(const GemmResult& r, std::size_t m, std::size_t n, std::uint16_t code, float value) {
  EXPECT_EQ(r.y(m, n), code) << "y(" << m << ", " << n << "): got 0x" << std::hex << r.y(m, n)
                             << ", want 0x" << code;
  EXPECT_EQ(f16_to_f32(r.y(m, n)), value) << "y(" << m << ", " << n << ")";
}

std::uint64_t overflow_at(const GemmCounters& c, const char* stage_name) {
  const auto it = c.overflow.find(stage_name);
  return it == c.overflow.end() ? 0 : it->second;
}

// The message of the quasar::Error that f throws ("<no throw>" if none: fails the checks).
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no throw>";
}

void expect_has(const std::string& msg, const std::string& part) {
  EXPECT_NE(msg.find(part), std::string::npos)
      << "message: \"" << msg << "\"\nlacks: \"" << part << "\"";
}

// fp16 codes used as inputs
constexpr std::uint16_t kH0 = 0x0000, kH1 = 0x3C00, kH2 = 0x4000, kH3 = 0x4200, kH4 = 0x4400,
                        kHHalf = 0x3800, kHQuarter = 0x3400, kH1p5 = 0x3E00, kHm1 = 0xBC00,
                        kHm2 = 0xC000, kH2048 = 0x6800, kH3072 = 0x6A00, kH4096 = 0x6C00,
                        kHm4096 = 0xEC00, kH256 = 0x5C00;

MatrixH math(std::size_t rows, std::size_t cols, std::initializer_list<std::uint16_t> v) {
  MatrixH m(rows, cols);
  EXPECT_EQ(v.size(), rows * cols) << "test bug: wrong number of matrix entries";
  std::size_t i = 0;
  for (std::uint16_t e : v) {
    if (i < rows * cols) m.values()[i] = e;
    ++i;
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// fp16 (W16A16)

TEST(KnownAnswerFp16, TwoByFourByTwo) {
  // x = [[1, 2, 0.5, -1], [3, -2, 4, 0.25]], w = [[1, 1, 2, 0.5], [0.5, -1, 1.5, 2]]
  const MatrixH x = math(2, 4, {kH1, kH2, kHHalf, kHm1, kH3, kHm2, kH4, kHQuarter});
  const MatrixH w = math(2, 4, {kH1, kH1, kH2, kHHalf, kHHalf, kHm1, kH1p5, kH2});
  const GemmResult r = gemm_fp16(x, w);
  // y00 = 1 + 2 + 1 - 0.5 = 3.5 = 1.75 * 2^1          -> 0x4000 | 0x300 = 0x4300
  expect_y(r, 0, 0, 0x4300, 3.5f);
  // y01 = 0.5 - 2 + 0.75 - 2 = -2.75 = -1.375 * 2^1    -> 0xC000 | 0x180 = 0xC180
  expect_y(r, 0, 1, 0xC180, -2.75f);
  // y10 = 3 - 2 + 8 + 0.125 = 9.125 = 1.140625 * 2^3  -> 0x4800 | 0x090 = 0x4890
  expect_y(r, 1, 0, 0x4890, 9.125f);
  // y11 = 1.5 + 2 + 6 + 0.5 = 10 = 1.25 * 2^3          -> 0x4800 | 0x100 = 0x4900
  expect_y(r, 1, 1, 0x4900, 10.0f);
  // M*N*K = 16 exact fp16 products, 16 fp32 adds (one pass, no tiles), 4 conversions.
  EXPECT_EQ(r.counters.action(act::kMulFp16xFp16), 16u);
  EXPECT_EQ(r.counters.action(act::kAddFp32), 16u);
  EXPECT_EQ(r.counters.action(act::kCvtFp32ToFp16), 4u);
  EXPECT_EQ(r.counters.overflow_events(), 0u);
  EXPECT_EQ(r.counters.invalid_codes, 0u);
}

TEST(KnownAnswerFp16, OutputRoundsToNearestEven) {
  // x = [2048, 1]; w0 = [1, 1] -> 2049 (exact in fp32), w1 = [1, 3] -> 2051.
  // fp16 spacing in [2048, 4096) is 2: 2049 is the tie between 2048 (mantissa 0, even) and
  // 2050 (mantissa 1) -> 2048 = 0x6800; 2051 is the tie between 2050 (odd) and 2052 (mantissa 2,
  // even) -> 2052 = 0x6802.
  const MatrixH x = math(1, 2, {kH2048, kH1});
  const MatrixH w = math(2, 2, {kH1, kH1, kH1, kH3});
  const GemmResult r = gemm_fp16(x, w);
  expect_y(r, 0, 0, 0x6800, 2048.0f);
  expect_y(r, 0, 1, 0x6802, 2052.0f);
}

TEST(KnownAnswerFp16, KTileChangesTheFp32Sum) {
  // x = [4096, 1, 1, -4096], w = [4096, 1, 1, 4096]: products [2^24, 1, 1, -2^24].
  // fp32 spacing at 2^24 is 2, so 2^24 + 1 is a tie and rounds to 2^24 (even mantissa).
  const MatrixH x = math(1, 4, {kH4096, kH1, kH1, kHm4096});
  const MatrixH w = math(1, 4, {kH4096, kH1, kH1, kH4096});

  // Sequential (k_tile = 0): 0 + 2^24 = 2^24; + 1 -> 2^24; + 1 -> 2^24; - 2^24 = +0 -> 0x0000.
  const GemmResult seq = gemm_fp16(x, w);
  expect_y(seq, 0, 0, 0x0000, 0.0f);
  EXPECT_EQ(seq.counters.action(act::kAddFp32), 4u);

  // k_tile = 2: tile 0 = 2^24 + 1 -> 2^24; tile 1 = 1 - 2^24 = -16777215 (exact, 24 bits);
  // acc = 0 + 2^24 = 2^24, then 2^24 - 16777215 = 1 -> 0x3C00.
  GemmOptions t2;
  t2.k_tile = 2;
  const GemmResult tiled = gemm_fp16(x, w, t2);
  expect_y(tiled, 0, 0, 0x3C00, 1.0f);
  // adds: M*N*K = 4 inside the tiles + M*N*tiles = 1*2 = 2 tile merges -> 6.
  EXPECT_EQ(tiled.counters.action(act::kAddFp32), 6u);

  // k_tile = 3 (last tile short): tile 0 = ((2^24 + 1) + 1) -> 2^24; tile 1 = -2^24;
  // acc = 2^24 - 2^24 = +0 -> 0x0000 (same as sequential here).
  GemmOptions t3;
  t3.k_tile = 3;
  expect_y(gemm_fp16(x, w, t3), 0, 0, 0x0000, 0.0f);

  // k_tile = 1: every tile is one product, added in k order -> the sequential sum, +0.
  GemmOptions t1;
  t1.k_tile = 1;
  expect_y(gemm_fp16(x, w, t1), 0, 0, 0x0000, 0.0f);

  // k_tile >= K is one pass: the sequential sum.
  GemmOptions t4;
  t4.k_tile = 4;
  const GemmResult one = gemm_fp16(x, w, t4);
  expect_y(one, 0, 0, 0x0000, 0.0f);
  EXPECT_EQ(one.counters.action(act::kAddFp32), 4u);
}

// ---------------------------------------------------------------------------------------------
// w8a8

TEST(KnownAnswerW8a8, TwoByFourByTwo) {
  // x codes [[1, 2, 3, 4], [-1, 0, 5, -2]], s_x = [0.5, 0.25] (per token)
  // w codes [[1, -1, 2, 0], [3, 3, -1, 1]], s_w = [0.125, 2] (per channel, group = K = 4)
  const QuantizedActivations x = acts(2, 4, {1, 2, 3, 4, -1, 0, 5, -2}, {0.5f, 0.25f});
  const QuantizedWeights w =
      weights(WeightFormat::int8, 2, 4, 4, {1, -1, 2, 0, 3, 3, -1, 1}, matf(2, 1, {0.125f, 2.0f}));
  const GemmResult r = gemm_w8a8(x, w);
  // acc00 = 1 - 2 + 6 + 0 = 5;    scale 0.5 * 0.125 = 0.0625; y = 0.3125 = 1.25 * 2^-2 -> 0x3500
  expect_y(r, 0, 0, 0x3500, 0.3125f);
  // acc01 = 3 + 6 - 3 + 4 = 10;   scale 0.5 * 2 = 1;          y = 10 -> 0x4900
  expect_y(r, 0, 1, 0x4900, 10.0f);
  // acc10 = -1 + 0 + 10 + 0 = 9;  scale 0.25 * 0.125 = 2^-5;  y = 0.28125 = 1.125 * 2^-2 -> 0x3480
  expect_y(r, 1, 0, 0x3480, 0.28125f);
  // acc11 = -3 + 0 - 5 - 2 = -10; scale 0.25 * 2 = 0.5;       y = -5 = -1.25 * 2^2 -> 0xC500
  expect_y(r, 1, 1, 0xC500, -5.0f);
  // M*N*K = 16 int8 MACs in an int32 accumulator, M*N = 4 conversions, 2 fp32 multiplies per
  // output (scale product, then the rescale) = 8, 4 fp16 conversions.
  EXPECT_EQ(r.counters.action(act::kMulInt8xInt8), 16u);
  EXPECT_EQ(r.counters.action("add.int32"), 16u);
  EXPECT_EQ(act::add_int(32), "add.int32");
  EXPECT_EQ(r.counters.action(act::kCvtIntToFp32), 4u);
  EXPECT_EQ(r.counters.action(act::kMulFp32), 8u);
  EXPECT_EQ(r.counters.action(act::kCvtFp32ToFp16), 4u);
  EXPECT_EQ(r.counters.overflow_events(), 0u);
}

TEST(KnownAnswerW8a8, ScaleProductIsTakenFirst) {
  // acc = 1*1 + 1*1 = 2, s_x = 2^127, s_w = 2^-127.
  // Spec order: F32(acc) * (s_x * s_w) = 2 * 1 = 2 -> 0x4000.
  // (The other order, (2 * 2^127) * 2^-127, overflows fp32 at 2^128 and would give inf.)
  const QuantizedActivations x = acts(1, 2, {1, 1}, {0x1p127f});
  const QuantizedWeights w = weights(WeightFormat::int8, 1, 2, 2, {1, 1}, matf(1, 1, {0x1p-127f}));
  const GemmResult r = gemm_w8a8(x, w);
  expect_y(r, 0, 0, 0x4000, 2.0f);
  EXPECT_EQ(overflow_at(r.counters, stage::kOutputFp16Inf), 0u);
}

TEST(KnownAnswerW8a8, Int8AccumulatorWraps) {
  // acc_bits = 8 (range -128..127). x = [127, 127, 127, 127], w = [1, 1, 1, 1]:
  //   127; 127 + 127 = 254 -> 254 - 256 = -2 (wrap 1); -2 + 127 = 125;
  //   125 + 127 = 252 -> -4 (wrap 2). Final -4 (the exact 508 = 2 * 256 - 4).
  // y = -4 * (1 * 0.5) = -2 -> 0xC000.
  GemmOptions opt;
  opt.acc_bits = 8;
  const QuantizedActivations x = acts(1, 4, {127, 127, 127, 127}, {1.0f});
  const QuantizedWeights w = weights(WeightFormat::int8, 1, 4, 4, {1, 1, 1, 1}, matf(1, 1, {0.5f}));
  const GemmResult r = gemm_w8a8(x, w, opt);
  expect_y(r, 0, 0, 0xC000, -2.0f);
  EXPECT_EQ(overflow_at(r.counters, stage::kAccumulator), 2u);
  EXPECT_EQ(r.counters.overflow_events(), 2u);
  EXPECT_EQ(r.counters.action("add.int8"), 4u);
  EXPECT_EQ(r.counters.action("add.int32"), 0u);
}

TEST(KnownAnswerW8a8, Int16AccumulatorWraps) {
  // acc_bits = 16 (range -32768..32767). x = w = [127, 127, 127, 127]: products 16129.
  //   16129; 32258; 48387 -> 48387 - 65536 = -17149 (wrap 1); -17149 + 16129 = -1020.
  // Exact sum 64516 = 65536 - 1020. y = -1020 * (0.25 * 1) = -255 = -1.9921875 * 2^7
  //   -> 0xD800 | (0.9921875 * 1024 = 1016 = 0x3F8) = 0xDBF8.
  GemmOptions opt;
  opt.acc_bits = 16;
  const QuantizedActivations x = acts(1, 4, {127, 127, 127, 127}, {0.25f});
  const QuantizedWeights w =
      weights(WeightFormat::int8, 1, 4, 4, {127, 127, 127, 127}, matf(1, 1, {1.0f}));
  const GemmResult r = gemm_w8a8(x, w, opt);
  expect_y(r, 0, 0, 0xDBF8, -255.0f);
  EXPECT_EQ(overflow_at(r.counters, stage::kAccumulator), 1u);
  EXPECT_EQ(r.counters.action("add.int16"), 4u);
}

TEST(KnownAnswerW8a8, OutputOverflowToInfIsCounted) {
  // s_x = 8 (per tensor), s_w = 1: y = 8 * acc. Largest fp16 is 65504; 65520 is the midpoint to
  // 2^16 and rounds (ties to even) to inf.
  // w0 = [64, 61], w1 = [64, 31]; x0 = [127, 1], x1 = [127, 2].
  //   acc00 = 8128 + 61 = 8189 -> 65512 < 65520 -> 65504 = 0x7BFF (finite)
  //   acc01 = 8128 + 31 = 8159 -> 65272; spacing 32 in [32768, 65536): 65272 / 32 = 2039.75
  //           -> 2040 * 32 = 65280 = 1.9921875 * 2^15 -> 0x7800 | 0x3F8 = 0x7BF8
  //   acc10 = 8128 + 122 = 8250 -> 66000 -> inf 0x7C00 (overflow event)
  //   acc11 = 8128 + 62 = 8190 -> 65520 -> tie -> inf 0x7C00 (overflow event)
  const QuantizedActivations x = acts(2, 2, {127, 1, 127, 2}, {8.0f});
  const QuantizedWeights w =
      weights(WeightFormat::int8, 2, 2, 2, {64, 61, 64, 31}, matf(2, 1, {1.0f, 1.0f}));
  const GemmResult r = gemm_w8a8(x, w);
  expect_y(r, 0, 0, 0x7BFF, 65504.0f);
  expect_y(r, 0, 1, 0x7BF8, 65280.0f);
  EXPECT_EQ(r.y(1, 0), 0x7C00);
  EXPECT_EQ(r.y(1, 1), 0x7C00);
  EXPECT_EQ(overflow_at(r.counters, stage::kOutputFp16Inf), 2u);
  EXPECT_EQ(r.counters.overflow_events(), 2u);
}

TEST(KnownAnswerFp16, OutputOverflowToInfIsCounted) {
  // 256 * 256 = 65536 (exact fp32, finite) -> fp16 inf, one event; -256 * 256 -> -inf.
  const MatrixH x = math(2, 1, {kH256, static_cast<std::uint16_t>(kH256 | 0x8000u)});
  const MatrixH w = math(1, 1, {kH256});
  const GemmResult r = gemm_fp16(x, w);
  EXPECT_EQ(r.y(0, 0), 0x7C00);
  EXPECT_EQ(r.y(1, 0), 0xFC00);
  EXPECT_EQ(overflow_at(r.counters, stage::kOutputFp16Inf), 2u);
}

// ---------------------------------------------------------------------------------------------
// w4a16

TEST(KnownAnswerW4a16, Uint4WithZeros) {
  // x = [[1, 2, -1, 0.5], [0.25, 1, 2, -2]] (fp16), G = 2.
  // q = [[8, 10, 3, 0], [15, 7, 5, 9]], z = [[8, 2], [7, 5]], s = [[0.5, 0.25], [0.125, 1]].
  // Dequantized (all exact in fp16):
  //   w0 = [(8-8)*0.5, (10-8)*0.5, (3-2)*0.25, (0-2)*0.25] = [0, 1, 0.25, -0.5]
  //   w1 = [(15-7)*0.125, (7-7)*0.125, (5-5)*1, (9-5)*1]   = [1, 0, 0, 4]
  const MatrixH x = math(2, 4, {kH1, kH2, kHm1, kHHalf, kHQuarter, kH1, kH2, kHm2});
  const QuantizedWeights w =
      weights(WeightFormat::uint4, 2, 4, 2, {8, 10, 3, 0, 15, 7, 5, 9},
              matf(2, 2, {0.5f, 0.25f, 0.125f, 1.0f}), mat<std::int8_t>(2, 2, {8, 2, 7, 5}));
  const GemmResult r = gemm_w4a16(x, w);
  // y00 = 0 + 2 - 0.25 - 0.25 = 1.5            -> 0x3E00
  expect_y(r, 0, 0, 0x3E00, 1.5f);
  // y01 = 1 + 0 + 0 + 2 = 3                    -> 0x4200
  expect_y(r, 0, 1, 0x4200, 3.0f);
  // y10 = 0 + 1 + 0.5 + 1 = 2.5 = 1.25 * 2     -> 0x4100
  expect_y(r, 1, 0, 0x4100, 2.5f);
  // y11 = 0.25 + 0 + 0 - 8 = -7.75 = -1.9375 * 4 -> 0xC400 | 0x3C0 = 0xC7C0
  expect_y(r, 1, 1, 0xC7C0, -7.75f);
  EXPECT_EQ(r.counters.action(act::kDequantW4ToFp16), 8u);  // N*K
  EXPECT_EQ(r.counters.action(act::kMulFp16xFp16), 16u);    // M*N*K
  EXPECT_EQ(r.counters.action(act::kAddFp32), 16u);
  EXPECT_EQ(r.counters.action(act::kCvtFp32ToFp16), 4u);
}

TEST(KnownAnswerW4a16, Int4Symmetric) {
  // x = [[1, 1, 1, 1], [2, -1, 0.5, 4]], G = 2.
  // q = [[-8, 7, 1, -1], [3, 0, -2, 5]], s = [[0.25, 0.5], [1 + 2^-11, 2]].
  //   w0 = [-2, 1.75, 0.5, -0.5]
  //   w1: 3 * (1 + 2^-11) = 3.00146484375 (exact fp32); fp16 spacing in [2, 4) is 2^-9 and
  //       3 * 2^-11 = 0.75 * 2^-9, so F16 -> 3 + 2^-9 = 3.001953125 (0x4201); then 0, -4, 10.
  const MatrixH x = math(2, 4, {kH1, kH1, kH1, kH1, kH2, kHm1, kHHalf, kH4});
  const QuantizedWeights w = weights(WeightFormat::int4, 2, 4, 2, {-8, 7, 1, -1, 3, 0, -2, 5},
                                     matf(2, 2, {0.25f, 0.5f, 1.00048828125f, 2.0f}));
  const GemmResult r = gemm_w4a16(x, w);
  // y00: -2 -> -0.25 -> 0.25 -> -0.25                        -> 0xB400
  expect_y(r, 0, 0, 0xB400, -0.25f);
  // y01: 3.001953125 -> same -> -0.998046875 -> 9.001953125 (exact fp32);
  //      fp16 spacing in [8, 16) is 2^-7, 2^-9 is a quarter of it -> 9 = 1.125 * 8 -> 0x4880
  expect_y(r, 0, 1, 0x4880, 9.0f);
  // y10: -4 -> -5.75 -> -5.5 -> -7.5 = -1.875 * 4            -> 0xC780
  expect_y(r, 1, 0, 0xC780, -7.5f);
  // y11: 6.00390625 -> same -> 4.00390625 -> 44.00390625 (exact fp32);
  //      spacing in [32, 64) is 2^-5 -> 44 = 1.375 * 32      -> 0x5180
  expect_y(r, 1, 1, 0x5180, 44.0f);
}

TEST(KnownAnswerW4a16, DequantizedWeightIsRoundedToFp16) {
  // q = [1, 0], s = 1 + 2^-11 (an fp32 scale): w = F16(1 + 2^-11) is the tie between 1 and
  // 1 + 2^-10 -> 1.0 (even). x = [3072, 0] -> y = 3072 = 1.5 * 2^11 -> 0x6A00.
  // (Without the F16 of the dequantized weight: 3072 * (1 + 2^-11) = 3073.5 -> 3074 = 0x6A01.)
  const MatrixH x = math(1, 2, {kH3072, kH0});
  const QuantizedWeights w =
      weights(WeightFormat::int4, 1, 2, 2, {1, 0}, matf(1, 1, {1.00048828125f}));
  expect_y(gemm_w4a16(x, w), 0, 0, 0x6A00, 3072.0f);
}

// ---------------------------------------------------------------------------------------------
// w4a8-fs and w4a8-is (same codes; the is scales are the fs scales times 2^3)

const QuantizedActivations& w4a8_x() {
  // x codes [[10, -3, 4, 2], [-128, 127, 1, 0]], s_x = [0.5, 2^-4]
  static const QuantizedActivations x =
      acts(2, 4, {10, -3, 4, 2, -128, 127, 1, 0}, {0.5f, 0.0625f});
  return x;
}
const QuantizedWeights& w4a8_w() {
  // q = [[1, 2, -8, 7], [7, 7, 0, -1]], G = 2, s = [[0.25, 0.125], [2, 0.5]]
  static const QuantizedWeights w = weights(WeightFormat::int4, 2, 4, 2, {1, 2, -8, 7, 7, 7, 0, -1},
                                            matf(2, 2, {0.25f, 0.125f, 2.0f, 0.5f}));
  return w;
}
// Group partial sums of these operands:
//   P00 = [10*1 - 3*2, 4*-8 + 2*7]   = [4, -18]
//   P01 = [10*7 - 3*7, 4*0 + 2*-1]   = [49, -2]
//   P10 = [-128*1 + 127*2, 1*-8 + 0] = [126, -8]
//   P11 = [-128*7 + 127*7, 0 + 0]    = [-7, 0]

TEST(KnownAnswerW4a8Fs, TwoByFourByTwo) {
  const GemmResult r = gemm_w4a8_fs(w4a8_x(), w4a8_w());
  // acc00 = 4*0.25 + -18*0.125 = 1 - 2.25 = -1.25; y = -1.25 * 0.5 = -0.625 = -1.25 * 2^-1 ->
  // 0xB900
  expect_y(r, 0, 0, 0xB900, -0.625f);
  // acc01 = 49*2 + -2*0.5 = 97; y = 48.5 = 1.515625 * 2^5 -> 0x5000 | 0x210 = 0x5210
  expect_y(r, 0, 1, 0x5210, 48.5f);
  // acc10 = 126*0.25 + -8*0.125 = 30.5; y = 30.5/16 = 1.90625 -> 0x3C00 | 0x3A0 = 0x3FA0
  expect_y(r, 1, 0, 0x3FA0, 1.90625f);
  // acc11 = -7*2 + 0*0.5 = -14; y = -0.875 = -1.75 * 2^-1 -> 0xBB00
  expect_y(r, 1, 1, 0xBB00, -0.875f);
  // M*N*K = 16 int4 x int8 MACs in int32 psums; per output and group (M*N*groups = 8): one
  // int->fp32 conversion, one fp32 multiply, one fp32 add; plus one multiply by s_x per output.
  EXPECT_EQ(r.counters.action(act::kMulInt4xInt8), 16u);
  EXPECT_EQ(r.counters.action("add.int32"), 16u);
  EXPECT_EQ(r.counters.action(act::kCvtIntToFp32), 8u);
  EXPECT_EQ(r.counters.action(act::kMulFp32), 12u);
  EXPECT_EQ(r.counters.action(act::kAddFp32), 8u);
  EXPECT_EQ(r.counters.action(act::kCvtFp32ToFp16), 4u);
  EXPECT_EQ(r.counters.overflow_events(), 0u);
}

TEST(KnownAnswerW4a8Fs, MultiplyThenAddEachRounded) {
  // x = [1, 0, 3, 3], q = [-1, 0, 1, 2], G = 2 -> P = [-1, 9].
  // s = [9435137, 2^20 + 0.25] (both exact fp32), s_x = 1.
  //   term0 = -9435137 (exact); acc = -9435137
  //   term1 = 9 * 1048576.25 = 9437186.25 -> fp32 spacing 1 in [2^23, 2^24) -> 9437186
  //   acc = -9435137 + 9437186 = 2049 (exact); y = F16(2049) = tie -> 2048 (even) = 0x6800.
  // (A fused multiply-add would give 2049.25 -> 2050 = 0x6801.)
  const QuantizedActivations x = acts(1, 4, {1, 0, 3, 3}, {1.0f});
  const QuantizedWeights w =
      weights(WeightFormat::int4, 1, 4, 2, {-1, 0, 1, 2}, matf(1, 2, {9435137.0f, 1048576.25f}));
  expect_y(gemm_w4a8_fs(x, w), 0, 0, 0x6800, 2048.0f);
}

TEST(KnownAnswerW4a8Fs, GroupPartialSumWraps) {
  // psum_bits = 8. x = [127, 127, 1, 1], q = [1, 1, 1, 1], G = 2.
  //   P0: 127; 254 -> -2 (wrap 1). P1 = 2.
  //   s = [1, 0.5]: acc = -2 + 1 = -1; y = -1 -> 0xBC00.
  GemmOptions opt;
  opt.psum_bits = 8;
  const QuantizedActivations x = acts(1, 4, {127, 127, 1, 1}, {1.0f});
  const QuantizedWeights w =
      weights(WeightFormat::int4, 1, 4, 2, {1, 1, 1, 1}, matf(1, 2, {1.0f, 0.5f}));
  const GemmResult r = gemm_w4a8_fs(x, w, opt);
  expect_y(r, 0, 0, 0xBC00, -1.0f);
  EXPECT_EQ(overflow_at(r.counters, stage::kGroupPartialSum), 1u);
  EXPECT_EQ(r.counters.overflow_events(), 1u);
  EXPECT_EQ(r.counters.action("add.int8"), 4u);
}

TEST(KnownAnswerW4a8Is, TwoByFourByTwo) {
  // alpha = 2^3; S = s * 8 = [[2, 1], [16, 4]] (exact).
  IntegerScales s;
  s.bits = 3;
  s.S = mat<std::int32_t>(2, 2, {2, 1, 16, 4});
  const GemmResult r = gemm_w4a8_is(w4a8_x(), w4a8_w(), s);
  // acc00 = 4*2 - 18*1 = -10;   y = -10 * (0.5 * 2^-3)     = -0.625  -> 0xB900
  expect_y(r, 0, 0, 0xB900, -0.625f);
  // acc01 = 49*16 - 2*4 = 776;  y = 776 * 2^-4             = 48.5    -> 0x5210
  expect_y(r, 0, 1, 0x5210, 48.5f);
  // acc10 = 126*2 - 8*1 = 244;  y = 244 * (2^-4 * 2^-3)    = 1.90625 -> 0x3FA0
  expect_y(r, 1, 0, 0x3FA0, 1.90625f);
  // acc11 = -7*16 + 0*4 = -112; y = -112 * 2^-7            = -0.875  -> 0xBB00
  expect_y(r, 1, 1, 0xBB00, -0.875f);
  // 16 MACs in 32-bit psums: add.int32 = 16; the integer-scale unit counts its own
  // M*N*groups = 8 adds in the 32-bit accumulator: intscale.add.int32 = 8. P * S: 8 multiplies,
  // S operand width = bit length of max S (16 -> 5) + sign = 6 -> "intscale.mul.int32xint6".
  // ONE int->fp32 conversion per output (4); fp32 multiplies: one s_x * 2^-b per row (M = 2)
  // + one per output (4) = 6.
  EXPECT_EQ(r.counters.action(act::kMulInt4xInt8), 16u);
  EXPECT_EQ(r.counters.action("add.int32"), 16u);
  EXPECT_EQ(r.counters.action("intscale.add.int32"), 8u);
  EXPECT_EQ(r.counters.action("intscale.mul.int32xint6"), 8u);
  EXPECT_EQ(act::intscale_mul(32, 6), "intscale.mul.int32xint6");
  EXPECT_EQ(r.counters.action(act::kCvtIntToFp32), 4u);
  EXPECT_EQ(r.counters.action(act::kMulFp32), 6u);
  EXPECT_EQ(r.counters.action(act::kAddFp32), 0u);
  EXPECT_EQ(r.counters.action(act::kCvtFp32ToFp16), 4u);
  EXPECT_EQ(r.counters.overflow_events(), 0u);
}

TEST(KnownAnswerW4a8Is, IntegerScaleAccumulatorWraps) {
  // acc_bits = 8 (range -128..127), bits = 0 (alpha = 1). x = q = [7, 7, 7, 7], G = 2:
  //   P = [98, 98]; S = [2, 3].
  //   acc: 0 + 98*2 = 196 -> 196 - 256 = -60 (wrap 1); -60 + 98*3 = 234 -> -22 (wrap 2).
  //   Exact 490 = 2*256 - 22. y = -22 * (1 * 2^0) = -22 = -1.375 * 2^4 -> 0xCD80.
  GemmOptions opt;
  opt.acc_bits = 8;
  const QuantizedActivations x = acts(1, 4, {7, 7, 7, 7}, {1.0f});
  const QuantizedWeights w =
      weights(WeightFormat::int4, 1, 4, 2, {7, 7, 7, 7}, matf(1, 2, {2.0f, 3.0f}));
  IntegerScales s;
  s.bits = 0;
  s.S = mat<std::int32_t>(1, 2, {2, 3});
  const GemmResult r = gemm_w4a8_is(x, w, s, opt);
  expect_y(r, 0, 0, 0xCD80, -22.0f);
  EXPECT_EQ(overflow_at(r.counters, stage::kIntScaleAcc), 2u);
  EXPECT_EQ(overflow_at(r.counters, stage::kGroupPartialSum), 0u);
  EXPECT_EQ(r.counters.overflow_events(), 2u);
  EXPECT_EQ(r.counters.action("intscale.add.int8"), 2u);        // M*N*groups, 8-bit accumulator
  EXPECT_EQ(r.counters.action("add.int32"), 4u);                // M*N*K psum adds
  EXPECT_EQ(r.counters.action("intscale.mul.int32xint3"), 2u);  // max S = 3: 2 bits + sign
}

// ---------------------------------------------------------------------------------------------
// w4a8-dgq

const QuantizedActivations& dgq_x() {
  // x codes [[1, 2, 3, 4], [-5, 0, 2, -1]], s_x = [0.5, 0.25]
  static const QuantizedActivations x = acts(2, 4, {1, 2, 3, 4, -5, 0, 2, -1}, {0.5f, 0.25f});
  return x;
}
TwoLevelWeights dgq_w() {
  // G = 2. q = [[9, 7, 0, 15], [0, 15, 5, 5]], z = [[8, 4], [7, 0]], S2 = [[10, 3], [1, 20]],
  // s1 = [0.125, 2^-7].
  //   w8 row 0 = [(9-8)*10, (7-8)*10, (0-4)*3, (15-4)*3] = [10, -10, -12, 33]
  //   w8 row 1 = [(0-7)*1, (15-7)*1, (5-0)*20, (5-0)*20] = [-7, 8, 100, 100]
  return two_level(2, 4, 2, {9, 7, 0, 15, 0, 15, 5, 5}, {8, 4, 7, 0}, {10, 3, 1, 20},
                   {0.125f, 0.0078125f});
}

void expect_dgq_outputs(const GemmResult& r) {
  // acc00 = 10 - 20 - 36 + 132 = 86;   y = 86 * (0.125 * 0.5 = 2^-4) = 5.375
  //         = 1.34375 * 2^2 -> 0x4560
  expect_y(r, 0, 0, 0x4560, 5.375f);
  // acc01 = -7 + 16 + 300 + 400 = 709; y = 709 * (2^-7 * 0.5 = 2^-8) = 2.76953125
  //         = 1.384765625 * 2 -> 0x4000 | 394 (0x18A) = 0x418A
  expect_y(r, 0, 1, 0x418A, 2.76953125f);
  // acc10 = -50 + 0 - 24 - 33 = -107;  y = -107 * (0.125 * 0.25 = 2^-5) = -3.34375
  //         = -1.671875 * 2 -> 0xC000 | 688 (0x2B0) = 0xC2B0
  expect_y(r, 1, 0, 0xC2B0, -3.34375f);
  // acc11 = 35 + 0 + 200 - 100 = 135;  y = 135 * (2^-7 * 0.25 = 2^-9) = 0.263671875
  //         = 1.0546875 * 2^-2 -> 0x3400 | 56 (0x38) = 0x3438
  expect_y(r, 1, 1, 0x3438, 0.263671875f);
}

TEST(KnownAnswerW4a8Dgq, Fused) {
  const GemmResult r = gemm_w4a8_dgq(dgq_x(), dgq_w(), DequantMode::fused);
  expect_dgq_outputs(r);
  // N*K = 8 dequantizations; M*N*K = 16 int8 MACs; M*N = 4 conversions; no memory pass.
  EXPECT_EQ(r.counters.action(act::kDequantTwoLevel), 8u);
  EXPECT_EQ(r.counters.action(act::kMulInt8xInt8), 16u);
  EXPECT_EQ(r.counters.action("add.int32"), 16u);
  EXPECT_EQ(r.counters.action(act::kCvtIntToFp32), 4u);
  EXPECT_EQ(r.counters.action(act::kMulFp32), 8u);
  EXPECT_EQ(r.counters.action(act::kAddFp32), 0u);  // no bias
  EXPECT_EQ(r.counters.action(act::kCvtFp32ToFp16), 4u);
  EXPECT_EQ(r.counters.actions.count(act::kMemWriteBytes), 0u);
  EXPECT_EQ(r.counters.actions.count(act::kMemReadBytes), 0u);
  EXPECT_EQ(r.counters.overflow_events(), 0u);
}

TEST(KnownAnswerW4a8Dgq, Materialized) {
  const GemmResult r = gemm_w4a8_dgq(dgq_x(), dgq_w(), DequantMode::materialized);
  expect_dgq_outputs(r);
  // Same arithmetic as fused, plus the N x K int8 copy written and read back: 8 bytes each.
  EXPECT_EQ(r.counters.action(act::kDequantTwoLevel), 8u);
  EXPECT_EQ(r.counters.action(act::kMulInt8xInt8), 16u);
  EXPECT_EQ(r.counters.action(act::kCvtIntToFp32), 4u);
  EXPECT_EQ(r.counters.action(act::kMemWriteBytes), 8u);
  EXPECT_EQ(r.counters.action(act::kMemReadBytes), 8u);
  EXPECT_EQ(r.counters.overflow_events(), 0u);
}

TEST(KnownAnswerW4a8Dgq, BiasAddedInFp32BeforeF16) {
  TwoLevelWeights w = dgq_w();
  w.bias = {0.5f, -1.0f};
  for (DequantMode mode : {DequantMode::fused, DequantMode::materialized}) {
    const GemmResult r = gemm_w4a8_dgq(dgq_x(), w, mode);
    // 5.375 + 0.5 = 5.875 = 1.46875 * 4            -> 0x4400 | 0x1E0 = 0x45E0
    expect_y(r, 0, 0, 0x45E0, 5.875f);
    // 2.76953125 - 1 = 1.76953125                  -> 0x3C00 | 788 (0x314) = 0x3F14
    expect_y(r, 0, 1, 0x3F14, 1.76953125f);
    // -3.34375 + 0.5 = -2.84375 = -1.421875 * 2    -> 0xC000 | 0x1B0 = 0xC1B0
    expect_y(r, 1, 0, 0xC1B0, -2.84375f);
    // 0.263671875 - 1 = -0.736328125 = -1.47265625 * 2^-1 -> 0xB800 | 0x1E4 = 0xB9E4
    expect_y(r, 1, 1, 0xB9E4, -0.736328125f);
    EXPECT_EQ(r.counters.action(act::kAddFp32), 4u);  // one bias add per output
  }
}

TEST(KnownAnswerW4a8Dgq, DequantOutOfRangeSaturatesAndCounts) {
  // G = 2, x = [1, 1, 1, 1], s_x = 1, s1 = 1.
  //   group 0: z = 0,  S2 = 20: q = 15 -> 300 -> saturates to 127 (event); q = 0 -> 0
  //   group 1: z = 15, S2 = 9:  q = 0  -> -135 -> -127 (event); q = 1 -> -126 (in range)
  // acc = 127 + 0 - 127 - 126 = -126 = -1.96875 * 2^6 -> 0xD400 | 0x3E0 = 0xD7E0.
  // (Without saturation: 300 - 135 - 126 = 39.)
  const QuantizedActivations x = acts(1, 4, {1, 1, 1, 1}, {1.0f});
  const TwoLevelWeights w = two_level(1, 4, 2, {15, 0, 0, 1}, {0, 15}, {20, 9}, {1.0f});
  for (DequantMode mode : {DequantMode::fused, DequantMode::materialized}) {
    const GemmResult r = gemm_w4a8_dgq(x, w, mode);
    expect_y(r, 0, 0, 0xD7E0, -126.0f);
    EXPECT_EQ(overflow_at(r.counters, stage::kDequantRange), 2u);
    EXPECT_EQ(r.counters.overflow_events(), 2u);
  }
}

TEST(KnownAnswerW4a8Dgq, MinusOneTwentyEightIsOutOfRange) {
  // The DGQ dequant range is [-127, 127]: q = 0, z = 8, S2 = 16 -> -128 -> -127 (event).
  // x = [1, 1], q = [0, 8] -> w8 = [-127, 0]; acc = -127 = -1.984375 * 2^6 -> 0xD7F0.
  const QuantizedActivations x = acts(1, 2, {1, 1}, {1.0f});
  const TwoLevelWeights w = two_level(1, 2, 2, {0, 8}, {8}, {16}, {1.0f});
  const GemmResult r = gemm_w4a8_dgq(x, w, DequantMode::fused);
  expect_y(r, 0, 0, 0xD7F0, -127.0f);
  EXPECT_EQ(overflow_at(r.counters, stage::kDequantRange), 1u);
}

TEST(KnownAnswerW4a8Dgq, Int16AccumulatorWrapsInBothModes) {
  // acc_bits = 16. w8 = (1 - 0) * 127 = 127 everywhere; x = [127, 127, 127, 127]:
  //   16129; 32258; 48387 -> -17149 (wrap 1); -1020.
  // y = -1020 * (2^-4 * 1) = -63.75 = -1.9921875 * 2^5 -> 0xD000 | 0x3F8 = 0xD3F8.
  GemmOptions opt;
  opt.acc_bits = 16;
  const QuantizedActivations x = acts(1, 4, {127, 127, 127, 127}, {1.0f});
  const TwoLevelWeights w = two_level(1, 4, 2, {1, 1, 1, 1}, {0, 0}, {127, 127}, {0.0625f});
  for (DequantMode mode : {DequantMode::fused, DequantMode::materialized}) {
    const GemmResult r = gemm_w4a8_dgq(x, w, mode, opt);
    expect_y(r, 0, 0, 0xD3F8, -63.75f);
    EXPECT_EQ(overflow_at(r.counters, stage::kAccumulator), 1u);
    EXPECT_EQ(overflow_at(r.counters, stage::kDequantRange), 0u);
    EXPECT_EQ(r.counters.action("add.int16"), 4u);
  }
}

// ---------------------------------------------------------------------------------------------
// w4a8-dint

TEST(KnownAnswerW4a8Dint, SetA) {
  // Set A codes -> w2 = 2 * value: 0111 (7) -> +0.5 -> 1; 1001 (9) -> -0.5 -> -1;
  // 0011 (3) -> 3 -> 6; 1111 (15) -> -1 -> -2; 0110 (6) -> 6 -> 12; 1010 (10) -> -6 -> -12;
  // 0000 -> 0; 0001 -> 1 -> 2.
  // w codes [[7, 9, 3, 15], [6, 10, 0, 1]] -> w2 [[1, -1, 6, -2], [12, -12, 0, 2]]
  // s_w = [0.25, 2]; x = [[2, 4, -6, 8], [1, -1, 3, 5]], s_x = [0.5, 1].
  const QuantizedActivations x = acts(2, 4, {2, 4, -6, 8, 1, -1, 3, 5}, {0.5f, 1.0f});
  QuantizedWeights w =
      weights(WeightFormat::dint4, 2, 4, 4, {7, 9, 3, 15, 6, 10, 0, 1}, matf(2, 1, {0.25f, 2.0f}));
  w.dint_set = DintSet::A;
  const GemmResult r = gemm_w4a8_dint(x, w);
  // acc2_00 = 2 - 4 - 36 - 16 = -54; scale 0.5 * 0.25 * 0.5 = 2^-4; y = -3.375
  //          = -1.6875 * 2 -> 0xC000 | 0x2C0 = 0xC2C0
  expect_y(r, 0, 0, 0xC2C0, -3.375f);
  // acc2_01 = 24 - 48 + 0 + 16 = -8;  scale 0.5 * 2 * 0.5 = 0.5;  y = -4 -> 0xC400
  expect_y(r, 0, 1, 0xC400, -4.0f);
  // acc2_10 = 1 + 1 + 18 - 10 = 10;   scale 1 * 0.25 * 0.5 = 0.125; y = 1.25 -> 0x3D00
  expect_y(r, 1, 0, 0x3D00, 1.25f);
  // acc2_11 = 12 + 12 + 0 + 10 = 34;  scale 1 * 2 * 0.5 = 1; y = 34 = 1.0625 * 32 -> 0x5040
  expect_y(r, 1, 1, 0x5040, 34.0f);
  // N*K = 8 decodes, M*N*K = 16 dint4 x int8 MACs, 4 conversions, 3 fp32 multiplies per output.
  EXPECT_EQ(r.counters.action(act::kDecodeDint4), 8u);
  EXPECT_EQ(r.counters.action(act::kMulDint4xInt8), 16u);
  EXPECT_EQ(r.counters.action(act::kMulInt8xInt8), 0u);
  EXPECT_EQ(r.counters.action("add.int32"), 16u);
  EXPECT_EQ(r.counters.action(act::kCvtIntToFp32), 4u);
  EXPECT_EQ(r.counters.action(act::kMulFp32), 12u);
  EXPECT_EQ(r.counters.action(act::kCvtFp32ToFp16), 4u);
  EXPECT_EQ(r.counters.invalid_codes, 0u);
  EXPECT_EQ(r.counters.overflow_events(), 0u);
}

TEST(KnownAnswerW4a8Dint, SetB) {
  // Set B (sign-magnitude, magnitude 000 = 0.5): 0000 (0) -> +0.5 -> 1; 1000 (8) -> -0.5 -> -1;
  // 0111 (7) -> 7 -> 14; 1011 (11) -> -3 -> -6; 1111 (15) -> -7 -> -14; 0001 -> 1 -> 2;
  // 0100 (4) -> 4 -> 8; 1001 (9) -> -1 -> -2.
  // w codes [[0, 8, 7, 11], [15, 1, 4, 9]] -> w2 [[1, -1, 14, -6], [-14, 2, 8, -2]]
  // s_w = [0.25, 2]; x = [[2, 4, -6, 8], [1, -1, 3, 5]], s_x = [0.5, 1].
  const QuantizedActivations x = acts(2, 4, {2, 4, -6, 8, 1, -1, 3, 5}, {0.5f, 1.0f});
  QuantizedWeights w =
      weights(WeightFormat::dint4, 2, 4, 4, {0, 8, 7, 11, 15, 1, 4, 9}, matf(2, 1, {0.25f, 2.0f}));
  w.dint_set = DintSet::B;
  const GemmResult r = gemm_w4a8_dint(x, w);
  // acc2_00 = 2 - 4 - 84 - 48 = -134; y = -134 * 2^-4 = -8.375 = -1.046875 * 8 -> 0xC830
  expect_y(r, 0, 0, 0xC830, -8.375f);
  // acc2_01 = -28 + 8 - 48 - 16 = -84; y = -84 * 0.5 = -42 = -1.3125 * 32 -> 0xD140
  expect_y(r, 0, 1, 0xD140, -42.0f);
  // acc2_10 = 1 + 1 + 42 - 30 = 14;    y = 14 * 0.125 = 1.75 -> 0x3F00
  expect_y(r, 1, 0, 0x3F00, 1.75f);
  // acc2_11 = -14 - 2 + 24 - 10 = -2;  y = -2 * 1 = -2 -> 0xC000
  expect_y(r, 1, 1, 0xC000, -2.0f);
  EXPECT_EQ(r.counters.invalid_codes, 0u);  // every set-B code is valid, 1000 included
}

TEST(KnownAnswerW4a8Dint, SetAInvalidCodeDecodesAsZeroAndCounts) {
  // Set A: code 1000 (8) is unused: decodes as 0, one invalid-code event per weight code.
  // x = [5, 3], s_x = 1; w codes [[8, 1], [8, 8]], s_w = [1, 1].
  //   acc2_00 = 5*0 + 3*2 = 6;  y = 6 * 0.5 = 3 -> 0x4200
  //   acc2_01 = 0;              y = 0 -> 0x0000
  // invalid codes: three 8s in W (counted per decode of N x K, not per use) -> 3.
  const QuantizedActivations x = acts(1, 2, {5, 3}, {1.0f});
  QuantizedWeights w =
      weights(WeightFormat::dint4, 2, 2, 2, {8, 1, 8, 8}, matf(2, 1, {1.0f, 1.0f}));
  w.dint_set = DintSet::A;
  const GemmResult r = gemm_w4a8_dint(x, w);
  expect_y(r, 0, 0, 0x4200, 3.0f);
  expect_y(r, 0, 1, 0x0000, 0.0f);
  EXPECT_EQ(r.counters.invalid_codes, 3u);

  // The same codes under set B: 1000 = -0.5 (w2 = -1), valid.
  //   acc2_00 = 5*-1 + 3*2 = 1; y = 0.5 -> 0x3800.  acc2_01 = -5 - 3 = -8; y = -4 -> 0xC400.
  w.dint_set = DintSet::B;
  const GemmResult rb = gemm_w4a8_dint(x, w);
  expect_y(rb, 0, 0, 0x3800, 0.5f);
  expect_y(rb, 0, 1, 0xC400, -4.0f);
  EXPECT_EQ(rb.counters.invalid_codes, 0u);
}

// ---------------------------------------------------------------------------------------------
// w4a8-qserve

TEST(KnownAnswerW4a8Qserve, TwoByFourByTwo) {
  // G = 2. q = [[15, 0, 3, 12], [0, 1, 8, 10]], z = [[7, 3], [1, 8]], s1 = [[15, 13], [128, 1]]
  // (uint8 group scales: 128 is beyond DGQ's int8 S2 but valid here), s0 = [2^-4, 0.5].
  //   w8 row 0 = [(15-7)*15, (0-7)*15, (3-3)*13, (12-3)*13] = [120, -105, 0, 117]
  //   w8 row 1 = [(0-1)*128, (1-1)*128, (8-8)*1, (10-8)*1]  = [-128, 0, 0, 2] (-128 is int8)
  // x = [[1, -1, 2, 3], [10, 20, -3, 0]], s_x = [0.25, 0.5].
  const QuantizedActivations x = acts(2, 4, {1, -1, 2, 3, 10, 20, -3, 0}, {0.25f, 0.5f});
  const TwoLevelWeights w = two_level(2, 4, 2, {15, 0, 3, 12, 0, 1, 8, 10}, {7, 3, 1, 8},
                                      {15, 13, 128, 1}, {0.0625f, 0.5f});
  const GemmResult r = gemm_w4a8_qserve(x, w);
  // acc00 = 120 + 105 + 0 + 351 = 576;  y = 576 * (2^-4 * 0.25) = 9 -> 0x4880
  expect_y(r, 0, 0, 0x4880, 9.0f);
  // acc01 = -128 + 0 + 0 + 6 = -122;   y = -122 * (0.5 * 0.25) = -15.25
  //         = -1.90625 * 8 -> 0xC800 | 0x3A0 = 0xCBA0
  expect_y(r, 0, 1, 0xCBA0, -15.25f);
  // acc10 = 1200 - 2100 + 0 + 0 = -900; y = -900 * (2^-4 * 0.5) = -28.125
  //         = -1.7578125 * 16 -> 0xCC00 | 0x308 = 0xCF08
  expect_y(r, 1, 0, 0xCF08, -28.125f);
  // acc11 = -1280 + 0 + 0 + 0 = -1280; y = -1280 * (0.5 * 0.5) = -320 = -1.25 * 2^8 -> 0xDD00
  expect_y(r, 1, 1, 0xDD00, -320.0f);
  EXPECT_EQ(r.counters.action(act::kDequantTwoLevel), 8u);
  EXPECT_EQ(r.counters.action(act::kMulInt8xInt8), 16u);
  EXPECT_EQ(r.counters.action(act::kCvtIntToFp32), 4u);
  EXPECT_EQ(r.counters.action(act::kMulFp32), 8u);
  EXPECT_EQ(r.counters.actions.count(act::kMemWriteBytes), 0u);
  EXPECT_EQ(r.counters.overflow_events(), 0u);  // -128 is in QServe's int8 range
}

TEST(KnownAnswerW4a8Qserve, DequantSaturatesToInt8) {
  // x = [1, 1], s_x = 1, s0 = [1, 1]. G = 2.
  //   row 0: q = [0, 8], z = 8, s1 = 16 -> [-128, 0]: in int8, no event; acc = -128 -> 0xD800
  //   row 1: q = [1, 0], z = 0, s1 = 255 -> [255 -> 127 (event), 0]; acc = 127 -> 0x57F0
  const QuantizedActivations x = acts(1, 2, {1, 1}, {1.0f});
  const TwoLevelWeights w = two_level(2, 2, 2, {0, 8, 1, 0}, {8, 0}, {16, 255}, {1.0f, 1.0f});
  const GemmResult r = gemm_w4a8_qserve(x, w);
  expect_y(r, 0, 0, 0xD800, -128.0f);
  expect_y(r, 0, 1, 0x57F0, 127.0f);
  EXPECT_EQ(overflow_at(r.counters, stage::kDequantRange), 1u);
}

// ---------------------------------------------------------------------------------------------
// Counters that scale with shape: M = 3, N = 5, K = 8, G = 2 (groups = 4), all-zero codes.

TEST(KnownAnswerCounters, ScaleWithShape) {
  constexpr std::size_t M = 3, N = 5, K = 8, G = 2, groups = K / G;
  QuantizedActivations x{MatrixI8(M, K), std::vector<float>(M, 1.0f)};

  QuantizedWeights w8;
  w8.format = WeightFormat::int8;
  w8.group_size = K;
  w8.codes = MatrixI8(N, K);
  w8.scales = MatrixF(N, 1, 1.0f);
  const GemmCounters c8 = gemm_w8a8(x, w8).counters;
  EXPECT_EQ(c8.action(act::kMulInt8xInt8), 120u);  // M*N*K
  EXPECT_EQ(c8.action("add.int32"), 120u);
  EXPECT_EQ(c8.action(act::kCvtIntToFp32), 15u);  // M*N
  EXPECT_EQ(c8.action(act::kMulFp32), 30u);       // 2*M*N
  EXPECT_EQ(c8.action(act::kCvtFp32ToFp16), 15u);

  QuantizedWeights w4;
  w4.format = WeightFormat::int4;
  w4.group_size = G;
  w4.codes = MatrixI8(N, K);
  w4.scales = MatrixF(N, groups, 1.0f);
  const GemmCounters cfs = gemm_w4a8_fs(x, w4).counters;
  EXPECT_EQ(cfs.action(act::kMulInt4xInt8), 120u);
  EXPECT_EQ(cfs.action(act::kCvtIntToFp32), 60u);  // M*N*groups
  EXPECT_EQ(cfs.action(act::kMulFp32), 75u);       // M*N*groups + M*N
  EXPECT_EQ(cfs.action(act::kAddFp32), 60u);       // M*N*groups

  IntegerScales s;
  s.bits = 10;
  s.S = MatrixI32(N, groups, 1);
  const GemmCounters cis = gemm_w4a8_is(x, w4, s).counters;
  EXPECT_EQ(cis.action(act::kMulInt4xInt8), 120u);
  EXPECT_EQ(cis.action(act::kCvtIntToFp32), 15u);         // M*N: one per output
  EXPECT_EQ(cis.action(act::kMulFp32), 18u);              // M + M*N
  EXPECT_EQ(cis.action("add.int32"), 120u);               // M*N*K psum adds
  EXPECT_EQ(cis.action("intscale.add.int32"), 60u);       // M*N*groups scale-acc adds
  EXPECT_EQ(cis.action("intscale.mul.int32xint2"), 60u);  // max S = 1: 1 bit + sign
  EXPECT_EQ(cis.action(act::kAddFp32), 0u);

  TwoLevelWeights tl;
  tl.group_size = G;
  tl.q = MatrixU8(N, K);
  tl.zeros = MatrixU8(N, groups);
  tl.group_scale = MatrixI32(N, groups, 1);
  tl.channel_scale.assign(N, 1.0f);
  const GemmCounters cfu = gemm_w4a8_dgq(x, tl, DequantMode::fused).counters;
  const GemmCounters cma = gemm_w4a8_dgq(x, tl, DequantMode::materialized).counters;
  EXPECT_EQ(cfu.action(act::kDequantTwoLevel), 40u);  // N*K
  EXPECT_EQ(cma.action(act::kDequantTwoLevel), 40u);
  EXPECT_EQ(cfu.action(act::kMulInt8xInt8), 120u);
  EXPECT_EQ(cma.action(act::kMulInt8xInt8), 120u);
  EXPECT_EQ(cfu.actions.count(act::kMemWriteBytes), 0u);
  EXPECT_EQ(cfu.actions.count(act::kMemReadBytes), 0u);
  EXPECT_EQ(cma.action(act::kMemWriteBytes), 40u);  // N*K int8 bytes
  EXPECT_EQ(cma.action(act::kMemReadBytes), 40u);
  EXPECT_EQ(gemm_w4a8_qserve(x, tl).counters.actions.count(act::kMemWriteBytes), 0u);

  QuantizedWeights wd;
  wd.format = WeightFormat::dint4;
  wd.group_size = K;
  wd.codes = MatrixI8(N, K);
  wd.scales = MatrixF(N, 1, 1.0f);
  const GemmCounters cd = gemm_w4a8_dint(x, wd).counters;
  EXPECT_EQ(cd.action(act::kDecodeDint4), 40u);     // N*K
  EXPECT_EQ(cd.action(act::kMulDint4xInt8), 120u);  // M*N*K
  EXPECT_EQ(cd.action(act::kMulFp32), 45u);         // 3*M*N

  const MatrixH xh(M, K), wh(N, K);
  EXPECT_EQ(gemm_fp16(xh, wh).counters.action(act::kAddFp32), 120u);
  GemmOptions t4;
  t4.k_tile = 4;  // 2 tiles: 120 + M*N*2 = 150
  EXPECT_EQ(gemm_fp16(xh, wh, t4).counters.action(act::kAddFp32), 150u);
  QuantizedWeights wu = w4;
  wu.format = WeightFormat::uint4;
  wu.zeros = MatrixI8(N, groups);
  EXPECT_EQ(gemm_w4a16(xh, wu).counters.action(act::kDequantW4ToFp16), 40u);  // N*K
}

// ---------------------------------------------------------------------------------------------
// Bad input: every one throws quasar::Error naming the tensor.

TEST(KnownAnswerBadInput, WrongK) {
  const MatrixH x(1, 4), w(1, 2);
  const std::string m1 = error_of([&] { gemm_fp16(x, w); });
  expect_has(m1, "'x' has K = 4");
  expect_has(m1, "'w' has K = 2");

  const QuantizedActivations qx{MatrixI8(1, 4), {1.0f}};
  const QuantizedWeights w8 =
      weights(WeightFormat::int8, 1, 8, 8, {0, 0, 0, 0, 0, 0, 0, 0}, matf(1, 1, {1.0f}));
  const std::string m2 = error_of([&] { gemm_w8a8(qx, w8); });
  expect_has(m2, "'x' has K = 4");
  expect_has(m2, "'w.codes' has K = 8");

  const TwoLevelWeights tl = two_level(1, 2, 2, {0, 0}, {0}, {1}, {1.0f});
  expect_has(error_of([&] { gemm_w4a8_dgq(qx, tl, DequantMode::fused); }), "'w.q' has K = 2");
}

TEST(KnownAnswerBadInput, GroupSizeDoesNotDivideK) {
  const QuantizedActivations x{MatrixI8(1, 4), {1.0f}};
  QuantizedWeights w;
  w.format = WeightFormat::int4;
  w.group_size = 3;
  w.codes = MatrixI8(1, 4);
  w.scales = MatrixF(1, 1, 1.0f);
  const std::string m = error_of([&] { gemm_w4a8_fs(x, w); });
  expect_has(m, "tensor 'w'");
  expect_has(m, "group size 3 does not divide K = 4");

  TwoLevelWeights tl;
  tl.group_size = 3;
  tl.q = MatrixU8(1, 4);
  tl.zeros = MatrixU8(1, 1);
  tl.group_scale = MatrixI32(1, 1, 1);
  tl.channel_scale = {1.0f};
  const std::string m2 = error_of([&] { gemm_w4a8_dgq(x, tl, DequantMode::materialized); });
  expect_has(m2, "tensor 'w.q'");
  expect_has(m2, "group size 3 does not divide K = 4");
}

TEST(KnownAnswerBadInput, ZeroOrNegativeScale) {
  const QuantizedActivations x = acts(1, 2, {1, 1}, {1.0f});
  QuantizedWeights w = weights(WeightFormat::int8, 2, 2, 2, {1, 1, 1, 1}, matf(2, 1, {1.0f, 0.0f}));
  const std::string m0 = error_of([&] { gemm_w8a8(x, w); });
  expect_has(m0, "tensor 'w.scales'");
  expect_has(m0, "[1, 0]");
  w.scales(1, 0) = -0.5f;
  expect_has(error_of([&] { gemm_w8a8(x, w); }), "tensor 'w.scales'");

  w.scales(1, 0) = 1.0f;
  const QuantizedActivations x0 = acts(1, 2, {1, 1}, {0.0f});
  expect_has(error_of([&] { gemm_w8a8(x0, w); }), "tensor 'x.scale'");
  const QuantizedActivations xn = acts(1, 2, {1, 1}, {-1.0f});
  expect_has(error_of([&] { gemm_w8a8(xn, w); }), "tensor 'x.scale'");

  TwoLevelWeights tl = two_level(1, 2, 2, {0, 0}, {0}, {1}, {0.0f});
  expect_has(error_of([&] { gemm_w4a8_dgq(x, tl, DequantMode::fused); }),
             "tensor 'w.channel_scale'");
  tl.channel_scale = {-2.0f};
  expect_has(error_of([&] { gemm_w4a8_qserve(x, tl); }), "tensor 'w.channel_scale'");
}

TEST(KnownAnswerBadInput, NanFp16Input) {
  const MatrixH ok = math(1, 2, {kH1, kH1});
  const MatrixH nan = math(1, 2, {kH1, 0x7E00});
  const std::string m = error_of([&] { gemm_fp16(nan, ok); });
  expect_has(m, "tensor 'x'");
  expect_has(m, "[0, 1]");
  expect_has(m, "NaN");
  expect_has(error_of([&] { gemm_fp16(ok, nan); }), "tensor 'w'");

  const QuantizedWeights w = weights(WeightFormat::int4, 1, 2, 2, {1, 1}, matf(1, 1, {1.0f}));
  expect_has(error_of([&] { gemm_w4a16(nan, w); }), "tensor 'x'");
}

TEST(KnownAnswerBadInput, OutOfRangeCode) {
  const QuantizedActivations x = acts(1, 2, {1, 1}, {1.0f});
  // int4 code 9 (range -8..7)
  const QuantizedWeights w4 = weights(WeightFormat::int4, 1, 2, 2, {9, 0}, matf(1, 1, {1.0f}));
  const std::string m = error_of([&] { gemm_w4a8_fs(x, w4); });
  expect_has(m, "tensor 'w.codes'");
  expect_has(m, "= 9");
  expect_has(error_of([&] {
               IntegerScales s;
               s.S = MatrixI32(1, 1, 1);
               gemm_w4a8_is(x, w4, s);
             }),
             "tensor 'w.codes'");
  // uint4 code 16 (w4a16 asymmetric)
  const QuantizedWeights wu = weights(WeightFormat::uint4, 1, 2, 2, {0, 16}, matf(1, 1, {1.0f}),
                                      mat<std::int8_t>(1, 1, {0}));
  expect_has(error_of([&] { gemm_w4a16(math(1, 2, {kH1, kH1}), wu); }), "tensor 'w.codes'");
  // dint4 raw code 16
  const QuantizedWeights wd = weights(WeightFormat::dint4, 1, 2, 2, {16, 0}, matf(1, 1, {1.0f}));
  expect_has(error_of([&] { gemm_w4a8_dint(x, wd); }), "tensor 'w.codes'");
  // two-level q = 16, zero = 16
  expect_has(error_of([&] {
               gemm_w4a8_dgq(x, two_level(1, 2, 2, {16, 0}, {0}, {1}, {1.0f}), DequantMode::fused);
             }),
             "tensor 'w.q'");
  expect_has(error_of([&] {
               gemm_w4a8_qserve(x, two_level(1, 2, 2, {0, 0}, {16}, {1}, {1.0f}));
             }),
             "tensor 'w.zeros'");
}

TEST(KnownAnswerBadInput, GroupScaleOutOfRange) {
  const QuantizedActivations x = acts(1, 2, {1, 1}, {1.0f});
  const std::string m0 = error_of([&] {
    gemm_w4a8_dgq(x, two_level(1, 2, 2, {0, 0}, {0}, {0}, {1.0f}), DequantMode::fused);
  });
  expect_has(m0, "tensor 'w.group_scale'");
  expect_has(m0, "= 0");
  // DGQ S2 is int8 (1..127): 128 is rejected; QServe s1 is uint8 (1..255): 128 accepted, 256 not.
  expect_has(
      error_of([&] {
        gemm_w4a8_dgq(x, two_level(1, 2, 2, {0, 0}, {0}, {128}, {1.0f}), DequantMode::materialized);
      }),
      "tensor 'w.group_scale'");
  expect_has(error_of([&] {
               gemm_w4a8_qserve(x, two_level(1, 2, 2, {0, 0}, {0}, {256}, {1.0f}));
             }),
             "tensor 'w.group_scale'");
  expect_has(error_of([&] {
               gemm_w4a8_qserve(x, two_level(1, 2, 2, {0, 0}, {0}, {0}, {1.0f}));
             }),
             "tensor 'w.group_scale'");
  // Integer Scale: S must be >= 1.
  const QuantizedWeights w4 = weights(WeightFormat::int4, 1, 2, 2, {1, 1}, matf(1, 1, {1.0f}));
  IntegerScales s;
  s.S = MatrixI32(1, 1, 0);
  expect_has(error_of([&] { gemm_w4a8_is(x, w4, s); }), "tensor 'w.int_scales'");
}

}  // namespace
}  // namespace quasar
