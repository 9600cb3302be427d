// Two-level (integer group scale under a per-channel float scale) weight quantizers: DGQ's
// two-phase grid search with its overflow-safe clamp, and QServe's progressive scheme.
#pragma once

#include <cstddef>
#include <vector>

#include "float_formats.hpp"
#include "matrix.hpp"
#include "operands.hpp"

namespace quasar {

// DGQ grid of spec section 3. Phase 1 (per group): r_i = 1.02 - 0.22 (i+1)/20, i = 0..19.
// Phase 2 (per channel): r_i = 1.02 - 0.82 (i+1)/80, i = 0..79.
std::vector<float> dgq_phase1_ratios();
std::vector<float> dgq_phase2_ratios();

struct DgqSpec {
  std::size_t group_size = 128;
  bool search = true;  // false: ratio 1 in both phases (plain RTN of the two levels)
  ScaleDtype channel_scale_dtype = ScaleDtype::fp16;
};

// Quantizes w (N x K) to uint4 codes, uint4 zeros, int8 group scales S2 in [1, 127] and an
// fp16 per-channel s1. Losses are the squared error of x_calib * w^T (per group in phase 1,
// over the whole row in phase 2); with no calibration rows the weight MSE is used. The
// Eq. 5 clamp q in [max(0, z - t), min(15, z + t)], t = floor(127 / S2), is applied while
// searching too [choice], so the chosen ratio is judged on the weights that ship.
TwoLevelWeights quantize_dgq(const MatrixF& w, const MatrixF& x_calib, const DgqSpec& spec);

// DGQ percentile-clipping smoothing: per input channel a_j = max|X_j|, threshold = the b-th
// largest a_j with b = floor(0.005 C + 1.5), f_j = a_j / threshold above it, else 1.
std::vector<float> dgq_smoothing_factors(const MatrixF& x);

// X[:, j] /= f_j and W[:, j] *= f_j: the product X W^T is unchanged in exact arithmetic.
void apply_channel_smoothing(MatrixF& x, MatrixF& w, const std::vector<float>& f);

// QServe progressive quantization: s0 = max|W_n| / 119 (fp16), w8 = clamp(RNE(W / s0),
// -119, 119); per group of w8 (range holding 0): s1 = max(1, ceil((max - min) / 15))
// [choice: rounded up so 16 codes span the range; at most 16, a uint8], z = clamp(RNE(-min
// / s1), 0, 15), q = clamp(RNE(w8 / s1) + z, 0, 15).
TwoLevelWeights quantize_qserve(const MatrixF& w, std::size_t group_size);

// Dequantize a two-level code pair to its int8 value (q - z) * S, before any range check.
inline int two_level_value(const TwoLevelWeights& w, std::size_t n, std::size_t k) {
  const std::size_t g = k / w.group_size;
  return (static_cast<int>(w.q(n, k)) - static_cast<int>(w.zeros(n, g))) * w.group_scale(n, g);
}

}  // namespace quasar
