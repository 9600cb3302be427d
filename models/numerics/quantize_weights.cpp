#include "quantize_weights.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.hpp"
#include "quantize_activations.hpp"

namespace quasar {
namespace {

struct Block {
  float lo = 0.0f;  // min(min(w), 0)
  float hi = 0.0f;  // max(max(w), 0)
  float amax() const { return std::max(-lo, hi); }
};

Block block_range(const MatrixF& w, std::size_t r0, std::size_t r1, std::size_t c0,
                  std::size_t c1) {
  Block b;
  for (std::size_t r = r0; r < r1; ++r) {
    for (std::size_t c = c0; c < c1; ++c) {
      b.lo = std::min(b.lo, w(r, c));
      b.hi = std::max(b.hi, w(r, c));
    }
  }
  return b;
}

float stored_scale(float s, ScaleDtype d) {
  if (!(s > 0.0f) || !std::isfinite(s)) s = 1.0f;
  const float r = round_to_scale_dtype(s, d);
  return r > 0.0f ? r : smallest_positive_scale(d);
}

void check_spec(const MatrixF& w, const WeightQuantSpec& spec) {
  require_finite(w, "w");
  const std::string fmt(weight_format_name(spec.format));
  if (spec.format == WeightFormat::dint4 && !spec.symmetric) {
    throw Error("weight format dint4 is symmetric only; use symmetric quantization");
  }
  if (spec.format == WeightFormat::uint4 && spec.symmetric) {
    throw Error("weight format uint4 is for asymmetric quantization; use int4 for symmetric");
  }
  if (spec.format == WeightFormat::int4 && !spec.symmetric) {
    throw Error("asymmetric 4-bit weights use format uint4 (codes 0..15 with a zero point)");
  }
  if (spec.granularity == Granularity::per_group) {
    if (spec.group_size == 0 || w.cols() % spec.group_size != 0) {
      throw Error("group size " + std::to_string(spec.group_size) + " does not divide K = " +
                  std::to_string(w.cols()) + " of tensor 'w'; accepted: a divisor of K");
    }
  }
  if (!(spec.clip_ratio > 0.0f) || !std::isfinite(spec.clip_ratio)) {
    throw Error("clip ratio must be > 0");
  }
}

}  // namespace

float smallest_positive_scale(ScaleDtype d) {
  switch (d) {
    case ScaleDtype::fp16:
      return std::ldexp(1.0f, -24);
    case ScaleDtype::bf16:
      return std::ldexp(1.0f, -133);
    case ScaleDtype::fp32:
      return std::ldexp(1.0f, -149);
  }
  return 1.0f;
}

QuantizedWeights quantize_weights_rtn(const MatrixF& w, const WeightQuantSpec& spec) {
  check_spec(w, spec);
  const std::size_t N = w.rows();
  const std::size_t K = w.cols();
  QuantizedWeights q;
  q.format = spec.format;
  q.dint_set = spec.dint_set;
  q.per_tensor = spec.granularity == Granularity::per_tensor;
  q.group_size = spec.granularity == Granularity::per_group ? spec.group_size : K;
  const std::size_t groups = K ? K / q.group_size : 0;
  const std::size_t scale_rows = q.per_tensor ? 1 : N;
  q.codes = MatrixI8(N, K);
  q.scales = MatrixF(scale_rows, groups);
  if (!spec.symmetric) q.zeros = MatrixI8(scale_rows, groups);

  const IntRange range = code_range(spec.format);
  const Dint4Table& dint = dint4_table(spec.dint_set);
  for (std::size_t sr = 0; sr < scale_rows; ++sr) {
    const std::size_t r0 = q.per_tensor ? 0 : sr;
    const std::size_t r1 = q.per_tensor ? N : sr + 1;
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t c0 = g * q.group_size;
      const std::size_t c1 = c0 + q.group_size;
      Block b = block_range(w, r0, r1, c0, c1);
      b.lo *= spec.clip_ratio;
      b.hi *= spec.clip_ratio;
      float s;
      int zero = 0;
      if (spec.symmetric) {
        const float qmax = spec.format == WeightFormat::dint4 ? static_cast<float>(dint.max_level)
                                                              : static_cast<float>(range.hi);
        s = stored_scale(b.amax() / qmax, spec.scale_dtype);
      } else {
        s = stored_scale((b.hi - b.lo) / static_cast<float>(range.hi - range.lo), spec.scale_dtype);
        const float z = std::nearbyint(static_cast<float>(range.lo) - b.lo / s);
        zero = static_cast<int>(
            std::clamp(z, static_cast<float>(range.lo), static_cast<float>(range.hi)));
        q.zeros(sr, g) = static_cast<std::int8_t>(zero);
      }
      q.scales(sr, g) = s;
      for (std::size_t r = r0; r < r1; ++r) {
        for (std::size_t c = c0; c < c1; ++c) {
          const float u = w(r, c) / s;
          std::int8_t code;
          if (spec.format == WeightFormat::dint4) {
            code = static_cast<std::int8_t>(dint4_encode(u, spec.dint_set));
          } else {
            const float v = std::nearbyint(u) + static_cast<float>(zero);
            code = static_cast<std::int8_t>(
                std::clamp(v, static_cast<float>(range.lo), static_cast<float>(range.hi)));
          }
          q.codes(r, c) = code;
        }
      }
    }
  }
  return q;
}

float dequantize_weight(const QuantizedWeights& w, std::size_t n, std::size_t k) {
  const std::size_t g = k / w.group_size;
  const float s = w.scale(n, g);
  if (w.format == WeightFormat::dint4) {
    const auto code = static_cast<std::uint8_t>(w.codes(n, k)) & 0xfu;
    return static_cast<float>(dint4_table(w.dint_set).w2[code]) * s * 0.5f;
  }
  return static_cast<float>(w.codes(n, k) - w.zero(n, g)) * s;
}

MatrixF dequantize_weights(const QuantizedWeights& w) {
  MatrixF out(w.rows(), w.cols());
  for (std::size_t n = 0; n < w.rows(); ++n) {
    for (std::size_t k = 0; k < w.cols(); ++k) out(n, k) = dequantize_weight(w, n, k);
  }
  return out;
}

int integer_scale_heuristic_bits(const QuantizedWeights& w) {
  float smallest = INFINITY;
  for (float s : w.scales.values()) smallest = std::min(smallest, s);
  if (!(smallest > 0.0f) || !std::isfinite(smallest)) {
    throw Error("integer scale: group scales must be finite and > 0");
  }
  int bits = 0;
  // Exact: multiplying by a power of two only moves the exponent.
  while (std::ldexp(static_cast<double>(smallest), bits) < 1.0) ++bits;
  return bits;
}

IntegerScales to_integer_scales(const QuantizedWeights& w, const IntScaleSpec& spec) {
  const int bits = spec.mode == IntScaleMode::fixed ? spec.bits : integer_scale_heuristic_bits(w);
  if (bits < 0 || bits > 62) {
    throw Error("integer scale amplifier 2^" + std::to_string(bits) +
                " is out of range; accepted: 2^0 .. 2^62");
  }
  IntegerScales out;
  out.bits = bits;
  const std::size_t N = w.rows();
  out.S = MatrixI32(N, w.groups());
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t g = 0; g < w.groups(); ++g) {
      const double v = round_half_even(std::ldexp(static_cast<double>(w.scale(n, g)), bits));
      if (v > 2147483647.0) {
        throw Error("integer scale of weight row " + std::to_string(n) + ", group " +
                    std::to_string(g) + " is " + std::to_string(v) + " at alpha = 2^" +
                    std::to_string(bits) + ", beyond int32; use a smaller amplifier");
      }
      out.S(n, g) = std::max(1, static_cast<int>(v));
    }
  }
  return out;
}

}  // namespace quasar
