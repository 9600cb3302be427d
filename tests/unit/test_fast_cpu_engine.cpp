// Does the fast CPU path (models/cpu) compute every integer scheme bit for bit like the
// reference, with the same counters, on every kernel set this CPU runs and with one or
// several threads? Shapes include the ragged ones (M = 1, N = 1, K not a multiple of the
// 4-byte quad or of a group's vector width, M and N not multiples of the 6 x 64 tile) and the
// overflow corners (accumulators narrow enough to wrap, codes at -128/127).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cpu/fast_engine.hpp"
#include "cpu/parallel.hpp"
#include "numerics/error.hpp"
#include "numerics/error_metrics.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {
namespace {

using cpu::FastCpuEngine;
using cpu::KernelIsa;

void expect_same(const GemmResult& fast, const GemmResult& ref, const std::string& what) {
  ASSERT_EQ(fast.y.rows(), ref.y.rows()) << what;
  ASSERT_EQ(fast.y.cols(), ref.y.cols()) << what;
  std::size_t mismatches = 0, first = 0;
  for (std::size_t i = 0; i < ref.y.size(); ++i) {
    if (fast.y.values()[i] != ref.y.values()[i] && mismatches++ == 0) first = i;
  }
  EXPECT_EQ(mismatches, 0u) << what << ": first at flat index " << first << " fast "
                            << (mismatches ? f16_to_f32(fast.y.values()[first]) : 0.0f)
                            << " reference "
                            << (mismatches ? f16_to_f32(ref.y.values()[first]) : 0.0f);
  EXPECT_EQ(fast.counters.actions, ref.counters.actions) << what;
  EXPECT_EQ(fast.counters.overflow, ref.counters.overflow) << what;
  EXPECT_EQ(fast.counters.invalid_codes, ref.counters.invalid_codes) << what;
}

// Every kernel set this CPU runs, each with 1 and 3 threads (3: tiles split unevenly).
std::vector<FastCpuEngine> engines() {
  std::vector<FastCpuEngine> out;
  for (KernelIsa isa : {KernelIsa::portable, KernelIsa::avx2, KernelIsa::avx512_vnni}) {
    if (!cpu::isa_supported(isa)) continue;
    for (unsigned t : {1u, 3u}) out.emplace_back(cpu::FastCpuOptions{t, isa});
  }
  return out;
}

std::string label(const FastCpuEngine& e, const std::string& what) {
  return what + " [" + e.describe() + "]";
}

QuantizedActivations random_acts(std::size_t m, std::size_t k, Rng& rng, bool per_token = true) {
  QuantizedActivations x{MatrixI8(m, k), std::vector<float>(per_token ? m : 1)};
  for (auto& v : x.q.values())
    v = static_cast<std::int8_t>(static_cast<int>(rng.next() % 256) - 128);
  for (auto& s : x.scale) s = static_cast<float>(0.001 + 0.05 * rng.uniform());
  return x;
}

QuantizedWeights random_weights(WeightFormat f, std::size_t n, std::size_t k, std::size_t g,
                                Rng& rng) {
  QuantizedWeights w;
  w.format = f;
  w.group_size = g;
  w.codes = MatrixI8(n, k);
  const IntRange r = code_range(f);
  for (auto& v : w.codes.values()) {
    v = static_cast<std::int8_t>(
        r.lo + static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(r.hi - r.lo + 1)));
  }
  w.scales = MatrixF(n, k / g);
  for (auto& s : w.scales.values()) {
    s = round_to_scale_dtype(static_cast<float>(0.0005 + 0.02 * rng.uniform()), ScaleDtype::fp16);
  }
  return w;
}

TwoLevelWeights random_two_level(std::size_t n, std::size_t k, std::size_t g, int max_scale,
                                 Rng& rng) {
  TwoLevelWeights w;
  w.group_size = g;
  w.q = MatrixU8(n, k);
  w.zeros = MatrixU8(n, k / g);
  w.group_scale = MatrixI32(n, k / g);
  for (auto& v : w.q.values()) v = static_cast<std::uint8_t>(rng.next() % 16);
  for (auto& v : w.zeros.values()) v = static_cast<std::uint8_t>(rng.next() % 16);
  for (auto& v : w.group_scale.values())
    v = 1 + static_cast<int>(rng.next() % static_cast<std::uint64_t>(max_scale));
  w.channel_scale.resize(n);
  for (auto& s : w.channel_scale) s = static_cast<float>(0.001 + 0.01 * rng.uniform());
  return w;
}

struct Shape {
  std::size_t m, k, n, g;
};
// M = 1 and N = 1; K = 7 and 13 (not whole quads); groups of 4, 6 (straddling quads), 32, 96
// (not a multiple of 64-byte vectors); M, N around the 6 x 64 tile's edges; longer K, one
// (2100: 525 quads) past the AVX2 kernel's 256-quad chunk and not a multiple of it.
const Shape kShapes[] = {{1, 64, 1, 32},  {1, 7, 5, 7},        {3, 13, 1, 13},
                         {5, 12, 70, 6},  {7, 96, 65, 32},     {13, 192, 129, 96},
                         {6, 256, 64, 4}, {19, 1024, 45, 128}, {5, 2100, 67, 300}};

std::string shape_name(const Shape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.k) + "x" + std::to_string(s.n) + " g" +
         std::to_string(s.g);
}

TEST(FastCpuEngine, ReportsItsKernelsAndThreads) {
  const FastCpuEngine e(cpu::FastCpuOptions{2, KernelIsa::portable});
  EXPECT_EQ(e.name(), "cpu");
  EXPECT_EQ(e.describe(), "fast CPU kernels (portable, 2 threads)");
  EXPECT_TRUE(cpu::isa_supported(cpu::best_isa()));
}

TEST(FastCpuEngine, W8a8AndDintMatchReference) {
  Rng rng(2);
  for (const Shape& s : kShapes) {
    for (bool per_token : {true, false}) {
      const QuantizedActivations x = random_acts(s.m, s.k, rng, per_token);
      const QuantizedWeights w8 = random_weights(WeightFormat::int8, s.n, s.k, s.k, rng);
      const GemmResult ref8 = cpu_engine().w8a8(x, w8, {});
      QuantizedWeights wd = random_weights(WeightFormat::dint4, s.n, s.k, s.k, rng);
      const GemmResult refa = cpu_engine().w4a8_dint(x, wd, {});  // set A: code 1000 invalid
      wd.dint_set = DintSet::B;
      const GemmResult refb = cpu_engine().w4a8_dint(x, wd, {});
      for (const FastCpuEngine& e : engines()) {
        expect_same(e.w8a8(x, w8, {}), ref8, label(e, "w8a8 " + shape_name(s)));
        expect_same(e.w4a8_dint(x, wd, {}), refb, label(e, "w4a8-dint B " + shape_name(s)));
        wd.dint_set = DintSet::A;
        expect_same(e.w4a8_dint(x, wd, {}), refa, label(e, "w4a8-dint A " + shape_name(s)));
        wd.dint_set = DintSet::B;
      }
    }
  }
}

TEST(FastCpuEngine, GroupScaleSchemesMatchReference) {
  Rng rng(3);
  for (const Shape& s : kShapes) {
    const QuantizedActivations x = random_acts(s.m, s.k, rng);
    const QuantizedWeights w = random_weights(WeightFormat::int4, s.n, s.k, s.g, rng);
    const GemmResult ref_fs = cpu_engine().w4a8_fs(x, w, {});
    for (const FastCpuEngine& e : engines())
      expect_same(e.w4a8_fs(x, w, {}), ref_fs, label(e, "w4a8-fs " + shape_name(s)));
    // 2^20: sum_g P * S exceeds int32's bound, so 40 and 64 bits take the int64 step and
    // 32 bits the wrapping one; the smaller amplifiers stay within int32.
    for (int bits : {6, 10, 16, 20}) {
      const IntegerScales is = to_integer_scales(w, {IntScaleMode::fixed, bits});
      for (int acc : {32, 40, 64}) {
        GemmOptions o;
        o.acc_bits = acc;
        const GemmResult ref = cpu_engine().w4a8_is(x, w, is, o);
        for (const FastCpuEngine& e : engines()) {
          expect_same(e.w4a8_is(x, w, is, o), ref,
                      label(e, "w4a8-is 2^" + std::to_string(bits) + " acc " + std::to_string(acc) +
                                   " " + shape_name(s)));
        }
      }
    }
  }
}

// One weight scale for the whole matrix (a [1, groups] or [1, 1] scale row): accepted by the
// operand checks for every single-level scheme.
TEST(FastCpuEngine, PerTensorWeightScalesMatchReference) {
  Rng rng(9);
  const Shape s{11, 256, 70, 64};
  const QuantizedActivations x = random_acts(s.m, s.k, rng, false);
  QuantizedWeights w4 = random_weights(WeightFormat::int4, 1, s.k, s.g, rng);  // its scales
  const MatrixF one_row = w4.scales;
  w4 = random_weights(WeightFormat::int4, s.n, s.k, s.g, rng);
  w4.per_tensor = true;
  w4.scales = one_row;
  QuantizedWeights w8 = random_weights(WeightFormat::int8, s.n, s.k, s.k, rng);
  w8.per_tensor = true;
  w8.scales = MatrixF(1, 1, 0.003f);
  QuantizedWeights wd = random_weights(WeightFormat::dint4, s.n, s.k, s.k, rng);
  wd.per_tensor = true;
  wd.scales = MatrixF(1, 1, 0.02f);
  const IntegerScales is = to_integer_scales(w4, {IntScaleMode::fixed, 10});
  for (const FastCpuEngine& e : engines()) {
    expect_same(e.w4a8_fs(x, w4, {}), cpu_engine().w4a8_fs(x, w4, {}), label(e, "fs per tensor"));
    expect_same(e.w4a8_is(x, w4, is, {}), cpu_engine().w4a8_is(x, w4, is, {}),
                label(e, "is per tensor"));
    expect_same(e.w8a8(x, w8, {}), cpu_engine().w8a8(x, w8, {}), label(e, "w8a8 per tensor"));
    expect_same(e.w4a8_dint(x, wd, {}), cpu_engine().w4a8_dint(x, wd, {}),
                label(e, "dint per tensor"));
  }
}

// A group longer than the packer's 2^16-product segment: the fast engine hands it to the
// reference (its int32 partial sums could overflow).
TEST(FastCpuEngine, GroupsLongerThanASegmentRunOnTheReference) {
  Rng rng(10);
  const std::size_t k = std::size_t{1} << 17;
  const QuantizedActivations x = random_acts(2, k, rng);
  const QuantizedWeights w = random_weights(WeightFormat::int4, 3, k, k, rng);
  const IntegerScales is = to_integer_scales(w, {IntScaleMode::fixed, 10});
  const FastCpuEngine e(cpu::FastCpuOptions{2, cpu::best_isa()});
  expect_same(e.w4a8_fs(x, w, {}), cpu_engine().w4a8_fs(x, w, {}), "fs, group 2^17");
  expect_same(e.w4a8_is(x, w, is, {}), cpu_engine().w4a8_is(x, w, is, {}), "is, group 2^17");
}

TEST(FastCpuEngine, TwoLevelSchemesMatchReferenceBothDequantModes) {
  Rng rng(4);
  for (const Shape& s : kShapes) {
    const QuantizedActivations x = random_acts(s.m, s.k, rng);
    for (int max_scale : {8, 127}) {  // 127: a bad trace, dequantized values out of range
      TwoLevelWeights w = random_two_level(s.n, s.k, s.g, max_scale, rng);
      for (const FastCpuEngine& e : engines()) {
        for (DequantMode mode : {DequantMode::fused, DequantMode::materialized}) {
          expect_same(e.w4a8_dgq(x, w, mode, {}), cpu_engine().w4a8_dgq(x, w, mode, {}),
                      label(e, "w4a8-dgq " + shape_name(s)));
        }
        expect_same(e.w4a8_qserve(x, w, {}), cpu_engine().w4a8_qserve(x, w, {}),
                    label(e, "w4a8-qserve " + shape_name(s)));
      }
      w.bias.assign(s.n, 0.25f);
      for (const FastCpuEngine& e : engines()) {
        expect_same(e.w4a8_dgq(x, w, DequantMode::fused, {}),
                    cpu_engine().w4a8_dgq(x, w, DequantMode::fused, {}),
                    label(e, "w4a8-dgq bias " + shape_name(s)));
      }
    }
  }
}

// Codes at the extremes (-128/127 activations, -128/127 or -8/7 weights) and accumulators
// narrow enough to wrap: the fast path must wrap at the same steps and count the same events.
// Also K long enough that the 32-bit accumulator can wrap only in some segments.
TEST(FastCpuEngine, OverflowCornersMatchReference) {
  Rng rng(5);
  QuantizedActivations x = random_acts(13, 515, rng);
  for (auto& v : x.q.values()) v = static_cast<std::int8_t>(v < 0 ? -128 : 127);
  QuantizedWeights w8 = random_weights(WeightFormat::int8, 67, 515, 515, rng);
  for (auto& v : w8.codes.values()) v = static_cast<std::int8_t>(v < 0 ? -128 : 127);
  const Shape g{13, 515 - 3, 67, 64};  // K = 512 for the group schemes
  QuantizedActivations xg = random_acts(g.m, g.k, rng);
  for (auto& v : xg.q.values()) v = static_cast<std::int8_t>(v < 0 ? -128 : 127);
  QuantizedWeights w4 = random_weights(WeightFormat::int4, g.n, g.k, g.g, rng);
  for (auto& v : w4.codes.values()) v = static_cast<std::int8_t>(v < 0 ? -8 : 7);
  const IntegerScales is = to_integer_scales(w4, {IntScaleMode::fixed, 20});
  std::uint64_t wraps_seen = 0;
  for (int bits : {12, 16, 20, 27}) {
    GemmOptions o;
    o.acc_bits = bits;
    o.psum_bits = bits;
    const GemmResult r8 = cpu_engine().w8a8(x, w8, o);
    const GemmResult rfs = cpu_engine().w4a8_fs(xg, w4, o);
    GemmOptions oi = o;
    oi.psum_bits = 32;
    const GemmResult ris = cpu_engine().w4a8_is(xg, w4, is, oi);
    wraps_seen += r8.counters.overflow_events() + rfs.counters.overflow_events() +
                  ris.counters.overflow_events();
    for (const FastCpuEngine& e : engines()) {
      const std::string b = std::to_string(bits);
      expect_same(e.w8a8(x, w8, o), r8, label(e, "w8a8 acc " + b));
      expect_same(e.w4a8_fs(xg, w4, o), rfs, label(e, "fs psum " + b));
      expect_same(e.w4a8_is(xg, w4, is, oi), ris, label(e, "is acc " + b));
    }
  }
  EXPECT_GT(wraps_seen, 0u) << "the corners must wrap";

  // A 32-bit accumulator over 2^18 products of 127 * 127: the bound fails, most segments are
  // provably safe and the last ones step through the wrap. M = N = 1 keeps it quick.
  QuantizedActivations xl{MatrixI8(1, std::size_t{1} << 18, 127), {0.01f}};
  QuantizedWeights wl =
      random_weights(WeightFormat::int8, 2, std::size_t{1} << 18, std::size_t{1} << 18, rng);
  for (auto& v : wl.codes.values()) v = 127;
  wl.codes(1, 5) = -128;
  const GemmResult rl = cpu_engine().w8a8(xl, wl, {});
  EXPECT_GT(rl.counters.overflow_events(), 0u);
  for (const FastCpuEngine& e : engines())
    expect_same(e.w8a8(xl, wl, {}), rl, label(e, "w8a8 long K"));

  // K past one 2^16-product segment with a 64-bit accumulator: exact segment sums added in
  // int64, the last segment short (K = 2^17 + 5).
  const std::size_t k2 = (std::size_t{1} << 17) + 5;
  const QuantizedActivations x2 = random_acts(2, k2, rng);
  const QuantizedWeights w2 = random_weights(WeightFormat::int8, 3, k2, k2, rng);
  GemmOptions o64;
  o64.acc_bits = 64;
  const GemmResult r2 = cpu_engine().w8a8(x2, w2, o64);
  for (const FastCpuEngine& e : engines())
    expect_same(e.w8a8(x2, w2, o64), r2, label(e, "w8a8 K 2^17+5"));

  QuantizedActivations big = x;
  for (auto& s : big.scale) s = 60000.0f;  // outputs overflow fp16 (and some fp32 products)
  const GemmResult rb = cpu_engine().w8a8(big, w8, {});
  EXPECT_GT(rb.counters.overflow.at(stage::kOutputFp16Inf), 0u) << "the corner must be exercised";
  for (const FastCpuEngine& e : engines())
    expect_same(e.w8a8(big, w8, {}), rb, label(e, "fp16 inf"));
}

// The schemes without fast kernels go to the reference; bad operands fail with its words.
TEST(FastCpuEngine, OtherSchemesAndBadInputAreTheReferences) {
  Rng rng(6);
  const FastCpuEngine e(cpu::FastCpuOptions{2, cpu::best_isa()});
  const QuantizedActivations x = random_acts(4, 64, rng);
  QuantizedWeights w = random_weights(WeightFormat::int4, 4, 64, 32, rng);
  MatrixH xh(3, 64), wh(5, 64);
  for (auto& v : xh.values()) v = f32_to_f16(static_cast<float>(rng.normal()));
  for (auto& v : wh.values()) v = f32_to_f16(static_cast<float>(0.1 * rng.normal()));
  expect_same(e.fp16(xh, wh, {}), cpu_engine().fp16(xh, wh, {}), "fp16");
  expect_same(e.w4a16(xh, w, {}), cpu_engine().w4a16(xh, w, {}), "w4a16");
  w.codes(1, 1) = 9;
  EXPECT_THAT([&] { e.w4a8_fs(x, w, {}); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("'w.codes'")));
  GemmOptions o;
  o.acc_bits = 65;
  w.codes(1, 1) = 0;
  EXPECT_THROW(e.w4a8_fs(x, w, o), Error);
}

std::vector<const cpu::KernelSet*> kernel_sets() {
  std::vector<const cpu::KernelSet*> out;
  for (KernelIsa isa : {KernelIsa::portable, KernelIsa::avx2, KernelIsa::avx512_vnni})
    if (cpu::isa_supported(isa)) out.push_back(&cpu::kernels(isa));
  return out;
}

// The epilogues' fp16 conversion (VCVTPS2PH in the AVX-512 set) against f32_to_f16: every
// exponent with sampled mantissas, the rounding ties, and the edges where fp16 underflows
// (2^-25, 2^-14) and overflows (65520). All 4.28e9 non-NaN floats were checked once by hand
// (docs/performance.md); this keeps a fast sample.
TEST(FastCpuEngine, EpilogueRoundsToFp16LikeTheReference) {
  std::vector<float> v;
  auto add_bits = [&](std::uint32_t b) {
    if ((b & 0x7fffffffu) > 0x7f800000u) return;  // NaN: never an epilogue input
    float f;
    std::memcpy(&f, &b, 4);
    v.push_back(f);
  };
  for (std::uint64_t b = 0; b < (std::uint64_t{1} << 32); b += 65537)
    add_bits(static_cast<std::uint32_t>(b));
  for (std::uint32_t edge : {0x33000000u, 0x38800000u, 0x477ff000u, 0x7f800000u, 0x3c000000u})
    for (std::uint32_t d = 0; d < 8192; ++d)
      for (std::uint32_t sign : {0u, 0x80000000u}) add_bits(sign | (edge - 4096 + d));
  for (std::uint32_t e = 0; e < 255; ++e)
    for (std::uint32_t low : {0x0fffu, 0x1000u, 0x1001u, 0x3000u})
      add_bits((e << 23) | (0x2a5u << 13) | low);  // ties and near-ties of the 13 dropped bits
  std::vector<std::uint16_t> want(v.size());
  std::uint64_t want_inf = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    want[i] = f32_to_f16(v[i]);
    want_inf += f16_is_inf(want[i]) ? 1 : 0;
  }
  for (const cpu::KernelSet* k : kernel_sets()) {
    std::vector<std::uint16_t> y(v.size());
    EXPECT_EQ(k->float_out(v.data(), 1.0f, y.data(), v.size()), want_inf) << cpu::isa_name(k->isa);
    EXPECT_EQ(y, want) << cpu::isa_name(k->isa);
  }
}

// The integer epilogues with int64 accumulators beyond 2^24 (int64 -> fp32 rounds), scales that
// make subnormal and infinite outputs, and a bias: every kernel set like the portable one,
// which is the reference's expression written out (kernel_body.hpp).
TEST(FastCpuEngine, IntegerEpiloguesAgreeAcrossKernelSets) {
  Rng rng(8);
  const std::size_t n = 203;  // not a multiple of 16
  std::vector<std::int64_t> a64(n);
  std::vector<std::int32_t> a32(n);
  std::vector<float> col(n), bias(n);
  for (std::size_t i = 0; i < n; ++i) {
    a64[i] = static_cast<std::int64_t>(rng.next() >> (rng.next() % 64)) * (i % 2 ? 1 : -1);
    a32[i] = static_cast<std::int32_t>(rng.next());
    col[i] = std::ldexp(static_cast<float>(rng.uniform()), static_cast<int>(rng.next() % 60) - 40);
    bias[i] = static_cast<float>(rng.normal());
  }
  const cpu::KernelSet& ref = cpu::kernels(KernelIsa::portable);
  for (const cpu::KernelSet* k : kernel_sets()) {
    for (float row : {1.0f, 3.0e-20f, 7.5e10f}) {
      for (float post : {1.0f, 0.5f}) {
        for (const float* b :
             {static_cast<const float*>(nullptr), static_cast<const float*>(bias.data())}) {
          for (const float* c :
               {static_cast<const float*>(nullptr), static_cast<const float*>(col.data())}) {
            std::vector<std::uint16_t> y(n), want(n);
            EXPECT_EQ(k->int_out64(a64.data(), row, c, post, b, y.data(), n),
                      ref.int_out64(a64.data(), row, c, post, b, want.data(), n));
            EXPECT_EQ(y, want) << cpu::isa_name(k->isa) << " int64 row " << row;
            EXPECT_EQ(k->int_out32(a32.data(), row, c, post, b, y.data(), n),
                      ref.int_out32(a32.data(), row, c, post, b, want.data(), n));
            EXPECT_EQ(y, want) << cpu::isa_name(k->isa) << " int32 row " << row;
          }
        }
      }
    }
  }
  // The portable expression is the reference's: F32(acc) * ((row * col) * post) + bias.
  std::vector<std::uint16_t> y(1);
  const std::int64_t acc = 123456789;
  ref.int_out64(&acc, 0.01f, &col[0], 0.5f, &bias[0], y.data(), 1);
  EXPECT_EQ(y[0], f32_to_f16(static_cast<float>(acc) * ((0.01f * col[0]) * 0.5f) + bias[0]));
}

TEST(FastCpuEngine, ParallelForRunsEveryItemOnceAndRethrows) {
  std::vector<int> hits(1000, 0);
  cpu::parallel_for(hits.size(), 4, [&](std::size_t i, unsigned) { ++hits[i]; });
  for (int h : hits) ASSERT_EQ(h, 1);
  EXPECT_THROW(cpu::parallel_for(100, 3,
                                 [](std::size_t i, unsigned) {
                                   if (i == 57) throw Error("item 57");
                                 }),
               Error);
}

TEST(FastCpuEngine, EnvironmentPicksTheEngine) {
  std::string note;
  ::unsetenv("QUASAR_CPU_ENGINE");
  EXPECT_EQ(&cpu::default_cpu_engine(note), &cpu::fast_cpu_engine());
  EXPECT_THAT(note, ::testing::HasSubstr("fast CPU kernels"));
  ::setenv("QUASAR_CPU_ENGINE", "reference", 1);
  EXPECT_EQ(&cpu::default_cpu_engine(note), &cpu_engine());
  EXPECT_THAT(note, ::testing::HasSubstr("reference"));
  ::setenv("QUASAR_CPU_ENGINE", "fastest", 1);
  EXPECT_THAT([&] { cpu::default_cpu_engine(note); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("accepted: fast, reference")));
  ::unsetenv("QUASAR_CPU_ENGINE");
}

// The reference routines trace synth runs on every core give the serial loop's bits: run on 3
// threads and with the blocks in reverse order (a schedule no thread pool promises, so any
// dependence between blocks shows), against the plain loop.
ForEachIndex reversed() {
  return [](std::size_t n, const std::function<void(std::size_t)>& body) {
    for (std::size_t i = n; i-- > 0;) body(i);
  };
}

TEST(ParallelReference, FloatReferenceHasTheSerialBits) {
  Rng rng(5);
  MatrixF x(7, 263), w(45, 263);  // N not a multiple of the 8 lanes a block sums
  for (auto* m : {&x, &w})
    for (auto& v : m->values()) v = static_cast<float>(rng.normal() * static_cast<double>(1 + rng.next() % 1000));
  const MatrixF serial = float_reference(x, w);
  for (const ForEachIndex& f : {cpu::for_each_parallel(3), reversed()}) {
    const MatrixF par = float_reference(x, w, f);
    ASSERT_EQ(par.values().size(), serial.values().size());
    EXPECT_EQ(std::memcmp(par.values().data(), serial.values().data(),
                          serial.values().size() * sizeof(float)),
              0);
  }
}

TEST(ParallelReference, FillNormalIsTheSequentialStream) {
  // More values than one chunk (2^16) and not a multiple of it.
  for (std::size_t rows : {3u, 300u}) {
    MatrixF want(rows, 513), got(rows, 513);
    Rng a(11), b(11);
    for (float& v : want.values()) v = static_cast<float>(a.normal() * 0.02);
    fill_normal(got, 0.02, b, cpu::for_each_parallel(3));
    EXPECT_EQ(std::memcmp(want.values().data(), got.values().data(),
                          want.values().size() * sizeof(float)),
              0)
        << rows << " rows";
    EXPECT_EQ(a.next(), b.next()) << "the stream continues where the loop would leave it";
    Rng c(11);
    MatrixF rev(rows, 513);
    fill_normal(rev, 0.02, c, reversed());
    EXPECT_EQ(std::memcmp(want.values().data(), rev.values().data(),
                          want.values().size() * sizeof(float)),
              0);
  }
}

}  // namespace
}  // namespace quasar
