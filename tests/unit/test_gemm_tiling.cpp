// Do the weight- and output-stationary tilings cover every MAC exactly once, move the bytes the formats
// imply, and ask the edge units for exactly the operations the numerics reference counts?
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "arch/scale_rf.hpp"
#include "config/arch_config.hpp"
#include "mapping/gemm_tiling.hpp"
#include "mapping/scalesim_timing.hpp"
#include "numerics/action_counts.hpp"
#include "numerics/error.hpp"

namespace quasar::mapping {
namespace {

arch::ArchSpec design(const std::string& name) {
  return config::read_arch_config(std::string(QUASAR_SOURCE_DIR) + "/configs/arch/" + name +
                                  ".yaml");
}

trace::Layer gemm(std::uint64_t m, std::uint64_t k, std::uint64_t n, Scheme s,
                  std::uint64_t group = 128) {
  trace::Layer l;
  l.name = "g";
  l.op = trace::Op::linear;
  l.m = m, l.k = k, l.n = n;
  trace::LayerScheme ls;
  ls.scheme = s;
  ls.group_size = group;
  l.scheme = ls;
  return l;
}

// Sums f over every tile the plan plays (its runs expanded).
template <class F>
std::uint64_t sum(const GemmPlan& p, F f) {
  std::uint64_t t = 0;
  arch::play_tiles(p.tiles, p.runs, [&](const Tile& x, std::uint64_t) { t += f(x); });
  return t;
}

TEST(GemmTiling, LlamaProjectionOnIntegerScaleDesign) {
  const GemmPlan p = plan_gemm_ws(design("intscale"), gemm(2048, 4096, 4096, Scheme::w4a8_is));
  EXPECT_EQ(p.k_tile, 32u);
  EXPECT_EQ(p.tiles.size(), 128u * 128u);
  EXPECT_EQ(p.macs(), 2048ull * 4096 * 4096);
  // The edge work equals what the reference counts for the same GEMM.
  GemmCounters c;
  ActionShape shape;
  shape.m = 2048, shape.n = 4096, shape.k = 4096, shape.groups = 32;
  add_scheme_actions(c, Scheme::w4a8_is, shape);
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.rescale_ops; }), c.action(act::intscale_add(32)));
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.epilogue_ops; }), c.action(act::kCvtFp32ToFp16));
  // Weights: 4-bit codes + one 2-byte integer scale per (group, channel).
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.weight_bytes; }),
            4096ull * 4096 / 2 + 4096ull * 32 * 2);
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.out_bytes; }), 2048ull * 4096 * 2);
  // Each column's integer scale of each group enters its unit's scale file once (group 128 =
  // 4 k-tiles of 32: written with the group's first tile only).
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.scale_writes; }), 4096ull * 32);
  for (const Tile& t : p.tiles) EXPECT_EQ(t.scale_writes, t.k0 % 128 == 0 ? t.cols_used : 0u);
  // ... and is read once per rescale (one word each).
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.scale_reads; }), 2048ull * 4096 * 32);
  // X (8 MiB int8) does not fit the 256 KiB half-buffer: it streams again for every n-tile.
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.act_bytes; }),
            128ull * (2048ull * 4096 + 2048 * 4));
}

// The same projection in the m_blocked order: blocks of 64 tokens (256 KiB of activations, the
// ifmap buffer's half) run all n-tiles, so X is fetched once and W (8.25 MiB, larger than the
// weight buffer's half) once per block; min_dram picks the order that moves fewer bytes.
TEST(GemmTiling, WeightStationaryLoopOrders) {
  arch::ArchSpec a = design("intscale");
  const trace::Layer l = gemm(2048, 4096, 4096, Scheme::w4a8_is);
  a.array.ws_order = arch::WsOrder::m_blocked;
  const GemmPlan p = plan_gemm_ws(a, l);
  // 32 alike blocks: the first stored, the second stored once and played 31 times.
  EXPECT_EQ(arch::played_tiles(p.tiles, p.runs), 32u * 128u * 128u);
  EXPECT_EQ(p.tiles.size(), 2u * 128u * 128u);
  EXPECT_EQ(p.macs(), 2048ull * 4096 * 4096);
  std::vector<std::uint64_t> tokens_seen(2048, 0);
  arch::play_tiles(p.tiles, p.runs, [&](const Tile& t, std::uint64_t) {
    ASSERT_EQ(t.m, 64u);
    ASSERT_EQ(t.m0 % 64, 0u);
    if (t.n0 == 0 && t.k0 == 0)
      for (std::uint64_t m = t.m0; m < t.m0 + t.m; ++m) ++tokens_seen[m];
  });
  for (std::uint64_t c : tokens_seen) ASSERT_EQ(c, 1u);  // every token in exactly one block
  const std::uint64_t w_bytes = 4096ull * 4096 / 2 + 4096ull * 32 * 2;
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.act_bytes; }), 2048ull * 4096 + 2048 * 4);
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.weight_bytes; }), 32 * w_bytes);
  // The edge's work does not depend on the order; the scale files are refilled per block.
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.rescale_ops; }), 2048ull * 4096 * 32);
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.scale_writes; }), 32ull * 4096 * 32);
  a.array.ws_order = arch::WsOrder::n_outer;
  const GemmPlan n_outer = plan_gemm_ws(a, l);
  EXPECT_LT(p.dram_bytes(), n_outer.dram_bytes());
  a.array.ws_order = arch::WsOrder::min_dram;
  EXPECT_EQ(plan_gemm_ws(a, l).dram_bytes(), p.dram_bytes());
  // Decode (M = 1): one block either way, so the orders coincide.
  const trace::Layer d = gemm(1, 4096, 4096, Scheme::w4a8_is);
  a.array.ws_order = arch::WsOrder::n_outer;
  const GemmPlan dn = plan_gemm_ws(a, d);
  a.array.ws_order = arch::WsOrder::min_dram;
  EXPECT_EQ(plan_gemm_ws(a, d).tiles.size(), dn.tiles.size());
  EXPECT_EQ(plan_gemm_ws(a, d).dram_bytes(), dn.dram_bytes());
  // Ragged blocks are evened out and every MAC is covered once: M = 70 in blocks of <= 64
  // becomes 2 blocks of 35.
  a.array.ws_order = arch::WsOrder::m_blocked;
  const GemmPlan r = plan_gemm_ws(a, gemm(70, 4096, 64, Scheme::w4a8_is));
  EXPECT_EQ(r.macs(), 70ull * 4096 * 64);
  EXPECT_TRUE(r.runs.empty());  // two blocks: nothing to compress
  for (const Tile& t : r.tiles) ASSERT_EQ(t.m, 35u);
  // M = 300 in blocks of 60 (5 alike: first, then a run of 4) and M = 290 (blocks of 58, the
  // last of 58 too); M = 250 in 4 blocks of 63 and a last of 61: first, run of 2, last.
  for (const auto& [m, runs, last_m] : {std::tuple<std::uint64_t, std::size_t, std::uint64_t>{
                                            300, 2, 60},
                                        {290, 2, 58},
                                        {250, 3, 61}}) {
    const GemmPlan b = plan_gemm_ws(a, gemm(m, 4096, 64, Scheme::w4a8_is));
    EXPECT_EQ(b.macs(), m * 4096 * 64) << m;
    EXPECT_EQ(b.runs.size(), runs) << m;
    std::uint64_t last_m0 = 0, m_last = 0;
    arch::play_tiles(b.tiles, b.runs, [&](const Tile& t, std::uint64_t) {
      if (t.m0 >= last_m0) last_m0 = t.m0, m_last = t.m;
    });
    EXPECT_EQ(last_m0 + m_last, m) << m;
    EXPECT_EQ(m_last, last_m) << m;
  }
}

TEST(GemmTiling, RaggedEdgesCoverEveryMacOnce) {
  const GemmPlan p = plan_gemm_ws(design("int8-baseline"), gemm(5, 100, 70, Scheme::w8a8));
  EXPECT_EQ(p.tiles.size(), 3u * 4u);
  EXPECT_EQ(p.macs(), 5u * 100u * 70u);
  EXPECT_EQ(p.tiles[3].rows_used, 4u);  // K = 100 = 3 x 32 + 4
  EXPECT_TRUE(p.tiles[3].last_k);
  EXPECT_EQ(p.tiles.back().cols_used, 6u);  // N = 70 = 2 x 32 + 6
  // X fits the buffer: its bytes move with the first n-tile only.
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.act_bytes; }), 5u * 100u + 5u * 4u);
  std::vector<int> seen(100 * 70, 0);
  for (const Tile& t : p.tiles) {
    for (std::uint64_t n = t.n0; n < t.n0 + t.cols_used; ++n) {
      for (std::uint64_t k = t.k0; k < t.k0 + t.rows_used; ++k) ++seen[n * 100 + k];
    }
  }
  for (int v : seen) ASSERT_EQ(v, 1);
}

TEST(GemmTiling, GroupsShorterThanTheArrayShortenTheTile) {
  arch::ArchSpec a = design("floatscale");
  a.array.rows = 64;
  const GemmPlan p = plan_gemm_ws(a, gemm(4, 256, 32, Scheme::w4a8_fs, 32));
  EXPECT_EQ(p.k_tile, 32u);
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.rescale_ops; }), 4u * 32u * (256u / 32u));
}

// What a WS n-tile keeps between k-tiles: 4-byte partial sums, and for w4a8-is the edge's
// 4-byte group accumulators too. Beyond the ofmap buffer's usable half the rest is spilled:
// written to DRAM after every k-tile but the last and read back before every one but the
// first; the plan says so. m_blocked cuts M so that it fits.
TEST(GemmTiling, PartialSumsBeyondTheOfmapBufferAreSpilled) {
  arch::ArchSpec a = design("intscale");  // 32 columns, 1 MiB ofmap double-buffered: 512 KiB
  const trace::Layer fits = gemm(2048, 4096, 64, Scheme::w4a8_is);  // 2048 x 32 x 8 B = 512 KiB
  const GemmPlan fit = plan_gemm_ws(a, fits);
  EXPECT_EQ(fit.capacity_warning, "");
  EXPECT_EQ(sum(fit, [](const Tile& t) { return t.spill_read_bytes + t.spill_write_bytes; }), 0u);
  const trace::Layer over = gemm(2049, 4096, 64, Scheme::w4a8_is);
  const GemmPlan spilt = plan_gemm_ws(a, over);
  EXPECT_THAT(spilt.capacity_warning,
              ::testing::HasSubstr("need 524544 bytes (2049 tokens x 32 columns x 8 B), more than "
                                   "the ofmap buffer's usable 524288; the other 256 bytes are "
                                   "spilled"));
  // 2 n-tiles x 128 k-tiles (k_tile 32): 127 boundaries each way per n-tile, 256 B each.
  EXPECT_EQ(spilt.k_tile, 32u);
  EXPECT_EQ(sum(spilt, [](const Tile& t) { return t.spill_write_bytes; }), 2u * 127u * 256u);
  EXPECT_EQ(sum(spilt, [](const Tile& t) { return t.spill_read_bytes; }), 2u * 127u * 256u);
  EXPECT_EQ(spilt.dram_bytes() - plan_gemm_ws(a, over).dram_bytes(), 0u);  // deterministic
  a.buffers.ofmap.size_bytes *= 4;  // room for it: no spill, fewer DRAM bytes
  EXPECT_EQ(plan_gemm_ws(a, over).dram_bytes() + 2u * 2u * 127u * 256u, spilt.dram_bytes());
  a.buffers.ofmap.size_bytes /= 4;
  // One k-tile and one group: nothing is held between k-tiles.
  EXPECT_EQ(plan_gemm_ws(a, gemm(100000, 32, 64, Scheme::w4a8_is, 32)).capacity_warning, "");
  a.array.ws_order = arch::WsOrder::m_blocked;
  a.buffers.ifmap.size_bytes = 64u << 20;  // activations never limit the block here
  const GemmPlan blocked = plan_gemm_ws(a, gemm(4096, 4096, 64, Scheme::w4a8_is));
  EXPECT_EQ(blocked.capacity_warning, "");
  EXPECT_EQ(sum(blocked, [](const Tile& t) { return t.m; }) / (4096 / blocked.k_tile) / 2,
            4096u);  // every token once per k-tile of each of the 2 n-tiles
  std::uint64_t biggest = 0;
  arch::play_tiles(blocked.tiles, blocked.runs,
                   [&](const Tile& t, std::uint64_t) { biggest = std::max(biggest, t.m); });
  EXPECT_EQ(biggest, 2048u);  // 512 KiB / (32 x 8 B)
}

TEST(GemmTiling, DgqDequantizesOnLoadOrMaterializes) {
  trace::Layer l = gemm(8, 256, 64, Scheme::w4a8_dgq);
  const GemmPlan fused = plan_gemm_ws(design("dgq"), l);
  EXPECT_EQ(sum(fused, [](const Tile& t) { return t.dequant_ops; }), 256u * 64u);
  EXPECT_EQ(sum(fused, [](const Tile& t) { return t.scale_writes; }), 2u * 64u);  // S2 + zero
  EXPECT_EQ(sum(fused, [](const Tile& t) { return t.scale_reads; }), 256u * 64u);  // per weight
  EXPECT_EQ(fused.materialize_bytes, 0u);
  l.scheme->dequant = DequantMode::materialized;
  const GemmPlan mat = plan_gemm_ws(design("dgq"), l);
  EXPECT_EQ(sum(mat, [](const Tile& t) { return t.dequant_ops; }), 0u);
  EXPECT_EQ(sum(mat, [](const Tile& t) { return t.scale_writes; }), 0u);  // no unit holds them
  EXPECT_EQ(sum(mat, [](const Tile& t) { return t.scale_reads; }), 0u);
  // w4a16's fp16 scale + zero take 2 words: written and read twice per group and weight.
  const GemmPlan w4a16 = plan_gemm_ws(design("fp16-w4a16"), gemm(8, 256, 64, Scheme::w4a16));
  EXPECT_EQ(sum(w4a16, [](const Tile& t) { return t.scale_writes; }), 2u * 2u * 64u);
  EXPECT_EQ(sum(w4a16, [](const Tile& t) { return t.scale_reads; }), 2u * 256u * 64u);
  // The pass reads the 4-bit codes (256 x 64 / 2), 2 groups x 64 channels of S2 + zero (1.5 B)
  // and 64 fp16 channel scales, and writes the int8 copy; it dequantizes every weight. The
  // tiles then read the int8 copy with its channel scales, no group metadata.
  EXPECT_EQ(mat.materialize_bytes, 256u * 64u / 2 + 2u * 64u * 3 / 2 + 64u * 2 + 256u * 64u);
  EXPECT_EQ(mat.materialize_write_bytes, 256u * 64u);
  EXPECT_EQ(mat.materialize_dequant_ops, 256u * 64u);
  EXPECT_EQ(sum(mat, [](const Tile& t) { return t.weight_bytes; }), 256u * 64u + 64u * 2);
  EXPECT_GT(mat.dram_bytes(), fused.dram_bytes());
}

// The scale file's word count per group agrees with the metadata bytes the DMA moves (rounded
// up to 16-bit words) for every scheme whose units hold group scales, and is 0 for the others.
TEST(GemmTiling, ScaleWordsMatchTheStoredScaleBytes) {
  for (const SchemeInfo& info : all_schemes()) {
    const Scheme s = info.id;
    const double bits = group_scale_bytes(s) * 8;
    const auto words =
        static_cast<std::uint64_t>((bits + arch::kScaleWordBits - 1) / arch::kScaleWordBits);
    EXPECT_EQ(arch::scale_words_per_group(s), words) << scheme_name(s);
  }
  using arch::ScaleUnit;
  // One unit per column: 2 buffered words of its widest scheme; none for schemes it does not run.
  EXPECT_EQ(arch::scale_rf_entries({Scheme::w8a8}, ScaleUnit::intscale, 32, 32), 0u);
  EXPECT_EQ(arch::scale_rf_entries({Scheme::w4a8_is, Scheme::w4a8_dgq}, ScaleUnit::intscale, 32, 32),
            2u);
  EXPECT_EQ(arch::scale_rf_entries({Scheme::w4a16, Scheme::w4a8_dgq}, ScaleUnit::dequant, 32, 32),
            4u);  // w4a16's 20-bit scale + zero: 2 words
  EXPECT_EQ(arch::scale_rf_entries({Scheme::w4a16, Scheme::w4a8_fs}, ScaleUnit::floatscale, 32, 32),
            2u);
  // Fewer units than columns: each holds the scales of the ceil(cols / units) columns it serves.
  EXPECT_EQ(arch::scale_rf_entries({Scheme::w4a8_is}, ScaleUnit::intscale, 4, 32), 16u);
  EXPECT_EQ(arch::scale_rf_entries({Scheme::w4a8_is}, ScaleUnit::intscale, 5, 32), 14u);
  EXPECT_EQ(arch::scale_rf_entries({Scheme::w4a8_is}, ScaleUnit::intscale, 0, 32), 0u);
}

TEST(GemmTiling, RejectsSchemesTheDesignDoesNotRun) {
  EXPECT_THAT([] { plan_gemm_ws(design("dint"), gemm(4, 64, 32, Scheme::w8a8)); },
              ::testing::ThrowsMessage<Error>(
                  ::testing::HasSubstr("uses scheme w8a8, which design 'dint' does not run")));
}

// Output-stationary: m-tiles x n-tiles x k-chunks, every MAC once, one k-chunk per group where
// groups are rescaled, and the weights fetched again for every m-tile unless all of W fits.
TEST(GemmTilingOs, CoversEveryMacOnceAndChunksByGroup) {
  arch::ArchSpec a = design("int8-baseline");
  a.array.rows = a.array.cols = 8;
  a.array.dataflow = arch::Dataflow::os;
  const GemmPlan p = plan_gemm_os(a, gemm(13, 20, 13, Scheme::w8a8));
  EXPECT_EQ(p.tiles.size(), 2u * 2u * 1u);
  EXPECT_EQ(p.macs(), 13u * 20u * 13u);
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.stream_steps; }), 4u * 20u);
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.epilogue_ops; }), 13u * 13u);
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.out_bytes; }), 13u * 13u * 2u);
  // 20 x 13 int8 weights + 13 fp16 channel scales fit the weight buffer: fetched once.
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.weight_bytes; }), 20u * 13u + 13u * 2u);

  arch::ArchSpec is = design("intscale");
  is.array.rows = is.array.cols = 8;
  is.array.dataflow = arch::Dataflow::os;
  const GemmPlan g = plan_gemm_os(is, gemm(12, 256, 16, Scheme::w4a8_is, 64));
  EXPECT_EQ(g.k_tile, 64u);
  EXPECT_EQ(g.tiles.size(), 2u * 2u * 4u);
  EXPECT_EQ(g.macs(), 12u * 256u * 16u);
  EXPECT_EQ(sum(g, [](const Tile& t) { return t.rescale_ops; }), 12u * 16u * 4u);
  for (const Tile& t : g.tiles) EXPECT_EQ(t.rescale_unit, ScaleUnit::intscale);
  // One group per chunk: every tile loads its columns' scales (4 groups x 16 channels x 2
  // m-tiles), whether or not the weights came from DRAM again.
  EXPECT_EQ(sum(g, [](const Tile& t) { return t.scale_writes; }), 2u * 4u * 16u);
  // A weight buffer too small for W: fetched once per m-tile (2 here).
  is.buffers.weight.size_bytes = 256;
  const GemmPlan small = plan_gemm_os(is, gemm(12, 256, 16, Scheme::w4a8_is, 64));
  EXPECT_EQ(sum(small, [](const Tile& t) { return t.weight_bytes; }),
            2u * (256u * 16u / 2u + 4u * 16u * 2u));
}

}  // namespace
}  // namespace quasar::mapping

// SCALE-Sim v2's accounting against the two data points measured with SCALE-Sim v2 itself on
// a 32x32 WS array (CALC bandwidth), quoted in issue 5.
TEST(ScalesimTiming, ReproducesScaleSimV2DataPoints) {
  using quasar::mapping::ScalesimDataflow;
  namespace mapping = quasar::mapping;
  EXPECT_EQ(mapping::scalesim_gemm_cycles(ScalesimDataflow::ws, 32, 32, 256, 256, 256), 22399u);
  EXPECT_EQ(mapping::scalesim_gemm_cycles(ScalesimDataflow::ws, 32, 32, 512, 1024, 1024), 620543u);
  // OS and IS by their per-fold formulas: 1 fold of R + C + K - 2, and of 2R + C + N - 2.
  EXPECT_EQ(mapping::scalesim_gemm_cycles(ScalesimDataflow::os, 4, 4, 4, 10, 4),
            4u + 4 + 10 - 2 - 1);
  EXPECT_EQ(mapping::scalesim_gemm_cycles(ScalesimDataflow::is, 4, 4, 4, 4, 7), 8u + 4 + 7 - 2 - 1);
  EXPECT_THROW(mapping::scalesim_gemm_cycles(ScalesimDataflow::ws, 32, 32, 0, 1, 1), quasar::Error);
}
