// Two-level weights dequantized to int8 in front of an int8 GEMM: w4a8-dgq (fused or
// materialized) and w4a8-qserve.
#include <algorithm>

#include "error.hpp"
#include "gemm.hpp"
#include "gemm_checks.hpp"
#include "int_kernels.hpp"
#include "quantize_two_level.hpp"

namespace quasar {
namespace {

// w8 = (q - z) * S for one weight row, saturated to `range` with every clamp counted.
std::uint64_t dequant_row(const TwoLevelWeights& w, std::size_t n, DequantRange range,
                          std::int8_t* out) {
  std::uint64_t events = 0;
  for (std::size_t k = 0; k < w.cols(); ++k) {
    int v = two_level_value(w, n, k);
    if (v < range.lo || v > range.hi) {
      ++events;
      v = v < range.lo ? range.lo : range.hi;
    }
    out[k] = static_cast<std::int8_t>(v);
  }
  return events;
}

// The epilogue y = F16(F32(acc) * (F32(s_ch[n]) * F32(s_x)) [+ bias]) and the counts of the
// int8 GEMM that produced acc.
GemmResult int8_epilogue(const QuantizedActivations& x, const Int8GemmResult& p,
                         const TwoLevelWeights& w, const GemmOptions& opt, Scheme scheme,
                         DequantMode mode) {
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols();
  GemmResult r{MatrixH(M, N), {}};
  std::uint64_t inf = 0;
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      const float scale = w.channel_scale[n] * x.scale_of(m);
      float v = static_cast<float>(p.acc[m * N + n]) * scale;
      if (!w.bias.empty()) v = v + w.bias[n];
      r.y(m, n) = detail::to_output_f16(v, inf);
    }
  }
  r.counters.add_overflow(stage::kAccumulator, p.wraps);
  ActionShape shape;
  shape.m = M, shape.n = N, shape.k = K, shape.opt = opt, shape.bias = !w.bias.empty();
  shape.dequant = mode;
  detail::finish_output(r.counters, scheme, shape, inf);
  return r;
}

}  // namespace

GemmResult gemm_w4a8_dgq(const QuantizedActivations& x, const TwoLevelWeights& w, DequantMode mode,
                         const GemmOptions& opt) {
  detail::validate_two_level_gemm(x, w, opt, Scheme::w4a8_dgq);
  const std::size_t N = w.rows(), K = w.cols();
  std::uint64_t range_events = 0;
  Int8GemmResult p;
  if (mode == DequantMode::materialized) {
    // The released code's path: one pass writes the whole N x K int8 copy, then a plain
    // int8 GEMM reads it back.
    MatrixI8 w8(N, K);
    for (std::size_t n = 0; n < N; ++n) {
      range_events += dequant_row(w, n, kDgqDequantRange, w8.row(n));
    }
    p = int8_gemm(x.q, w8, opt.acc_bits);
  } else {
    // Fused: weights are dequantized one tile of rows at a time as the tile enters the
    // array, and no full int8 copy exists. The tests check that both paths agree.
    constexpr std::size_t kTileRows = 64;
    const std::size_t M = x.q.rows();
    p.acc.assign(M * N, 0);
    for (std::size_t n0 = 0; n0 < N; n0 += kTileRows) {
      const std::size_t rows = std::min(kTileRows, N - n0);
      MatrixI8 tile(rows, K);
      for (std::size_t j = 0; j < rows; ++j) {
        range_events += dequant_row(w, n0 + j, kDgqDequantRange, tile.row(j));
      }
      const Int8GemmResult t = int8_gemm(x.q, tile, opt.acc_bits);
      for (std::size_t m = 0; m < M; ++m) {
        std::copy(t.acc.begin() + static_cast<std::ptrdiff_t>(m * rows),
                  t.acc.begin() + static_cast<std::ptrdiff_t>((m + 1) * rows),
                  p.acc.begin() + static_cast<std::ptrdiff_t>(m * N + n0));
      }
      p.wraps += t.wraps;
    }
  }
  GemmResult r = int8_epilogue(x, p, w, opt, Scheme::w4a8_dgq, mode);
  r.counters.add_overflow(stage::kDequantRange, range_events);
  return r;
}

GemmResult gemm_w4a8_qserve(const QuantizedActivations& x, const TwoLevelWeights& w,
                            const GemmOptions& opt) {
  detail::validate_two_level_gemm(x, w, opt, Scheme::w4a8_qserve);
  const std::size_t N = w.rows(), K = w.cols();
  MatrixI8 w8(N, K);
  std::uint64_t range_events = 0;
  for (std::size_t n = 0; n < N; ++n) {
    range_events += dequant_row(w, n, kQserveDequantRange, w8.row(n));
  }
  GemmResult r = int8_epilogue(x, int8_gemm(x.q, w8, opt.acc_bits), w, opt, Scheme::w4a8_qserve,
                               DequantMode::fused);
  r.counters.add_overflow(stage::kDequantRange, range_events);
  return r;
}

}  // namespace quasar
