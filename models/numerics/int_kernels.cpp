#include "int_kernels.hpp"

#include <algorithm>
#include <cstdlib>

#include "int_formats.hpp"

namespace quasar {
namespace {
// Weight rows processed together so they stay in cache while every activation row passes.
constexpr std::size_t kRowBlock = 32;
}  // namespace

std::int64_t dot_i8_wrapping(const std::int8_t* a, const std::int8_t* b, std::size_t n, int bits,
                             std::uint64_t& wraps) {
  WrappingAccumulator acc(bits);
  for (std::size_t k = 0; k < n; ++k) acc.add(static_cast<int>(a[k]) * static_cast<int>(b[k]));
  wraps += acc.wraps();
  return acc.value();
}

int max_abs(const MatrixI8& m) {
  int a = 0;
  for (std::int8_t v : m.values()) a = std::max(a, std::abs(static_cast<int>(v)));
  return a;
}

bool dot_cannot_wrap(std::size_t n, int amax, int bmax, int bits) {
  const int128_t bound = static_cast<int128_t>(n) * amax * bmax;
  return fits_signed(bound, bits) && fits_signed(-bound, bits);
}

Int8GemmResult int8_gemm(const MatrixI8& x, const MatrixI8& w, int bits) {
  const std::size_t M = x.rows(), N = w.rows(), K = x.cols();
  Int8GemmResult r;
  r.acc.assign(M * N, 0);
  const bool exact = dot_cannot_wrap(K, max_abs(x), max_abs(w), bits);
  for (std::size_t n0 = 0; n0 < N; n0 += kRowBlock) {
    const std::size_t n1 = std::min(N, n0 + kRowBlock);
    for (std::size_t m = 0; m < M; ++m) {
      for (std::size_t n = n0; n < n1; ++n) {
        r.acc[m * N + n] = exact ? dot_i8_exact(x.row(m), w.row(n), K)
                                 : dot_i8_wrapping(x.row(m), w.row(n), K, bits, r.wraps);
      }
    }
  }
  return r;
}

}  // namespace quasar
