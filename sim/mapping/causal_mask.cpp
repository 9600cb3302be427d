#include "mapping/causal_mask.hpp"

#include <map>
#include <utility>
#include <vector>

#include "numerics/error.hpp"

namespace quasar::mapping {

namespace {

// x * part / whole for per-token byte and op counts (whole > 0; exact when x is per token).
std::uint64_t share(std::uint64_t x, std::uint64_t part, std::uint64_t whole) {
  // (x / whole) * part is exact for per-token counts; the remainder term keeps other counts
  // proportional (whole is a tile's tokens, so whole * part stays far inside 64 bits).
  return x / whole * part + x % whole * part / whole;
}

}  // namespace

CausalMaskResult apply_causal_mask(const std::string& attention, bool weight_stationary,
                                   arch::LayerWork& w) {
  if (attention != "qk" && attention != "pv")
    throw Error("apply_causal_mask: attention must be qk or pv, got '" + attention + "'");
  const bool qk = attention == "qk";
  CausalMaskResult r;
  std::vector<arch::Tile> kept;
  std::vector<std::uint64_t> kept_block;  // each kept tile's m-block start (before masking)
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> weights_owed, acts_owed;
  arch::play_tiles(w.tiles, w.runs, [&](const arch::Tile& in, std::uint64_t) {
    arch::Tile t = in;
    const std::uint64_t key_lo = qk ? t.n0 : t.k0;
    const std::uint64_t block = t.m0;
    if (t.m == 0 || key_lo >= t.m0 + t.m) {  // every token is before the tile's first key
      ++r.dropped;
      weights_owed[{t.n0, t.k0}] += t.weight_bytes;
      acts_owed[{t.m0, t.k0}] += t.act_bytes;
      // PV's masked suffix of k-tiles: the chain's last kept tile (same m-block and n-tile, the
      // one before in play order: a chain's tiles are consecutive) finishes the outputs
      // instead. A chain dropped whole (QK^T's keys all after the block's tokens) has none.
      if (t.last_k && !kept.empty() && kept.back().n0 == t.n0 && kept_block.back() == block) {
        arch::Tile& prev = kept.back();
        prev.last_k = true;
        prev.out_bytes += t.out_bytes;
        prev.epilogue_ops += t.epilogue_ops;
        prev.spill_write_bytes = 0;  // its partial sums are now final outputs, not spilled
      }
      return;
    }
    if (auto it = weights_owed.find({t.n0, t.k0}); it != weights_owed.end() && t.weight_bytes == 0) {
      t.weight_bytes = it->second;
      weights_owed.erase(it);
    }
    if (auto it = acts_owed.find({t.m0, t.k0}); it != acts_owed.end() && t.act_bytes == 0) {
      t.act_bytes = it->second;
      acts_owed.erase(it);
    }
    const std::uint64_t key_hi = qk ? t.n0 + t.cols_used - 1 : t.k0 + t.rows_used - 1;
    if (!weight_stationary) {
      if (key_hi > t.m0) ++r.whole;  // some token of the tile does not see some key of it
    } else if (key_lo > t.m0) {
      ++r.shortened;
      const std::uint64_t m = t.m, vis = t.m0 + t.m - key_lo;
      t.ifmap_read_bytes = share(t.ifmap_read_bytes, vis, m);
      t.ofmap_read_bytes = share(t.ofmap_read_bytes, vis, m);
      t.ofmap_write_bytes = share(t.ofmap_write_bytes, vis, m);
      t.spill_read_bytes = share(t.spill_read_bytes, vis, m);
      t.spill_write_bytes = share(t.spill_write_bytes, vis, m);
      t.rescale_ops = share(t.rescale_ops, vis, m);
      if (qk) {  // masked scores are neither converted nor written
        t.out_bytes = share(t.out_bytes, vis, m);
        t.epilogue_ops = share(t.epilogue_ops, vis, m);
      }
      t.m0 = key_lo;
      t.m = vis;
      t.stream_steps = vis;
    }
    kept.push_back(t);
    kept_block.push_back(block);
  });
  w.tiles = std::move(kept);
  w.runs.clear();
  return r;
}

}  // namespace quasar::mapping
