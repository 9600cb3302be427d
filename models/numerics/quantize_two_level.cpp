#include "quantize_two_level.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "error.hpp"
#include "quantize_activations.hpp"
#include "quantize_weights.hpp"

namespace quasar {
namespace {

void check_group(const MatrixF& w, std::size_t group_size) {
  require_finite(w, "w");
  if (group_size == 0 || w.cols() % group_size != 0) {
    throw Error("group size " + std::to_string(group_size) + " does not divide K = " +
                std::to_string(w.cols()) + " of tensor 'w'; accepted: a divisor of K");
  }
}

// Squared error of x[:, c0:c0+len] * e over the calibration rows, or |e|^2 with none.
double output_error(const MatrixF& x, std::size_t c0, const std::vector<double>& e) {
  if (x.rows() == 0) {
    double s = 0.0;
    for (double v : e) s += v * v;
    return s;
  }
  double loss = 0.0;
  for (std::size_t m = 0; m < x.rows(); ++m) {
    const float* xr = x.row(m) + c0;
    double dot = 0.0;
    for (std::size_t j = 0; j < e.size(); ++j) dot += static_cast<double>(xr[j]) * e[j];
    loss += dot * dot;
  }
  return loss;
}

int clamp_int(int v, int lo, int hi) { return std::min(std::max(v, lo), hi); }

}  // namespace

std::vector<float> dgq_phase1_ratios() {
  std::vector<float> r;
  for (int i = 0; i < 20; ++i) r.push_back(static_cast<float>(1.02 - 0.22 * (i + 1) / 20.0));
  return r;
}

std::vector<float> dgq_phase2_ratios() {
  std::vector<float> r;
  for (int i = 0; i < 80; ++i) r.push_back(static_cast<float>(1.02 - 0.82 * (i + 1) / 80.0));
  return r;
}

TwoLevelWeights quantize_dgq(const MatrixF& w, const MatrixF& x_calib, const DgqSpec& spec) {
  check_group(w, spec.group_size);
  if (x_calib.rows() && x_calib.cols() != w.cols()) {
    throw Error("DGQ calibration activations have K = " + std::to_string(x_calib.cols()) +
                " but weights have K = " + std::to_string(w.cols()));
  }
  const std::size_t N = w.rows(), K = w.cols(), G = spec.group_size, groups = K / G;
  const std::vector<float> r1 = spec.search ? dgq_phase1_ratios() : std::vector<float>{1.0f};
  const std::vector<float> r2 = spec.search ? dgq_phase2_ratios() : std::vector<float>{1.0f};

  TwoLevelWeights out;
  out.group_size = G;
  out.q = MatrixU8(N, K);
  out.zeros = MatrixU8(N, groups);
  out.group_scale = MatrixI32(N, groups);
  out.channel_scale.assign(N, 1.0f);

  MatrixF fine_scale(N, groups);  // phase-1 float group scale S'
  std::vector<double> err(G);
  for (std::size_t n = 0; n < N; ++n) {
    const float* wr = w.row(n);
    // Phase 1: per group, asymmetric uint4 with a float scale; keep the best ratio's S', z.
    for (std::size_t g = 0; g < groups; ++g) {
      const float* wg = wr + g * G;
      float lo = 0.0f, hi = 0.0f;
      for (std::size_t j = 0; j < G; ++j) lo = std::min(lo, wg[j]), hi = std::max(hi, wg[j]);
      double best = INFINITY;
      for (float r : r1) {
        float s = (hi - lo) * r / 15.0f;
        if (!(s > 0.0f)) s = 1.0f;
        const int z = clamp_int(static_cast<int>(std::nearbyint(-lo * r / s)), 0, 15);
        for (std::size_t j = 0; j < G; ++j) {
          const int q = clamp_int(static_cast<int>(std::nearbyint(wg[j] / s)) + z, 0, 15);
          err[j] = static_cast<double>(wg[j]) - static_cast<double>(q - z) * s;
        }
        const double loss = output_error(x_calib, g * G, err);
        if (loss < best) {
          best = loss;
          fine_scale(n, g) = s;
          out.zeros(n, g) = static_cast<std::uint8_t>(z);
        }
      }
    }
    // Phase 2: per channel, s1 = r * max|W_n| / 127 and S2 = max(1, RNE(S' / s1)), loss over
    // the whole row, phase-1 zeros kept, Eq. 5 clamp applied.
    float amax = 0.0f;
    for (std::size_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(wr[k]));
    std::vector<double> row_err(K);
    std::vector<std::uint8_t> q_row(K), best_q(K);
    std::vector<int> s2(groups), best_s2(groups);
    double best = INFINITY;
    for (float r : r2) {
      float s1 = round_to_scale_dtype(r * amax / 127.0f, spec.channel_scale_dtype);
      if (!(s1 > 0.0f)) s1 = smallest_positive_scale(spec.channel_scale_dtype);
      for (std::size_t g = 0; g < groups; ++g) {
        const double v = round_half_even(static_cast<double>(fine_scale(n, g)) / s1);
        s2[g] = static_cast<int>(std::min(127.0, std::max(1.0, v)));
        const int z = out.zeros(n, g);
        const int t = 127 / s2[g];
        const int qlo = std::max(0, z - t), qhi = std::min(15, z + t);
        const float eff = s1 * static_cast<float>(s2[g]);
        for (std::size_t j = g * G; j < (g + 1) * G; ++j) {
          const int q = clamp_int(static_cast<int>(std::nearbyint(wr[j] / eff)) + z, qlo, qhi);
          q_row[j] = static_cast<std::uint8_t>(q);
          row_err[j] = static_cast<double>(wr[j]) - static_cast<double>(q - z) * s2[g] * s1;
        }
      }
      const double loss = output_error(x_calib, 0, row_err);
      if (loss < best) {
        best = loss;
        out.channel_scale[n] = s1;
        best_s2 = s2;
        best_q = q_row;
      }
    }
    std::copy(best_q.begin(), best_q.end(), out.q.row(n));
    for (std::size_t g = 0; g < groups; ++g) out.group_scale(n, g) = best_s2[g];
  }
  return out;
}

std::vector<float> dgq_smoothing_factors(const MatrixF& x) {
  require_finite(x, "x");
  const std::size_t C = x.cols();
  std::vector<float> a(C, 0.0f);
  for (std::size_t m = 0; m < x.rows(); ++m) {
    for (std::size_t j = 0; j < C; ++j) a[j] = std::max(a[j], std::fabs(x(m, j)));
  }
  std::vector<float> f(C, 1.0f);
  if (C == 0) return f;
  const auto b = static_cast<std::size_t>(std::floor(0.005 * static_cast<double>(C) + 1.5));
  std::vector<float> sorted = a;
  std::sort(sorted.begin(), sorted.end(), std::greater<float>());
  const float threshold = sorted[std::min(b, C) - 1];
  if (!(threshold > 0.0f)) return f;
  for (std::size_t j = 0; j < C; ++j) {
    if (a[j] > threshold) f[j] = a[j] / threshold;
  }
  return f;
}

void apply_channel_smoothing(MatrixF& x, MatrixF& w, const std::vector<float>& f) {
  if (f.size() != x.cols() || f.size() != w.cols()) {
    throw Error("smoothing factors have " + std::to_string(f.size()) + " entries, K is " +
                std::to_string(x.cols()));
  }
  for (std::size_t m = 0; m < x.rows(); ++m) {
    for (std::size_t j = 0; j < f.size(); ++j) x(m, j) /= f[j];
  }
  for (std::size_t n = 0; n < w.rows(); ++n) {
    for (std::size_t j = 0; j < f.size(); ++j) w(n, j) *= f[j];
  }
}

TwoLevelWeights quantize_qserve(const MatrixF& w, std::size_t group_size) {
  check_group(w, group_size);
  const std::size_t N = w.rows(), K = w.cols(), G = group_size, groups = K / G;
  TwoLevelWeights out;
  out.group_size = G;
  out.q = MatrixU8(N, K);
  out.zeros = MatrixU8(N, groups);
  out.group_scale = MatrixI32(N, groups);
  out.channel_scale.assign(N, 1.0f);
  std::vector<int> w8(K);
  for (std::size_t n = 0; n < N; ++n) {
    float amax = 0.0f;
    for (std::size_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(w(n, k)));
    float s0 = round_to_scale_dtype(amax / 119.0f, ScaleDtype::fp16);
    if (!(s0 > 0.0f)) s0 = amax > 0.0f ? smallest_positive_scale(ScaleDtype::fp16) : 1.0f;
    out.channel_scale[n] = s0;
    for (std::size_t k = 0; k < K; ++k) {
      w8[k] = clamp_int(static_cast<int>(std::nearbyint(w(n, k) / s0)), -119, 119);
    }
    for (std::size_t g = 0; g < groups; ++g) {
      const auto first = w8.begin() + static_cast<std::ptrdiff_t>(g * G);
      const auto [mn_it, mx_it] =
          std::minmax_element(first, first + static_cast<std::ptrdiff_t>(G));
      // The range always holds 0, so the uint4 zero point can represent it.
      const int mn = std::min(0, *mn_it), mx = std::max(0, *mx_it);
      // Rounded up so the 16 codes always span the group's range.
      const int s1 = std::max(1, (mx - mn + 14) / 15);
      const int z =
          clamp_int(static_cast<int>(round_half_even(-static_cast<double>(mn) / s1)), 0, 15);
      out.group_scale(n, g) = s1;
      out.zeros(n, g) = static_cast<std::uint8_t>(z);
      for (std::size_t j = g * G; j < (g + 1) * G; ++j) {
        const int q = clamp_int(
            static_cast<int>(round_half_even(static_cast<double>(w8[j]) / s1)) + z, 0, 15);
        out.q(n, j) = static_cast<std::uint8_t>(q);
      }
    }
  }
  return out;
}

}  // namespace quasar
