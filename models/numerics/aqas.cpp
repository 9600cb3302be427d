#include "aqas.hpp"

#include <algorithm>
#include <cmath>

#include "error.hpp"
#include "quantize_activations.hpp"
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
    for (std::size_t j = 0; j < K; ++j) {
      if (ax[j] > 0.0f && aw[j] > 0.0f) {
        const double v =
            std::pow(static_cast<double>(ax[j]), a) / std::pow(static_cast<double>(aw[j]), 1.0 - a);
        if (std::isfinite(v) && v > 0.0) s[j] = static_cast<float>(v);
      }
    }
    const double loss = smoothed_loss(w, x_calib, s, ref, spec);
    if (loss < best.loss) {
      best.loss = loss;
      best.alpha = static_cast<float>(a);
      best.smoothing = s;
    }
  }
  return best;
}

}  // namespace quasar
