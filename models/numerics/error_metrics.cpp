#include "error_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "error.hpp"
#include "float_formats.hpp"

namespace quasar {

MatrixF float_reference(const MatrixF& x, const MatrixF& w, const ForEachIndex& for_each) {
  if (x.cols() != w.cols()) {
    throw Error("reference product: x has K = " + std::to_string(x.cols()) +
                ", w has K = " + std::to_string(w.cols()));
  }
  // Each output is one fp64 sum in k order (the definition above). A single running sum is
  // bound by the add's latency, so kLanes outputs (kLanes rows of w, packed k-major) are summed
  // side by side: independent chains the compiler can put in vector registers, each still
  // added in k order, so every output has the same bits as the one-at-a-time loop. A block of
  // kLanes columns is the unit `for_each` may run on its own thread (it writes only them).
  constexpr std::size_t kLanes = 8;
  const std::size_t M = x.rows(), N = w.rows(), K = x.cols();
  MatrixF ref(M, N);
  const auto block = [&](std::size_t b) {
    const std::size_t n0 = b * kLanes;
    const std::size_t lanes = std::min(kLanes, N - n0);
    std::vector<double> panel(K * kLanes);
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t j = 0; j < kLanes; ++j)
        panel[k * kLanes + j] = j < lanes ? static_cast<double>(w(n0 + j, k)) : 0.0;
    for (std::size_t m = 0; m < M; ++m) {
      double acc[kLanes] = {};
      const float* a = x.row(m);
      for (std::size_t k = 0; k < K; ++k) {
        const double ak = static_cast<double>(a[k]);
        const double* p = &panel[k * kLanes];
        for (std::size_t j = 0; j < kLanes; ++j) acc[j] += ak * p[j];
      }
      for (std::size_t j = 0; j < lanes; ++j) ref(m, n0 + j) = static_cast<float>(acc[j]);
    }
  };
  const std::size_t blocks = (N + kLanes - 1) / kLanes;
  if (for_each) {
    for_each(blocks, block);
  } else {
    for (std::size_t b = 0; b < blocks; ++b) block(b);
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
