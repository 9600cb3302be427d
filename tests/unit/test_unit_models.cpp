// Are the single-unit C++ models (models/units) the same arithmetic as the numerics reference?
// Each test composes unit steps the way a PE would (one MAC step per k, one integer-scale step
// per group, one dequant per weight) and checks the result against numerics: the wrapping
// accumulator, the int8 GEMM kernels, and the reference GEMMs' fp16 outputs and event counters.
// The RTL is proven equal to these models in tests/rtl; together the chain RTL = units =
// numerics holds.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/counters.hpp"
#include "numerics/dint4.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm.hpp"
#include "numerics/int_formats.hpp"
#include "numerics/int_kernels.hpp"
#include "units/dequant_dgq.hpp"
#include "units/float_units.hpp"
#include "units/intscale_acc.hpp"
#include "units/mac.hpp"
#include "units/systolic_os.hpp"

namespace quasar::units {
namespace {

std::int8_t random_i8(std::mt19937_64& rng) { return static_cast<std::int8_t>(rng() & 0xFFu); }

std::uint64_t overflow_at(const GemmCounters& c, const char* stage_name) {
  const auto it = c.overflow.find(stage_name);
  return it == c.overflow.end() ? 0 : it->second;
}

TEST(AccStep, WrapsAndFlagsAtTheEdgesOfEachWidth) {
  // Hand-worked: 2^31 - 1 + 1 wraps to -2^31 in 32 bits; in 40 bits it fits.
  const AccStep a = accumulate(INT32_MAX, 1, 32);
  EXPECT_EQ(a.acc, INT32_MIN);
  EXPECT_TRUE(a.overflow);
  const AccStep b = accumulate(INT32_MAX, 1, 40);
  EXPECT_EQ(b.acc, std::int64_t{INT32_MAX} + 1);
  EXPECT_FALSE(b.overflow);
  const AccStep c = accumulate(INT64_MIN, -1, 64);
  EXPECT_EQ(c.acc, INT64_MAX);
  EXPECT_TRUE(c.overflow);
  const AccStep d = accumulate(INT32_MIN, -1, 32);  // one below the bottom wraps to the top
  EXPECT_EQ(d.acc, std::int64_t{INT32_MAX});
  EXPECT_TRUE(d.overflow);
  const AccStep e = accumulate(INT32_MIN + 1, -1, 32);  // reaching the edge is no event
  EXPECT_EQ(e.acc, INT32_MIN);
  EXPECT_FALSE(e.overflow);
}

TEST(AccStep, WidthsOutsideTwoToSixtyFourAreRejected) {
  EXPECT_THROW(MacInt8(1), Error);
  EXPECT_THROW(MacW4A8(65), Error);
  EXPECT_THROW(MacDint4(DintSet::B, 0), Error);
  EXPECT_THROW(IntScaleAcc(65), Error);
  EXPECT_NO_THROW(IntScaleAcc(64));
  EXPECT_NO_THROW(MacInt8(2));
}

TEST(MacInt8, RowOfStepsEqualsTheWrappingDotKernel) {
  std::mt19937_64 rng(1);
  for (int bits : {12, 16, 20, 32}) {
    const MacInt8 mac(bits);
    for (int row = 0; row < 200; ++row) {
      std::vector<std::int8_t> a(300), b(300);
      for (std::size_t k = 0; k < a.size(); ++k) a[k] = random_i8(rng), b[k] = random_i8(rng);
      std::int64_t acc = 0;
      std::uint64_t events = 0;
      for (std::size_t k = 0; k < a.size(); ++k) {
        const AccStep s = mac.step(acc, b[k], a[k]);
        acc = s.acc;
        events += s.overflow;
      }
      std::uint64_t wraps = 0;
      EXPECT_EQ(acc, dot_i8_wrapping(a.data(), b.data(), a.size(), bits, wraps)) << bits;
      EXPECT_EQ(events, wraps) << bits;
      if (bits == 32) {
        EXPECT_EQ(acc, dot_i8_exact(a.data(), b.data(), a.size()));
      }
    }
  }
}

TEST(MacW4A8, WeightPortIsTwosComplementInt4) {
  // Codes 0..7 are 0..7, 8..15 are -8..-1; bits above the low nibble are not wired.
  for (unsigned code = 0; code < 16; ++code) {
    const int want = code < 8 ? static_cast<int>(code) : static_cast<int>(code) - 16;
    EXPECT_EQ(int4_value(static_cast<std::uint8_t>(code)), want);
    EXPECT_EQ(int4_value(static_cast<std::uint8_t>(code | 0xF0u)), want);
    EXPECT_TRUE(code_range(WeightFormat::int4).contains(want));
  }
}

// A 1 x K x N problem whose rows are fed through the unit models; the reference GEMM must give
// the same fp16 outputs and the same event counts.
QuantizedActivations random_acts(std::size_t m, std::size_t k, std::mt19937_64& rng) {
  QuantizedActivations x{MatrixI8(m, k), std::vector<float>(m)};
  for (auto& v : x.q.values()) v = random_i8(rng);
  for (std::size_t i = 0; i < m; ++i) x.scale[i] = 0.0078125f * static_cast<float>(1 + i);
  return x;
}

TEST(MacDint4, RowsOfStepsReproduceGemmW4A8DintForBothSets) {
  std::mt19937_64 rng(2);
  for (DintSet set : {DintSet::A, DintSet::B}) {
    for (int bits : {12, 32}) {
      const std::size_t M = 3, N = 5, K = 512;
      const QuantizedActivations x = random_acts(M, K, rng);
      QuantizedWeights w;
      w.format = WeightFormat::dint4;
      w.dint_set = set;
      w.group_size = K;
      w.codes = MatrixI8(N, K);
      for (auto& c : w.codes.values()) c = static_cast<std::int8_t>(rng() % 16);  // incl. 1000
      w.scales = MatrixF(N, 1);
      for (std::size_t n = 0; n < N; ++n) w.scales(n, 0) = 0.25f * static_cast<float>(n + 1);
      GemmOptions opt;
      opt.acc_bits = bits;
      const GemmResult ref = gemm_w4a8_dint(x, w, opt);

      const MacDint4 mac(set, bits);
      std::uint64_t invalid = 0, events = 0;
      for (std::size_t m = 0; m < M; ++m) {
        for (std::size_t n = 0; n < N; ++n) {
          std::int64_t acc = 0;
          for (std::size_t k = 0; k < K; ++k) {
            const MacDint4Step s =
                mac.step(acc, static_cast<std::uint8_t>(w.codes(n, k)), x.q(m, k));
            acc = s.acc;
            events += s.overflow;
            if (m == 0) invalid += s.invalid_code;  // the reference counts once per weight
          }
          // Spec w4a8-dint epilogue: F16(F32(acc2) * (F32(s_x) * F32(s_w) * 0.5)).
          const float scale = x.scale_of(m) * w.scale(n, 0) * 0.5f;
          EXPECT_EQ(f32_to_f16(static_cast<float>(acc) * scale), ref.y(m, n))
              << dint_set_name(set) << " bits " << bits << " m " << m << " n " << n;
        }
      }
      EXPECT_EQ(invalid, ref.counters.invalid_codes) << dint_set_name(set);
      if (set == DintSet::A) {
        EXPECT_GT(invalid, 0u);
      }  // the data did exercise code 1000
      EXPECT_EQ(events, overflow_at(ref.counters, stage::kAccumulator)) << bits;
      if (bits == 12) {
        EXPECT_GT(events, 0u);
      }  // and the 12-bit run did wrap
    }
  }
}

TEST(IntScaleAcc, GroupStepsReproduceGemmW4A8IsIncludingWraps) {
  std::mt19937_64 rng(3);
  for (int acc_bits : {20, 32, 40, 48, 64}) {
    const std::size_t M = 2, N = 4, K = 1024, G = 64, groups = K / G;
    const QuantizedActivations x = random_acts(M, K, rng);
    QuantizedWeights w;
    w.format = WeightFormat::int4;
    w.group_size = G;
    w.codes = MatrixI8(N, K);
    for (auto& c : w.codes.values()) c = static_cast<std::int8_t>(static_cast<int>(rng() % 16) - 8);
    w.scales = MatrixF(N, groups, 0.01f);
    IntegerScales s;
    s.bits = 10;
    s.S = MatrixI32(N, groups);
    for (auto& v : s.S.values()) v = static_cast<std::int32_t>(1 + rng() % 40000);
    GemmOptions opt;
    opt.acc_bits = acc_bits;
    const GemmResult ref = gemm_w4a8_is(x, w, s, opt);

    const MacW4A8 mac(32);
    const IntScaleAcc isacc(acc_bits);
    std::uint64_t events = 0;
    for (std::size_t m = 0; m < M; ++m) {
      for (std::size_t n = 0; n < N; ++n) {
        std::int64_t acc = 0;
        WrappingAccumulator wacc(acc_bits);
        for (std::size_t g = 0; g < groups; ++g) {
          std::int64_t p = 0;
          for (std::size_t k = g * G; k < (g + 1) * G; ++k) {
            p = mac.step(p, static_cast<std::uint8_t>(w.codes(n, k)), x.q(m, k)).acc;
          }
          const AccStep st = isacc.step(acc, p, s.S(n, g));
          acc = st.acc;
          events += st.overflow;
          wacc.add(static_cast<int128_t>(p) * s.S(n, g));
          EXPECT_EQ(acc, wacc.value());
        }
        // Spec w4a8-is epilogue: F16(F32(acc) * (F32(s_x) * 2^-b)).
        const float scale = x.scale_of(m) * exp2_exact(-s.bits);
        EXPECT_EQ(f32_to_f16(static_cast<float>(acc) * scale), ref.y(m, n)) << acc_bits;
      }
    }
    EXPECT_EQ(events, overflow_at(ref.counters, stage::kIntScaleAcc)) << acc_bits;
    if (acc_bits == 20) {
      EXPECT_GT(events, 0u);
    }
    if (acc_bits >= 40) {
      EXPECT_EQ(events, 0u);
    }
  }
}

TEST(DequantDgq, MatchesTheReferenceClampAndFeedsGemmW4A8Dgq) {
  std::mt19937_64 rng(4);
  const std::size_t M = 2, N = 6, K = 256, G = 32, groups = K / G;
  const QuantizedActivations x = random_acts(M, K, rng);
  TwoLevelWeights w;
  w.group_size = G;
  w.q = MatrixU8(N, K);
  for (auto& v : w.q.values()) v = static_cast<std::uint8_t>(rng() % 16);
  w.zeros = MatrixU8(N, groups);
  for (auto& v : w.zeros.values()) v = static_cast<std::uint8_t>(rng() % 16);
  w.group_scale = MatrixI32(N, groups);
  // Large S2 on purpose: (q - z) * S2 often leaves [-127, 127], a bad trace the unit clamps.
  for (auto& v : w.group_scale.values()) v = static_cast<std::int32_t>(1 + rng() % 127);
  w.channel_scale.assign(N, 0.001953125f);
  const GemmResult ref = gemm_w4a8_dgq(x, w, DequantMode::fused);

  const MacInt8 mac(32);
  std::uint64_t out_of_range = 0;
  for (std::size_t n = 0; n < N; ++n) {
    std::vector<std::int8_t> w8(K);
    for (std::size_t k = 0; k < K; ++k) {
      const std::size_t g = k / G;
      const DequantDgqResult d =
          dequant_dgq(w.q(n, k), w.zeros(n, g), static_cast<std::int8_t>(w.group_scale(n, g)));
      w8[k] = d.w8;
      out_of_range += d.out_of_range;
    }
    for (std::size_t m = 0; m < M; ++m) {
      std::int64_t acc = 0;
      for (std::size_t k = 0; k < K; ++k) acc = mac.step(acc, w8[k], x.q(m, k)).acc;
      // Spec w4a8-dgq epilogue: F16(F32(acc) * (F32(s1[n]) * F32(s_x))).
      const float scale = w.channel_scale[n] * x.scale_of(m);
      EXPECT_EQ(f32_to_f16(static_cast<float>(acc) * scale), ref.y(m, n)) << m << " " << n;
    }
  }
  EXPECT_GT(out_of_range, 0u);
  EXPECT_EQ(out_of_range, overflow_at(ref.counters, stage::kDequantRange));
}

TEST(DequantDgq, HandWorkedValues) {
  EXPECT_EQ(dequant_dgq(15, 0, 8).w8, 120);  // 15 * 8
  EXPECT_FALSE(dequant_dgq(15, 0, 8).out_of_range);
  EXPECT_EQ(dequant_dgq(15, 0, 9).w8, 127);  // 135 saturates to the range's top
  EXPECT_TRUE(dequant_dgq(15, 0, 9).out_of_range);
  EXPECT_EQ(dequant_dgq(0, 15, 9).w8, -127);  // -135: the range is symmetric, not -128
  EXPECT_TRUE(dequant_dgq(0, 15, 9).out_of_range);
  EXPECT_EQ(dequant_dgq(1, 0, -128).w8, -127);  // an invalid S2 still gets the defined clamp
  EXPECT_TRUE(dequant_dgq(1, 0, -128).out_of_range);
  EXPECT_EQ(dequant_dgq(0x17, 0x30, 5).w8, 35);  // only the low nibbles are wired
}

TEST(FloatScaleAcc, GroupStepsReproduceGemmW4A8Fs) {
  std::mt19937_64 rng(5);
  const std::size_t M = 3, N = 4, K = 1024, G = 64, groups = K / G;
  const QuantizedActivations x = random_acts(M, K, rng);
  QuantizedWeights w;
  w.format = WeightFormat::int4;
  w.group_size = G;
  w.codes = MatrixI8(N, K);
  for (auto& c : w.codes.values()) c = static_cast<std::int8_t>(static_cast<int>(rng() % 16) - 8);
  w.scales = MatrixF(N, groups);
  for (auto& v : w.scales.values())
    v = round_to_scale_dtype(1e-3f * static_cast<float>(1 + rng() % 997), ScaleDtype::fp16);
  const GemmResult ref = gemm_w4a8_fs(x, w, {});
  const MacW4A8 mac(32);
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      std::uint32_t acc = 0;  // +0, binary32 bits
      for (std::size_t g = 0; g < groups; ++g) {
        std::int64_t p = 0;
        for (std::size_t k = g * G; k < (g + 1) * G; ++k) {
          p = mac.step(p, static_cast<std::uint8_t>(w.codes(n, k)), x.q(m, k)).acc;
        }
        acc =
            FloatScaleAcc::step(acc, static_cast<std::int32_t>(p), detail::bits_of(w.scales(n, g)));
      }
      // Spec w4a8-fs epilogue: F16(acc_f * F32(s_x)).
      EXPECT_EQ(f32_to_f16(detail::float_of(acc) * x.scale_of(m)), ref.y(m, n));
    }
  }
}

TEST(MacFp16, StepsReproduceGemmFp16) {
  std::mt19937_64 rng(6);
  const std::size_t M = 3, N = 5, K = 300;
  MatrixH x(M, K), w(N, K);
  auto random_h = [&] {
    // Finite fp16 around 1 (exponents 5..24), either sign, some subnormals.
    const auto r = static_cast<std::uint16_t>(rng());
    return rng() % 16 == 0 ? static_cast<std::uint16_t>(r & 0x83ffu)
                           : static_cast<std::uint16_t>((r & 0x83ffu) | ((5 + rng() % 20) << 10));
  };
  for (auto& v : x.values()) v = random_h();
  for (auto& v : w.values()) v = random_h();
  const GemmResult ref = gemm_fp16(x, w, {});
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      std::uint32_t acc = 0;
      for (std::size_t k = 0; k < K; ++k) acc = MacFp16::step(acc, w(n, k), x(m, k));
      EXPECT_EQ(f32_to_f16(detail::float_of(acc)), ref.y(m, n));
    }
  }
}

// The output-stationary array's C++ model (models/units/systolic_os.hpp; its RTL is proven equal
// to it in tests/rtl/test_rtl_systolic_os.cpp): Y = int8_gemm for every size 1x1 .. 8x8, ragged
// tiles and k-chunks, and every tile's measured phases = the closed form.
MatrixI8 random_i8_matrix(std::size_t rows, std::size_t cols, std::mt19937_64& rng) {
  MatrixI8 m(rows, cols);
  for (auto& v : m.values()) v = random_i8(rng);
  return m;
}

void expect_os_run_matches(const std::string& what, const SystolicOsRun& run,
                           const Int8GemmResult& ref, const SystolicOsTiming& t) {
  EXPECT_EQ(run.y, ref.acc) << what << ": outputs differ from int8_gemm";
  ASSERT_EQ(run.tiles.size(), t.tiles()) << what;
  for (std::size_t i = 0; i < run.tiles.size(); ++i) {
    EXPECT_TRUE(run.tiles[i] == t.tile(i))
        << what << " tile " << i << ": measured " << run.tiles[i].load << "/" << run.tiles[i].stream
        << "/" << run.tiles[i].drain << ", closed form " << t.tile(i).load << "/"
        << t.tile(i).stream << "/" << t.tile(i).drain;
  }
  EXPECT_TRUE(run.total == t.total)
      << what << ": total " << run.total.total() << " vs " << t.total.total();
}

TEST(SystolicOsModel, EverySizeUpTo8x8EqualsGemmAndTiming) {
  std::mt19937_64 rng(0x05);
  int runs = 0;
  for (int rows = 1; rows <= 8; ++rows) {
    for (int cols = 1; cols <= 8; ++cols) {
      const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
      // M x K x N: one element, exact tiles, ragged M and N, several tiles each way.
      const std::vector<std::array<std::size_t, 3>> shapes = {
          {1, 1, 1}, {R, 4, C}, {R + 1, 7, C + 1}, {2 * R + 3, 2 * R + 1, 3 * C - 1}};
      for (const auto& [M, K, N] : shapes) {
        const MatrixI8 x = random_i8_matrix(M, K, rng), w = random_i8_matrix(N, K, rng);
        const Int8GemmResult ref = int8_gemm(x, w, 32);
        // k-chunks: all of K, 1, a non-divisor, about half, more than K.
        for (const std::size_t kc : {K, std::size_t{1}, std::size_t{3}, K / 2 + 1, K + 2}) {
          const std::string what = std::to_string(rows) + "x" + std::to_string(cols) +
                                   " M=" + std::to_string(M) + " K=" + std::to_string(K) +
                                   " N=" + std::to_string(N) + " k_chunk=" + std::to_string(kc);
          expect_os_run_matches(what, systolic_os_gemm(rows, cols, x, w, kc), ref,
                                systolic_os_timing(rows, cols, M, K, N, kc));
          ++runs;
        }
      }
    }
  }
  EXPECT_EQ(runs, 64 * 4 * 5);
}

// Sums beyond int32: 140000 products of +-128 x +-128 wrap the PE accumulator (k_chunk = K) or
// the driver's sum of the chunks (k_chunk = 50000: each chunk fits in int32), both mod 2^32.
TEST(SystolicOsModel, AccumulatorWrapsModulo2To32) {
  const std::size_t K = 140000;
  std::mt19937_64 rng(0x0f);
  MatrixI8 x(3, K), w(4, K);
  for (std::size_t k = 0; k < K; ++k) {
    x(0, k) = -128, x(1, k) = 127, x(2, k) = random_i8(rng);
    w(0, k) = -128, w(1, k) = 127, w(2, k) = -128, w(3, k) = random_i8(rng);
  }
  const Int8GemmResult ref = int8_gemm(x, w, 32);
  EXPECT_GT(ref.wraps, 0u);
  // By hand: 140000 * 16384 = 2293760000 = 2^32 - 2001207296 -> -2001207296.
  EXPECT_EQ(ref.acc[0], -2001207296);
  for (const std::size_t kc : {K, std::size_t{50000}, std::size_t{7}}) {
    expect_os_run_matches("2x3 k_chunk=" + std::to_string(kc), systolic_os_gemm(2, 3, x, w, kc),
                          ref, systolic_os_timing(2, 3, 3, K, 4, kc));
  }
}

// Worked example for the docs: a 4x4 array, M = 6, K = 10, N = 5, k_chunk = 4: 2 m-tiles x
// 2 n-tiles x 3 k-chunks (4, 4, 2 indices). Drain 2*4 + 4 - 2 = 10; a full chunk's tile
// 0 + 4 + 10 = 14 cycles, the last chunk's 0 + 2 + 10 = 12; 4 * (14 + 14 + 12) = 160 in all.
TEST(SystolicOsModel, ClosedFormWorkedExample) {
  const SystolicOsTiming t = systolic_os_timing(4, 4, 6, 10, 5, 4);
  EXPECT_EQ(t.m_tiles, 2u);
  EXPECT_EQ(t.n_tiles, 2u);
  EXPECT_EQ(t.k_chunks, 3u);
  EXPECT_TRUE(t.full == (SystolicOsPhases{0, 4, 10}));
  EXPECT_TRUE(t.last_chunk == (SystolicOsPhases{0, 2, 10}));
  EXPECT_TRUE(t.tile(2) == t.last_chunk);
  EXPECT_TRUE(t.tile(3) == t.full);
  EXPECT_EQ(t.total.stream, 40u);
  EXPECT_EQ(t.total.drain, 120u);
  EXPECT_EQ(t.total.total(), 160u);
  std::mt19937_64 rng(0x10);
  const MatrixI8 x = random_i8_matrix(6, 10, rng), w = random_i8_matrix(5, 10, rng);
  const SystolicOsRun run = systolic_os_gemm(4, 4, x, w, 4);
  EXPECT_EQ(run.total.total(), 160u);
  EXPECT_EQ(run.y, int8_gemm(x, w, 32).acc);
}

TEST(SystolicOsModel, BadShapesAreRejected) {
  EXPECT_THROW(SystolicOsArray(0, 3), std::invalid_argument);
  EXPECT_THROW(systolic_os_timing(2, 2, 1, 1, 1, 0), std::invalid_argument);
  const MatrixI8 x(2, 3), w(2, 4);
  EXPECT_THROW(systolic_os_gemm(2, 2, x, w, 1), std::invalid_argument);
}

}  // namespace
}  // namespace quasar::units
