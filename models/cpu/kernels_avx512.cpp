// The AVX-512 VNNI kernel set. VPDPBUSD adds four unsigned-by-signed byte products into each
// int32 lane, wrapping (not the saturating VPDPBUSDS): with activations biased to unsigned
// (kernels.hpp) the int32 tile is the exact signed dot product. Every function carries its
// own target attribute; kernels() calls them only on a CPU that reports the features.
#include <immintrin.h>

#include <cstring>

#include "kernel_body.hpp"

// GCC 12 reports the intrinsics' deliberately undefined pass-through operand
// (_mm512_undefined_*) as maybe-uninitialized once they are inlined here: a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#define QUASAR_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))

namespace quasar::cpu::detail {
namespace {

constexpr std::size_t kNv = kNr / 16;  // 16-lane int32 vectors per tile row

QUASAR_AVX512 void tile(const std::uint8_t* a, const std::int8_t* b, std::size_t quads,
                        const std::int32_t* init, std::int32_t* c) {
  // kMr x kNv accumulators (24 of the 32 zmm registers), kNv weight vectors, one broadcast.
  __m512i acc[kMr][kNv];
  for (std::size_t v = 0; v < kNv; ++v) {
    const __m512i i = _mm512_loadu_si512(init + 16 * v);
#pragma GCC unroll 8
    for (std::size_t r = 0; r < kMr; ++r) acc[r][v] = i;
  }
  for (std::size_t q = 0; q < quads; ++q) {
    const std::int8_t* bq = b + q * kNr * 4;
    __m512i bv[kNv];
#pragma GCC unroll 4
    for (std::size_t v = 0; v < kNv; ++v) bv[v] = _mm512_loadu_si512(bq + 64 * v);
    const std::uint8_t* aq = a + q * kMr * 4;
#pragma GCC unroll 8
    for (std::size_t r = 0; r < kMr; ++r) {
      std::int32_t word;
      std::memcpy(&word, aq + 4 * r, 4);
      const __m512i av = _mm512_set1_epi32(word);
#pragma GCC unroll 4
      for (std::size_t v = 0; v < kNv; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], av, bv[v]);
    }
  }
#pragma GCC unroll 8
  for (std::size_t r = 0; r < kMr; ++r)
#pragma GCC unroll 4
    for (std::size_t v = 0; v < kNv; ++v) _mm512_storeu_si512(c + r * kNr + 16 * v, acc[r][v]);
}

QUASAR_AVX512 void fs_step(const std::int32_t* p, const float* s, float* acc, std::size_t n) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // int32 -> fp32 rounds to nearest even (MXCSR default), like static_cast<float>; then a
    // separate multiply and add, as the spec orders them.
    const __m512 f = _mm512_cvtepi32_ps(_mm512_loadu_si512(p + i));
    const __m512 t = _mm512_mul_ps(f, _mm512_loadu_ps(s + i));
    _mm512_storeu_ps(acc + i, _mm512_add_ps(_mm512_loadu_ps(acc + i), t));
  }
  body::fs_step(p + i, s + i, acc + i, n - i);
}

QUASAR_AVX512 void is_step(const std::int32_t* p, const std::int32_t* S, std::int64_t* acc,
                           std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    // Sign-extended to 64 bits, VPMULDQ's signed 32 x 32 -> 64 product is exact.
    const __m512i pv = _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    const __m512i sv = _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(S + i)));
    const __m512i a = _mm512_loadu_si512(acc + i);
    _mm512_storeu_si512(acc + i, _mm512_add_epi64(a, _mm512_mul_epi32(pv, sv)));
  }
  body::is_step(p + i, S + i, acc + i, n - i);
}

}  // namespace

const KernelSet& avx512_vnni_kernels() {
  static const KernelSet k{KernelIsa::avx512_vnni, tile, fs_step, is_step};
  return k;
}

}  // namespace quasar::cpu::detail
