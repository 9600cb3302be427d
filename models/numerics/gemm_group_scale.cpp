// W4A8 with per-group scales: w4a8-fs (group partial sums rescaled in fp32) and w4a8-is
// (Integer Scale: the same partial sums rescaled by integer scales in an integer accumulator).
#include <algorithm>
#include <vector>

#include "error.hpp"
#include "gemm.hpp"
#include "gemm_checks.hpp"
#include "int_formats.hpp"
#include "int_kernels.hpp"

namespace quasar {
namespace {

// P[m,n,g] = sum over group g of x * q, in a psum_bits-wide wrapping sum, for one (m, n).
class GroupPartialSums {
 public:
  GroupPartialSums(const QuantizedActivations& x, const QuantizedWeights& w, int psum_bits)
      : x_(x),
        w_(w),
        bits_(psum_bits),
        exact_(dot_cannot_wrap(w.group_size, max_abs(x.q), max_abs(w.codes), psum_bits)) {}

  std::int64_t operator()(std::size_t m, std::size_t n, std::size_t g) {
    const std::size_t k0 = g * w_.group_size;
    const std::int8_t* a = x_.q.row(m) + k0;
    const std::int8_t* b = w_.codes.row(n) + k0;
    return exact_ ? dot_i8_exact(a, b, w_.group_size)
                  : dot_i8_wrapping(a, b, w_.group_size, bits_, wraps);
  }
  // Largest |P| possible: bounds the integer-scale accumulation for its own fast path.
  int128_t bound() const {
    const int128_t b = static_cast<int128_t>(w_.group_size) * max_abs(x_.q) * max_abs(w_.codes);
    return std::min<int128_t>(b, int128_t{1} << (bits_ - 1));
  }
  std::uint64_t wraps = 0;

 private:
  const QuantizedActivations& x_;
  const QuantizedWeights& w_;
  int bits_;
  bool exact_;
};

}  // namespace

GemmResult gemm_w4a8_fs(const QuantizedActivations& x, const QuantizedWeights& w,
                        const GemmOptions& opt) {
  detail::validate_w4a8_group(x, w, opt, "w4a8-fs");
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols(), groups = w.groups();
  GroupPartialSums psum(x, w, opt.psum_bits);
  GemmResult r{MatrixH(M, N), {}};
  std::uint64_t inf = 0;
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      // acc_f = sum_g F32(P) * F32(s[n,g]), g increasing, multiply then add, each rounded.
      float acc = 0.0f;
      for (std::size_t g = 0; g < groups; ++g) {
        const float term = static_cast<float>(psum(m, n, g)) * w.scale(n, g);
        acc = acc + term;
      }
      r.y(m, n) = detail::to_output_f16(acc * x.scale_of(m), inf);
    }
  }
  r.counters.add_overflow(stage::kGroupPartialSum, psum.wraps);
  ActionShape shape;
  shape.m = M, shape.n = N, shape.k = K, shape.groups = groups, shape.opt = opt;
  detail::finish_output(r.counters, Scheme::w4a8_fs, shape, inf);
  return r;
}

GemmResult gemm_w4a8_is(const QuantizedActivations& x, const QuantizedWeights& w,
                        const IntegerScales& s, const GemmOptions& opt) {
  detail::validate_w4a8_group(x, w, opt, "w4a8-is");
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols(), groups = w.groups();
  const std::int64_t s_max = detail::validate_int_scales(w, s);
  GroupPartialSums psum(x, w, opt.psum_bits);
  // No prefix of sum_g P * S can leave the accumulator when groups * max|P| * max S fits.
  const int128_t bound = static_cast<int128_t>(groups) * psum.bound() * s_max;
  const bool exact = fits_signed(bound, opt.acc_bits) && fits_signed(-bound, opt.acc_bits);
  const float amp_inv = exp2_exact(-s.bits);
  GemmResult r{MatrixH(M, N), {}};
  std::uint64_t inf = 0, acc_wraps = 0;
  for (std::size_t m = 0; m < M; ++m) {
    // y = F16(F32(acc) * (F32(s_x[m]) * 2^-b))
    const float scale = x.scale_of(m) * amp_inv;
    for (std::size_t n = 0; n < N; ++n) {
      std::int64_t acc_value;
      if (exact) {
        acc_value = 0;
        for (std::size_t g = 0; g < groups; ++g) acc_value += psum(m, n, g) * s.S(n, g);
      } else {
        WrappingAccumulator acc(opt.acc_bits);
        for (std::size_t g = 0; g < groups; ++g) {
          acc.add(static_cast<int128_t>(psum(m, n, g)) * s.S(n, g));
        }
        acc_wraps += acc.wraps();
        acc_value = acc.value();
      }
      r.y(m, n) = detail::to_output_f16(static_cast<float>(acc_value) * scale, inf);
    }
  }
  r.counters.add_overflow(stage::kGroupPartialSum, psum.wraps);
  r.counters.add_overflow(stage::kIntScaleAcc, acc_wraps);
  ActionShape shape;
  shape.m = M, shape.n = N, shape.k = K, shape.groups = groups, shape.opt = opt;
  shape.int_scale_max = s_max;
  detail::finish_output(r.counters, Scheme::w4a8_is, shape, inf);
  return r;
}

}  // namespace quasar
