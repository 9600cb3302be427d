// fp16 (W16A16) and w4a16 (weight-only) reference GEMMs.
#include <algorithm>
#include <string>

#include "error.hpp"
#include "float_formats.hpp"
#include "gemm.hpp"
#include "gemm_checks.hpp"

namespace quasar {
namespace {

// y = F16(sum_k F32(x) * F32(w)) with fp32 products and adds, each rounded (no FMA), k
// increasing; with k_tile = T, each tile's sum starts from 0 and tile sums are added in order.
GemmResult fp16_core(const MatrixH& x, const MatrixH& w, const GemmOptions& opt, Scheme scheme) {
  const std::size_t M = x.rows(), N = w.rows(), K = x.cols();
  // W transposed to K x N so the inner loop runs over n: every output keeps its own
  // sequential k order while the loop vectorizes across outputs.
  std::vector<float> wt(K * N);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t k = 0; k < K; ++k) wt[k * N + n] = f16_to_f32(w(n, k));
  }
  const std::size_t tile = (opt.k_tile == 0 || opt.k_tile >= K) ? K : opt.k_tile;
  const std::size_t tiles = K ? (K + tile - 1) / tile : 0;
  GemmResult r{MatrixH(M, N), {}};
  std::vector<float> acc(N), part(N);
  std::uint64_t inf = 0;
  for (std::size_t m = 0; m < M; ++m) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (std::size_t k0 = 0; k0 < K; k0 += tile) {
      const std::size_t k1 = std::min(K, k0 + tile);
      float* sum = tiles > 1 ? part.data() : acc.data();
      if (tiles > 1) std::fill(part.begin(), part.end(), 0.0f);
      for (std::size_t k = k0; k < k1; ++k) {
        const float xv = f16_to_f32(x(m, k));
        const float* wrow = wt.data() + k * N;
        for (std::size_t n = 0; n < N; ++n) sum[n] = sum[n] + xv * wrow[n];
      }
      if (tiles > 1) {
        for (std::size_t n = 0; n < N; ++n) acc[n] = acc[n] + part[n];
      }
    }
    for (std::size_t n = 0; n < N; ++n) r.y(m, n) = detail::to_output_f16(acc[n], inf);
  }
  ActionShape shape;
  shape.m = M, shape.n = N, shape.k = K, shape.opt = opt;
  detail::finish_output(r.counters, scheme, shape, inf);
  return r;
}

}  // namespace

GemmResult gemm_fp16(const MatrixH& x, const MatrixH& w, const GemmOptions& opt) {
  detail::validate_fp16(x, w);
  return fp16_core(x, w, opt, Scheme::fp16);
}

GemmResult gemm_w4a16(const MatrixH& x, const QuantizedWeights& w, const GemmOptions& opt) {
  detail::validate_w4a16(x, w);
  // w = F16(F32(q - z) * F32(s)), then the fp16 GEMM.
  // A dequantized weight beyond fp16's range becomes inf: counted as a dequant-range event.
  MatrixH wh(w.rows(), w.cols());
  std::uint64_t dequant_inf = 0;
  for (std::size_t n = 0; n < w.rows(); ++n) {
    for (std::size_t k = 0; k < w.cols(); ++k) {
      const std::size_t g = k / w.group_size;
      const float v = static_cast<float>(w.codes(n, k) - w.zero(n, g)) * w.scale(n, g);
      wh(n, k) = f32_to_f16(v);
      if (f16_is_inf(wh(n, k))) ++dequant_inf;
    }
  }
  GemmResult r = fp16_core(x, wh, opt, Scheme::w4a16);
  r.counters.add_overflow(stage::kDequantRange, dequant_inf);
  return r;
}

}  // namespace quasar
