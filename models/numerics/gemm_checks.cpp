#include "gemm_checks.hpp"

#include "action_counts.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "error.hpp"
#include "float_formats.hpp"

namespace quasar::detail {
namespace {

template <class T>
bool in_range(const std::vector<T>& v, std::int64_t lo, std::int64_t hi) {
  T mn = std::numeric_limits<T>::max(), mx = std::numeric_limits<T>::lowest();
  for (T x : v) {
    mn = std::min(mn, x);
    mx = std::max(mx, x);
  }
  return v.empty() || (mn >= lo && mx <= hi);
}

template <class T>
std::size_t first_outside(const std::vector<T>& v, std::int64_t lo, std::int64_t hi) {
  std::size_t i = 0;
  while (i < v.size() && v[i] >= lo && v[i] <= hi) ++i;
  return i;
}

std::string at(std::size_t r, std::size_t c) {
  return "[" + std::to_string(r) + ", " + std::to_string(c) + "]";
}

// `where` makes the element's name ("[3, 1]") only for a bad scale: building it for each of a
// model-sized matrix's scales cost more than the check (a twentieth of a fast GEMM).
template <class Where>
void check_scale(float s, const char* tensor, Where&& where) {
  if (!std::isfinite(s) || !(s > 0.0f)) {
    throw OperandError(tensor, ": scale " + where() + " is " + std::to_string(s) +
                                   "; scales must be finite and > 0");
  }
}

void check_group_size(std::size_t group, std::size_t K, const std::string& tensor) {
  if (group == 0 || K % group != 0) {
    throw OperandError(tensor, ": group size " + std::to_string(group) + " does not divide K = " +
                                   std::to_string(K) + "; accepted: a divisor of K");
  }
}

void check_shape(std::size_t rows, std::size_t cols, std::size_t want_rows, std::size_t want_cols,
                 const std::string& tensor) {
  if (rows != want_rows || cols != want_cols) {
    throw OperandError(tensor, " has shape [" + std::to_string(rows) + ", " + std::to_string(cols) +
                                   "], expected [" + std::to_string(want_rows) + ", " +
                                   std::to_string(want_cols) + "]");
  }
}

}  // namespace

void check_acc_bits(int bits, const char* what) {
  if (bits < 2 || bits > 64) {
    throw Error(std::string(what) + " width " + std::to_string(bits) +
                " is not supported; accepted: 2..64 bits");
  }
}

void check_fp16_matrix(const MatrixH& m, const char* tensor) {
  for (std::size_t r = 0; r < m.rows(); ++r) {
    for (std::size_t c = 0; c < m.cols(); ++c) {
      const std::uint16_t h = m(r, c);
      if (f16_is_nan(h) || f16_is_inf(h)) {
        throw OperandError(tensor, ": element " + at(r, c) + " is " +
                                       (f16_is_nan(h) ? "NaN" : "infinite") +
                                       "; inputs must be finite");
      }
    }
  }
}

void check_activations(const QuantizedActivations& x, const char* tensor) {
  if (x.scale.size() != 1 && x.scale.size() != x.q.rows()) {
    throw OperandError(std::string(tensor) + ".scale",
                       " has " + std::to_string(x.scale.size()) +
                           " entries; expected 1 (per tensor) or M = " +
                           std::to_string(x.q.rows()) + " (per token)");
  }
  for (std::size_t m = 0; m < x.scale.size(); ++m) {
    if (std::isfinite(x.scale[m]) && x.scale[m] > 0.0f) continue;
    check_scale(x.scale[m], (std::string(tensor) + ".scale").c_str(),
                [m] { return "[" + std::to_string(m) + "]"; });
  }
}

void check_same_k(std::size_t x_k, std::size_t w_k, const char* x_name, const char* w_name) {
  if (x_k != w_k) {
    throw Error(std::string("shape mismatch: '") + x_name + "' has K = " + std::to_string(x_k) +
                " but '" + w_name + "' has K = " + std::to_string(w_k));
  }
}

void check_weights(const QuantizedWeights& w, WeightFormat expect_format, const char* scheme) {
  const std::string fmt(weight_format_name(expect_format));
  if (w.format != expect_format) {
    throw Error(std::string("scheme ") + scheme + " takes " + fmt + " weight codes, got " +
                std::string(weight_format_name(w.format)));
  }
  const std::size_t N = w.rows(), K = w.cols();
  check_group_size(w.group_size, K, "w");
  const std::size_t groups = w.groups();
  check_shape(w.scales.rows(), w.scales.cols(), w.per_tensor ? 1 : N, groups, "w.scales");
  if (!w.zeros.empty()) {
    check_shape(w.zeros.rows(), w.zeros.cols(), w.per_tensor ? 1 : N, groups, "w.zeros");
  }
  const IntRange range = code_range(expect_format);
  // One vectorizable min/max pass over the codes (model-sized matrices are checked on every
  // call); the slow search for the offending element runs only when there is one.
  if (!in_range(w.codes.values(), range.lo, range.hi)) {
    const std::size_t i = first_outside(w.codes.values(), range.lo, range.hi);
    throw OperandError("w.codes", ": element " + at(i / K, i % K) + " = " +
                                      std::to_string(w.codes.values()[i]) + " is not a " + fmt +
                                      " code; accepted: " + std::to_string(range.lo) + ".." +
                                      std::to_string(range.hi));
  }
  for (std::size_t r = 0; r < w.scales.rows(); ++r) {
    for (std::size_t g = 0; g < groups; ++g) {
      check_scale(w.scales(r, g), "w.scales", [r, g] { return at(r, g); });
      if (!w.zeros.empty() && !range.contains(w.zeros(r, g))) {
        throw OperandError("w.zeros", ": element " + at(r, g) + " = " +
                                          std::to_string(w.zeros(r, g)) + " is outside " +
                                          std::to_string(range.lo) + ".." +
                                          std::to_string(range.hi));
      }
    }
  }
}

void check_two_level(const TwoLevelWeights& w, int max_group_scale, const char* scheme) {
  const std::size_t N = w.rows(), K = w.cols();
  check_group_size(w.group_size, K, "w.q");
  const std::size_t groups = w.groups();
  check_shape(w.zeros.rows(), w.zeros.cols(), N, groups, "w.zeros");
  check_shape(w.group_scale.rows(), w.group_scale.cols(), N, groups, "w.group_scale");
  if (w.channel_scale.size() != N) {
    throw OperandError("w.channel_scale", " has " + std::to_string(w.channel_scale.size()) +
                                              " entries, expected N = " + std::to_string(N));
  }
  if (!w.bias.empty() && w.bias.size() != N) {
    throw OperandError("w.bias", " has " + std::to_string(w.bias.size()) +
                                     " entries, expected N = " + std::to_string(N));
  }
  if (!in_range(w.q.values(), 0, 15)) {
    const std::size_t i = first_outside(w.q.values(), 0, 15);
    throw OperandError("w.q", ": element " + at(i / K, i % K) + " = " +
                                  std::to_string(w.q.values()[i]) +
                                  " is not a uint4 code; accepted: 0..15");
  }
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t g = 0; g < groups; ++g) {
      if (w.zeros(n, g) > 15) {
        throw OperandError("w.zeros", ": element " + at(n, g) + " = " +
                                          std::to_string(w.zeros(n, g)) +
                                          " is not a uint4 zero point; accepted: 0..15");
      }
      const int s = w.group_scale(n, g);
      if (s < 1 || s > max_group_scale) {
        throw OperandError("w.group_scale", ": element " + at(n, g) + " = " + std::to_string(s) +
                                                " is out of range for " + scheme +
                                                "; accepted: 1.." +
                                                std::to_string(max_group_scale));
      }
    }
    check_scale(w.channel_scale[n], "w.channel_scale",
                [n] { return "[" + std::to_string(n) + "]"; });
    if (!w.bias.empty() && !std::isfinite(w.bias[n])) {
      throw OperandError("w.bias", ": element [" + std::to_string(n) + "] is not finite");
    }
  }
}

void validate_fp16(const MatrixH& x, const MatrixH& w) {
  check_fp16_matrix(x, "x");
  check_fp16_matrix(w, "w");
  check_same_k(x.cols(), w.cols(), "x", "w");
}

void validate_w4a16(const MatrixH& x, const QuantizedWeights& w) {
  check_fp16_matrix(x, "x");
  check_weights(w, w.symmetric() ? WeightFormat::int4 : WeightFormat::uint4, "w4a16");
  check_same_k(x.cols(), w.cols(), "x", "w.codes");
}

void validate_w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                   const GemmOptions& opt) {
  check_acc_bits(opt.acc_bits, "accumulator");
  check_activations(x, "x");
  check_weights(w, WeightFormat::int8, "w8a8");
  check_same_k(x.q.cols(), w.cols(), "x", "w.codes");
  if (w.groups() != 1 || !w.symmetric()) {
    throw Error("scheme w8a8 takes symmetric per-channel (or per-tensor) int8 weights");
  }
}

void validate_w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                        const GemmOptions& opt) {
  check_acc_bits(opt.acc_bits, "accumulator");
  check_activations(x, "x");
  check_weights(w, WeightFormat::dint4, "w4a8-dint");
  check_same_k(x.q.cols(), w.cols(), "x", "w.codes");
  if (w.groups() != 1) {
    throw Error("scheme w4a8-dint takes per-channel (or per-tensor) dint4 scales [spec choice]");
  }
}

void validate_w4a8_group(const QuantizedActivations& x, const QuantizedWeights& w,
                         const GemmOptions& opt, const char* scheme) {
  check_acc_bits(opt.psum_bits, "group partial-sum");
  check_acc_bits(opt.acc_bits, "accumulator");
  check_activations(x, "x");
  check_weights(w, WeightFormat::int4, scheme);
  check_same_k(x.q.cols(), w.cols(), "x", "w.codes");
  if (!w.symmetric())
    throw Error(std::string("scheme ") + scheme + " takes symmetric int4 weights");
}

std::int64_t validate_int_scales(const QuantizedWeights& w, const IntegerScales& s) {
  if (s.S.rows() != w.rows() || s.S.cols() != w.groups()) {
    throw OperandError("w.int_scales", " has shape [" + std::to_string(s.S.rows()) + ", " +
                                           std::to_string(s.S.cols()) + "], expected [" +
                                           std::to_string(w.rows()) + ", " +
                                           std::to_string(w.groups()) + "]");
  }
  if (s.bits < 0 || s.bits > 62) {
    throw Error("integer scale amplifier bits " + std::to_string(s.bits) +
                " out of range; accepted: 0..62");
  }
  std::int64_t s_max = 0;
  const std::vector<std::int32_t>& S = s.S.values();
  for (std::size_t i = 0; i < S.size(); ++i) {
    if (S[i] < 1) {
      const std::size_t cols = s.S.cols() ? s.S.cols() : 1;
      throw OperandError("w.int_scales", ": element " + at(i / cols, i % cols) + " = " +
                                             std::to_string(S[i]) +
                                             " is not >= 1; integer scales are max(1, RNE(s * "
                                             "alpha))");
    }
    s_max = std::max<std::int64_t>(s_max, S[i]);
  }
  return s_max;
}

void validate_two_level_gemm(const QuantizedActivations& x, const TwoLevelWeights& w,
                             const GemmOptions& opt, Scheme scheme) {
  const bool dgq = scheme == Scheme::w4a8_dgq;
  check_acc_bits(opt.acc_bits, "accumulator");
  check_activations(x, "x");
  check_two_level(w, dgq ? 127 : 255, dgq ? "w4a8-dgq (int8 S2)" : "w4a8-qserve (uint8 s1)");
  check_same_k(x.q.cols(), w.cols(), "x", "w.q");
  if (!dgq && !w.bias.empty()) throw Error("scheme w4a8-qserve takes no bias");
}

void finish_output(GemmCounters& c, Scheme s, const ActionShape& shape,
                   std::uint64_t inf_overflows) {
  add_scheme_actions(c, s, shape);
  c.add_overflow(stage::kOutputFp16Inf, inf_overflows);
}

}  // namespace quasar::detail
