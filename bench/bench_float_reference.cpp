// float_reference (models/numerics/error_metrics.cpp) against the one-output-at-a-time fp64 loop
// it replaced, in the same run, after checking that both give the same bits. Plain C++.
//   ./build/release/bench/bench_float_reference
#include <chrono>
#include <cstdio>
#include <cstring>

#include "numerics/error_metrics.hpp"
#include "numerics/synthetic.hpp"

using namespace quasar;

namespace {

MatrixF one_at_a_time(const MatrixF& x, const MatrixF& w) {
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

}  // namespace

int main() {
  Rng rng(1);
  MatrixF x(128, 4096), w(1024, 4096);  // 128 x 1024 x 4096
  for (auto& v : x.values()) v = static_cast<float>(rng.normal());
  for (auto& v : w.values()) v = static_cast<float>(rng.normal());
  const auto t0 = std::chrono::steady_clock::now();
  const MatrixF a = one_at_a_time(x, w);
  const auto t1 = std::chrono::steady_clock::now();
  const MatrixF b = float_reference(x, w);
  const auto t2 = std::chrono::steady_clock::now();
  const double s1 = std::chrono::duration<double>(t1 - t0).count();
  const double s2 = std::chrono::duration<double>(t2 - t1).count();
  const bool same = std::memcmp(a.values().data(), b.values().data(), a.size() * sizeof(float)) == 0;
  std::printf("128 x 1024 x 4096: one output at a time %.3f s, float_reference %.3f s, %.2fx; "
              "same bits: %s\n",
              s1, s2, s1 / s2, same ? "yes" : "NO");
  return same ? 0 : 1;
}
