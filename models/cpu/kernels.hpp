// The fast CPU path's innermost loops, one set per instruction-set level, chosen at run time
// (the build targets plain x86-64; AVX-512 code lives in functions with target attributes and
// runs only where the CPU reports the features).
//
// Tile geometry and packed layouts (int8_tiles.hpp packs them):
//  - activations, kMr rows at a time: A[quad][row][4] as unsigned bytes x + 128, four
//    consecutive k of one row per 32-bit word (the VNNI instruction's unsigned operand);
//  - weights, kNr columns at a time: B[quad][col][4] as signed bytes;
//  - K is cut into segments (a group, or all of K), each padded to whole quads with zeros
//    (x pad 0 -> 128 times a zero weight: adds nothing).
// sum_k (x + 128) * w = sum_k x * w + 128 * sum_k w, so each segment's accumulators start at
// init[col] = -128 * sum_{k in segment} w[col, k]. Every sum is computed modulo 2^32 and the
// true result fits in int32 (the packer refuses segments where it might not), so the int32
// tile is the exact dot product.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace quasar::cpu {

inline constexpr std::size_t kMr = 6;   // activation rows per tile (register blocking)
inline constexpr std::size_t kNr = 64;  // weight columns per tile: four 16-lane int32 vectors

enum class KernelIsa { portable, avx2, avx512_vnni };
std::string_view isa_name(KernelIsa isa);

struct KernelSet {
  KernelIsa isa;
  // c[r * kNr + j] = init[j] + sum_q sum_t a[(q * kMr + r) * 4 + t] * b[(q * kNr + j) * 4 + t]
  // over `quads` quads, modulo 2^32.
  void (*tile)(const std::uint8_t* a, const std::int8_t* b, std::size_t quads,
               const std::int32_t* init, std::int32_t* c);
  // w4a8-fs's group step, element by element in the spec's order (no fused multiply-add):
  // acc[i] = acc[i] + F32(p[i]) * s[i].
  void (*fs_step)(const std::int32_t* p, const float* s, float* acc, std::size_t n);
  // w4a8-is's group step when no wrap is possible: acc[i] += p[i] * S[i], exact in int64.
  void (*is_step)(const std::int32_t* p, const std::int32_t* S, std::int64_t* acc, std::size_t n);
  // The same in int32, for a caller whose bound keeps every product and prefix in int32 (twice
  // the lanes of the int64 step).
  void (*is_step32)(const std::int32_t* p, const std::int32_t* S, std::int32_t* acc, std::size_t n);
  // The integer schemes' epilogue for one tile row, in the reference's order:
  // y[i] = F16(F32(acc[i]) * ((row * col[i]) * post) [+ bias[i]]) (col == nullptr: the scale
  // is row * post; bias may be nullptr). Returns how many outputs became infinite.
  std::uint64_t (*int_out32)(const std::int32_t* acc, float row, const float* col, float post,
                             const float* bias, std::uint16_t* y, std::size_t n);
  std::uint64_t (*int_out64)(const std::int64_t* acc, float row, const float* col, float post,
                             const float* bias, std::uint16_t* y, std::size_t n);
  // w4a8-fs's epilogue: y[i] = F16(acc[i] * row); returns the infinite outputs.
  std::uint64_t (*float_out)(const float* acc, float row, std::uint16_t* y, std::size_t n);
  // max |v[i]| (128 for -128), the operand bound of the no-wrap checks.
  int (*max_abs)(const std::int8_t* v, std::size_t n);
  // Two-level dequantization of one group: out[i] = clamp((q[i] - z) * S, lo, hi); returns
  // how many values were clamped.
  std::uint64_t (*dequant)(const std::uint8_t* q, int z, int S, int lo, int hi, std::int8_t* out,
                           std::size_t n);
  // A 16-entry decode: out[i] = value[code[i]] for codes 0..15; returns how many codes have
  // invalid[code] set.
  std::uint64_t (*decode16)(const std::int8_t* code, const std::int8_t* value,
                            const std::uint8_t* invalid, std::int8_t* out, std::size_t n);
};

// The kernels for `isa`; throws quasar::Error when this CPU cannot run them.
const KernelSet& kernels(KernelIsa isa);
// The fastest set this CPU runs (QUASAR_CPU_ISA=portable|avx2|avx512-vnni picks a lower one).
KernelIsa best_isa();
bool isa_supported(KernelIsa isa);

namespace detail {
// One definition per translation unit (kernels_*.cpp).
const KernelSet& portable_kernels();
const KernelSet& avx2_kernels();
const KernelSet& avx512_vnni_kernels();
}  // namespace detail

}  // namespace quasar::cpu
