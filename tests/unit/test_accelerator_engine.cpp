// Does the accelerator's datapath (sim/functional: the tile plan of the timing model, executed
// with the unit models) compute every scheme bit for bit as the reference does, outputs and
// counters, overflow events included? Operands come from the schemes' own quantizers
// (run_scheme) on seeded LLM-like data; arrays are small and odd-sized so that tiles are ragged
// in n and k (WS: group schemes tile K by gcd(rows, group)) or in m and n (OS: more tokens than
// rows, k-chunks of one group for w4a8-fs/is), on both dataflows.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "functional/accelerator_engine.hpp"
#include "mapping/gemm_tiling.hpp"
#include "numerics/error.hpp"
#include "numerics/error_metrics.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/int_kernels.hpp"
#include "numerics/scheme_runner.hpp"
#include "numerics/synthetic.hpp"
#include "units/systolic_os.hpp"
#include "units/systolic_ws.hpp"

namespace quasar::functional {
namespace {

// A rows x cols design that runs `s` on `pe`, with every edge unit it needs.
arch::ArchSpec design(Scheme s, std::uint32_t rows, std::uint32_t cols, arch::PeKind pe,
                      std::uint32_t acc_bits = 32, std::uint32_t intscale_acc_bits = 32,
                      arch::Dataflow dataflow = arch::Dataflow::ws) {
  arch::ArchSpec a;
  a.name = "test-" + std::to_string(rows) + "x" + std::to_string(cols);
  if (dataflow == arch::Dataflow::os) a.name += "-os";
  a.array.rows = rows, a.array.cols = cols, a.array.pe = pe, a.array.acc_bits = acc_bits;
  a.array.dataflow = dataflow;
  a.schemes = {s};
  a.edge.intscale_units = a.edge.floatscale_units = a.edge.dequant_units = cols;
  a.edge.block_units = cols;
  a.edge.intscale_acc_bits = intscale_acc_bits;
  return a;
}

// The GEMM a scheme run fed to its engine, on another engine (trace::run_layer's switch).
GemmResult call(const GemmEngine& e, Scheme s, const SchemeOperands& op, const SchemeConfig& cfg) {
  switch (s) {
    case Scheme::fp16:
      return e.fp16(*op.x_f16, *op.w_f16, cfg.gemm);
    case Scheme::w4a16:
      return e.w4a16(*op.x_f16, *op.w_q, cfg.gemm);
    case Scheme::w8a8:
      return e.w8a8(*op.x_q, *op.w_q, cfg.gemm);
    case Scheme::w4a8_fs:
      return e.w4a8_fs(*op.x_q, *op.w_q, cfg.gemm);
    case Scheme::w4a8_is:
      return e.w4a8_is(*op.x_q, *op.w_q, *op.int_scales, cfg.gemm);
    case Scheme::w4a8_dgq:
      return e.w4a8_dgq(*op.x_q, *op.two_level, cfg.dgq_dequant, cfg.gemm);
    case Scheme::w4a8_dint:
      return e.w4a8_dint(*op.x_q, *op.w_q, cfg.gemm);
    case Scheme::w4a8_qserve:
      return e.w4a8_qserve(*op.x_q, *op.two_level, cfg.gemm);
    case Scheme::w4a8_mx:
    case Scheme::w4a4_mxfp4:
    case Scheme::w8a8_mxint8:
    case Scheme::w4a4_nvfp4:
      return e.block_scaled(s, *op.x_block, *op.w_block, cfg.gemm);
  }
  throw Error("unknown scheme");
}

std::string counters_text(const GemmCounters& c) {
  std::ostringstream os;
  for (const auto& kv : c.actions) os << kv.first << "=" << kv.second << " ";
  os << "| overflow ";
  for (const auto& kv : c.overflow) os << kv.first << "=" << kv.second << " ";
  os << "| invalid " << c.invalid_codes;
  return os.str();
}

struct Case {
  Scheme scheme;
  std::uint32_t rows, cols;
  std::size_t group;
  arch::PeKind pe;
  SchemeConfig cfg;
  std::uint32_t acc_bits = 32, intscale_acc_bits = 32;
  std::size_t m = 5, k = 192, n = 19;
  std::uint64_t seed = 1;
  arch::Dataflow dataflow = arch::Dataflow::ws;
  arch::WsOrder ws_order = arch::WsOrder::n_outer;
  std::uint64_t ifmap_bytes = 0;  // the design's ifmap buffer (0: none, nothing resident)
};

std::string describe(const Case& c) {
  return std::string(scheme_name(c.scheme)) + " on " + arch::pe_kind_name(c.pe) + " PEs " +
         std::to_string(c.rows) + "x" + std::to_string(c.cols) + " " +
         arch::dataflow_name(c.dataflow) + " " + arch::ws_order_name(c.ws_order) + ", group " +
         std::to_string(c.group) + ", M K N " + std::to_string(c.m) + " " + std::to_string(c.k) +
         " " + std::to_string(c.n) + ", acc/psum " + std::to_string(c.cfg.gemm.acc_bits) + "/" +
         std::to_string(c.cfg.gemm.psum_bits) + ", k_tile " + std::to_string(c.cfg.gemm.k_tile);
}

// Runs the case on both engines; returns the reference's counters after checking equality.
GemmCounters expect_bit_exact(Case c) {
  c.cfg.group_size = c.group;
  SyntheticSpec syn;
  syn.m = c.m, syn.k = c.k, syn.n = c.n, syn.seed = c.seed;
  const GemmData d = synthetic_llm_gemm(syn);
  const SchemeRun run = run_scheme(c.scheme, d.x, d.w, c.cfg, float_reference(d.x, d.w));
  const GemmResult want = call(cpu_engine(), c.scheme, run.operands, c.cfg);
  arch::ArchSpec a =
      design(c.scheme, c.rows, c.cols, c.pe, c.acc_bits, c.intscale_acc_bits, c.dataflow);
  a.array.ws_order = c.ws_order;
  a.buffers.ifmap.size_bytes = c.ifmap_bytes;
  // Block units that accumulate the way the case asks (the hardware computes what it has).
  a.edge.block_acc = c.cfg.gemm.block_acc;
  a.edge.block_acc_bits = static_cast<std::uint32_t>(c.cfg.gemm.acc_bits);
  a.edge.block_frac_bits = static_cast<std::uint32_t>(c.cfg.gemm.frac_bits);
  const AcceleratorEngine accel(a);
  const GemmResult got = call(accel, c.scheme, run.operands, c.cfg);
  const std::string what = describe(c);
  EXPECT_EQ(got.y.rows(), want.y.rows()) << what;
  EXPECT_EQ(got.y.cols(), want.y.cols()) << what;
  std::size_t differ = 0, first = 0;
  for (std::size_t i = 0; i < want.y.size() && i < got.y.size(); ++i) {
    if (got.y.values()[i] != want.y.values()[i] && differ++ == 0) first = i;
  }
  EXPECT_EQ(differ, 0u) << what << ": first differing output " << first << " got 0x" << std::hex
                        << got.y.values()[first] << " want 0x" << want.y.values()[first];
  EXPECT_TRUE(got.counters == want.counters) << what << "\n got:  " << counters_text(got.counters)
                                             << "\n want: " << counters_text(want.counters);
  return want.counters;
}

std::uint64_t overflow_at(const GemmCounters& c, const char* stage_name) {
  const auto it = c.overflow.find(stage_name);
  return it == c.overflow.end() ? 0 : it->second;
}

// Small arrays, ragged in both directions, and groups that the rows do or do not divide.
struct ArrayShape {
  std::uint32_t rows, cols;
};
const std::vector<ArrayShape> kArrays = {{8, 8}, {5, 7}, {12, 8}, {3, 32}};
// Output-stationary arrays get kOsTokens tokens: m-tiles ragged on every one (2, 3 and 5 of them).
const std::vector<ArrayShape> kOsArrays = {{8, 8}, {5, 7}, {3, 32}};
constexpr std::size_t kOsTokens = 13;

// Every array of both dataflows: WS with the case's tokens, OS with kOsTokens.
template <class F>
void on_every_array(F f) {
  for (const ArrayShape& a : kArrays) f(a, arch::Dataflow::ws);
  for (const ArrayShape& a : kOsArrays) f(a, arch::Dataflow::os);
}

Case make_case(Scheme s, ArrayShape a, arch::Dataflow df, std::size_t group, arch::PeKind pe,
               SchemeConfig cfg, std::uint32_t acc_bits = 32,
               std::uint32_t intscale_acc_bits = 32) {
  Case c{s, a.rows, a.cols, group, pe, cfg, acc_bits, intscale_acc_bits};
  c.dataflow = df;
  if (df == arch::Dataflow::os) c.m = kOsTokens;
  return c;
}

void every_array_and_group(Scheme s, SchemeConfig cfg, arch::PeKind pe) {
  on_every_array([&](ArrayShape a, arch::Dataflow df) {
    for (std::size_t group : {std::size_t{32}, std::size_t{64}}) {
      expect_bit_exact(make_case(s, a, df, group, pe, cfg));
    }
  });
}

// The block-scaled schemes (spec §5) on every array of both dataflows: element integers on the
// PEs, the block units at the edge (fp32, and fixed at its default 48/24 widths), NVFP4's fp32
// step; w4a4-mxfp4 and NVFP4 on E2M1 x E2M1 PEs and on the wider E2M1 x E4M3 ones.
TEST(AcceleratorEngine, BlockScaledSchemesEqualTheReference) {
  struct Run {
    Scheme s;
    arch::PeKind pe;
  };
  const Run runs[] = {{Scheme::w4a8_mx, arch::PeKind::fp4xfp8},
                      {Scheme::w4a4_mxfp4, arch::PeKind::fp4},
                      {Scheme::w4a4_mxfp4, arch::PeKind::fp4xfp8},
                      {Scheme::w8a8_mxint8, arch::PeKind::int8},
                      {Scheme::w4a4_nvfp4, arch::PeKind::fp4},
                      {Scheme::w4a4_nvfp4, arch::PeKind::fp4xfp8}};
  for (const Run& r : runs) {
    for (BlockAcc mode : {BlockAcc::fp32, BlockAcc::fixed}) {
      if (traits(r.s).e4m3_scales && mode == BlockAcc::fixed) continue;  // NVFP4: fp32 only
      SchemeConfig cfg;
      cfg.gemm.block_acc = mode;
      cfg.gemm.acc_bits = kBlockAccBits;
      on_every_array([&](ArrayShape a, arch::Dataflow df) {
        expect_bit_exact(make_case(r.s, a, df, traits(r.s).block, r.pe, cfg));
      });
    }
  }
}

// The fixed accumulator's events, as the datapath counts them: a narrow accumulator wraps and
// few fraction bits make right shifts drop bits; both engines count the same.
TEST(AcceleratorEngine, BlockFixedEventsEqualTheReference) {
  SchemeConfig cfg;
  cfg.gemm.block_acc = BlockAcc::fixed;
  cfg.gemm.acc_bits = 3;  // [-1, 1) at 2 fraction bits
  cfg.gemm.frac_bits = 2;
  const GemmCounters c =
      expect_bit_exact(make_case(Scheme::w4a8_mx, {8, 8}, arch::Dataflow::ws, 32,
                                 arch::PeKind::fp4xfp8, cfg));
  EXPECT_GT(overflow_at(c, stage::kBlockAlignRound), 0u);
  EXPECT_GT(overflow_at(c, stage::kBlockAcc), 0u);
}

TEST(AcceleratorEngine, Fp16SequentialOrderEqualsTheReference) {
  every_array_and_group(Scheme::fp16, {}, arch::PeKind::fp16);
}

TEST(AcceleratorEngine, Fp16FollowsAnAccumulationTileThatIsAMultipleOfTheKTile) {
  for (const ArrayShape& a : kArrays) {
    SchemeConfig cfg;
    cfg.gemm.k_tile = 4 * a.rows;  // chains restart every 4 k-tiles, merged at the edge
    Case c{Scheme::fp16, a.rows, a.cols, 64, arch::PeKind::fp16, cfg};
    const GemmCounters counted = expect_bit_exact(c);
    EXPECT_GT(counted.action(act::kAddFp32), 5u * 19 * 192) << "the merges are counted";
  }
}

TEST(AcceleratorEngine, Fp16RejectsAnAccumulationTileTheArrayCannotFollow) {
  SyntheticSpec syn;
  syn.m = 2, syn.k = 64, syn.n = 3;
  const GemmData d = synthetic_llm_gemm(syn);
  const MatrixH x = to_f16(d.x, "x"), w = to_f16(d.w, "w");
  GemmOptions opt;
  opt.k_tile = 12;  // not a multiple of 8 rows
  const AcceleratorEngine accel(design(Scheme::fp16, 8, 8, arch::PeKind::fp16));
  try {
    accel.fp16(x, w, opt);
    ADD_FAILURE() << "k_tile 12 on 8 rows was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("multiples of its k-tile (8 rows)"), std::string::npos)
        << e.what();
  }
}

// An output-stationary PE sums all of K in one pass: it runs k_tile 0 or >= K (one pass is the
// reference's order then) and refuses a shorter tile, for fp16 and w4a16 alike.
TEST(AcceleratorEngine, OutputStationaryFollowsOnlyAWholeKAccumulationTile) {
  for (const ArrayShape& a : kOsArrays) {
    for (std::size_t k_tile : {std::size_t{192}, std::size_t{1000}}) {
      for (Scheme s : {Scheme::fp16, Scheme::w4a16}) {
        SchemeConfig cfg;
        cfg.gemm.k_tile = k_tile;
        expect_bit_exact(make_case(s, a, arch::Dataflow::os, 64, arch::PeKind::fp16, cfg));
      }
    }
  }
  SyntheticSpec syn;
  syn.m = 2, syn.k = 64, syn.n = 3;
  const GemmData d = synthetic_llm_gemm(syn);
  SchemeConfig cfg;
  cfg.group_size = 32;
  const SchemeRun run = run_scheme(Scheme::w4a16, d.x, d.w, cfg, float_reference(d.x, d.w));
  GemmOptions opt;
  opt.k_tile = 32;  // a multiple of the rows, but the OS chunk is all of K = 64
  const AcceleratorEngine fp16(
      design(Scheme::fp16, 8, 8, arch::PeKind::fp16, 32, 32, arch::Dataflow::os));
  const AcceleratorEngine w4a16(
      design(Scheme::w4a16, 8, 8, arch::PeKind::fp16, 32, 32, arch::Dataflow::os));
  const MatrixH x = to_f16(d.x, "x"), w = to_f16(d.w, "w");
  const std::string want = "its output-stationary PEs sum each output over all of K (64)";
  try {
    fp16.fp16(x, w, opt);
    ADD_FAILURE() << "fp16 k_tile 32 < K ran on an OS design";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
  }
  try {
    w4a16.w4a16(*run.operands.x_f16, *run.operands.w_q, opt);
    ADD_FAILURE() << "w4a16 k_tile 32 < K ran on an OS design";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
  }
  EXPECT_EQ(fp16.describe(),
            "accelerator datapath of design 'test-8x8-os' (8 x 8 fp16 PEs, output-stationary)");
}

TEST(AcceleratorEngine, W4a16FusedDequantizationAsymmetricAndSymmetric) {
  every_array_and_group(Scheme::w4a16, {}, arch::PeKind::fp16);
  SchemeConfig sym;
  sym.w4a16_symmetric = true;
  every_array_and_group(Scheme::w4a16, sym, arch::PeKind::fp16);
}

TEST(AcceleratorEngine, W8a8PerTokenAndPerTensor) {
  every_array_and_group(Scheme::w8a8, {}, arch::PeKind::int8);
  SchemeConfig per_tensor;
  per_tensor.act_mode = ActQuantMode::per_tensor;
  every_array_and_group(Scheme::w8a8, per_tensor, arch::PeKind::int8);
}

TEST(AcceleratorEngine, W4a8FsOnW4a8AndInt8Pes) {
  every_array_and_group(Scheme::w4a8_fs, {}, arch::PeKind::w4a8);
  every_array_and_group(Scheme::w4a8_fs, {}, arch::PeKind::int8);
}

TEST(AcceleratorEngine, W4a8IsOnW4a8AndInt8Pes) {
  every_array_and_group(Scheme::w4a8_is, {}, arch::PeKind::w4a8);
  every_array_and_group(Scheme::w4a8_is, {}, arch::PeKind::int8);
  SchemeConfig heuristic;
  heuristic.int_scale.mode = IntScaleMode::per_layer;
  every_array_and_group(Scheme::w4a8_is, heuristic, arch::PeKind::w4a8);
}

TEST(AcceleratorEngine, W4a8DgqFusedAndMaterialized) {
  SchemeConfig fused, materialized;
  materialized.dgq_dequant = DequantMode::materialized;
  every_array_and_group(Scheme::w4a8_dgq, fused, arch::PeKind::int8);
  every_array_and_group(Scheme::w4a8_dgq, materialized, arch::PeKind::int8);
}

TEST(AcceleratorEngine, W4a8DintSetsAAndB) {
  SchemeConfig a, b;
  b.dint_set = DintSet::B;
  every_array_and_group(Scheme::w4a8_dint, a, arch::PeKind::dint4);
  every_array_and_group(Scheme::w4a8_dint, b, arch::PeKind::dint4);
}

TEST(AcceleratorEngine, W4a8Qserve) {
  every_array_and_group(Scheme::w4a8_qserve, {}, arch::PeKind::int8);
}

// Weight-stationary m-blocks: an ifmap buffer of 2 x 2 tokens' activations (double buffered)
// cuts M = 5 into blocks of 2, 2 and 1, and M = 9 into 2, 2, 2, 2, 1 (the middle ones played
// as one run of the plan); every weight pass re-decodes and re-dequantizes W, and
// the outputs and counters still equal the reference's for every scheme.
TEST(AcceleratorEngine, WeightStationaryMBlocksEqualTheReference) {
  SchemeConfig materialized;
  materialized.dgq_dequant = DequantMode::materialized;
  const std::pair<Scheme, arch::PeKind> runs[] = {
      {Scheme::fp16, arch::PeKind::fp16},       {Scheme::w4a16, arch::PeKind::fp16},
      {Scheme::w8a8, arch::PeKind::int8},       {Scheme::w4a8_fs, arch::PeKind::w4a8},
      {Scheme::w4a8_is, arch::PeKind::w4a8},    {Scheme::w4a8_dgq, arch::PeKind::int8},
      {Scheme::w4a8_dint, arch::PeKind::dint4}, {Scheme::w4a8_qserve, arch::PeKind::int8}};
  for (const auto& [s, pe] : runs) {
    for (const ArrayShape& shape : {ArrayShape{8, 8}, ArrayShape{5, 7}}) {
      Case c = make_case(s, shape, arch::Dataflow::ws, 32, pe, {});
      c.ws_order = arch::WsOrder::m_blocked;
      c.ifmap_bytes = 2 * 2 * c.k * (pe == arch::PeKind::fp16 ? 2 : 1);
      expect_bit_exact(c);
      c.m = 9;  // 5 blocks: the first, 3 alike played as one run, the last
      expect_bit_exact(c);
      c.m = 5;
      if (s == Scheme::w4a8_dgq) {
        c.cfg = materialized;
        expect_bit_exact(c);
      }
    }
  }
}

// Narrow accumulators: the wraps really happen, in the PEs and in the integer-scale units, and
// the datapath counts exactly as many as the reference.
TEST(AcceleratorEngine, NarrowAccumulatorsWrapAndCountTheSameEvents) {
  on_every_array([](ArrayShape a, arch::Dataflow df) {
    {
      SchemeConfig cfg;
      cfg.gemm.acc_bits = 14;
      Case c = make_case(Scheme::w8a8, a, df, 64, arch::PeKind::int8, cfg, 14);
      c.k = 512;
      EXPECT_GT(overflow_at(expect_bit_exact(c), stage::kAccumulator), 0u) << describe(c);
    }
    for (Scheme s : {Scheme::w4a8_dgq, Scheme::w4a8_qserve}) {
      SchemeConfig cfg;
      cfg.gemm.acc_bits = 14;
      Case c = make_case(s, a, df, 32, arch::PeKind::int8, cfg, 14);
      c.k = 256;
      EXPECT_GT(overflow_at(expect_bit_exact(c), stage::kAccumulator), 0u) << describe(c);
    }
    {
      SchemeConfig cfg;
      cfg.gemm.acc_bits = 12;
      Case c = make_case(Scheme::w4a8_dint, a, df, 32, arch::PeKind::dint4, cfg, 12);
      c.k = 256;
      EXPECT_GT(overflow_at(expect_bit_exact(c), stage::kAccumulator), 0u) << describe(c);
    }
    for (arch::PeKind pe : {arch::PeKind::w4a8, arch::PeKind::int8}) {
      SchemeConfig cfg;
      cfg.gemm.psum_bits = 10;
      Case fs = make_case(Scheme::w4a8_fs, a, df, 64, pe, cfg, 10);
      EXPECT_GT(overflow_at(expect_bit_exact(fs), stage::kGroupPartialSum), 0u) << describe(fs);
      cfg.gemm.acc_bits = 12;
      Case is = make_case(Scheme::w4a8_is, a, df, 64, pe, cfg, 10, 12);
      is.k = 512;
      const GemmCounters c = expect_bit_exact(is);
      EXPECT_GT(overflow_at(c, stage::kGroupPartialSum), 0u) << describe(is);
      EXPECT_GT(overflow_at(c, stage::kIntScaleAcc), 0u) << describe(is);
    }
  });
}

// Bad traces: invalid dint4 codes, two-level weights that dequantize out of range, and scales
// that send outputs to fp16 inf are counted by the datapath exactly as by the reference.
TEST(AcceleratorEngine, BadTraceEventsAreCountedTheSame) {
  SyntheticSpec syn;
  syn.m = 4, syn.k = 128, syn.n = 11, syn.seed = 3;
  const GemmData d = synthetic_llm_gemm(syn);
  const MatrixF ref = float_reference(d.x, d.w);
  SchemeConfig cfg;
  cfg.group_size = 32;
  // Output-stationary arrays of 3 rows see the weights twice (2 m-tiles of 4 tokens): the
  // events are still counted once per weight element.
  auto check = [&](Scheme s, arch::PeKind pe, const SchemeOperands& op, const char* stage_name,
                   std::uint64_t min_events) {
    on_every_array([&](ArrayShape a, arch::Dataflow df) {
      const GemmResult want = call(cpu_engine(), s, op, cfg);
      const GemmResult got =
          call(AcceleratorEngine(design(s, a.rows, a.cols, pe, 32, 32, df)), s, op, cfg);
      const std::string what = std::string(scheme_name(s)) + " " + std::to_string(a.rows) + "x" +
                               std::to_string(a.cols) + " " + arch::dataflow_name(df);
      EXPECT_EQ(got.y, want.y) << what;
      EXPECT_TRUE(got.counters == want.counters)
          << what << "\n got:  " << counters_text(got.counters)
          << "\n want: " << counters_text(want.counters);
      const std::uint64_t events =
          stage_name ? overflow_at(want.counters, stage_name) : want.counters.invalid_codes;
      EXPECT_GE(events, min_events) << what;
    });
  };
  {
    SchemeOperands op = run_scheme(Scheme::w4a8_dint, d.x, d.w, cfg, ref).operands;
    for (std::size_t k = 0; k < 128; k += 5) op.w_q->codes(k % 11, k) = 8;  // set A's 1000
    check(Scheme::w4a8_dint, arch::PeKind::dint4, op, nullptr, 26);
  }
  for (Scheme s : {Scheme::w4a8_dgq, Scheme::w4a8_qserve}) {
    SchemeOperands op = run_scheme(s, d.x, d.w, cfg, ref).operands;
    TwoLevelWeights& w = *op.two_level;
    for (std::size_t n = 0; n < 11; n += 2) {
      w.zeros(n, 1) = 0;
      w.group_scale(n, 1) = s == Scheme::w4a8_dgq ? 127 : 255;
      for (std::size_t k = 32; k < 64; k += 3) w.q(n, k) = 15;
    }
    check(s, arch::PeKind::int8, op, stage::kDequantRange, 6 * 11);
  }
  {
    SchemeOperands op = run_scheme(Scheme::w8a8, d.x, d.w, cfg, ref).operands;
    op.w_q->scales(3, 0) = 1.0e30f;
    check(Scheme::w8a8, arch::PeKind::int8, op, stage::kOutputFp16Inf, 1);
  }
  {
    SchemeOperands op = run_scheme(Scheme::w4a16, d.x, d.w, cfg, ref).operands;
    op.w_q->scales(2, 1) = 60000.0f;  // (q - z) * s beyond fp16's 65504
    check(Scheme::w4a16, arch::PeKind::fp16, op, stage::kDequantRange, 1);
  }
}

TEST(AcceleratorEngine, PlansGroupSchemesByGcdOfRowsAndGroup) {
  GemmOptions opt;
  const arch::ArchSpec a = design(Scheme::w4a8_is, 12, 8, arch::PeKind::w4a8);
  EXPECT_EQ(mapping::plan_gemm_ws(a, gemm_layer(Scheme::w4a8_is, 5, 192, 19, 32, opt)).k_tile, 4u);
  EXPECT_EQ(mapping::plan_gemm_ws(a, gemm_layer(Scheme::w4a8_is, 5, 192, 19, 64, opt)).k_tile, 4u);
  const arch::ArchSpec b = design(Scheme::w8a8, 12, 8, arch::PeKind::int8);
  EXPECT_EQ(mapping::plan_gemm_ws(b, gemm_layer(Scheme::w8a8, 5, 192, 19, 192, opt)).k_tile, 12u);
}

TEST(AcceleratorEngine, RejectsSchemesAndWidthsTheDesignDoesNotHave) {
  SyntheticSpec syn;
  syn.m = 2, syn.k = 64, syn.n = 3;
  const GemmData d = synthetic_llm_gemm(syn);
  SchemeConfig cfg;
  cfg.group_size = 32;
  const SchemeRun run = run_scheme(Scheme::w8a8, d.x, d.w, cfg, float_reference(d.x, d.w));
  const AcceleratorEngine is_only(design(Scheme::w4a8_is, 8, 8, arch::PeKind::w4a8));
  try {
    is_only.w8a8(*run.operands.x_q, *run.operands.w_q, cfg.gemm);
    ADD_FAILURE() << "w8a8 ran on a w4a8-is design";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("uses scheme w8a8, which design 'test-8x8' does not run"),
              std::string::npos)
        << e.what();
  }
  const AcceleratorEngine int8(design(Scheme::w8a8, 8, 8, arch::PeKind::int8));
  GemmOptions wide;
  wide.acc_bits = 40;
  try {
    int8.w8a8(*run.operands.x_q, *run.operands.w_q, wide);
    ADD_FAILURE() << "a 40-bit accumulator ran on 32-bit PEs";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("has 32-bit PE accumulators"), std::string::npos)
        << e.what();
  }
  // Bad operands get the reference's own message.
  QuantizedWeights bad = *run.operands.w_q;
  bad.codes(0, 0) = 0;
  bad.scales(1, 0) = 0.0f;
  EXPECT_THROW(int8.w8a8(*run.operands.x_q, bad, cfg.gemm), Error);
  // An inconsistent design is refused up front.
  arch::ArchSpec no_edge = design(Scheme::w4a8_is, 8, 8, arch::PeKind::w4a8);
  no_edge.edge.intscale_units = 0;
  EXPECT_THROW(AcceleratorEngine{no_edge}, Error);
}

// The datapath's int8 column sums equal the register-level array model's (units::SystolicWsArray,
// proven equal to rtl/units/systolic_array.v), driven cycle by cycle with the same operands.
TEST(AcceleratorEngine, TileColumnSumsEqualTheCycleLevelArrayModel) {
  std::mt19937_64 rng(7);
  for (const ArrayShape& a : kArrays) {
    for (std::size_t M : {std::size_t{1}, std::size_t{6}}) {
      const std::size_t K = 2 * a.rows + 3, N = a.cols + 2;  // ragged tiles both ways
      MatrixI8 x(M, K), w(N, K);
      for (std::int8_t& v : x.values()) v = static_cast<std::int8_t>(rng() & 0xFFu);
      for (std::int8_t& v : w.values()) v = static_cast<std::int8_t>(rng() & 0xFFu);
      const ArrayIntResult datapath =
          array_int8_gemm(design(Scheme::w8a8, a.rows, a.cols, arch::PeKind::int8), x, w, 32);
      const units::SystolicWsRun cycles =
          units::systolic_ws_gemm(static_cast<int>(a.rows), static_cast<int>(a.cols), x, w);
      EXPECT_EQ(datapath.acc, cycles.y) << a.rows << "x" << a.cols << " M " << M;
      EXPECT_EQ(datapath.tally.tiles, cycles.tiles.size());
      EXPECT_EQ(datapath.acc, int8_gemm(x, w, 32).acc);
    }
  }
}

// The output-stationary datapath's int8 sums equal the register-level OS array model's
// (units::SystolicOsArray, systolic_os.v's protocol), driven cycle by cycle: ragged m-tiles and
// n-tiles, one k-chunk of all of K (the w8a8 plan's).
TEST(AcceleratorEngine, OutputStationaryTileSumsEqualTheCycleLevelArrayModel) {
  std::mt19937_64 rng(11);
  for (const ArrayShape& a : kOsArrays) {
    for (std::size_t M : {std::size_t{1}, std::size_t{2 * a.rows + 1}}) {
      const std::size_t K = 37, N = a.cols + 2;
      MatrixI8 x(M, K), w(N, K);
      for (std::int8_t& v : x.values()) v = static_cast<std::int8_t>(rng() & 0xFFu);
      for (std::int8_t& v : w.values()) v = static_cast<std::int8_t>(rng() & 0xFFu);
      const ArrayIntResult datapath = array_int8_gemm(
          design(Scheme::w8a8, a.rows, a.cols, arch::PeKind::int8, 32, 32, arch::Dataflow::os), x,
          w, 32);
      const units::SystolicOsRun cycles =
          units::systolic_os_gemm(static_cast<int>(a.rows), static_cast<int>(a.cols), x, w, K);
      EXPECT_EQ(datapath.acc, cycles.y) << a.rows << "x" << a.cols << " M " << M;
      EXPECT_EQ(datapath.tally.tiles, cycles.tiles.size());
      EXPECT_EQ(datapath.acc, int8_gemm(x, w, 32).acc);
    }
  }
}

}  // namespace
}  // namespace quasar::functional
