// AQAS (dINT paper): activation-quantization-aware smoothing for dint4 weights and int8
// per-token activations (spec section 3).
#pragma once

#include <vector>

#include "dint4.hpp"
#include "float_formats.hpp"
#include "matrix.hpp"

namespace quasar {

struct AqasSpec {
  DintSet dint_set = DintSet::A;
  int grid_points = 11;  // a = 0, 1/(n-1), ..., 1
  ScaleDtype weight_scale_dtype = ScaleDtype::fp16;
};

struct AqasResult {
  float alpha = 0.0f;            // the chosen exponent a; NaN when no smoothing won
  std::vector<float> smoothing;  // s_j per input channel (all 1 when no smoothing won)
  double loss = 0.0;             // ||Q_W(W diag(s)) Q_A(diag(s)^-1 X) - W X||^2 on x_calib
};

// Searches s_j = max|X_j|^a / max|W_j|^(1-a) over the grid of a, plus s = 1 (no smoothing)
// as a candidate [choice: so the search never ends worse than plain quantization]. W is
// quantized dint4 per channel (RTN), X per token int8. Channels where max|X_j| or max|W_j|
// is 0 keep s_j = 1, and so do channels whose candidate is not a finite positive fp32 or would
// overflow the smoothed channel in fp32 (subnormal weights: docs/numerics.md row 17).
AqasResult aqas_search(const MatrixF& w, const MatrixF& x_calib, const AqasSpec& spec);

// x[:, j] /= s_j and w[:, j] *= s_j over all rows (apply_channel_smoothing). Throws
// quasar::Error naming the element when a row of x outside the calibration rows overflows.
void apply_aqas_smoothing(MatrixF& x, MatrixF& w, const std::vector<float>& s);

}  // namespace quasar
