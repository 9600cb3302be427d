// Do the weight- and output-stationary tilings cover every MAC exactly once, move the bytes the formats
// imply, and ask the edge units for exactly the operations the numerics reference counts?
#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

template <class F>
std::uint64_t sum(const GemmPlan& p, F f) {
  std::uint64_t t = 0;
  for (const Tile& x : p.tiles) t += f(x);
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
  // X (8 MiB int8) does not fit the 256 KiB half-buffer: it streams again for every n-tile.
  EXPECT_EQ(sum(p, [](const Tile& t) { return t.act_bytes; }),
            128ull * (2048ull * 4096 + 2048 * 4));
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

TEST(GemmTiling, DgqDequantizesOnLoadOrMaterializes) {
  trace::Layer l = gemm(8, 256, 64, Scheme::w4a8_dgq);
  const GemmPlan fused = plan_gemm_ws(design("dgq"), l);
  EXPECT_EQ(sum(fused, [](const Tile& t) { return t.dequant_ops; }), 256u * 64u);
  EXPECT_EQ(fused.materialize_bytes, 0u);
  l.scheme->dequant = DequantMode::materialized;
  const GemmPlan mat = plan_gemm_ws(design("dgq"), l);
  EXPECT_EQ(sum(mat, [](const Tile& t) { return t.dequant_ops; }), 0u);
  EXPECT_EQ(mat.materialize_bytes, 2u * 256u * 64u);
  EXPECT_GT(mat.dram_bytes(), fused.dram_bytes());
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
  for (const Tile& t : g.tiles) EXPECT_TRUE(t.rescale_int);
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
