// Integer building blocks of the reference GEMMs: exact int8 dot products (vectorizable) and
// the fixed-width wrapping versions used when a wrap is possible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "matrix.hpp"

namespace quasar {

// Exact sum of a[k] * b[k] over n int8 pairs. Inline: the group-scale schemes call it once
// per 128-element group, where a call per group costs as much as the work.
inline std::int64_t dot_i8_exact(const std::int8_t* a, const std::int8_t* b, std::size_t n) {
  // 2^16 products of magnitude <= 2^14 stay below 2^31: an int32 partial never overflows.
  constexpr std::size_t kChunk = std::size_t{1} << 16;
  std::int64_t total = 0;
  for (std::size_t k0 = 0; k0 < n; k0 += kChunk) {
    const std::size_t k1 = n - k0 < kChunk ? n : k0 + kChunk;
    std::int32_t s = 0;
    for (std::size_t k = k0; k < k1; ++k) {
      s += static_cast<std::int32_t>(a[k]) * static_cast<std::int32_t>(b[k]);
    }
    total += s;
  }
  return total;
}

// The same sum accumulated in k order into a `bits`-wide wrapping accumulator; `wraps` counts
// the steps whose exact result left the range.
std::int64_t dot_i8_wrapping(const std::int8_t* a, const std::int8_t* b, std::size_t n, int bits,
                             std::uint64_t& wraps);

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
