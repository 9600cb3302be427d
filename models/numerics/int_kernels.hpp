// Integer building blocks of the reference GEMMs: exact int8 dot products (vectorizable) and
// the fixed-width wrapping versions used when a wrap is possible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "matrix.hpp"

namespace quasar {

// Exact sum of a[k] * b[k] over n int8 pairs.
std::int64_t dot_i8_exact(const std::int8_t* a, const std::int8_t* b, std::size_t n);

// The same sum accumulated in k order into a `bits`-wide wrapping accumulator; `wraps` counts
// the steps whose exact result left the range.
std::int64_t dot_i8_wrapping(const std::int8_t* a, const std::int8_t* b, std::size_t n,
                             int bits, std::uint64_t& wraps);

int max_abs(const MatrixI8& m);

// True when no prefix of any length-n dot product of values bounded by |a| <= amax,
// |b| <= bmax can leave the `bits` range: then the exact kernel equals the wrapping one.
bool dot_cannot_wrap(std::size_t n, int amax, int bmax, int bits);

// acc[m * N + n] = sum_k x[m,k] * w[n,k] in a `bits`-wide wrapping accumulator, k increasing.
struct Int8GemmResult {
  std::vector<std::int64_t> acc;
  std::uint64_t wraps = 0;
};
Int8GemmResult int8_gemm(const MatrixI8& x, const MatrixI8& w, int bits);

}  // namespace quasar
