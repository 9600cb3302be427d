#include "fast_engine.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <limits>
#include <thread>
#include <vector>

#include "int8_tiles.hpp"
#include "numerics/dint4.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm_checks.hpp"
#include "numerics/int_formats.hpp"
#include "numerics/int_kernels.hpp"

namespace quasar::cpu {
namespace {

// Segment length where an accumulator may wrap: short enough that a segment's bound often
// proves it safe, long enough to keep the kernels busy.
constexpr std::size_t kWrapSegment = 256;

// Event counts, one slot per worker (a cache line each), summed at the end: integer sums do
// not depend on which worker counted what.
struct alignas(64) WorkerCount {
  std::uint64_t n = 0;
};
std::uint64_t total(const std::vector<WorkerCount>& c) {
  std::uint64_t t = 0;
  for (const WorkerCount& w : c) t += w.n;
  return t;
}

// The packed operands' buffers, kept by the calling thread from one GEMM to the next (a
// model's layers have similar shapes): reusing them saves the page faults and zero fill of a
// fresh allocation, a tenth of a 512 x 4096 x 4096 GEMM. Buffers above kKeepBytes are freed.
struct PackScratch {
  std::vector<std::uint8_t> acts;
  std::vector<std::int8_t> weights;
};
constexpr std::size_t kKeepBytes = std::size_t{64} << 20;
PackScratch& pack_scratch() {
  static thread_local PackScratch s;
  return s;
}
void keep(PackedActs& a, PackedWeights& b) {
  PackScratch& s = pack_scratch();
  if (a.data.capacity() <= kKeepBytes) s.acts = std::move(a.data);
  if (b.data.capacity() <= kKeepBytes) s.weights = std::move(b.data);
}

// The output matrix, allocated on a thread of its own while the operands are checked and
// packed: its zero fill and page faults (4 MB and about 5 ms for 512 x 4096) would otherwise
// be serial time ahead of the parallel work.
class OutputAlloc {
 public:
  OutputAlloc(std::size_t rows, std::size_t cols, unsigned threads) {
    if (threads <= 1) {
      y_ = MatrixH(rows, cols);
      return;
    }
    t_ = std::thread([this, rows, cols] {
      try {
        y_ = MatrixH(rows, cols);
      } catch (...) {
        failure_ = std::current_exception();
      }
    });
  }
  OutputAlloc(const OutputAlloc&) = delete;
  OutputAlloc& operator=(const OutputAlloc&) = delete;
  ~OutputAlloc() {
    if (t_.joinable()) t_.join();
  }
  MatrixH& get() {
    if (t_.joinable()) t_.join();
    if (failure_) std::rethrow_exception(failure_);
    return y_;
  }

 private:
  MatrixH y_;
  std::exception_ptr failure_;
  std::thread t_;
};

// max |v| over a matrix, in parallel chunks (a weight matrix is tens of MB: serial work here
// would bound the thread scaling).
int max_abs_of(const KernelSet& ks, const MatrixI8& m, unsigned threads) {
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  const std::size_t chunks = (m.size() + kChunk - 1) / kChunk;
  std::vector<int> part(chunks, 0);
  parallel_for(chunks, threads, [&](std::size_t c, unsigned) {
    const std::size_t b = c * kChunk;
    part[c] = ks.max_abs(m.values().data() + b, std::min(kChunk, m.size() - b));
  });
  int a = 0;
  for (int p : part) a = std::max(a, p);
  return a;
}

// Largest value every prefix must stay within for no wrap to be possible: 2^(bits-1) - 1.
int128_t no_wrap_limit(int bits) { return (int128_t{1} << (bits - 1)) - 1; }

// sum_{k in each segment} |x[m, k]|, [m][segment]: with max|w| it bounds every prefix of the
// segment's dot products of row m.
std::vector<std::int64_t> row_abs_sums(const MatrixI8& x, const Segments& seg) {
  std::vector<std::int64_t> out(x.rows() * seg.count, 0);
  for (std::size_t m = 0; m < x.rows(); ++m) {
    const std::int8_t* row = x.row(m);
    for (std::size_t s = 0; s < seg.count; ++s) {
      std::int64_t a = 0;
      for (std::size_t k = seg.begin(s); k < seg.end(s); ++k) a += row[k] < 0 ? -row[k] : row[k];
      out[m * seg.count + s] = a;
    }
  }
  return out;
}

// The reference's accumulator steps (WrappingAccumulator's rule), continued from `acc`:
// acc = wrap(acc + a[k] * b[k]) in k order, counting each step whose exact sum left `bits`.
std::int64_t wrapping_steps(std::int64_t acc, const std::int8_t* a, const std::int8_t* b,
                            std::size_t n, int bits, std::uint64_t& wraps) {
  for (std::size_t k = 0; k < n; ++k) {
    const int128_t exact =
        static_cast<int128_t>(acc) + static_cast<int>(a[k]) * static_cast<int>(b[k]);
    if (fits_signed(exact, bits)) {
      acc = static_cast<std::int64_t>(exact);
    } else {
      acc = wrap_signed(exact, bits);
      ++wraps;
    }
  }
  return acc;
}

// The epilogue of the int8-operand schemes, in the reference's order:
// y[m, n] = F16(F32(acc) * ((s_x[m] * col[n]) * post) [+ bias[n]]).
struct IntEpilogue {
  std::vector<float> col;       // N
  float post = 1.0f;            // w4a8-dint's 0.5 (a factor of 1 is exact)
  const float* bias = nullptr;  // N, or none
};

std::vector<float> channel_scales(const QuantizedWeights& w) {
  std::vector<float> c(w.rows());
  for (std::size_t n = 0; n < w.rows(); ++n) c[n] = w.scale(n, 0);
  return c;
}

// The K-long integer GEMM every int8-operand scheme shares (the reference's int8_gemm) and its
// epilogue: acc[m, n] = sum_k x[m, k] * w[n, k] in a `bits`-wide wrapping accumulator, k
// increasing, written to y through `ep`. `bmax` bounds |w| (the matrix's own max for weights
// read in place; the format's largest value for decoded ones: a looser bound only sends more
// segments through the checked path). Returns the accumulator's wraps; adds to `inf` the
// outputs that became infinite.
std::uint64_t int8_gemm_fast(const KernelSet& ks, unsigned threads, const QuantizedActivations& xa,
                             const WeightRows& wr, int bmax, int bits, const IntEpilogue& ep,
                             OutputAlloc& out, std::uint64_t& inf) {
  const MatrixI8& x = xa.q;
  const std::size_t M = x.rows(), N = wr.rows, K = x.cols();
  const int amax = max_abs_of(ks, x, threads);
  // The reference's bound: when it holds, every prefix fits and the exact sum is the answer.
  const bool exact = dot_cannot_wrap(K, amax, bmax, bits);
  // Where a segment may have to be stepped k by k, the steps read the weights' rows: decoded
  // weights are made once into a matrix here (this path is for accumulators narrow enough to
  // wrap, not for speed).
  MatrixI8 made;
  if (!exact && !wr.matrix) {
    made = MatrixI8(N, K);
    parallel_for(N, threads, [&](std::size_t n, unsigned worker) {
      const std::int8_t* row = wr.row(n, worker, made.row(n));
      if (row != made.row(n)) std::copy(row, row + K, made.row(n));
    });
  }
  const WeightRows src = exact || wr.matrix ? wr : rows_of(made);
  const MatrixI8* w = src.matrix;  // the rows the checked path steps through
  const Segments seg(K, std::min(K, exact ? kMaxSegment : kWrapSegment));
  PackedActs a = pack_acts(x, seg, threads, std::move(pack_scratch().acts));
  PackedWeights b = pack_weights(src, seg, threads, std::move(pack_scratch().weights));
  std::vector<std::int64_t> row_abs;
  if (!exact) row_abs = row_abs_sums(x, seg);
  const int128_t lim = no_wrap_limit(bits);
  std::vector<WorkerCount> wraps(threads), infs(threads);
  MatrixH& y = out.get();
  run_tiles(
      ks, a, b, threads, [&](unsigned worker, std::size_t m0, std::size_t n0, TileSums& sums) {
        const std::size_t rows = std::min(kMr, M - m0), cols = std::min(kNr, N - n0);
        const float* col = ep.col.data() + n0;
        const float* bias = ep.bias ? ep.bias + n0 : nullptr;
        if (exact && seg.count == 1) {
          // The common case: one segment, the int32 tile is the accumulator.
          const std::int32_t* p = sums(0);
          for (std::size_t r = 0; r < rows; ++r) {
            infs[worker].n += ks.int_out32(p + r * kNr, xa.scale_of(m0 + r), col, ep.post, bias,
                                           y.row(m0 + r) + n0, cols);
          }
          return;
        }
        std::int64_t acc[kMr][kNr] = {};
        for (std::size_t s = 0; s < seg.count; ++s) {
          const std::int32_t* p = sums(s);
          for (std::size_t r = 0; r < rows; ++r) {
            if (exact) {
              for (std::size_t j = 0; j < cols; ++j) acc[r][j] += p[r * kNr + j];
              continue;
            }
            // Every prefix inside the segment is within |acc| + bound of zero: when that fits,
            // no step can wrap and the exact segment sum is what the k-ordered steps give.
            const int128_t bound = static_cast<int128_t>(row_abs[(m0 + r) * seg.count + s]) * bmax;
            for (std::size_t j = 0; j < cols; ++j) {
              const std::int64_t v = acc[r][j];
              const int128_t mag = v < 0 ? -static_cast<int128_t>(v) : static_cast<int128_t>(v);
              if (mag + bound <= lim) {
                acc[r][j] = v + p[r * kNr + j];
              } else {
                const std::size_t k0 = seg.begin(s);
                acc[r][j] = wrapping_steps(v, x.row(m0 + r) + k0, w->row(n0 + j) + k0,
                                           seg.end(s) - k0, bits, wraps[worker].n);
              }
            }
          }
        }
        for (std::size_t r = 0; r < rows; ++r) {
          infs[worker].n += ks.int_out64(acc[r], xa.scale_of(m0 + r), col, ep.post, bias,
                                         y.row(m0 + r) + n0, cols);
        }
      });
  keep(a, b);
  inf += total(infs);
  return total(wraps);
}

ActionShape int_shape(std::size_t M, std::size_t N, std::size_t K, const GemmOptions& opt) {
  ActionShape shape;
  shape.m = M, shape.n = N, shape.k = K, shape.opt = opt;
  return shape;
}

// Per-(n, g) parameters transposed to [group][n], so a tile row's columns read contiguously.
// `at(n, g)` reads one (QuantizedWeights::scale also serves a per-tensor scale row).
template <class T, class At>
std::vector<T> by_group(std::size_t rows, std::size_t groups, At&& at) {
  std::vector<T> t(groups * rows);
  for (std::size_t n = 0; n < rows; ++n)
    for (std::size_t g = 0; g < groups; ++g) t[g * rows + n] = at(n, g);
  return t;
}

}  // namespace

FastCpuEngine::FastCpuEngine(const FastCpuOptions& opt)
    : threads_(opt.threads ? opt.threads : default_threads()),
      kernels_(&kernels(opt.isa ? *opt.isa : best_isa())) {}

std::string FastCpuEngine::describe() const {
  return "fast CPU kernels (" + std::string(isa_name(kernels_->isa)) + ", " +
         std::to_string(threads_) + (threads_ == 1 ? " thread)" : " threads)");
}

GemmResult FastCpuEngine::fp16(const MatrixH& x, const MatrixH& w, const GemmOptions& o) const {
  return gemm_fp16(x, w, o);
}
GemmResult FastCpuEngine::w4a16(const MatrixH& x, const QuantizedWeights& w,
                                const GemmOptions& o) const {
  return gemm_w4a16(x, w, o);
}
GemmResult FastCpuEngine::block_scaled(Scheme s, const BlockTensor& x, const BlockTensor& w,
                                       const GemmOptions& o) const {
  return gemm_block_scheme(s, x, w, o);
}

GemmResult FastCpuEngine::w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                               const GemmOptions& opt) const {
  quasar::detail::validate_w8a8(x, w, opt);
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols();
  OutputAlloc y(M, N, threads_);
  // y = F16(F32(acc) * (F32(s_x[m]) * F32(s_w[n]))): the scale product first.
  IntEpilogue ep;
  ep.col = channel_scales(w);
  std::uint64_t inf = 0;
  const std::uint64_t wraps =
      int8_gemm_fast(*kernels_, threads_, x, rows_of(w.codes),
                     max_abs_of(*kernels_, w.codes, threads_), opt.acc_bits, ep, y, inf);
  GemmResult r{std::move(y.get()), {}};
  r.counters.add_overflow(stage::kAccumulator, wraps);
  quasar::detail::finish_output(r.counters, Scheme::w8a8, int_shape(M, N, K, opt), inf);
  return r;
}

GemmResult FastCpuEngine::w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                                    const GemmOptions& opt) const {
  quasar::detail::validate_w4a8_dint(x, w, opt);
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols();
  // Decode every code through the table to w2 = 2 * value (a small exact integer), a panel at
  // a time as the packer asks for the rows.
  const Dint4Table& table = dint4_table(w.dint_set);
  std::vector<WorkerCount> invalid(threads_);
  std::uint8_t invalid_code[16];
  for (std::size_t c = 0; c < 16; ++c) invalid_code[c] = table.valid[c] ? 0 : 1;
  WeightRows w2;
  w2.rows = N;
  w2.cols = K;
  w2.row = [&](std::size_t n, unsigned worker, std::int8_t* buf) {
    invalid[worker].n += kernels_->decode16(w.codes.row(n), table.w2.data(), invalid_code, buf, K);
    return static_cast<const std::int8_t*>(buf);
  };
  OutputAlloc y(M, N, threads_);
  // y = F16(F32(acc2) * (F32(s_x[m]) * F32(s_w[n]) * 0.5)), left to right.
  IntEpilogue ep;
  ep.col = channel_scales(w);
  ep.post = 0.5f;
  std::uint64_t inf = 0;
  // |w2| <= 2 * the set's largest level (the CUDA path's bound too).
  const std::uint64_t wraps =
      int8_gemm_fast(*kernels_, threads_, x, w2, 2 * table.max_level, opt.acc_bits, ep, y, inf);
  GemmResult r{std::move(y.get()), {}};
  r.counters.invalid_codes = total(invalid);
  r.counters.add_overflow(stage::kAccumulator, wraps);
  quasar::detail::finish_output(r.counters, Scheme::w4a8_dint, int_shape(M, N, K, opt), inf);
  return r;
}

GemmResult FastCpuEngine::two_level(const QuantizedActivations& x, const TwoLevelWeights& w,
                                    DequantMode mode, const GemmOptions& opt, Scheme scheme) const {
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols();
  const DequantRange range = scheme == Scheme::w4a8_dgq ? kDgqDequantRange : kQserveDequantRange;
  // Both DGQ modes compute the same int8 weights (the reference's tests check it); only the
  // action counts say which the hardware does. w8 = (q - z) * S, saturated and counted, made
  // a panel at a time as the packer asks for the rows (no N x K copy, as in the fused mode).
  const std::size_t G = w.group_size;
  std::vector<WorkerCount> range_events(threads_);
  WeightRows w8;
  w8.rows = N;
  w8.cols = K;
  w8.row = [&](std::size_t n, unsigned worker, std::int8_t* buf) {
    for (std::size_t g = 0; g < w.groups(); ++g) {
      // two_level_value's (q - z) * S, one group at a time (z and S fixed).
      range_events[worker].n +=
          kernels_->dequant(w.q.row(n) + g * G, w.zeros(n, g), w.group_scale(n, g), range.lo,
                            range.hi, buf + g * G, G);
    }
    return static_cast<const std::int8_t*>(buf);
  };
  OutputAlloc y(M, N, threads_);
  // y = F16(F32(acc) * (F32(s_ch[n]) * F32(s_x)) [+ bias]): s_ch * s_x == s_x * s_ch exactly.
  IntEpilogue ep;
  ep.col = w.channel_scale;
  ep.bias = w.bias.empty() ? nullptr : w.bias.data();
  std::uint64_t inf = 0;
  // |w8| <= the unit's saturation range (the CUDA path's bound too).
  const std::uint64_t wraps = int8_gemm_fast(
      *kernels_, threads_, x, w8, std::max(-range.lo, range.hi), opt.acc_bits, ep, y, inf);
  GemmResult r{std::move(y.get()), {}};
  r.counters.add_overflow(stage::kAccumulator, wraps);
  ActionShape shape = int_shape(M, N, K, opt);
  shape.bias = !w.bias.empty();
  shape.dequant = mode;
  quasar::detail::finish_output(r.counters, scheme, shape, inf);
  r.counters.add_overflow(stage::kDequantRange, total(range_events));
  return r;
}

GemmResult FastCpuEngine::w4a8_dgq(const QuantizedActivations& x, const TwoLevelWeights& w,
                                   DequantMode mode, const GemmOptions& opt) const {
  quasar::detail::validate_two_level_gemm(x, w, opt, Scheme::w4a8_dgq);
  return two_level(x, w, mode, opt, Scheme::w4a8_dgq);
}

GemmResult FastCpuEngine::w4a8_qserve(const QuantizedActivations& x, const TwoLevelWeights& w,
                                      const GemmOptions& opt) const {
  quasar::detail::validate_two_level_gemm(x, w, opt, Scheme::w4a8_qserve);
  // The reference counts QServe's actions as fused dequantization.
  return two_level(x, w, DequantMode::fused, opt, Scheme::w4a8_qserve);
}

namespace {

// The group partial sums P[m, n, g] of w4a8-fs/is, tile by tile. `visit(worker, m0, n0, rows,
// cols, g, p)` sees each group's P in increasing g, then `finish(worker, m0, n0, rows, cols, y)`
// with the output matrix from `out`.
// P is exact from the kernels, except for a row whose |x| sum over the group could take a
// prefix out of psum_bits: that row's sums are stepped by the reference's wrapping dot.
template <class Visit, class Finish>
std::uint64_t group_sums(const KernelSet& ks, unsigned threads, const QuantizedActivations& x,
                         const QuantizedWeights& w, int psum_bits, OutputAlloc& out, Visit&& visit,
                         Finish&& finish) {
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols(), G = w.group_size;
  const int bmax = max_abs_of(ks, w.codes, threads);
  const bool exact = dot_cannot_wrap(G, max_abs_of(ks, x.q, threads), bmax, psum_bits);
  const Segments seg(K, G);
  PackedActs a = pack_acts(x.q, seg, threads, std::move(pack_scratch().acts));
  PackedWeights b = pack_weights(rows_of(w.codes), seg, threads, std::move(pack_scratch().weights));
  std::vector<std::int64_t> row_abs;
  if (!exact) row_abs = row_abs_sums(x.q, seg);
  const int128_t lim = no_wrap_limit(psum_bits);
  std::vector<WorkerCount> wraps(std::max(threads, 1u));
  MatrixH& y = out.get();
  run_tiles(
      ks, a, b, threads, [&](unsigned worker, std::size_t m0, std::size_t n0, TileSums& sums) {
        const std::size_t rows = std::min(kMr, M - m0), cols = std::min(kNr, N - n0);
        for (std::size_t g = 0; g < seg.count; ++g) {
          std::int32_t* p = sums(g);
          for (std::size_t r = 0; r < rows && !exact; ++r) {
            if (static_cast<int128_t>(row_abs[(m0 + r) * seg.count + g]) * bmax <= lim) continue;
            const std::size_t k0 = g * G;
            for (std::size_t j = 0; j < cols; ++j) {
              // A wrap is possible only below 28 bits here (G <= 2^16, |x w| <= 2^10), so the
              // wrapped value fits the int32 tile.
              p[r * kNr + j] = static_cast<std::int32_t>(dot_i8_wrapping(
                  x.q.row(m0 + r) + k0, w.codes.row(n0 + j) + k0, G, psum_bits, wraps[worker].n));
            }
          }
          visit(worker, m0, n0, rows, cols, g, p);
        }
        finish(worker, m0, n0, rows, cols, y);
      });
  keep(a, b);
  return total(wraps);
}

// Groups longer than the packer's segment do not occur in practice; the reference runs them.
bool group_too_long(const QuantizedWeights& w) { return w.group_size > kMaxSegment; }

}  // namespace

GemmResult FastCpuEngine::w4a8_fs(const QuantizedActivations& x, const QuantizedWeights& w,
                                  const GemmOptions& opt) const {
  quasar::detail::validate_w4a8_group(x, w, opt, "w4a8-fs");
  if (group_too_long(w)) return gemm_w4a8_fs(x, w, opt);
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols(), groups = w.groups();
  const std::vector<float> s =
      by_group<float>(N, groups, [&](std::size_t n, std::size_t g) { return w.scale(n, g); });
  OutputAlloc out(M, N, threads_);
  std::vector<WorkerCount> inf(threads_);
  // Each worker's fp32 accumulators for the tile it is on.
  std::vector<std::vector<float>> acc(threads_, std::vector<float>(kMr * kNr));
  const std::uint64_t wraps = group_sums(
      *kernels_, threads_, x, w, opt.psum_bits, out,
      [&](unsigned worker, std::size_t, std::size_t n0, std::size_t rows, std::size_t cols,
          std::size_t g, const std::int32_t* p) {
        float* a = acc[worker].data();
        if (g == 0) std::fill(a, a + kMr * kNr, 0.0f);
        // acc_f = sum_g F32(P) * F32(s[n,g]), g increasing, multiply then add, each rounded.
        for (std::size_t i = 0; i < rows; ++i)
          kernels_->fs_step(p + i * kNr, s.data() + g * N + n0, a + i * kNr, cols);
      },
      [&](unsigned worker, std::size_t m0, std::size_t n0, std::size_t rows, std::size_t cols,
          MatrixH& y) {
        const float* a = acc[worker].data();
        if (groups == 0) std::fill(acc[worker].begin(), acc[worker].end(), 0.0f);
        // y = F16(acc_f * F32(s_x[m]))
        for (std::size_t i = 0; i < rows; ++i) {
          inf[worker].n +=
              kernels_->float_out(a + i * kNr, x.scale_of(m0 + i), y.row(m0 + i) + n0, cols);
        }
      });
  GemmResult r{std::move(out.get()), {}};
  r.counters.add_overflow(stage::kGroupPartialSum, wraps);
  ActionShape shape = int_shape(M, N, K, opt);
  shape.groups = groups;
  quasar::detail::finish_output(r.counters, Scheme::w4a8_fs, shape, total(inf));
  return r;
}

GemmResult FastCpuEngine::w4a8_is(const QuantizedActivations& x, const QuantizedWeights& w,
                                  const IntegerScales& is, const GemmOptions& opt) const {
  quasar::detail::validate_w4a8_group(x, w, opt, "w4a8-is");
  const std::int64_t s_max = quasar::detail::validate_int_scales(w, is);
  if (group_too_long(w)) return gemm_w4a8_is(x, w, is, opt);
  const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols(), groups = w.groups();
  // The reference's bound: no prefix of sum_g P * S can leave the accumulator when
  // groups * max|P| * max S fits; then the products add exactly in int64.
  const int amax = max_abs_of(*kernels_, x.q, threads_);
  const int bmax = max_abs_of(*kernels_, w.codes, threads_);
  const int128_t p_bound = std::min<int128_t>(static_cast<int128_t>(w.group_size) * amax * bmax,
                                              int128_t{1} << (opt.psum_bits - 1));
  const int128_t bound = static_cast<int128_t>(groups) * p_bound * s_max;
  const bool exact = fits_signed(bound, opt.acc_bits) && fits_signed(-bound, opt.acc_bits);
  // Under a 32-bit bound every product and prefix fits int32: the step runs on int32 lanes.
  const bool exact32 = exact && fits_signed(bound, 32) && fits_signed(-bound, 32);
  const std::vector<std::int32_t> S =
      by_group<std::int32_t>(N, groups, [&](std::size_t n, std::size_t g) { return is.S(n, g); });
  const float amp_inv = exp2_exact(-is.bits);
  OutputAlloc out(M, N, threads_);
  std::vector<WorkerCount> inf(threads_), acc_wraps(threads_);
  std::vector<std::vector<std::int64_t>> acc(threads_, std::vector<std::int64_t>(kMr * kNr));
  std::vector<std::vector<std::int32_t>> acc32(threads_, std::vector<std::int32_t>(kMr * kNr));
  const std::uint64_t psum_wraps = group_sums(
      *kernels_, threads_, x, w, opt.psum_bits, out,
      [&](unsigned worker, std::size_t, std::size_t n0, std::size_t rows, std::size_t cols,
          std::size_t g, const std::int32_t* p) {
        std::int64_t* a = acc[worker].data();
        const std::int32_t* Sg = S.data() + g * N + n0;
        if (exact32) {
          std::int32_t* a32 = acc32[worker].data();
          if (g == 0) std::fill(a32, a32 + kMr * kNr, 0);
          for (std::size_t i = 0; i < rows; ++i)
            kernels_->is_step32(p + i * kNr, Sg, a32 + i * kNr, cols);
          return;
        }
        if (g == 0) std::fill(a, a + kMr * kNr, 0);
        for (std::size_t i = 0; i < rows; ++i) {
          if (exact) {
            kernels_->is_step(p + i * kNr, Sg, a + i * kNr, cols);
            continue;
          }
          // The reference's WrappingAccumulator step on the exact product P * S.
          for (std::size_t j = 0; j < cols; ++j) {
            const int128_t e = static_cast<int128_t>(a[i * kNr + j]) +
                               static_cast<int128_t>(p[i * kNr + j]) * Sg[j];
            if (fits_signed(e, opt.acc_bits)) {
              a[i * kNr + j] = static_cast<std::int64_t>(e);
            } else {
              a[i * kNr + j] = wrap_signed(e, opt.acc_bits);
              ++acc_wraps[worker].n;
            }
          }
        }
      },
      [&](unsigned worker, std::size_t m0, std::size_t n0, std::size_t rows, std::size_t cols,
          MatrixH& y_out) {
        if (groups == 0) std::fill(acc[worker].begin(), acc[worker].end(), 0);
        const std::int64_t* a = acc[worker].data();
        const std::int32_t* a32 = acc32[worker].data();
        for (std::size_t i = 0; i < rows; ++i) {
          // y = F16(F32(acc) * (F32(s_x[m]) * 2^-b)): the row's scale, times 1 (exact).
          const float scale = x.scale_of(m0 + i) * amp_inv;
          std::uint16_t* y = y_out.row(m0 + i) + n0;
          inf[worker].n +=
              exact32 && groups
                  ? kernels_->int_out32(a32 + i * kNr, scale, nullptr, 1.0f, nullptr, y, cols)
                  : kernels_->int_out64(a + i * kNr, scale, nullptr, 1.0f, nullptr, y, cols);
        }
      });
  GemmResult r{std::move(out.get()), {}};
  r.counters.add_overflow(stage::kGroupPartialSum, psum_wraps);
  r.counters.add_overflow(stage::kIntScaleAcc, total(acc_wraps));
  ActionShape shape = int_shape(M, N, K, opt);
  shape.groups = groups;
  shape.int_scale_max = s_max;
  quasar::detail::finish_output(r.counters, Scheme::w4a8_is, shape, total(inf));
  return r;
}

const FastCpuEngine& fast_cpu_engine() {
  static const FastCpuEngine engine;
  return engine;
}

const GemmEngine& default_cpu_engine(std::string& note) {
  const char* env = std::getenv("QUASAR_CPU_ENGINE");
  const std::string choice = env ? env : "fast";
  if (choice == "reference") {
    note = "reference (QUASAR_CPU_ENGINE=reference)";
    return cpu_engine();
  }
  if (choice != "fast") {
    throw Error("QUASAR_CPU_ENGINE='" + choice + "'; accepted: fast, reference");
  }
  const FastCpuEngine& e = fast_cpu_engine();
  note = e.describe();
  return e;
}

}  // namespace quasar::cpu
