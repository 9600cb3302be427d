// The AVX2 kernel set: intrinsics and the plain bodies compiled for AVX2 (function-level target,
// so the rest of the build stays baseline x86-64). AVX2 has no int8 dot-product instruction
// that is safe here (VPMADDUBSW saturates int16), so the tile widens to int16 and multiplies
// exactly with VPMADDWD.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernel_body.hpp"

namespace quasar::cpu::detail {
namespace {

// VPMADDWD multiplies int16 pairs exactly and adds each pair into an int32 lane: the
// activations (0..255) and weights (-128..127) widened to int16, a 32-bit lane holds two of a
// column's four products per quad, and the two halves are added at the end. Eight columns
// (two vectors of four columns x two halves) by kMr rows fit the 16 registers, so the tile is
// run in column blocks of eight, with the partial sums kept in memory between blocks.
__attribute__((target("avx2"))) void tile(const std::uint8_t* a, const std::int8_t* b,
                                          std::size_t quads, const std::int32_t* init,
                                          std::int32_t* c) {
  constexpr std::size_t kChunk = 256;  // quads whose widened activations sit in L1
  alignas(32) std::int32_t part[kMr][2 * kNr] = {};
  alignas(32) std::int16_t a16[kChunk * kMr * 4];
  for (std::size_t q0 = 0; q0 < quads; q0 += kChunk) {
    const std::size_t nq = std::min(kChunk, quads - q0);
    const std::uint8_t* ac = a + q0 * kMr * 4;
    for (std::size_t i = 0; i < nq * kMr * 4; ++i) a16[i] = ac[i];
    for (std::size_t cb = 0; cb < kNr / 8; ++cb) {
      __m256i acc[kMr][2];
      for (std::size_t r = 0; r < kMr; ++r) {
        acc[r][0] = _mm256_load_si256(reinterpret_cast<const __m256i*>(part[r] + cb * 16));
        acc[r][1] = _mm256_load_si256(reinterpret_cast<const __m256i*>(part[r] + cb * 16 + 8));
      }
      for (std::size_t q = 0; q < nq; ++q) {
        const std::int8_t* bq = b + ((q0 + q) * kNr + cb * 8) * 4;
        const __m256i b0 =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bq)));
        const __m256i b1 =
            _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bq + 16)));
#pragma GCC unroll 8
        for (std::size_t r = 0; r < kMr; ++r) {
          long long four;  // the row's four widened activations, repeated in every 64 bits
          std::memcpy(&four, a16 + (q * kMr + r) * 4, 8);
          const __m256i av = _mm256_set1_epi64x(four);
          acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(b0, av));
          acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(b1, av));
        }
      }
      for (std::size_t r = 0; r < kMr; ++r) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(part[r] + cb * 16), acc[r][0]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(part[r] + cb * 16 + 8), acc[r][1]);
      }
    }
  }
  // Modulo 2^32, as the other kernel sets (kernels.hpp): unsigned adds.
  for (std::size_t r = 0; r < kMr; ++r) {
    for (std::size_t j = 0; j < kNr; ++j) {
      c[r * kNr + j] = static_cast<std::int32_t>(static_cast<std::uint32_t>(init[j]) +
                                                 static_cast<std::uint32_t>(part[r][2 * j]) +
                                                 static_cast<std::uint32_t>(part[r][2 * j + 1]));
    }
  }
}
__attribute__((target("avx2"))) void fs_step(const std::int32_t* p, const float* s, float* acc,
                                             std::size_t n) {
  body::fs_step(p, s, acc, n);
}
__attribute__((target("avx2"))) void is_step(const std::int32_t* p, const std::int32_t* S,
                                             std::int64_t* acc, std::size_t n) {
  body::is_step(p, S, acc, n);
}

__attribute__((target("avx2"))) std::uint64_t int_out32(const std::int32_t* acc, float row,
                                                        const float* col, float post,
                                                        const float* bias, std::uint16_t* y,
                                                        std::size_t n) {
  return body::int_out(acc, row, col, post, bias, y, n);
}
__attribute__((target("avx2"))) std::uint64_t int_out64(const std::int64_t* acc, float row,
                                                        const float* col, float post,
                                                        const float* bias, std::uint16_t* y,
                                                        std::size_t n) {
  return body::int_out(acc, row, col, post, bias, y, n);
}
__attribute__((target("avx2"))) std::uint64_t float_out(const float* acc, float row,
                                                        std::uint16_t* y, std::size_t n) {
  return body::float_out(acc, row, y, n);
}

__attribute__((target("avx2"))) int max_abs(const std::int8_t* v, std::size_t n) {
  return body::max_abs(v, n);
}

__attribute__((target("avx2"))) std::uint64_t dequant(const std::uint8_t* q, int z, int S, int lo,
                                                      int hi, std::int8_t* out, std::size_t n) {
  return body::dequant(q, z, S, lo, hi, out, n);
}
__attribute__((target("avx2"))) std::uint64_t decode16(const std::int8_t* code,
                                                       const std::int8_t* value,
                                                       const std::uint8_t* invalid,
                                                       std::int8_t* out, std::size_t n) {
  return body::decode16(code, value, invalid, out, n);
}

__attribute__((target("avx2"))) void is_step32(const std::int32_t* p, const std::int32_t* S,
                                               std::int32_t* acc, std::size_t n) {
  body::is_step32(p, S, acc, n);  // vectorized by the compiler for this set's target
}

}  // namespace

const KernelSet& avx2_kernels() {
  static const KernelSet k{KernelIsa::avx2, tile,      fs_step, is_step, is_step32, int_out32,
                           int_out64,       float_out, max_abs, dequant, decode16};
  return k;
}

}  // namespace quasar::cpu::detail
