// Packed operands and the tile loop of the fast CPU path: exact int32 dot products of int8
// activation rows and int8 weight rows over segments of K, computed a kMr x kNr tile at a
// time by the kernels of kernels.hpp, tiles spread over worker threads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "kernels.hpp"
#include "numerics/matrix.hpp"
#include "parallel.hpp"

namespace quasar::cpu {

// Longest segment the packer takes: 2^16 products of magnitude <= 2^14 (and the bias
// correction, 128 * 2^16 * 128) stay below 2^31, so a segment's int32 sum is always exact.
inline constexpr std::size_t kMaxSegment = std::size_t{1} << 16;

// K cut into segments [s * length, min(K, (s + 1) * length)), each padded to whole quads.
struct Segments {
  Segments() = default;
  Segments(std::size_t k, std::size_t length);  // length in 1..kMaxSegment (any when k == 0)
  std::size_t k = 0, length = 0;
  std::size_t count = 0;  // segments
  std::size_t quads = 0;  // quads per segment (the longest's)
  std::size_t begin(std::size_t s) const { return s * length; }
  std::size_t end(std::size_t s) const { return std::min(k, (s + 1) * length); }
};

// Activations as the kernels read them: blocks of kMr rows, x + 128 as unsigned bytes.
struct PackedActs {
  std::size_t rows = 0, blocks = 0;
  Segments seg;
  std::vector<std::uint8_t> data;  // [block][segment][quad][kMr][4]
  const std::uint8_t* at(std::size_t block, std::size_t s) const {
    return data.data() + (block * seg.count + s) * seg.quads * kMr * 4;
  }
};

// Weights as the kernels read them: panels of kNr rows (output columns), and each panel's
// per-segment accumulator start, -128 * (sum of the segment's weights), per column.
struct PackedWeights {
  std::size_t rows = 0, panels = 0;
  Segments seg;
  std::vector<std::int8_t> data;   // [panel][segment][quad][kNr][4]
  std::vector<std::int32_t> init;  // [panel][segment][kNr]
  const std::int8_t* at(std::size_t panel, std::size_t s) const {
    return data.data() + (panel * seg.count + s) * seg.quads * kNr * 4;
  }
  const std::int32_t* init_at(std::size_t panel, std::size_t s) const {
    return init.data() + (panel * seg.count + s) * kNr;
  }
};

// A weight matrix's int8 rows as the packer reads them: in place (rows_of), or made on demand
// (decoded dint4, dequantized two-level codes) into the packer's buffer, so that no N x K int8
// copy is allocated and the decoding runs in parallel, a panel at a time. row(n, worker, buf)
// returns row n's `cols` values, written to buf or read in place; it is called exactly once
// per row, by worker `worker` (for per-worker event counts).
struct WeightRows {
  std::size_t rows = 0, cols = 0;
  std::function<const std::int8_t*(std::size_t n, unsigned worker, std::int8_t* buf)> row;
  const MatrixI8* matrix = nullptr;  // set by rows_of: the rows are read in place
};
WeightRows rows_of(const MatrixI8& w);  // refers to w: keep it alive while packing

// `storage` is reused for the packed data when given (its old contents are overwritten where
// they matter): a caller that hands back last call's buffer skips the page faults and zero
// fill of a fresh allocation.
PackedActs pack_acts(const MatrixI8& x, const Segments& seg, unsigned threads,
                     std::vector<std::uint8_t> storage = {});
PackedWeights pack_weights(const WeightRows& w, const Segments& seg, unsigned threads,
                           std::vector<std::int8_t> storage = {});

// One tile's segment sums, computed on demand into the tile's own buffer:
// sums(s)[r * kNr + j] = sum over segment s of x[m0 + r, k] * w[n0 + j, k] (rows and columns
// past M or N hold padding). The buffer is the caller's to modify until the next call.
class TileSums {
 public:
  TileSums(const KernelSet& k, const PackedActs& a, const PackedWeights& b, std::size_t block,
           std::size_t panel)
      : k_(k), a_(a), b_(b), block_(block), panel_(panel) {}
  std::int32_t* operator()(std::size_t s) {
    k_.tile(a_.at(block_, s), b_.at(panel_, s), a_.seg.quads, b_.init_at(panel_, s), p_);
    return p_;
  }

 private:
  const KernelSet& k_;
  const PackedActs& a_;
  const PackedWeights& b_;
  std::size_t block_, panel_;
  alignas(64) std::int32_t p_[kMr * kNr];
};

// Calls fn(worker, m0, n0, sums) once per tile, tiles in parallel on `threads` workers.
// Consecutive tiles share a weight panel (n outer, m inner), so the panel stays in the
// core's cache while the activation blocks pass by.
template <class Fn>
void run_tiles(const KernelSet& k, const PackedActs& a, const PackedWeights& b, unsigned threads,
               Fn&& fn) {
  parallel_for(a.blocks * b.panels, threads, [&](std::size_t t, unsigned worker) {
    const std::size_t panel = t / a.blocks, block = t % a.blocks;
    TileSums sums(k, a, b, block, panel);
    fn(worker, block * kMr, panel * kNr, sums);
  });
}

}  // namespace quasar::cpu
