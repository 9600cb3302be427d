// The causal mask on the MAC array (issue 16): a causal attention matmul's tiles that only
// masked scores need cost nothing, and a weight-stationary tile streams only the tokens that
// see its keys, so prefill's QK^T and PV count the triangle (at tile granularity), not the
// square.
//
// Positions: a causal bmm has as many queries as keys (trace validation), query i at position i,
// key j at j; query i sees keys j <= i. A tile's keys start at key_lo (QK^T: its output channels
// n0, the keys; PV: its reduction rows k0, the keys):
//   - tokens m0 .. m0 + m - 1 all before key_lo: the tile is dropped. Its DMA loads move to the
//     next tile that needs the same data (weights: same n0, k0; activations: same m0, k0); a
//     dropped tile that finished an output chain (PV's masked k-tile suffix) hands last_k, the
//     outputs' write and the epilogue to the chain's last kept tile.
//   - weight-stationary, some tokens before key_lo: the tile streams tokens key_lo .. m0 + m - 1
//     only; its per-token traffic (ifmap reads, partial sums, spills) shrinks with them, and so
//     do QK^T's scores (written and converted); PV's outputs are all still written on its last
//     k-tile (earlier tokens finished on earlier k-tiles).
//   - output-stationary, partly masked: [choice] the tile runs whole (its PEs hold
//     a block of rows x cols scores; masking inside it saves no cycle), which apply_causal_mask
//     reports.
#pragma once

#include <string>

#include "arch/workload.hpp"

namespace quasar::mapping {

struct CausalMaskResult {
  std::uint64_t dropped = 0;   // tiles dropped, per instance
  std::uint64_t shortened = 0; // weight-stationary tiles streamed in part
  std::uint64_t whole = 0;     // output-stationary tiles run whole though partly masked
};

// Applies the mask to one instance's tiles of a causal attention matmul ("qk" or "pv") on an
// array of the given dataflow. The tiles come laid out by `runs`; the result is one tile each,
// in play order (the runs are cleared: masking makes the m-blocks differ).
CausalMaskResult apply_causal_mask(const std::string& attention, bool weight_stationary,
                                   arch::LayerWork& w);

}  // namespace quasar::mapping
