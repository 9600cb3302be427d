// Round-to-nearest weight quantizers and the Integer Scale conversion (spec section 3).
#pragma once

#include <cstddef>

#include "float_formats.hpp"
#include "matrix.hpp"
#include "operands.hpp"

namespace quasar {

enum class Granularity { per_tensor, per_channel, per_group };

struct WeightQuantSpec {
  WeightFormat format = WeightFormat::int4;
  DintSet dint_set = DintSet::A;
  Granularity granularity = Granularity::per_group;
  std::size_t group_size = 128;  // used when granularity == per_group
  bool symmetric = true;         // asymmetric: uint4, int8
  ScaleDtype scale_dtype = ScaleDtype::fp16;
  float clip_ratio = 1.0f;  // range multiplier (1 = plain RTN; searches try others)
};

// RTN. Symmetric: s = clip * amax / qmax (int4: 7, int8: 127, dint4: the table's max level),
// code = clamp(RNE(w / s)); dint4 through dint4_encode. Asymmetric: s = clip * (max - min) /
// (2^b - 1) over a range that always contains 0, z = RNE(-min / s), q = clamp(RNE(w / s) + z).
// The scale is rounded to its storage dtype first and the codes use the rounded scale.
// Throws quasar::Error on NaN/inf weights, a group size that does not divide K, or a
// format/symmetry combination with no meaning (asymmetric dint4, symmetric uint4).
QuantizedWeights quantize_weights_rtn(const MatrixF& w, const WeightQuantSpec& spec);

// Dequantized value of one code, in float: (code - z) * s, dint4: w2 * s / 2.
float dequantize_weight(const QuantizedWeights& w, std::size_t n, std::size_t k);
MatrixF dequantize_weights(const QuantizedWeights& w);

// Integer Scale (spec section 2, w4a8-is): alpha = 2^bits, fixed (default 10) or the per-layer
// heuristic: the smallest bits >= 0 for which the smallest group scale times 2^bits is >= 1.
enum class IntScaleMode { fixed, per_layer };
struct IntScaleSpec {
  IntScaleMode mode = IntScaleMode::fixed;
  int bits = 10;  // used when mode == fixed
};
int integer_scale_heuristic_bits(const QuantizedWeights& w);
// S[n,g] = max(1, RNE(s[n,g] * 2^bits)); throws if a scale does not fit in int32.
IntegerScales to_integer_scales(const QuantizedWeights& w, const IntScaleSpec& spec);

// Smallest positive value of a scale storage type: what a zero or underflowing scale becomes,
// so that no quantizer ever emits a zero scale.
float smallest_positive_scale(ScaleDtype d);

}  // namespace quasar
