// The vector operations of arithmetic spec §7, on fp16 tensors kept as their 16-bit codes
// (MatrixH: one row per token). Every fp32 multiply, add, divide and square root is rounded on its
// own (IEEE, RNE; the build has -ffp-contract=off) in exactly the spec's order:
//   RMSNorm  ms = F32(F32(sum_i F32(x_i * x_i)) / F32(D)) (sum sequential, from 0);
//            r = F32(1 / F32(sqrt(F32(ms + eps)))); y_i = F16(F32(F32(x_i * r) * F32(g_i))).
//   RoPE     rotate-half pairs (i, i + d/2), theta = pos * base^(-2i/d); cos/sin tables are F32 of
//            the double-precision values (RopeTables, generated once and shared as data);
//            y_i = F32(F32(x_i cos) - F32(x_{i+d/2} sin)), y_{i+d/2} = F32(F32(x_{i+d/2} cos) +
//            F32(x_i sin)); stored F16.
//   SiLU     silu(g) = F32(g / F32(1 + exp_q(F32(-g)))); SwiGLU h = F16(F32(silu(g) * u)).
//   Residual F16(F32(a) + F32(b)).
//   Per-token activation quantization: spec §3's quantizer (quantize_per_token), called as is.
// Inputs that are NaN or infinite throw quasar::Error naming the tensor and element.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "counters.hpp"
#include "exp_q.hpp"
#include "float_formats.hpp"
#include "hd.hpp"
#include "matrix.hpp"
#include "operands.hpp"

namespace quasar {

// Actions of the vector unit, beyond counters.hpp's act names (mul.fp32, add.fp32 — a subtract
// is an add —, cvt.fp32->fp16). Shared by attention.
namespace vec_act {
inline constexpr const char* kExpQ = "exp_q";
inline constexpr const char* kDivFp32 = "div.fp32";    // a / b
inline constexpr const char* kRcpFp32 = "rcp.fp32";    // F32(1 / b)
inline constexpr const char* kSqrtFp32 = "sqrt.fp32";  // F32(sqrt(a))
inline constexpr const char* kMaxFp32 = "max.fp32";    // one compare of a running max
// One activation value quantized to int8 (divide by the scale, RNE, clamp); the scale's own
// amax (max.fp32 per value) and division (div.fp32) are counted apart.
inline constexpr const char* kQuantFp32ToInt8 = "quant.fp32->int8";
// One activation value scaled and encoded to a block format's element (spec §5: V / 2^e, exact
// for MX; RNE to E4M3, E2M1 or MXINT8, saturating); NVFP4's divide by d is div.fp32 apart.
inline constexpr const char* kQuantFp32ToBlock = "quant.fp32->block";
// One block's scale from its amax (MX: the E8M0 exponent of amax's bit pattern, no arithmetic
// unit; NVFP4: the E4M3 RNE of F32(F32(amax / 6) / s_t), its two divides counted as div.fp32).
inline constexpr const char* kBlockScale = "scale.block";
}  // namespace vec_act

// ---- Per-element kernels (inline, host/device: every implementation can run this code) ----

// silu(g) = F32(g / F32(1 + exp_q(F32(-g)))), g an fp32 value (F32 of an fp16 input).
QUASAR_HD inline float silu(float g) { return g / (1.0f + exp_q(-g)); }

// h = F16(F32(silu(g) * u)) for fp16 g and u.
QUASAR_HD inline std::uint16_t swiglu(std::uint16_t g, std::uint16_t u) {
  return f32_to_f16(silu(f16_to_f32(g)) * f16_to_f32(u));
}

// [choice] A stand-alone SiLU layer outputs F16(silu(g)).
QUASAR_HD inline std::uint16_t silu_f16(std::uint16_t g) { return f32_to_f16(silu(f16_to_f32(g))); }

// F16(F32(a) + F32(b)).
QUASAR_HD inline std::uint16_t residual_add(std::uint16_t a, std::uint16_t b) {
  return f32_to_f16(f16_to_f32(a) + f16_to_f32(b));
}

// One rotate-half pair: (x_i, x_{i+d/2}) -> (y_i, y_{i+d/2}) in fp32, before the F16 store.
QUASAR_HD inline void rope_pair(float xi, float xj, float c, float s, float& yi, float& yj) {
  yi = xi * c - xj * s;
  yj = xj * c + xi * s;
}

// ---- RMSNorm ----

// One row of D fp16 values x with fp16 gains g into y. eps must be finite and > 0 [choice: with
// eps = 0 an all-zero row would give 0 * inf = NaN].
void rmsnorm_row(const std::uint16_t* x, const std::uint16_t* g, std::size_t D, float eps,
                 std::uint16_t* y, GemmCounters* counters = nullptr);
// Every row of x (M x D) with gains g (D values).
MatrixH rmsnorm(const MatrixH& x, const std::vector<std::uint16_t>& g, float eps,
                GemmCounters* counters = nullptr);

// ---- RoPE ----

// cos/sin of theta = pos * base^(-2i/d) for pos in [0, max_pos), i in [0, d/2): F32 of the
// double-precision values [choice: theta = double(pos) * std::pow(base, -(2.0 * i) / d), then
// std::cos / std::sin in double], row-major max_pos x d/2. The reference generates them once; every
// implementation takes them as data.
struct RopeTables {
  std::size_t max_pos = 0;
  std::size_t d = 0;  // even
  double base = 0;
  std::vector<float> cos, sin;
  float cos_at(std::size_t pos, std::size_t i) const { return cos[pos * (d / 2) + i]; }
  float sin_at(std::size_t pos, std::size_t i) const { return sin[pos * (d / 2) + i]; }
};
// d must be even and >= 2, base finite and > 0, max_pos >= 1; else quasar::Error.
RopeTables make_rope_tables(std::size_t max_pos, std::size_t d, double base);

// One head vector of d fp16 values at position pos (pos < max_pos) into y.
void rope_row(const RopeTables& t, std::size_t pos, const std::uint16_t* x, std::uint16_t* y,
              GemmCounters* counters = nullptr);
// x: P x (heads * d), row j at position positions[j]; each d-wide chunk is one head.
MatrixH rope(const RopeTables& t, const MatrixH& x, const std::vector<std::size_t>& positions,
             GemmCounters* counters = nullptr);

// ---- Element-wise ----

// h = swiglu(gate, up), element by element (same shapes).
MatrixH swiglu(const MatrixH& gate, const MatrixH& up, GemmCounters* counters = nullptr);
// F16(silu(g)) element by element.
MatrixH silu(const MatrixH& g, GemmCounters* counters = nullptr);
// F16(F32(a) + F32(b)) element by element (same shapes).
MatrixH residual_add(const MatrixH& a, const MatrixH& b, GemmCounters* counters = nullptr);

// ---- Activation quantization ----

// Per-token int8 quantization of fp16 activations: F32 of each value, then spec §3's per-token
// quantizer (quantize_per_token: s = F32(amax / 127), 1 for an all-zero row; codes
// clamp(RNE(x / s))). Saturations are counted by that quantizer (stage::kActSaturate).
QuantizedActivations quantize_tokens(const MatrixH& x, GemmCounters* counters = nullptr);

}  // namespace quasar
