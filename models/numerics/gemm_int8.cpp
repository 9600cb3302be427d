// Schemes whose whole K reduction is one int8-operand integer GEMM: w8a8, w4a8-dint, and (in
// gemm_two_level.cpp) the dequantize-to-int8 schemes.
#include "error.hpp"
#include "gemm.hpp"
#include "gemm_checks.hpp"
#include "int_kernels.hpp"

namespace quasar {

GemmResult gemm_w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                     const GemmOptions& opt) {
  detail::validate_w8a8(x, w, opt);
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols();
  const Int8GemmResult p = int8_gemm(x.q, w.codes, opt.acc_bits);
  GemmResult r{MatrixH(M, N), {}};
  std::uint64_t inf = 0;
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      // y = F16(F32(acc) * (F32(s_x[m]) * F32(s_w[n]))): the scale product first.
      const float scale = x.scale_of(m) * w.scale(n, 0);
      r.y(m, n) = detail::to_output_f16(static_cast<float>(p.acc[m * N + n]) * scale, inf);
    }
  }
  r.counters.add_overflow(stage::kAccumulator, p.wraps);
  ActionShape shape;
  shape.m = M, shape.n = N, shape.k = K, shape.opt = opt;
  detail::finish_output(r.counters, Scheme::w8a8, shape, inf);
  return r;
}

GemmResult gemm_w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                          const GemmOptions& opt) {
  detail::validate_w4a8_dint(x, w, opt);
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols();
  // Decode every code through the table to w2 = 2 * value (a small exact integer).
  const Dint4Table& table = dint4_table(w.dint_set);
  MatrixI8 w2(N, K);
  std::uint64_t invalid = 0;
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t k = 0; k < K; ++k) {
      const auto code = static_cast<std::uint8_t>(w.codes(n, k));
      if (!table.valid[code]) ++invalid;
      w2(n, k) = table.w2[code];
    }
  }
  const Int8GemmResult p = int8_gemm(x.q, w2, opt.acc_bits);
  GemmResult r{MatrixH(M, N), {}};
  std::uint64_t inf = 0;
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      // y = F16(F32(acc2) * (F32(s_x[m]) * F32(s_w[n]) * 0.5)), left to right.
      const float scale = x.scale_of(m) * w.scale(n, 0) * 0.5f;
      r.y(m, n) = detail::to_output_f16(static_cast<float>(p.acc[m * N + n]) * scale, inf);
    }
  }
  r.counters.invalid_codes = invalid;
  r.counters.add_overflow(stage::kAccumulator, p.wraps);
  ActionShape shape;
  shape.m = M, shape.n = N, shape.k = K, shape.opt = opt;
  detail::finish_output(r.counters, Scheme::w4a8_dint, shape, inf);
  return r;
}

}  // namespace quasar
