// The group-scale register file of the units that consume group scales: every integer-scale
// and float-scale accumulator (w4a8-is/-fs rescales) and every fused dequantizer (w4a16, DGQ,
// QServe) holds the scales of the group it is working on in a small flip-flop register file,
// written as the weight tile's scales arrive and read on each of the unit's operations.
// sim/mapping counts the words written (LayerStats::scale_writes); models/cost prices the file
// with the synthesized rtl/units/regfile.v (docs/cost-model.md, "Register files").
#pragma once

#include <cstdint>
#include <vector>

#include "numerics/scheme.hpp"

namespace quasar::arch {

constexpr unsigned kScaleWordBits = 16;  // one word: an fp16 or integer scale, or S2 + zero
constexpr unsigned kScaleRfBuffers = 2;  // the group in use and the next tile's (double buffered)

// Words one (group, output channel) pair's scale metadata takes: the mapping's stored bytes
// rounded up to words (fp16 or 16-bit integer scale: 1; int8 S2 + uint4 zero, 12 bits: 1;
// fp16 scale + uint4 zero, 20 bits: 2). 0 for schemes without a per-group step in a unit.
// tests/unit checks it against the bytes the DMA moves per group.
inline std::uint64_t scale_words_per_group(Scheme s) {
  switch (s) {
    case Scheme::w4a8_fs:
    case Scheme::w4a8_is:
    case Scheme::w4a8_dgq:
    case Scheme::w4a8_qserve:
      return 1;
    case Scheme::w4a16:
      return 2;
    default:
      return 0;
  }
}

// Entries of each unit's file for a design running `schemes`: double-buffered words of the
// widest scheme (0 when no scheme needs one).
inline std::uint64_t scale_rf_entries(const std::vector<Scheme>& schemes) {
  std::uint64_t w = 0;
  for (Scheme s : schemes) w = scale_words_per_group(s) > w ? scale_words_per_group(s) : w;
  return w * kScaleRfBuffers;
}

}  // namespace quasar::arch
