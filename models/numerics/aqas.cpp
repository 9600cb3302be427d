#include "aqas.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include "error.hpp"
#include "quantize_activations.hpp"
#include "quantize_two_level.hpp"
#include "quantize_weights.hpp"

namespace quasar {
namespace {

std::vector<float> column_amax(const MatrixF& m) {
  std::vector<float> a(m.cols(), 0.0f);
  for (std::size_t r = 0; r < m.rows(); ++r) {
    for (std::size_t c = 0; c < m.cols(); ++c) a[c] = std::max(a[c], std::fabs(m(r, c)));
  }
  return a;
}

// Squared error of the dequantized smoothed product against the float product.
double smoothed_loss(const MatrixF& w, const MatrixF& x, const std::vector<float>& s,
                     const std::vector<double>& ref, const AqasSpec& spec) {
  MatrixF ws = w, xs = x;
  for (std::size_t n = 0; n < ws.rows(); ++n) {
    for (std::size_t j = 0; j < s.size(); ++j) ws(n, j) *= s[j];
  }
  for (std::size_t m = 0; m < xs.rows(); ++m) {
    for (std::size_t j = 0; j < s.size(); ++j) xs(m, j) /= s[j];
  }
  WeightQuantSpec wspec;
  wspec.format = WeightFormat::dint4;
  wspec.dint_set = spec.dint_set;
  wspec.granularity = Granularity::per_channel;
  wspec.scale_dtype = spec.weight_scale_dtype;
  const MatrixF wq = dequantize_weights(quantize_weights_rtn(ws, wspec));
  const QuantizedActivations xq = quantize_per_token(xs);
  double loss = 0.0;
  for (std::size_t m = 0; m < x.rows(); ++m) {
    for (std::size_t n = 0; n < w.rows(); ++n) {
      double acc = 0.0;
      for (std::size_t k = 0; k < x.cols(); ++k) {
        acc += static_cast<double>(xq.q(m, k)) * xq.scale_of(m) * static_cast<double>(wq(n, k));
      }
      const double d = acc - ref[m * w.rows() + n];
      loss += d * d;
    }
  }
  return loss;
}

// %g, so that a tiny factor reads as 1.2e-40 rather than std::to_string's 0.000000.
std::string number(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

// One channel's candidate factor s_j = max|X_j|^a / max|W_j|^(1-a), or 1 where the candidate
// cannot be used [choice: docs/numerics.md row 17]. Channels whose max is 0 keep 1 (the spec's
// form has no value there). So does a candidate that is not a finite, positive fp32, or that
// would make the smoothed channel max|W_j|·s_j or max|X_j|/s_j overflow fp32: with subnormal
// weights (max|W_j| = 1e-42) the a = 0 candidate 1/max|W_j| = 1e42 is beyond fp32, and
// smoothing by it would turn finite weights into inf. The checks use the same fp32 operations
// as the smoothing (apply_channel_smoothing), whose results are monotone in |w| and |x|, so no
// element of the channel can overflow when its max does not.
float channel_factor(float ax, float aw, double a) {
  if (!(ax > 0.0f) || !(aw > 0.0f)) return 1.0f;
  const double v =
      std::pow(static_cast<double>(ax), a) / std::pow(static_cast<double>(aw), 1.0 - a);
  // Compared in double first: converting a double beyond the fp32 range is undefined behaviour.
  if (!(v > 0.0) || !(v <= static_cast<double>(std::numeric_limits<float>::max()))) return 1.0f;
  const float s = static_cast<float>(v);
  if (!(s > 0.0f) || !std::isfinite(aw * s) || !std::isfinite(ax / s)) return 1.0f;
  return s;
}

}  // namespace

AqasResult aqas_search(const MatrixF& w, const MatrixF& x_calib, const AqasSpec& spec) {
  require_finite(w, "w");
  require_finite(x_calib, "x");
  if (x_calib.cols() != w.cols()) {
    throw Error("AQAS: activations have K = " + std::to_string(x_calib.cols()) +
                " but weights have K = " + std::to_string(w.cols()));
  }
  if (spec.grid_points < 2) throw Error("AQAS grid needs at least 2 points");
  const std::size_t K = w.cols();
  std::vector<double> ref(x_calib.rows() * w.rows());
  for (std::size_t m = 0; m < x_calib.rows(); ++m) {
    for (std::size_t n = 0; n < w.rows(); ++n) {
      double acc = 0.0;
      for (std::size_t k = 0; k < K; ++k) {
        acc += static_cast<double>(x_calib(m, k)) * static_cast<double>(w(n, k));
      }
      ref[m * w.rows() + n] = acc;
    }
  }
  const std::vector<float> ax = column_amax(x_calib), aw = column_amax(w);

  AqasResult best;
  best.alpha = NAN;
  best.smoothing.assign(K, 1.0f);
  best.loss = smoothed_loss(w, x_calib, best.smoothing, ref, spec);
  for (int i = 0; i < spec.grid_points; ++i) {
    const double a = static_cast<double>(i) / (spec.grid_points - 1);
    std::vector<float> s(K, 1.0f);
    for (std::size_t j = 0; j < K; ++j) s[j] = channel_factor(ax[j], aw[j], a);
    const double loss = smoothed_loss(w, x_calib, s, ref, spec);
    if (loss < best.loss) {
      best.loss = loss;
      best.alpha = static_cast<float>(a);
      best.smoothing = s;
    }
  }
  return best;
}

void apply_aqas_smoothing(MatrixF& x, MatrixF& w, const std::vector<float>& s) {
  apply_channel_smoothing(x, w, s);
  // The factors keep the calibration rows finite (channel_factor); a later row of x far larger
  // than those can still overflow when divided by a tiny s_j. Say so, rather than letting the
  // quantizer report an "infinite" element of an input that was finite.
  for (std::size_t m = 0; m < x.rows(); ++m) {
    for (std::size_t j = 0; j < x.cols(); ++j) {
      if (!std::isfinite(x(m, j))) {
        throw Error("AQAS: x[" + std::to_string(m) + ", " + std::to_string(j) +
                    "] overflows fp32 when divided by the smoothing factor s_" + std::to_string(j) +
                    " = " + number(s[j]) +
                    " chosen on the calibration rows; calibrate on rows that include it or turn "
                    "AQAS off");
      }
    }
  }
  for (std::size_t n = 0; n < w.rows(); ++n) {
    for (std::size_t j = 0; j < w.cols(); ++j) {
      if (!std::isfinite(w(n, j))) {
        throw Error("AQAS: w[" + std::to_string(n) + ", " + std::to_string(j) +
                    "] overflows fp32 when multiplied by the smoothing factor s_" +
                    std::to_string(j) + " = " + number(s[j]) + "; turn AQAS off");
      }
    }
  }
}

}  // namespace quasar
