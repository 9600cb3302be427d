// The group-scale register file of the units that consume group scales: every integer-scale
// and float-scale accumulator (w4a8-is/-fs rescales) and every fused dequantizer (w4a16, DGQ,
// QServe) holds the scales of the group it is working on in a small flip-flop register file,
// written as the weight tile's scales arrive and read as the unit works through them.
// sim/mapping counts the words written and read (LayerStats::scale_writes, scale_reads);
// models/cost prices the files with the synthesized rtl/units/regfile.v (docs/cost-model.md,
// "Register files").
#pragma once

#include <cstdint>
#include <vector>

#include "numerics/scheme.hpp"

namespace quasar::arch {

constexpr unsigned kScaleWordBits = 16;  // one word: an fp16 or integer scale, or S2 + zero
constexpr unsigned kScaleRfBuffers = 2;  // the group in use and the next tile's (double buffered)

// Words one (group, output channel) pair's scale metadata takes (the scheme table's
// scale_words_per_group: the stored bytes rounded up to words; tests/unit checks it against the
// bytes the DMA moves per group). 0 for schemes without a per-group step in a unit.
inline std::uint64_t scale_words_per_group(Scheme s) { return traits(s).scale_words_per_group; }

// The unit kinds that hold group scales, and which one consumes a scheme's (none: the scheme has
// no per-group step in a unit; numerics/scheme.hpp).
using quasar::consumes_scales;
using quasar::scale_unit_name;
using quasar::ScaleUnit;
constexpr ScaleUnit kScaleUnits[] = {ScaleUnit::intscale, ScaleUnit::floatscale,
                                     ScaleUnit::dequant, ScaleUnit::block};

// Entries of one unit's file: for each of the ceil(cols / units) columns the unit serves, the
// double-buffered words of the widest scheme the design runs on this unit kind (0: none).
inline std::uint64_t scale_rf_entries(const std::vector<Scheme>& schemes, ScaleUnit u,
                                      std::uint64_t units, std::uint64_t cols) {
  std::uint64_t words = 0;
  for (Scheme s : schemes) {
    if (consumes_scales(u, s) && scale_words_per_group(s) > words) words = scale_words_per_group(s);
  }
  if (words == 0 || units == 0) return 0;
  return words * kScaleRfBuffers * ((cols + units - 1) / units);
}

}  // namespace quasar::arch
