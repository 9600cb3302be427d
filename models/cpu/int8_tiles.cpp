#include "int8_tiles.hpp"

#include <string>

#include "numerics/error.hpp"

namespace quasar::cpu {

Segments::Segments(std::size_t k_, std::size_t length_) : k(k_), length(length_) {
  if (k == 0) {
    length = std::max<std::size_t>(length, 1);
    return;
  }
  if (length == 0 || length > kMaxSegment) {
    throw Error("fast CPU kernels: segment of " + std::to_string(length) +
                " products; accepted: 1.." + std::to_string(kMaxSegment));
  }
  count = (k + length - 1) / length;
  quads = (std::min(k, length) + 3) / 4;
}

PackedActs pack_acts(const MatrixI8& x, const Segments& seg, unsigned threads) {
  PackedActs p;
  p.rows = x.rows();
  p.blocks = (x.rows() + kMr - 1) / kMr;
  p.seg = seg;
  p.data.assign(p.blocks * seg.count * seg.quads * kMr * 4, 0);
  parallel_for(p.blocks, threads, [&](std::size_t block, unsigned) {
    for (std::size_t s = 0; s < seg.count; ++s) {
      std::uint8_t* out = p.data.data() + (block * seg.count + s) * seg.quads * kMr * 4;
      const std::size_t k0 = seg.begin(s), k1 = seg.end(s);
      for (std::size_t r = 0; r < kMr && block * kMr + r < x.rows(); ++r) {
        const std::int8_t* row = x.row(block * kMr + r);
        for (std::size_t k = k0; k < k1; ++k) {
          const std::size_t i = k - k0;
          // x + 128 as an unsigned byte (flipping the sign bit); padding stays 0 and meets a
          // zero weight.
          out[((i / 4) * kMr + r) * 4 + i % 4] = static_cast<std::uint8_t>(row[k] ^ 0x80);
        }
      }
    }
  });
  return p;
}

PackedWeights pack_weights(const MatrixI8& w, const Segments& seg, unsigned threads) {
  PackedWeights p;
  p.rows = w.rows();
  p.panels = (w.rows() + kNr - 1) / kNr;
  p.seg = seg;
  p.data.assign(p.panels * seg.count * seg.quads * kNr * 4, 0);
  p.init.assign(p.panels * seg.count * kNr, 0);
  parallel_for(p.panels, threads, [&](std::size_t panel, unsigned) {
    for (std::size_t s = 0; s < seg.count; ++s) {
      std::int8_t* out = p.data.data() + (panel * seg.count + s) * seg.quads * kNr * 4;
      std::int32_t* init = p.init.data() + (panel * seg.count + s) * kNr;
      const std::size_t k0 = seg.begin(s), k1 = seg.end(s);
      for (std::size_t j = 0; j < kNr && panel * kNr + j < w.rows(); ++j) {
        const std::int8_t* row = w.row(panel * kNr + j);
        std::int32_t sum = 0;
        for (std::size_t k = k0; k < k1; ++k) {
          const std::size_t i = k - k0;
          out[((i / 4) * kNr + j) * 4 + i % 4] = row[k];
          sum += row[k];
        }
        init[j] = -128 * sum;
      }
    }
  });
  return p;
}

}  // namespace quasar::cpu
