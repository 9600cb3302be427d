// From float operands to a scheme's quantized operands, its reference GEMM and its error:
// the whole "what would this scheme compute for this layer" question in one call.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "engine.hpp"
#include "error_metrics.hpp"
#include "gemm.hpp"
#include "quantize_activations.hpp"
#include "quantize_weights.hpp"
#include "scheme.hpp"

namespace quasar {

struct SchemeConfig {
  std::size_t group_size = 128;
  ActQuantMode act_mode = ActQuantMode::per_token;
  GemmOptions gemm;        // accumulator widths, fp16 accumulation order
  IntScaleSpec int_scale;  // w4a8-is: fixed alpha = 2^10 or per-layer heuristic
  DintSet dint_set = DintSet::A;
  bool dint_aqas = true;  // w4a8-dint: AQAS smoothing before quantization
  DequantMode dgq_dequant = DequantMode::fused;
  bool dgq_search = true;        // w4a8-dgq: two-phase grid search (else RTN levels)
  bool dgq_smoothing = true;     // w4a8-dgq: percentile-clipping smoothing
  bool w4a16_symmetric = false;  // w4a16: int4 symmetric instead of uint4 + zero
  std::size_t calib_rows = 64;   // rows of x the searches calibrate on
  ScaleDtype weight_scale_dtype = ScaleDtype::fp16;
};

// Everything the scheme fed to its GEMM: what --out writes and what a trace records.
struct SchemeOperands {
  std::optional<MatrixH> x_f16;              // fp16, w4a16
  std::optional<MatrixH> w_f16;              // fp16
  std::optional<QuantizedActivations> x_q;   // the W*A8 schemes
  std::optional<QuantizedWeights> w_q;       // w8a8, w4a16, w4a8-fs/is/dint
  std::optional<IntegerScales> int_scales;   // w4a8-is
  std::optional<TwoLevelWeights> two_level;  // w4a8-dgq, w4a8-qserve
  std::optional<BlockTensor> x_block;        // the block-scaled schemes (spec §5)
  std::optional<BlockTensor> w_block;
  std::vector<float> smoothing;              // per input channel, when smoothing was applied
};

struct SchemeRun {
  Scheme scheme;
  GemmResult result;
  SchemeOperands operands;
  ErrorReport error;  // against `reference` (the fp32 product of x and w)
};

// Quantizes on the CPU, then runs the GEMM on `engine` (the CPU reference by default).
SchemeRun run_scheme(Scheme scheme, const MatrixF& x, const MatrixF& w, const SchemeConfig& cfg,
                     const MatrixF& reference, const GemmEngine& engine = cpu_engine());

// fp16 codes of a float matrix (RNE); inputs must be finite.
MatrixH to_f16(const MatrixF& m, const char* tensor);
// The fp32 values of fp16 codes (exact).
MatrixF to_f32(const MatrixH& h);

}  // namespace quasar
