// Activation quantizers (spec section 3): int8, symmetric, per-token dynamic or per-tensor
// static. The scale is fp32 [choice: the spec writes F32(s_x) and fixes no storage type].
#pragma once

#include "counters.hpp"
#include "matrix.hpp"
#include "operands.hpp"

namespace quasar {

enum class ActQuantMode { per_token, per_tensor };

// s_m = max|x_m| / 127 in fp32; q = clamp(RNE(x / s_m), -128, 127) with an fp32 division.
// An all-zero row gets s = 1 [choice] so that no scale is ever zero.
QuantizedActivations quantize_per_token(const MatrixF& x, GemmCounters* counters = nullptr);

// Static per-tensor quantization with a calibrated amax; values beyond amax saturate and
// each saturation is counted under stage::kActSaturate.
QuantizedActivations quantize_per_tensor(const MatrixF& x, float amax,
                                         GemmCounters* counters = nullptr);

// max |x| over the tensor: the calibration of a per-tensor static scale.
float calibrate_amax(const MatrixF& x);

// Per token, or per tensor calibrated on x itself.
QuantizedActivations quantize_activations(const MatrixF& x, ActQuantMode mode,
                                          GemmCounters* counters = nullptr);

// Throws quasar::Error naming `tensor` when any value is NaN or infinite.
void require_finite(const MatrixF& m, const char* tensor);

}  // namespace quasar
