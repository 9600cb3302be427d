#include "vector_ops.hpp"

#include <cmath>
#include <string>

#include "error.hpp"
#include "quantize_activations.hpp"

namespace quasar {
namespace {

bool f16_finite(std::uint16_t h) { return (h & 0x7c00u) != 0x7c00u; }

void require_finite(const std::uint16_t* v, std::size_t n, const char* tensor, std::size_t row) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!f16_finite(v[i])) {
      throw Error(std::string("tensor '") + tensor + "': element [" + std::to_string(row) + ", " +
                  std::to_string(i) + "] is " + (f16_is_nan(v[i]) ? "NaN" : "infinite") +
                  "; only finite fp16 values are accepted");
    }
  }
}

void require_finite(const MatrixH& m, const char* tensor) {
  for (std::size_t r = 0; r < m.rows(); ++r) require_finite(m.row(r), m.cols(), tensor, r);
}

void require_same_shape(const MatrixH& a, const MatrixH& b, const char* op) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    throw Error(std::string(op) + ": operands are " + std::to_string(a.rows()) + " x " +
                std::to_string(a.cols()) + " and " + std::to_string(b.rows()) + " x " +
                std::to_string(b.cols()) + "; they must have the same shape");
  }
}

std::uint16_t store_f16(float v, std::uint64_t& inf) {
  const std::uint16_t h = f32_to_f16(v);
  if (f16_is_inf(h)) ++inf;
  return h;
}

void count_output(GemmCounters* c, std::uint64_t n, std::uint64_t inf) {
  if (!c) return;
  c->add_action(act::kCvtFp32ToFp16, n);
  c->add_overflow(stage::kOutputFp16Inf, inf);
}

}  // namespace

// ---- RMSNorm ----

void rmsnorm_row(const std::uint16_t* x, const std::uint16_t* g, std::size_t D, float eps,
                 std::uint16_t* y, GemmCounters* counters) {
  if (D == 0) throw Error("rmsnorm: the row is empty (D = 0)");
  if (!(eps > 0.0f) || !std::isfinite(eps)) {
    throw Error("rmsnorm: eps must be finite and > 0, got " + std::to_string(eps));
  }
  require_finite(x, D, "x", 0);
  require_finite(g, D, "g", 0);
  float sum = 0.0f;
  for (std::size_t i = 0; i < D; ++i) {
    const float xi = f16_to_f32(x[i]);
    sum = sum + xi * xi;
  }
  const float ms = sum / static_cast<float>(D);
  const float r = 1.0f / std::sqrt(ms + eps);
  std::uint64_t inf = 0;
  for (std::size_t i = 0; i < D; ++i) {
    y[i] = store_f16((f16_to_f32(x[i]) * r) * f16_to_f32(g[i]), inf);
  }
  if (counters) {
    const auto n = static_cast<std::uint64_t>(D);
    counters->add_action(act::kMulFp32, n + 2 * n);
    counters->add_action(act::kAddFp32, n + 1);
    counters->add_action(vec_act::kDivFp32, 1);
    counters->add_action(vec_act::kSqrtFp32, 1);
    counters->add_action(vec_act::kRcpFp32, 1);
    count_output(counters, n, inf);
  }
}

MatrixH rmsnorm(const MatrixH& x, const std::vector<std::uint16_t>& g, float eps,
                GemmCounters* counters) {
  if (g.size() != x.cols()) {
    throw Error("rmsnorm: " + std::to_string(g.size()) + " gains for rows of " +
                std::to_string(x.cols()) + " values; they must match");
  }
  require_finite(x, "x");
  MatrixH y(x.rows(), x.cols());
  for (std::size_t m = 0; m < x.rows(); ++m) {
    rmsnorm_row(x.row(m), g.data(), x.cols(), eps, y.row(m), counters);
  }
  return y;
}

// ---- RoPE ----

RopeTables make_rope_tables(std::size_t max_pos, std::size_t d, double base) {
  if (d < 2 || d % 2 != 0) {
    throw Error("rope: head dimension d must be even and >= 2, got " + std::to_string(d));
  }
  if (max_pos == 0) throw Error("rope: max_pos must be >= 1");
  if (!(base > 0.0) || !std::isfinite(base)) {
    throw Error("rope: base must be finite and > 0, got " + std::to_string(base));
  }
  RopeTables t;
  t.max_pos = max_pos;
  t.d = d;
  t.base = base;
  const std::size_t half = d / 2;
  t.cos.resize(max_pos * half);
  t.sin.resize(max_pos * half);
  for (std::size_t i = 0; i < half; ++i) {
    const double inv_freq =
        std::pow(base, -(2.0 * static_cast<double>(i)) / static_cast<double>(d));
    for (std::size_t p = 0; p < max_pos; ++p) {
      const double theta = static_cast<double>(p) * inv_freq;
      t.cos[p * half + i] = static_cast<float>(std::cos(theta));
      t.sin[p * half + i] = static_cast<float>(std::sin(theta));
    }
  }
  return t;
}

void rope_row(const RopeTables& t, std::size_t pos, const std::uint16_t* x, std::uint16_t* y,
              GemmCounters* counters) {
  if (pos >= t.max_pos) {
    throw Error("rope: position " + std::to_string(pos) + " is beyond the tables (max_pos " +
                std::to_string(t.max_pos) + ")");
  }
  require_finite(x, t.d, "x", 0);
  const std::size_t half = t.d / 2;
  std::uint64_t inf = 0;
  for (std::size_t i = 0; i < half; ++i) {
    float yi = 0.0f, yj = 0.0f;
    rope_pair(f16_to_f32(x[i]), f16_to_f32(x[i + half]), t.cos_at(pos, i), t.sin_at(pos, i), yi,
              yj);
    y[i] = store_f16(yi, inf);
    y[i + half] = store_f16(yj, inf);
  }
  if (counters) {
    counters->add_action(act::kMulFp32, 4 * half);
    counters->add_action(act::kAddFp32, 2 * half);
    count_output(counters, t.d, inf);
  }
}

MatrixH rope(const RopeTables& t, const MatrixH& x, const std::vector<std::size_t>& positions,
             GemmCounters* counters) {
  if (t.d == 0 || x.cols() % t.d != 0) {
    throw Error("rope: rows of " + std::to_string(x.cols()) +
                " values do not split into heads of d = " + std::to_string(t.d));
  }
  if (positions.size() != x.rows()) {
    throw Error("rope: " + std::to_string(positions.size()) + " positions for " +
                std::to_string(x.rows()) + " rows; they must match");
  }
  require_finite(x, "x");
  MatrixH y(x.rows(), x.cols());
  for (std::size_t m = 0; m < x.rows(); ++m) {
    for (std::size_t h = 0; h < x.cols() / t.d; ++h) {
      rope_row(t, positions[m], x.row(m) + h * t.d, y.row(m) + h * t.d, counters);
    }
  }
  return y;
}

// ---- Element-wise ----

MatrixH swiglu(const MatrixH& gate, const MatrixH& up, GemmCounters* counters) {
  require_same_shape(gate, up, "swiglu");
  require_finite(gate, "gate");
  require_finite(up, "up");
  MatrixH h(gate.rows(), gate.cols());
  std::uint64_t inf = 0;
  for (std::size_t i = 0; i < gate.size(); ++i) {
    h.values()[i] = swiglu(gate.values()[i], up.values()[i]);
    if (f16_is_inf(h.values()[i])) ++inf;
  }
  if (counters) {
    const auto n = static_cast<std::uint64_t>(gate.size());
    counters->add_action(vec_act::kExpQ, n);
    counters->add_action(act::kAddFp32, n);      // 1 + exp_q(-g)
    counters->add_action(vec_act::kDivFp32, n);  // g / (...)
    counters->add_action(act::kMulFp32, n);      // silu(g) * u
    count_output(counters, n, inf);
  }
  return h;
}

MatrixH silu(const MatrixH& g, GemmCounters* counters) {
  require_finite(g, "g");
  MatrixH y(g.rows(), g.cols());
  std::uint64_t inf = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    y.values()[i] = silu_f16(g.values()[i]);
    if (f16_is_inf(y.values()[i])) ++inf;
  }
  if (counters) {
    const auto n = static_cast<std::uint64_t>(g.size());
    counters->add_action(vec_act::kExpQ, n);
    counters->add_action(act::kAddFp32, n);
    counters->add_action(vec_act::kDivFp32, n);
    count_output(counters, n, inf);
  }
  return y;
}

MatrixH residual_add(const MatrixH& a, const MatrixH& b, GemmCounters* counters) {
  require_same_shape(a, b, "residual_add");
  require_finite(a, "a");
  require_finite(b, "b");
  MatrixH y(a.rows(), a.cols());
  std::uint64_t inf = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    y.values()[i] = residual_add(a.values()[i], b.values()[i]);
    if (f16_is_inf(y.values()[i])) ++inf;
  }
  if (counters) {
    counters->add_action(act::kAddFp32, a.size());
    count_output(counters, a.size(), inf);
  }
  return y;
}

// ---- Activation quantization ----

QuantizedActivations quantize_tokens(const MatrixH& x, GemmCounters* counters) {
  require_finite(x, "x");
  MatrixF xf(x.rows(), x.cols());
  for (std::size_t i = 0; i < x.size(); ++i) xf.values()[i] = f16_to_f32(x.values()[i]);
  QuantizedActivations q = quantize_per_token(xf, counters);
  if (counters) {
    counters->add_action(vec_act::kMaxFp32, x.size());
    counters->add_action(vec_act::kDivFp32, x.rows());
    counters->add_action(vec_act::kQuantFp32ToInt8, x.size());
  }
  return q;
}

}  // namespace quasar
