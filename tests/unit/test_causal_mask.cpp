// apply_causal_mask by hand (sim/mapping/causal_mask.hpp): tiles built here, not by the planner,
// so each rule is checked on its own: dropping, the hand-over of a chain's end and of DMA loads,
// and a weight-stationary tile's shortened stream.
#include <gtest/gtest.h>

#include "mapping/causal_mask.hpp"
#include "numerics/error.hpp"

namespace quasar::mapping {
namespace {

arch::Tile tile(std::uint64_t m0, std::uint64_t m, std::uint64_t n0, std::uint64_t k0, bool last) {
  arch::Tile t;
  t.m0 = m0, t.m = m, t.n0 = n0, t.cols_used = 32, t.k0 = k0, t.rows_used = 32;
  t.first_k = k0 == 0, t.last_k = last;
  t.stream_steps = m;
  t.weight_bytes = 100, t.act_bytes = 10;
  t.ifmap_read_bytes = m * 32, t.ofmap_read_bytes = m * 64, t.ofmap_write_bytes = m * 64;
  if (last) t.out_bytes = m * 64, t.epilogue_ops = m * 32;
  else t.spill_write_bytes = m * 128;
  return t;
}

// PV (keys along K), two m-blocks of 32 tokens, K = 64 keys in two k-tiles, one n-tile. Block 0
// (tokens 0..31) sees no key of k-tile 32: dropped; k-tile 0 ends the chain instead (last_k,
// the outputs, the epilogue; no spill). Block 1 (tokens 32..63) streams all its tokens through
// both. The dropped tile's weight load moves to block 1's k-tile 32 (which had it resident).
TEST(CausalMask, PvDropsAMaskedKTileAndHandsOverTheChainEnd) {
  arch::LayerWork w;
  w.tiles = {tile(0, 32, 0, 0, false), tile(0, 32, 0, 32, true), tile(32, 32, 0, 0, false),
             tile(32, 32, 0, 32, true)};
  w.tiles[2].weight_bytes = w.tiles[3].weight_bytes = 0;  // resident after block 0
  const CausalMaskResult r = apply_causal_mask("pv", true, w);
  EXPECT_EQ(r.dropped, 1u);
  EXPECT_EQ(r.shortened, 0u);
  ASSERT_EQ(w.tiles.size(), 3u);
  EXPECT_TRUE(w.tiles[0].last_k);
  EXPECT_EQ(w.tiles[0].out_bytes, 32u * 64u);
  EXPECT_EQ(w.tiles[0].epilogue_ops, 32u * 32u);
  EXPECT_EQ(w.tiles[0].spill_write_bytes, 0u);
  EXPECT_EQ(w.tiles[1].weight_bytes, 0u);    // k-tile 0 of block 1: loaded by block 0
  EXPECT_EQ(w.tiles[2].weight_bytes, 100u);  // k-tile 32 of block 1: owed by the dropped one
  EXPECT_EQ(w.tiles[2].m, 32u);
}

// QK^T (keys along N), one block of 64 tokens, n-tiles of keys 0 and 32: the second streams
// tokens 32..63 only, with its per-token traffic, scores and epilogue halved.
TEST(CausalMask, QkShortensAWeightStationaryTileToTheTokensThatSeeIt) {
  arch::LayerWork w;
  w.tiles = {tile(0, 64, 0, 0, true), tile(0, 64, 32, 0, true)};
  const CausalMaskResult r = apply_causal_mask("qk", true, w);
  EXPECT_EQ(r.dropped, 0u);
  EXPECT_EQ(r.shortened, 1u);
  ASSERT_EQ(w.tiles.size(), 2u);
  const arch::Tile& t = w.tiles[1];
  EXPECT_EQ(t.m0, 32u);
  EXPECT_EQ(t.m, 32u);
  EXPECT_EQ(t.stream_steps, 32u);
  EXPECT_EQ(t.ifmap_read_bytes, 32u * 32u);
  EXPECT_EQ(t.ofmap_write_bytes, 32u * 64u);
  EXPECT_EQ(t.out_bytes, 32u * 64u);
  EXPECT_EQ(t.epilogue_ops, 32u * 32u);
  EXPECT_EQ(t.weight_bytes, 100u);
  EXPECT_EQ(w.tiles[0].m, 64u);  // keys 0..31: every token sees some
  // Output-stationary: the same tile runs whole and is counted as such.
  arch::LayerWork o;
  o.tiles = {tile(0, 64, 0, 0, true), tile(0, 64, 32, 0, true)};
  EXPECT_EQ(apply_causal_mask("qk", false, o).whole, 2u);
  EXPECT_EQ(o.tiles[1].m, 64u);
}

// A QK^T chain (two k-tiles of one n-tile) whose keys all follow the block's tokens is dropped
// whole: no kept tile takes over its chain end, and its loads (owed to a later tile of the same
// n-tile and k, or block and k) go to no tile of another block.
TEST(CausalMask, QkDropsAWholeChainAndOwesItsLoadsToNoOtherBlock) {
  arch::LayerWork w;
  w.tiles = {tile(0, 32, 0, 0, false), tile(0, 32, 0, 32, true), tile(0, 32, 32, 0, false),
             tile(0, 32, 32, 32, true), tile(32, 32, 0, 0, false), tile(32, 32, 0, 32, true)};
  w.tiles[4].act_bytes = w.tiles[5].act_bytes = 0;  // pretend block 1's loads were elsewhere
  w.tiles[0].act_bytes = w.tiles[1].act_bytes = 0;
  const CausalMaskResult r = apply_causal_mask("qk", true, w);
  EXPECT_EQ(r.dropped, 2u);
  ASSERT_EQ(w.tiles.size(), 4u);
  EXPECT_FALSE(w.tiles[0].last_k);  // the kept chain is untouched
  EXPECT_TRUE(w.tiles[1].last_k);
  EXPECT_EQ(w.tiles[1].out_bytes, 32u * 64u);
  EXPECT_EQ(w.tiles[2].act_bytes, 0u);  // other block: nothing owed to it
  EXPECT_THROW(apply_causal_mask("qkv", true, w), Error);
}

}  // namespace
}  // namespace quasar::mapping
