// Operand validation shared by the reference GEMMs: every message names the tensor, the
// problem and what is accepted.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "action_counts.hpp"
#include "counters.hpp"
#include "float_formats.hpp"
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
// Adds the scheme's actions (action_counts.hpp) and the output overflow events.
void finish_output(GemmCounters& c, Scheme s, const ActionShape& shape,
                   std::uint64_t inf_overflows);

}  // namespace quasar::detail
