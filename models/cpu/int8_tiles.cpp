#include "int8_tiles.hpp"

#include <cstring>
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

namespace {

// `rows` rows (row r at src[r]), segment [k0, k1), into the packed layout [quad][width][4] of
// `quads` quads: a block of quads at a time, so the writes run contiguously while each row is
// read in runs of whole cache lines (one word from each row in turn would keep evicting lines:
// the rows lie a power of two apart). Each 32-bit word is XORed with `flip` (0x80808080 turns
// int8 x into the unsigned byte x + 128). Everything past k1 (the partial quad's rest, and the
// quads a short last segment does not fill) is zero: storage may be reused, and the kernels
// run all quads.
void pack_rows(const std::int8_t* const* src, std::size_t rows, std::size_t width, std::size_t k0,
               std::size_t k1, std::size_t quads, std::uint32_t flip, std::uint8_t* out) {
  const std::size_t full = (k1 - k0) / 4;
  constexpr std::size_t kQuadBlock = 256;
  for (std::size_t q0 = 0; q0 < full; q0 += kQuadBlock) {
    const std::size_t q1 = std::min(full, q0 + kQuadBlock);
    for (std::size_t r = 0; r < rows; ++r) {
      const std::int8_t* row = src[r] + k0;
      for (std::size_t q = q0; q < q1; ++q) {
        std::uint32_t word;
        std::memcpy(&word, row + 4 * q, 4);
        word ^= flip;
        std::memcpy(out + (q * width + r) * 4, &word, 4);
      }
    }
  }
  std::memset(out + full * width * 4, 0, (quads - full) * width * 4);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t k = k0 + 4 * full; k < k1; ++k) {
      out[(full * width + r) * 4 + (k - k0) % 4] =
          static_cast<std::uint8_t>(src[r][k] ^ static_cast<std::int8_t>(flip));
    }
  }
}

}  // namespace

PackedActs pack_acts(const MatrixI8& x, const Segments& seg, unsigned threads,
                     std::vector<std::uint8_t> storage) {
  PackedActs p;
  p.rows = x.rows();
  p.blocks = (x.rows() + kMr - 1) / kMr;
  p.seg = seg;
  // Bytes past a segment's end are written below; padding rows' bytes only reach outputs
  // nobody reads, so reused storage needs no clearing.
  p.data = std::move(storage);
  p.data.resize(p.blocks * seg.count * seg.quads * kMr * 4);
  parallel_for(p.blocks, threads, [&](std::size_t block, unsigned) {
    const std::size_t rows = std::min(kMr, x.rows() - block * kMr);
    const std::int8_t* src[kMr];
    for (std::size_t r = 0; r < rows; ++r) src[r] = x.row(block * kMr + r);
    for (std::size_t s = 0; s < seg.count; ++s) {
      std::uint8_t* out = p.data.data() + (block * seg.count + s) * seg.quads * kMr * 4;
      // Padding k stays 0 and meets a zero weight; padding rows are never read back.
      pack_rows(src, rows, kMr, seg.begin(s), seg.end(s), seg.quads, 0x80808080u, out);
    }
  });
  return p;
}

WeightRows rows_of(const MatrixI8& w) {
  WeightRows r;
  r.rows = w.rows();
  r.cols = w.cols();
  r.row = [&w](std::size_t n, unsigned, std::int8_t*) { return w.row(n); };
  r.matrix = &w;
  return r;
}

PackedWeights pack_weights(const WeightRows& w, const Segments& seg, unsigned threads,
                           std::vector<std::int8_t> storage) {
  PackedWeights p;
  p.rows = w.rows;
  p.panels = (w.rows + kNr - 1) / kNr;
  p.seg = seg;
  // As for the activations: padding columns reach only outputs nobody reads.
  p.data = std::move(storage);
  p.data.resize(p.panels * seg.count * seg.quads * kNr * 4);
  p.init.assign(p.panels * seg.count * kNr, 0);
  // One panel's rows at a time for a source that makes them (decoded weights): kNr x K bytes
  // per worker, in cache while the panel is packed.
  std::vector<std::vector<std::int8_t>> bufs(std::max(threads, 1u));
  parallel_for(p.panels, threads, [&](std::size_t panel, unsigned worker) {
    const std::size_t cols = std::min(kNr, w.rows - panel * kNr);
    std::vector<std::int8_t>& buf = bufs[worker];
    if (!w.matrix) buf.resize(kNr * w.cols);
    const std::int8_t* src[kNr];
    for (std::size_t j = 0; j < cols; ++j)
      src[j] = w.row(panel * kNr + j, worker, buf.data() + j * w.cols);
    for (std::size_t s = 0; s < seg.count; ++s) {
      auto* out = reinterpret_cast<std::uint8_t*>(p.data.data()) +
                  (panel * seg.count + s) * seg.quads * kNr * 4;
      std::int32_t* init = p.init.data() + (panel * seg.count + s) * kNr;
      const std::size_t k0 = seg.begin(s), k1 = seg.end(s);
      pack_rows(src, cols, kNr, k0, k1, seg.quads, 0, out);
      for (std::size_t j = 0; j < cols; ++j) {
        std::int32_t sum = 0;
        for (std::size_t k = k0; k < k1; ++k) sum += src[j][k];
        init[j] = -128 * sum;
      }
    }
  });
  return p;
}

}  // namespace quasar::cpu
