#include "error_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "error.hpp"
#include "float_formats.hpp"

namespace quasar {

MatrixF float_reference(const MatrixF& x, const MatrixF& w) {
  if (x.cols() != w.cols()) {
    throw Error("reference product: x has K = " + std::to_string(x.cols()) +
                ", w has K = " + std::to_string(w.cols()));
  }
  MatrixF ref(x.rows(), w.rows());
  for (std::size_t m = 0; m < x.rows(); ++m) {
    for (std::size_t n = 0; n < w.rows(); ++n) {
      double acc = 0.0;
      const float* a = x.row(m);
      const float* b = w.row(n);
      for (std::size_t k = 0; k < x.cols(); ++k) {
        acc += static_cast<double>(a[k]) * static_cast<double>(b[k]);
      }
      ref(m, n) = static_cast<float>(acc);
    }
  }
  return ref;
}

ErrorReport compare_to_reference(const MatrixH& y, const MatrixF& ref) {
  if (y.rows() != ref.rows() || y.cols() != ref.cols()) {
    throw Error("error report: output and reference shapes differ");
  }
  double signal = 0.0, noise = 0.0, max_abs = 0.0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double r = ref.values()[i];
    const double v = f16_to_f32(y.values()[i]);
    const double e = std::isfinite(v) ? std::fabs(v - r) : std::numeric_limits<double>::infinity();
    max_abs = std::max(max_abs, e);
    noise += e * e;
    signal += r * r;
  }
  ErrorReport rep;
  rep.max_abs = max_abs;
  rep.mse = y.size() ? noise / static_cast<double>(y.size()) : 0.0;
  rep.sqnr_db =
      noise == 0.0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(signal / noise);
  return rep;
}

}  // namespace quasar
