#include "gemm_tiling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "arch/scale_rf.hpp"
#include "arch/sram/buffer.hpp"
#include "io/input_file.hpp"
#include "numerics/error.hpp"

namespace quasar::mapping {
namespace {

std::uint64_t ceil_bytes(double b) { return static_cast<std::uint64_t>(std::ceil(b)); }

// Bytes of one output accumulator the edge reads and writes per group rescale: the
// integer-scale accumulator's width, or an fp32.
std::uint64_t edge_acc_bytes(const arch::ArchSpec& a, Scheme s) {
  if (!rescales(traits(s))) return 0;
  if (rescale_int(traits(s))) return (a.edge.intscale_acc_bits + 7) / 8;
  // A block unit's accumulator: fixed point of its width, or an fp32 (NVFP4 always).
  if (block_scaled(traits(s)) && !traits(s).e4m3_scales && a.edge.block_acc == BlockAcc::fixed)
    return (a.edge.block_acc_bits + 7) / 8;
  return 4;
}

// The ofmap buffer's traffic of a tile: partial sums in and out of the array, the edge's
// output accumulators (read and written per rescale), finished outputs read by the DMA.
void add_ofmap_traffic(Tile& t, std::uint64_t psum_in, std::uint64_t psum_out,
                       std::uint64_t edge_acc) {
  t.ofmap_read_bytes = psum_in + t.rescale_ops * edge_acc + t.out_bytes + t.spill_write_bytes;
  t.ofmap_write_bytes = psum_out + t.rescale_ops * edge_acc + t.spill_read_bytes;
}

}  // namespace

double group_scale_bytes(Scheme s) { return traits(s).group_meta_bytes; }
double weight_bytes_per_element(Scheme s) { return traits(s).weight_bytes; }
double activation_bytes_per_element(Scheme s) { return traits(s).act_bytes; }

std::uint64_t GemmPlan::macs() const {
  std::uint64_t t = 0;
  arch::play_tiles(tiles, runs,
                   [&](const Tile& x, std::uint64_t) { t += x.m * x.rows_used * x.cols_used; });
  return t;
}

std::uint64_t GemmPlan::dram_bytes() const {
  std::uint64_t t = materialize_bytes;
  arch::play_tiles(tiles, runs, [&](const Tile& x, std::uint64_t) {
    t += x.weight_bytes + x.act_bytes + x.out_bytes + x.spill_read_bytes + x.spill_write_bytes;
  });
  return t;
}

namespace {

// What a layer's scheme means for the datapath and the DMA, whatever the dataflow.
struct SchemeFacts {
  Scheme s = Scheme::fp16;
  std::uint64_t G = 0;  // group size (K when the scheme has no groups)
  bool groups = false, rescales = false, fused_dequant = false;
  // DGQ materialized, per instance: the pass reads the 4-bit codes with their group and
  // channel metadata and writes the int8 copy (materialize_bytes is both), dequantizing every
  // weight; the tiles then read the int8 copy and its channel scales only.
  std::uint64_t materialize_bytes = 0, materialize_write_bytes = 0, materialize_dequant_ops = 0;
  double wb = 0, ab = 0;                // stored bytes per weight / activation element
  bool per_tensor_act = false;          // one activation scale for the tensor (act: per-tensor)
  std::uint64_t edge_acc = 0, psum_bytes = 0;
  std::uint64_t ifmap_cap = 0, weight_cap = 0, ofmap_cap = 0;  // usable buffer bytes

  // Groups that start in k0 .. k0 + kc - 1 (multiples of G there).
  std::uint64_t group_starts(std::uint64_t k0, std::uint64_t kc) const {
    return groups ? (k0 + kc - 1) / G - (k0 + G - 1) / G + 1 : 0;
  }
  // Weight bytes of codes for k0 .. k0 + kc - 1 of nc channels, with the scales of the groups
  // that start there and the channel scales on the first k.
  std::uint64_t weight_tile_bytes(std::uint64_t k0, std::uint64_t kc, std::uint64_t nc) const {
    double w = static_cast<double>(kc * nc) * wb;
    if (groups && !materialize_bytes)
      w += static_cast<double>(group_starts(k0, kc) * nc) * traits(s).group_meta_bytes;
    if (k0 == 0) w += static_cast<double>(nc) * traits(s).channel_meta_bytes;
    return ceil_bytes(w);
  }
  // Scale words the edge (rescales) or the fused dequantizers (dequant) take into their scale
  // register files for a tile: each column's scale of every group starting in it.
  std::uint64_t scale_writes(std::uint64_t k0, std::uint64_t kc, std::uint64_t nc) const {
    if (!rescales && !fused_dequant) return 0;
    return group_starts(k0, kc) * nc * arch::scale_words_per_group(s);
  }
  // Scale words a tile's rescales and fused dequantizations read: every word of the group's
  // scale metadata, once per rescale or dequantized weight.
  std::uint64_t scale_reads(const Tile& t) const {
    return (t.rescale_ops + t.dequant_ops) * arch::scale_words_per_group(s);
  }
};

SchemeFacts scheme_facts(const arch::ArchSpec& a, const trace::Layer& l) {
  if (!trace::is_gemm(l.op) || !l.scheme) throw Error("layer '" + l.name + "' is not a GEMM");
  SchemeFacts f;
  f.s = l.scheme->scheme;
  if (std::find(a.schemes.begin(), a.schemes.end(), f.s) == a.schemes.end()) {
    throw Error("layer '" + l.name + "' uses scheme " + std::string(scheme_name(f.s)) +
                ", which design '" + a.name + "' does not run");
  }
  const SchemeInfo& st = traits(f.s);
  f.groups = st.grouped;
  f.G = f.groups ? l.scheme->group_size : l.k;
  f.rescales = rescales(st);
  const bool materialized =
      st.dequant == Dequant::selectable && l.scheme->dequant == DequantMode::materialized;
  f.fused_dequant = st.dequant != Dequant::none && !materialized;
  f.wb = st.weight_bytes;
  if (materialized) {
    const std::uint64_t source = f.weight_tile_bytes(0, l.k, l.n);  // codes + metadata
    f.materialize_write_bytes = l.n * l.k;                          // the int8 copy
    f.materialize_bytes = source + f.materialize_write_bytes;
    f.materialize_dequant_ops = l.n * l.k;
    f.wb = st.dequantized_weight_bytes;  // what the tiles read
  }
  f.ab = st.act_bytes;
  f.per_tensor_act = l.scheme->act == ActQuantMode::per_tensor;
  f.edge_acc = edge_acc_bytes(a, f.s);
  // fp16 PEs accumulate in fp32: 4 bytes per partial sum either way.
  f.psum_bytes = float_accumulation(st) ? 4 : (a.array.acc_bits + 7) / 8;
  f.ifmap_cap = arch::usable_bytes(a.buffers.ifmap);
  f.weight_cap = arch::usable_bytes(a.buffers.weight);
  f.ofmap_cap = arch::usable_bytes(a.buffers.ofmap);
  return f;
}

// Where a tile sits: tokens m0 .. m0 + m - 1, channels n0 .. n0 + n - 1, k0 .. k0 + k - 1.
struct TilePlace {
  std::uint64_t m0, m, n0, n, k0, k;
};

// The fields of a tile that do not depend on the dataflow: its place, what the DMA brings in
// (the weight tile unless resident from an earlier pass, the activations unless resident from
// an earlier n-tile, with the per-token scales on the first k) and takes out (the finished
// fp16 outputs), the weight buffer's reads, and the work of the dequantizers, the scale
// register files and the epilogue.
Tile dma_tile(const SchemeFacts& f, const TilePlace& at, std::uint64_t K, bool fetch_w,
              bool fetch_x) {
  Tile t;
  t.m0 = at.m0, t.m = at.m, t.n0 = at.n0, t.cols_used = at.n, t.k0 = at.k0, t.rows_used = at.k;
  t.first_k = at.k0 == 0;
  t.last_k = at.k0 + at.k >= K;
  t.weight_read_bytes = f.weight_tile_bytes(at.k0, at.k, at.n);
  t.weight_bytes = fetch_w ? t.weight_read_bytes : 0;
  if (fetch_x) {
    t.act_bytes = ceil_bytes(static_cast<double>(at.m * at.k) * f.ab);
    // int8 activations' fp32 scales: one per token, or one for the tensor (with its first block)
    if (t.first_k && traits(f.s).int_activations) t.act_bytes += f.per_tensor_act ? (at.m0 == 0 ? 4 : 0) : at.m * 4;
  }
  if (f.fused_dequant) t.dequant_ops = at.k * at.n;
  t.scale_writes = f.scale_writes(at.k0, at.k, at.n);
  t.rescale_unit = *traits(f.s).scale_unit;
  if (t.last_k) {
    t.out_bytes = at.m * at.n * 2;
    t.epilogue_ops = at.m * at.n;
  }
  return t;
}

// Visits the tiles of the loop nest m-block (`mb` tokens), n-tile (`C` channels), k-chunk
// (`k_tile`), in that order, each with dma_tile's fields: all of W stays resident across
// m-blocks when it fits the weight buffer, and a block's activations stay resident across
// n-tiles when they fit the ifmap buffer (half of each when double buffered); otherwise they
// are fetched again.
template <class Visit>
void for_each_block_tile(const SchemeFacts& f, const trace::Layer& l, std::uint64_t m0,
                         std::uint64_t mu, std::uint64_t C, std::uint64_t k_tile, Visit&& visit) {
  const std::uint64_t K = l.k, N = l.n;
  const bool w_resident = f.weight_tile_bytes(0, K, N) <= f.weight_cap;
  const bool x_resident = ceil_bytes(static_cast<double>(mu * K) * f.ab) <= f.ifmap_cap;
  for (std::uint64_t n0 = 0; n0 < N; n0 += C) {
    const std::uint64_t nc = std::min(C, N - n0);
    for (std::uint64_t k0 = 0; k0 < K; k0 += k_tile) {
      Tile t = dma_tile(f, {m0, mu, n0, nc, k0, std::min(k_tile, K - k0)}, K,
                        !(w_resident && m0 > 0), !(x_resident && n0 > 0));
      visit(t);
    }
  }
}

template <class Visit>
void for_each_tile(const SchemeFacts& f, const trace::Layer& l, std::uint64_t mb, std::uint64_t C,
                   std::uint64_t k_tile, Visit&& visit) {
  for (std::uint64_t m0 = 0; m0 < l.m; m0 += mb)
    for_each_block_tile(f, l, m0, std::min(mb, l.m - m0), C, k_tile, visit);
}

GemmPlan plan_header(const trace::Layer& l, const SchemeFacts& f) {
  GemmPlan p;
  p.layer = l.name;
  p.scheme = f.s;
  p.instances = l.batch * l.repeat;
  p.materialize_bytes = f.materialize_bytes;
  p.materialize_write_bytes = f.materialize_write_bytes;
  p.materialize_dequant_ops = f.materialize_dequant_ops;
  return p;
}

}  // namespace

namespace {

// The weight-stationary k-tile. A column's partial sum cannot mix two groups: with groups
// shorter than the array, or not a multiple of it, each tile holds whole sub-groups only (rows
// beyond gcd(R, G) stay idle).
std::uint64_t ws_k_tile(const arch::ArchSpec& a, const SchemeFacts& f) {
  return f.groups ? std::gcd(std::uint64_t{a.array.rows}, f.G) : a.array.rows;
}

// Bytes per token and column an n-tile keeps in the ofmap buffer between its k-tiles: the
// chained partial sums (when K takes more than one k-tile) and the edge's group accumulators
// (when K holds more than one group of a rescaled scheme).
std::uint64_t ws_held_bytes_per_token_col(const arch::ArchSpec& a, const trace::Layer& l,
                                          const SchemeFacts& f) {
  std::uint64_t b = 0;
  if (l.k > ws_k_tile(a, f)) b += f.psum_bytes;
  if (f.rescales && l.k > f.G) b += f.edge_acc;
  return b;
}

std::uint64_t sat_mul(std::uint64_t x, std::uint64_t y) {
  return y != 0 && x > UINT64_MAX / y ? UINT64_MAX : x * y;
}
std::uint64_t sat_add(std::uint64_t x, std::uint64_t y) {
  return x > UINT64_MAX - y ? UINT64_MAX : x + y;
}
using arch::ceil_div;  // sram/buffer.hpp

// A WS plan with m-blocks of `mb` tokens: ws_plan stores every tile of one or two blocks, else
// the first, one alike block played as a run, and a shorter last one if there is one.
PlanSize ws_size(const arch::ArchSpec& a, const trace::Layer& l, const SchemeFacts& f,
                 std::uint64_t mb) {
  const std::uint64_t per_block = sat_mul(ceil_div(l.n, a.array.cols), ceil_div(l.k, ws_k_tile(a, f)));
  const std::uint64_t blocks = ceil_div(l.m, mb);
  PlanSize s;
  const std::uint64_t last = l.m - (blocks - 1) * mb;
  s.stored_tiles = sat_mul(blocks <= 2 ? blocks : 2 + (last != mb), per_block);
  s.played_tiles = sat_mul(sat_mul(blocks, per_block), sat_mul(l.batch, l.repeat));
  return s;
}

std::string count_text(std::uint64_t n) {
  return n == UINT64_MAX ? std::string("more than 1.8e19") : std::to_string(n);
}

// Weight-stationary tiles with M cut into blocks of at most `mb` tokens (mb >= M: one block,
// the n_outer order). Loop order: m-block, n-tile, k-tile.
GemmPlan ws_plan(const arch::ArchSpec& a, const trace::Layer& l, const SchemeFacts& f,
                 std::uint64_t mb) {
  GemmPlan p = plan_header(l, f);
  p.k_tile = ws_k_tile(a, f);
  p.tiles.reserve(ws_size(a, l, f, mb).stored_tiles);  // exactly: no doubling past the limit
  // What an n-tile keeps between its k-tiles beyond the ofmap buffer is spilled: written to
  // DRAM after each k-tile but the last and read back before the next [choice: the buffer keeps
  // what fits; the rest goes out and comes back at every k-tile boundary].
  const std::uint64_t per = ws_held_bytes_per_token_col(a, l, f);
  auto spill = [&](std::uint64_t tokens, std::uint64_t nc) {
    const std::uint64_t held = tokens * nc * per;
    return held > f.ofmap_cap ? held - f.ofmap_cap : 0;
  };
  const std::uint64_t cols = std::min<std::uint64_t>(a.array.cols, l.n);
  if (const std::uint64_t s = spill(std::min(mb, l.m), cols)) {
    p.capacity_warning =
        "partial sums held between k-tiles need " + std::to_string(s + f.ofmap_cap) + " bytes (" +
        std::to_string(std::min(mb, l.m)) + " tokens x " + std::to_string(cols) + " columns x " +
        std::to_string(per) + " B), more than the ofmap buffer's usable " +
        std::to_string(f.ofmap_cap) + "; the other " + std::to_string(s) +
        " bytes are spilled to DRAM and read back at every k-tile boundary (a larger ofmap "
        "buffer or ws_order: m_blocked avoids it)";
  }
  const auto add = [&](Tile& t) {
    const std::uint64_t mu = t.m, nc = t.cols_used;
    const bool group_starts = f.groups && t.k0 % f.G == 0;
    if (f.rescales && (t.k0 + t.rows_used) % f.G == 0) t.rescale_ops = mu * nc;
    t.stream_steps = mu;
    t.x_bytes_per_step = ceil_bytes(static_cast<double>(t.rows_used) * f.ab);
    // Partial sums chain from k-tile to k-tile over K, and restart from 0 at each group where
    // groups are rescaled at the edge (w4a8-fs/is); dequantized schemes chain over K.
    const bool chain_starts = t.first_k || (f.rescales && group_starts);
    arch::WsArrayCommand ws;
    ws.psum_chained = !chain_starts;
    ws.psum_in_bytes_per_step = chain_starts ? 0 : nc * f.psum_bytes;
    ws.psum_out_bytes_per_step = nc * f.psum_bytes;
    t.array = ws;
    t.ifmap_read_bytes = mu * t.x_bytes_per_step;
    t.scale_reads = f.scale_reads(t);
    const std::uint64_t spilled = spill(mu, nc);
    if (!t.first_k) t.spill_read_bytes = spilled;
    if (!t.last_k) t.spill_write_bytes = spilled;
    add_ofmap_traffic(t, mu * ws.psum_in_bytes_per_step, mu * ws.psum_out_bytes_per_step,
                      f.edge_acc);
    p.tiles.push_back(t);
  };
  // Blocks after the first are alike but for their tokens (the weights are fetched again, or
  // stay resident, for every one of them alike): the second is stored once and played as a run
  // for all of them, the last too when it is as long. Memory: at most three blocks of tiles.
  const std::uint64_t blocks = (l.m + mb - 1) / mb;
  const std::uint64_t last = l.m - (blocks - 1) * mb;
  const std::uint64_t C = a.array.cols;
  if (blocks <= 2) {
    for_each_tile(f, l, mb, C, p.k_tile, add);
    return p;
  }
  for_each_block_tile(f, l, 0, mb, C, p.k_tile, add);
  const std::size_t first = p.tiles.size();
  for_each_block_tile(f, l, mb, mb, C, p.k_tile, add);
  const std::size_t per_block = p.tiles.size() - first;
  const std::uint64_t alike = last == mb ? blocks - 1 : blocks - 2;
  p.runs = {{0, first, 1, 0}, {first, per_block, alike, mb}};
  if (last != mb) {
    for_each_block_tile(f, l, (blocks - 1) * mb, last, C, p.k_tile, add);
    p.runs.push_back({first + per_block, p.tiles.size() - first - per_block, 1, 0});
  }
  return p;
}

// The m_blocked order's block: the most tokens whose activations fit the ifmap buffer and whose
// partial sums fit the ofmap buffer, evened out over the blocks; M (one block) when all of X
// fits or not even one token's does.
std::uint64_t ws_block_tokens(const arch::ArchSpec& a, const trace::Layer& l,
                              const SchemeFacts& f) {
  const auto per_token = static_cast<double>(l.k) * f.ab;
  std::uint64_t fit = static_cast<std::uint64_t>(static_cast<double>(f.ifmap_cap) / per_token);
  const std::uint64_t held = std::min<std::uint64_t>(a.array.cols, l.n) *
                             ws_held_bytes_per_token_col(a, l, f);
  if (held > 0) fit = std::min(fit, f.ofmap_cap / held);
  if (fit == 0 || fit >= l.m) return l.m;
  const std::uint64_t blocks = (l.m + fit - 1) / fit;
  return (l.m + blocks - 1) / blocks;
}

}  // namespace


std::uint64_t PlanSize::stored_bytes() const { return sat_mul(stored_tiles, sizeof(Tile)); }

PlanSize plan_size(const arch::ArchSpec& a, const trace::Layer& l) {
  const SchemeFacts f = scheme_facts(a, l);
  if (a.array.dataflow == arch::Dataflow::os) {
    const std::uint64_t k_tile = f.rescales ? f.G : l.k;
    PlanSize s;
    s.stored_tiles = sat_mul(sat_mul(ceil_div(l.m, a.array.rows), ceil_div(l.n, a.array.cols)),
                             ceil_div(l.k, k_tile));
    s.played_tiles = sat_mul(s.stored_tiles, sat_mul(l.batch, l.repeat));
    return s;
  }
  switch (a.array.ws_order) {
    case arch::WsOrder::n_outer:
      return ws_size(a, l, f, l.m);
    case arch::WsOrder::m_blocked:
      return ws_size(a, l, f, ws_block_tokens(a, l, f));
    case arch::WsOrder::min_dram: {
      // Both plans are built to compare them; either may be played.
      const PlanSize n = ws_size(a, l, f, l.m), b = ws_size(a, l, f, ws_block_tokens(a, l, f));
      return {sat_add(n.stored_tiles, b.stored_tiles), std::max(n.played_tiles, b.played_tiles)};
    }
  }
  throw Error("unknown weight-stationary loop order");
}

void check_plan_size(const trace::Layer& l, const PlanSize& size, const PlanSize& held) {
  const std::uint64_t bytes = sat_add(size.stored_bytes(), held.stored_bytes());
  if (bytes > kMaxPlanBytes) {
    throw Error("layer '" + l.name + "' (m " + std::to_string(l.m) + ", k " +
                std::to_string(l.k) + ", n " + std::to_string(l.n) + "): its plan holds " +
                count_text(size.stored_tiles) + " tile commands (" +
                io::byte_count(size.stored_bytes()) + ")" +
                (held.stored_tiles
                     ? "; with the " + io::byte_count(held.stored_bytes()) + " the layers before it hold"
                     : std::string()) +
                ", above the limit of " + io::byte_count(kMaxPlanBytes) +
                " (docs/limits.md); a larger array or smaller layers plan fewer tiles");
  }
  const std::uint64_t played = sat_add(size.played_tiles, held.played_tiles);
  if (played > kMaxPlayedTiles) {
    throw Error("layer '" + l.name + "' (m " + std::to_string(l.m) + ", k " +
                std::to_string(l.k) + ", n " + std::to_string(l.n) + ", instances " +
                std::to_string(l.batch * l.repeat) + "): the run would play " +
                count_text(played) + " tiles" +
                (held.played_tiles ? " with the layers before it" : std::string()) +
                ", above the limit of 2^36 = " + std::to_string(kMaxPlayedTiles) +
                " (docs/limits.md); a larger array or smaller layers play fewer tiles");
  }
}

GemmPlan plan_gemm_ws(const arch::ArchSpec& a, const trace::Layer& l) {
  const SchemeFacts f = scheme_facts(a, l);
  switch (a.array.ws_order) {
    case arch::WsOrder::n_outer:
      return ws_plan(a, l, f, l.m);
    case arch::WsOrder::m_blocked:
      return ws_plan(a, l, f, ws_block_tokens(a, l, f));
    case arch::WsOrder::min_dram: {
      GemmPlan n_outer = ws_plan(a, l, f, l.m);
      GemmPlan blocked = ws_plan(a, l, f, ws_block_tokens(a, l, f));
      return blocked.dram_bytes() < n_outer.dram_bytes() ? blocked : n_outer;
    }
  }
  throw Error("unknown weight-stationary loop order");
}

GemmPlan plan_gemm_os(const arch::ArchSpec& a, const trace::Layer& l) {
  const SchemeFacts f = scheme_facts(a, l);
  GemmPlan p = plan_header(l, f);
  // Each PE accumulates a whole k-chunk: all of K, or one group where groups are rescaled at
  // the edge (the group's partial sums leave the array when it completes). m-tiles of `rows`
  // tokens.
  p.k_tile = f.rescales ? f.G : l.k;
  p.tiles.reserve(plan_size(a, l).stored_tiles);
  for_each_tile(f, l, a.array.rows, a.array.cols, p.k_tile, [&](Tile& t) {
    const std::uint64_t mu = t.m, nc = t.cols_used;
    if (f.rescales) t.rescale_ops = mu * nc;  // every chunk is one whole group
    t.stream_steps = t.rows_used;
    t.x_bytes_per_step = ceil_bytes(static_cast<double>(mu) * f.ab);
    t.array = arch::OsArrayCommand{ceil_bytes(static_cast<double>(nc) * f.wb)};
    t.ifmap_read_bytes = t.rows_used * t.x_bytes_per_step;
    t.scale_reads = f.scale_reads(t);
    // The unload writes each PE's sum once; nothing chains through the ofmap buffer.
    add_ofmap_traffic(t, 0, mu * nc * f.psum_bytes, f.edge_acc);
    p.tiles.push_back(t);
  });
  return p;
}

GemmPlan plan_gemm(const arch::ArchSpec& a, const trace::Layer& l) {
  check_plan_size(l, plan_size(a, l));
  return a.array.dataflow == arch::Dataflow::ws ? plan_gemm_ws(a, l) : plan_gemm_os(a, l);
}

}  // namespace quasar::mapping
