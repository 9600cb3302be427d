// How one GEMM layer of a trace is cut into tiles for a weight-stationary array: the command
// stream the array's controller executes (issue 5), with every byte the DMA must move and
// every operation the edge units must do per tile. Plain C++: timing models (fast and cycle)
// consume the same plan, so they cannot disagree about the work.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/tile_command.hpp"
#include "trace/trace.hpp"

namespace quasar::mapping {

using arch::Tile;

struct GemmPlan {
  std::string layer;
  Scheme scheme = Scheme::fp16;
  std::uint64_t k_tile = 0;     // reduction per tile: WS rows or gcd(rows, group); OS K or group
  std::uint64_t instances = 1;  // batch x repeat: identical GEMMs, each runs the tiles
  // DGQ materialized, per instance: the dequantize-to-memory pass's DRAM bytes (4-bit codes and
  // metadata read, int8 copy written), of which written, and its dequantizations.
  std::uint64_t materialize_bytes = 0, materialize_write_bytes = 0, materialize_dequant_ops = 0;
  std::vector<Tile> tiles;  // one instance, in execution order (n outer, k inner), laid out by
  std::vector<arch::TileRun> runs;  // `runs` (arch::play_tiles; empty: every tile once)

  // Non-empty when the plan asks more of the buffers than they hold (today: WS partial sums
  // beyond the ofmap buffer, spilled to DRAM: the tiles' spill_*_bytes).
  std::string capacity_warning;

  std::uint64_t macs() const;        // useful MACs of one instance
  std::uint64_t dram_bytes() const;  // of one instance
};

// Bytes one stored weight element / scale takes for a scheme (codes packed two per byte for
// 4-bit formats), as the DMA moves them.
double weight_bytes_per_element(Scheme s);
// Bytes of scale/zero metadata the DMA moves per (group, output channel) pair (0: no groups).
double group_scale_bytes(Scheme s);
double activation_bytes_per_element(Scheme s);

// What a plan will take before it is built: the tile commands it stores (memory: at most three
// m-blocks of a WS plan, every tile of an OS plan; both plans for ws_order: min_dram) and the
// tiles a run plays (simulated work: every tile of every block and instance). Counts saturate
// at UINT64_MAX.
struct PlanSize {
  std::uint64_t stored_tiles = 0, played_tiles = 0;
  std::uint64_t stored_bytes() const;
};
PlanSize plan_size(const arch::ArchSpec& a, const trace::Layer& layer);

// Limits on what one run may plan [choice: far above any LLM on any shipped design, far below
// the machine; docs/limits.md]: the tile commands held at once (all layers of a trace are
// planned before the run) and the tiles one run plays (fast mode plays some 10^7 per second).
inline constexpr std::uint64_t kMaxPlanBytes = std::uint64_t{2} << 30;  // 2 GiB
inline constexpr std::uint64_t kMaxPlayedTiles = std::uint64_t{1} << 36;

// Throws quasar::Error naming the layer and the figure when planning it would pass a limit,
// given what earlier layers of the same run already hold (`held`: their PlanSize summed).
void check_plan_size(const trace::Layer& layer, const PlanSize& size, const PlanSize& held = {});

// Plans a GEMM layer (linear or bmm) for a weight-stationary array. Throws quasar::Error when
// the design does not run the layer's scheme, or for non-GEMM layers.
GemmPlan plan_gemm_ws(const arch::ArchSpec& a, const trace::Layer& layer);

// The same for an output-stationary array: output tiles of rows tokens x cols channels, m-tile
// outer, n-tile, k-chunk inner; a k-chunk is all of K, or one group for w4a8-fs/is (k_tile).
GemmPlan plan_gemm_os(const arch::ArchSpec& a, const trace::Layer& layer);

// plan_gemm_ws or plan_gemm_os by the design's dataflow.
GemmPlan plan_gemm(const arch::ArchSpec& a, const trace::Layer& layer);

}  // namespace quasar::mapping
