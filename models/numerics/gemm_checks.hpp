// Operand validation shared by the reference GEMMs: every message names the tensor, the
// problem and what is accepted.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "action_counts.hpp"
#include "counters.hpp"
#include "float_formats.hpp"
#include "gemm.hpp"
#include "matrix.hpp"
#include "operands.hpp"

namespace quasar::detail {

void check_acc_bits(int bits, const char* what);
void check_fp16_matrix(const MatrixH& m, const char* tensor);  // no NaN/inf codes
void check_activations(const QuantizedActivations& x, const char* tensor);
void check_same_k(std::size_t x_k, std::size_t w_k, const char* x_name, const char* w_name);
// Codes in range for the format, scales finite and > 0, zeros in range, group divides K.
// expect_format: the scheme's required format (the spec fixes one per scheme).
void check_weights(const QuantizedWeights& w, WeightFormat expect_format, const char* scheme);
void check_two_level(const TwoLevelWeights& w, int max_group_scale, const char* scheme);

// F16 of the epilogue's fp32 value. Inputs are validated finite, so an infinite output came
// from an overflow, in the fp32 epilogue or in the final fp16 conversion: one event either way.
inline std::uint16_t to_output_f16(float v, std::uint64_t& overflows) {
  const std::uint16_t h = f32_to_f16(v);
  if (f16_is_inf(h)) ++overflows;
  return h;
}
// Everything a scheme's GEMM checks before computing, one function per scheme, shared by every
// engine (CPU reference, CUDA path) so that all reject the same inputs with the same words.
void validate_fp16(const MatrixH& x, const MatrixH& w);
void validate_w4a16(const MatrixH& x, const QuantizedWeights& w);
void validate_w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                   const GemmOptions& opt);
void validate_w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                        const GemmOptions& opt);
// w4a8-fs and w4a8-is: int4 symmetric group weights.
void validate_w4a8_group(const QuantizedActivations& x, const QuantizedWeights& w,
                         const GemmOptions& opt, const char* scheme);
// w4a8-is's integer scales; returns the largest one (it sets the multiplier width).
std::int64_t validate_int_scales(const QuantizedWeights& w, const IntegerScales& s);
// w4a8-dgq (group scales 1..127, bias allowed) and w4a8-qserve (1..255, no bias).
void validate_two_level_gemm(const QuantizedActivations& x, const TwoLevelWeights& w,
                             const GemmOptions& opt, Scheme scheme);

// Adds the scheme's actions (action_counts.hpp) and the output overflow events.
void finish_output(GemmCounters& c, Scheme s, const ActionShape& shape,
                   std::uint64_t inf_overflows);

}  // namespace quasar::detail
