// Plain C++ bodies of the KernelSet functions (kernels.hpp). Each kernels_*.cpp wraps them in
// functions compiled for its instruction set, and the compiler vectorizes them for it; the
// AVX-512 set replaces the tile loop with VNNI intrinsics. Private to models/cpu.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels.hpp"
#include "numerics/float_formats.hpp"

#define QUASAR_CPU_INLINE inline __attribute__((always_inline))

namespace quasar::cpu::body {

QUASAR_CPU_INLINE void tile(const std::uint8_t* a, const std::int8_t* b, std::size_t quads,
                            const std::int32_t* init, std::int32_t* c) {
  // Unsigned accumulators: the biased sums wrap modulo 2^32 by design (kernels.hpp), which
  // signed int32 arithmetic would make undefined.
  std::uint32_t acc[kMr][kNr];
  for (std::size_t r = 0; r < kMr; ++r)
    for (std::size_t j = 0; j < kNr; ++j) acc[r][j] = static_cast<std::uint32_t>(init[j]);
  for (std::size_t q = 0; q < quads; ++q) {
    // De-interleave the quad's weights once (four contiguous rows of kNr), so the row loop
    // below runs over contiguous columns and vectorizes.
    std::int16_t bt[4][kNr];
    const std::int8_t* bq = b + q * kNr * 4;
    for (std::size_t j = 0; j < kNr; ++j)
      for (std::size_t t = 0; t < 4; ++t) bt[t][j] = bq[j * 4 + t];
    const std::uint8_t* aq = a + q * kMr * 4;
    for (std::size_t r = 0; r < kMr; ++r) {
      const std::int16_t a0 = aq[r * 4], a1 = aq[r * 4 + 1], a2 = aq[r * 4 + 2], a3 = aq[r * 4 + 3];
      for (std::size_t j = 0; j < kNr; ++j) {
        // |(x + 128) * w| <= 255 * 128: four of them fit int32 exactly.
        const std::int32_t s = a0 * bt[0][j] + a1 * bt[1][j] + a2 * bt[2][j] + a3 * bt[3][j];
        acc[r][j] += static_cast<std::uint32_t>(s);
      }
    }
  }
  for (std::size_t r = 0; r < kMr; ++r)
    for (std::size_t j = 0; j < kNr; ++j) c[r * kNr + j] = static_cast<std::int32_t>(acc[r][j]);
}

QUASAR_CPU_INLINE void fs_step(const std::int32_t* p, const float* s, float* acc, std::size_t n) {
  // Two roundings, as the spec writes: the build has -ffp-contract=off, so no FMA.
  for (std::size_t i = 0; i < n; ++i) acc[i] = acc[i] + static_cast<float>(p[i]) * s[i];
}

QUASAR_CPU_INLINE void is_step(const std::int32_t* p, const std::int32_t* S, std::int64_t* acc,
                               std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += static_cast<std::int64_t>(p[i]) * S[i];
}

QUASAR_CPU_INLINE void is_step32(const std::int32_t* p, const std::int32_t* S, std::int32_t* acc,
                                 std::size_t n) {
  // Modulo 2^32 (unsigned): equal to the exact sum under the caller's bound, and never
  // undefined behaviour.
  for (std::size_t i = 0; i < n; ++i) {
    acc[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc[i]) +
                                       static_cast<std::uint32_t>(p[i]) *
                                           static_cast<std::uint32_t>(S[i]));
  }
}

template <class Acc>
QUASAR_CPU_INLINE std::uint64_t int_out(const Acc* acc, float row, const float* col, float post,
                                        const float* bias, std::uint16_t* y, std::size_t n) {
  std::uint64_t inf = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // The scale product first, then the optional factor (dint's 0.5; 1 is exact otherwise).
    const float s = (col ? row * col[i] : row) * post;
    float v = static_cast<float>(acc[i]) * s;
    if (bias) v = v + bias[i];
    const std::uint16_t h = f32_to_f16(v);
    inf += f16_is_inf(h) ? 1 : 0;
    y[i] = h;
  }
  return inf;
}

QUASAR_CPU_INLINE std::uint64_t float_out(const float* acc, float row, std::uint16_t* y,
                                          std::size_t n) {
  std::uint64_t inf = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t h = f32_to_f16(acc[i] * row);
    inf += f16_is_inf(h) ? 1 : 0;
    y[i] = h;
  }
  return inf;
}

QUASAR_CPU_INLINE int max_abs(const std::int8_t* v, std::size_t n) {
  // In unsigned bytes |-128| = 128 fits, and the loop vectorizes (absolute value, max).
  std::uint8_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto a = static_cast<std::uint8_t>(v[i] < 0 ? -v[i] : v[i]);
    m = a > m ? a : m;
  }
  return m;
}

QUASAR_CPU_INLINE std::uint64_t dequant(const std::uint8_t* q, int z, int S, int lo, int hi,
                                        std::int8_t* out, std::size_t n) {
  std::uint64_t clamped = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int v = (static_cast<int>(q[i]) - z) * S;
    clamped += static_cast<std::uint64_t>((v < lo) | (v > hi));
    out[i] = static_cast<std::int8_t>(v < lo ? lo : v > hi ? hi : v);
  }
  return clamped;
}

QUASAR_CPU_INLINE std::uint64_t decode16(const std::int8_t* code, const std::int8_t* value,
                                         const std::uint8_t* invalid, std::int8_t* out,
                                         std::size_t n) {
  std::uint64_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<std::uint8_t>(code[i]);
    out[i] = value[c];
    bad += invalid[c];
  }
  return bad;
}

}  // namespace quasar::cpu::body
