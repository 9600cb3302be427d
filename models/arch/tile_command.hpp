// The command stream the accelerator's controller executes: one command per weight tile, in
// order. sim/mapping produces it from a trace layer and the spec; the SystemC model (both
// fidelity modes) consumes it, so the modes cannot disagree about the work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "numerics/scheme.hpp"

namespace quasar::arch {

// What only a weight-stationary array's stream needs: the partial sums chained through the
// ofmap buffer, in and out, per streamed token.
struct WsArrayCommand {
  bool psum_chained = false;  // starts from the previous k-tile's partial sums (psum_in)
  std::uint64_t psum_in_bytes_per_step = 0;   // ofmap read: chained partial sums
  std::uint64_t psum_out_bytes_per_step = 0;  // ofmap write: the array's outputs
};

// What only an output-stationary array's stream needs: the weights it reads per k-step (it holds
// no weights; each step brings one k of every column's weights).
struct OsArrayCommand {
  std::uint64_t w_bytes_per_step = 0;  // weight read during the stream
};

// One tile of work for a core: what its DMA fetches, what its array runs, what its edge units
// and writer do with the results. The array's part is a command of its dataflow's own type (an
// array model reads only its own kind: arch/array/array_model.hpp); the rest is common.
// Weight-stationary: a weight tile of at most rows x cols held while `m` activation rows
// (tokens m0 .. m0 + m - 1: all M, or an m-block) stream through it. Output-stationary: an
// output tile of `m` <= rows tokens x `cols_used` <= cols channels accumulated over the k-chunk
// k0 .. k0 + rows_used - 1.
struct Tile {
  std::uint64_t n0 = 0, cols_used = 0;  // output channels n0 .. n0 + cols_used - 1
  std::uint64_t k0 = 0, rows_used = 0;  // reduction indices k0 .. k0 + rows_used - 1
  std::uint64_t m = 0;                  // activation rows (tokens)
  std::uint64_t m0 = 0;                 // first token (OS m-tiles, WS m-blocks)
  bool first_k = false;                 // partial sums start from 0
  bool last_k = false;                  // the outputs of this n-tile are final after it
  std::uint64_t weight_bytes = 0;  // DRAM -> weight buffer: codes + this tile's scales
  std::uint64_t act_bytes = 0;     // DRAM -> ifmap buffer (0 when still resident)
  std::uint64_t out_bytes = 0;     // ofmap -> DRAM (fp16 outputs, last_k only)
  // Partial sums and edge accumulators that do not fit the ofmap buffer: read back from DRAM
  // before this tile (not on the first k-tile) and written out after it (not on the last). DMA
  // traffic, so common, though only weight-stationary plans chain partial sums over k-tiles.
  std::uint64_t spill_read_bytes = 0, spill_write_bytes = 0;
  std::uint64_t dequant_ops = 0;   // weights dequantized as the tile loads (fused)
  std::uint64_t rescale_ops = 0;   // group rescales (P*S or fp32) when a group completes
  std::uint64_t epilogue_ops = 0;  // scale multiply + fp16 convert (last_k only)
  std::uint64_t scale_writes = 0;  // 16-bit group-scale words written into the edge / dequant
                                   // units' scale register files (once per column per group)
  std::uint64_t scale_reads = 0;   // words read from them: one per word per rescale or weight
                                   // dequantized
  // The edge unit kind that runs the rescales: intscale (P*S integer steps), floatscale (I2F +
  // fp32 multiply-add) or block (a block sum scaled into its fp32 or fixed accumulator).
  ScaleUnit rescale_unit = ScaleUnit::floatscale;
  // The stream: steps (cycles when no port is short: WS the m tokens, OS the k-chunk) and the
  // ifmap read port's bytes per step (a token: WS; one k per row: OS).
  std::uint64_t stream_steps = 0;
  std::uint64_t x_bytes_per_step = 0;
  // The array's command, of its dataflow's type.
  std::variant<WsArrayCommand, OsArrayCommand> array;
  // The tile's on-chip traffic, in bytes (the cost model's buffer accesses).
  std::uint64_t ifmap_read_bytes = 0, weight_read_bytes = 0;
  std::uint64_t ofmap_read_bytes = 0, ofmap_write_bytes = 0;
};

// Whether a tile starts from the previous k-tile's partial sums (weight-stationary chains only).
inline bool psum_chained(const Tile& t) {
  const auto* ws = std::get_if<WsArrayCommand>(&t.array);
  return ws && ws->psum_chained;
}

// A compact tile stream: tiles[first .. first + count) played `repeat` times in a row, each
// repeat's tiles `m_step` tokens further on (a weight-stationary plan's m-blocks that are alike
// but for their tokens; storing each would cost memory in proportion to the blocks). No runs:
// every tile once, in order.
struct TileRun {
  std::size_t first = 0, count = 0;
  std::uint64_t repeat = 1, m_step = 0;
};

// Calls visit(tile, index within the stream) for every tile the runs lay out, in order, with
// m0 moved on for the repeats.
template <class Visit>
void play_tiles(const std::vector<Tile>& tiles, const std::vector<TileRun>& runs, Visit&& visit) {
  if (runs.empty()) {
    for (std::size_t i = 0; i < tiles.size(); ++i) visit(tiles[i], std::uint64_t{i});
    return;
  }
  std::uint64_t index = 0;
  for (const TileRun& r : runs) {
    for (std::uint64_t rep = 0; rep < r.repeat; ++rep) {
      for (std::size_t i = r.first; i < r.first + r.count; ++i, ++index) {
        if (rep == 0 || r.m_step == 0) {
          visit(tiles[i], index);
        } else {
          Tile t = tiles[i];
          t.m0 += rep * r.m_step;
          visit(static_cast<const Tile&>(t), index);
        }
      }
    }
  }
}

// How many tiles the runs play.
inline std::uint64_t played_tiles(const std::vector<Tile>& tiles,
                                  const std::vector<TileRun>& runs) {
  if (runs.empty()) return tiles.size();
  std::uint64_t n = 0;
  for (const TileRun& r : runs) n += r.count * r.repeat;
  return n;
}

}  // namespace quasar::arch
