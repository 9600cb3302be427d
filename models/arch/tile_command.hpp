// The command stream the accelerator's controller executes: one command per weight tile, in
// order. sim/mapping produces it from a trace layer and the spec; the SystemC model (both
// fidelity modes) consumes it, so the modes cannot disagree about the work.
#pragma once

#include <cstdint>

namespace quasar::arch {

// One tile of work for the array. Weight-stationary: a weight tile of at most rows x cols held
// while `m` activation rows (tokens m0 .. m0 + m - 1: all M, or an m-block) stream through it.
// Output-stationary: an output tile of `m` <= rows tokens x `cols_used` <= cols channels
// accumulated over the k-chunk k0 .. k0 + rows_used - 1.
struct Tile {
  std::uint64_t n0 = 0, cols_used = 0;  // output channels n0 .. n0 + cols_used - 1
  std::uint64_t k0 = 0, rows_used = 0;  // reduction indices k0 .. k0 + rows_used - 1
  std::uint64_t m = 0;                  // activation rows (tokens)
  std::uint64_t m0 = 0;                 // first token (OS m-tiles, WS m-blocks)
  bool first_k = false;                 // partial sums start from 0
  bool last_k = false;                  // the outputs of this n-tile are final after it
  bool psum_chained = false;       // WS: starts from the previous k-tile's partial sums (psum_in)
  std::uint64_t weight_bytes = 0;  // DRAM -> weight buffer: codes + this tile's scales
  std::uint64_t act_bytes = 0;     // DRAM -> ifmap buffer (0 when still resident)
  std::uint64_t out_bytes = 0;     // ofmap -> DRAM (fp16 outputs, last_k only)
  std::uint64_t dequant_ops = 0;   // weights dequantized as the tile loads (fused)
  std::uint64_t rescale_ops = 0;   // group rescales (P*S or fp32) when a group completes
  std::uint64_t epilogue_ops = 0;  // scale multiply + fp16 convert (last_k only)
  std::uint64_t scale_writes = 0;  // 16-bit group-scale words written into the edge / dequant
                                   // units' scale register files (once per column per group)
  std::uint64_t scale_reads = 0;   // words read from them: one per word per rescale or weight
                                   // dequantized
  bool rescale_int = false;        // rescales are P*S integer steps, else I2F + fp32
  // The stream: steps (cycles when no port is short: WS the m tokens, OS the k-chunk) and what
  // each buffer port must deliver per step, in bytes.
  std::uint64_t stream_steps = 0;
  std::uint64_t x_bytes_per_step = 0;         // ifmap read: a token (WS), one k per row (OS)
  std::uint64_t w_bytes_per_step = 0;         // weight read during the stream (OS)
  std::uint64_t psum_in_bytes_per_step = 0;   // ofmap read: chained partial sums (WS)
  std::uint64_t psum_out_bytes_per_step = 0;  // ofmap write: the array's outputs (WS)
  // The tile's on-chip traffic, in bytes (the cost model's buffer accesses).
  std::uint64_t ifmap_read_bytes = 0, weight_read_bytes = 0;
  std::uint64_t ofmap_read_bytes = 0, ofmap_write_bytes = 0;
};

}  // namespace quasar::arch
