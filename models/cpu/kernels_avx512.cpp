// The AVX-512 VNNI kernel set. VPDPBUSD adds four unsigned-by-signed byte products into each
// int32 lane, wrapping (not the saturating VPDPBUSDS): with activations biased to unsigned
// (kernels.hpp) the int32 tile is the exact signed dot product. Every function carries its
// own target attribute; kernels() calls them only on a CPU that reports the features.
#include <immintrin.h>

#include <cstring>

#include "kernel_body.hpp"

// GCC 12 reports the intrinsics' deliberately undefined pass-through operand
// (_mm512_undefined_*) as (maybe-)uninitialized once they are inlined here: a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#define QUASAR_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,f16c")))

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
    const __m512i pv =
        _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i)));
    const __m512i sv =
        _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(S + i)));
    const __m512i a = _mm512_loadu_si512(acc + i);
    _mm512_storeu_si512(acc + i, _mm512_add_epi64(a, _mm512_mul_epi32(pv, sv)));
  }
  body::is_step(p + i, S + i, acc + i, n - i);
}

// F16 of 16 fp32 values with VCVTPS2PH, round to nearest even: IEEE binary32 -> binary16 with
// gradual underflow and overflow to infinity, the same value as f32_to_f16 for every
// non-NaN input (test_fast_cpu_engine checks the kernels against it over the fp32 range; the
// epilogues never see NaN: their inputs are finite). Stores the codes and returns how many
// are infinite.
QUASAR_AVX512 inline std::uint64_t store_f16(__m512 v, std::uint16_t* y) {
  const __m256i h = _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(y), h);
  const __mmask16 inf = _mm256_cmpeq_epi16_mask(_mm256_and_si256(h, _mm256_set1_epi16(0x7fff)),
                                                _mm256_set1_epi16(0x7c00));
  return static_cast<std::uint64_t>(__builtin_popcount(inf));
}

// (row * col[i]) * post, then F32(acc) times it, then + bias, each rounded: the reference's order.
QUASAR_AVX512 inline __m512 scaled(__m512 acc, __m512 row, const float* col, __m512 post,
                                   const float* bias) {
  const __m512 s = _mm512_mul_ps(col ? _mm512_mul_ps(row, _mm512_loadu_ps(col)) : row, post);
  const __m512 v = _mm512_mul_ps(acc, s);
  return bias ? _mm512_add_ps(v, _mm512_loadu_ps(bias)) : v;
}

QUASAR_AVX512 std::uint64_t int_out32(const std::int32_t* acc, float row, const float* col,
                                      float post, const float* bias, std::uint16_t* y,
                                      std::size_t n) {
  const __m512 rv = _mm512_set1_ps(row), pv = _mm512_set1_ps(post);
  std::uint64_t inf = 0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 a = _mm512_cvtepi32_ps(_mm512_loadu_si512(acc + i));
    inf += store_f16(scaled(a, rv, col ? col + i : nullptr, pv, bias ? bias + i : nullptr), y + i);
  }
  return inf + body::int_out(acc + i, row, col ? col + i : nullptr, post, bias ? bias + i : nullptr,
                             y + i, n - i);
}

QUASAR_AVX512 std::uint64_t int_out64(const std::int64_t* acc, float row, const float* col,
                                      float post, const float* bias, std::uint16_t* y,
                                      std::size_t n) {
  const __m512 rv = _mm512_set1_ps(row), pv = _mm512_set1_ps(post);
  std::uint64_t inf = 0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    // int64 -> fp32 rounds to nearest even (VCVTQQ2PS), like static_cast<float>.
    const __m256 lo = _mm512_cvtepi64_ps(_mm512_loadu_si512(acc + i));
    const __m256 hi = _mm512_cvtepi64_ps(_mm512_loadu_si512(acc + i + 8));
    const __m512 a = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
    inf += store_f16(scaled(a, rv, col ? col + i : nullptr, pv, bias ? bias + i : nullptr), y + i);
  }
  return inf + body::int_out(acc + i, row, col ? col + i : nullptr, post, bias ? bias + i : nullptr,
                             y + i, n - i);
}

QUASAR_AVX512 std::uint64_t float_out(const float* acc, float row, std::uint16_t* y,
                                      std::size_t n) {
  const __m512 rv = _mm512_set1_ps(row);
  std::uint64_t inf = 0;
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) inf += store_f16(_mm512_mul_ps(_mm512_loadu_ps(acc + i), rv), y + i);
  return inf + body::float_out(acc + i, row, y + i, n - i);
}

QUASAR_AVX512 int max_abs(const std::int8_t* v, std::size_t n) { return body::max_abs(v, n); }

QUASAR_AVX512 std::uint64_t dequant(const std::uint8_t* q, int z, int S, int lo, int hi,
                                    std::int8_t* out, std::size_t n) {
  return body::dequant(q, z, S, lo, hi, out, n);  // the compiler vectorizes it for AVX-512
}

QUASAR_AVX512 std::uint64_t decode16(const std::int8_t* code, const std::int8_t* value,
                                     const std::uint8_t* invalid, std::int8_t* out, std::size_t n) {
  // VPSHUFB looks each code (0..15) up in a 16-byte table repeated in every 128-bit lane.
  const __m512i vt =
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(value)));
  const __m512i it =
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(invalid)));
  std::uint64_t bad = 0;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i c = _mm512_loadu_si512(code + i);
    _mm512_storeu_si512(out + i, _mm512_shuffle_epi8(vt, c));
    bad += static_cast<std::uint64_t>(__builtin_popcountll(
        _mm512_test_epi8_mask(_mm512_shuffle_epi8(it, c), _mm512_set1_epi8(1))));
  }
  return bad + body::decode16(code + i, value, invalid, out + i, n - i);
}

QUASAR_AVX512 void is_step32(const std::int32_t* p, const std::int32_t* S, std::int32_t* acc,
                             std::size_t n) {
  body::is_step32(p, S, acc, n);  // vectorized by the compiler for this set's target
}

}  // namespace

const KernelSet& avx512_vnni_kernels() {
  static const KernelSet k{KernelIsa::avx512_vnni,
                           tile,
                           fs_step,
                           is_step,
                           is_step32,
                           int_out32,
                           int_out64,
                           float_out,
                           max_abs,
                           dequant,
                           decode16};
  return k;
}

}  // namespace quasar::cpu::detail
