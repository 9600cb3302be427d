// The command stream the accelerator's controller executes: one command per weight tile, in
// order. sim/mapping produces it from a trace layer and the spec; the SystemC model (both
// fidelity modes) consumes it, so the modes cannot disagree about the work.
#pragma once

#include <cstdint>

namespace quasar::arch {

// One weight tile of at most rows x cols held in a weight-stationary array while `m`
// activation rows stream through it.
struct Tile {
  std::uint64_t n0 = 0, cols_used = 0;  // output channels n0 .. n0 + cols_used - 1
  std::uint64_t k0 = 0, rows_used = 0;  // reduction indices k0 .. k0 + rows_used - 1
  std::uint64_t m = 0;                  // activation rows streamed
  bool first_k = false;                 // partial sums start from 0
  bool last_k = false;                  // the outputs of this n-tile are final after it
  std::uint64_t weight_bytes = 0;       // DRAM -> weight buffer: codes + this tile's scales
  std::uint64_t act_bytes = 0;          // DRAM -> ifmap buffer (0 when still resident)
  std::uint64_t out_bytes = 0;          // ofmap -> DRAM (fp16 outputs, last_k only)
  std::uint64_t dequant_ops = 0;        // weights dequantized as the tile loads (fused)
  std::uint64_t rescale_ops = 0;        // group rescales (P*S or fp32) when a group completes
  std::uint64_t epilogue_ops = 0;       // scale multiply + fp16 convert (last_k only)
  bool rescale_int = false;             // rescales are P*S integer steps, else I2F + fp32
  // On-chip traffic (buffer ports, and the cost model's buffer accesses), in bytes.
  std::uint64_t x_bytes_per_token = 0;         // ifmap buffer -> array, one streamed token
  std::uint64_t psum_in_bytes_per_token = 0;   // ofmap -> array: the chained partial sums
  std::uint64_t psum_out_bytes_per_token = 0;  // array -> ofmap (or the edge)
  std::uint64_t edge_acc_bytes = 0;  // per rescale op: the output accumulator, read and written
};

}  // namespace quasar::arch
