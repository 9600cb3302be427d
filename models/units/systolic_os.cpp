#include "units/systolic_os.hpp"

#include <algorithm>
#include <string>

namespace quasar::units {

namespace {
std::int32_t wrap32(std::int64_t v) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)));
}
}  // namespace

SystolicOsArray::SystolicOsArray(int rows, int cols) : rows_(rows), cols_(cols) {
  if (rows < 1 || cols < 1) {
    throw std::invalid_argument("SystolicOsArray: rows and cols must be >= 1, got " +
                                std::to_string(rows) + " x " + std::to_string(cols));
  }
  reset();
}

void SystolicOsArray::reset() {
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  t_ = 0;
  valid_hist_.assign(R, 0);
  shift_hist_.assign(C * C, 0);
  x_.assign(R * C, 0);
  w_.assign(R * C, 0);
  v_.assign(R * C, 0);
  h_.assign(R * C, 0);
  acc_.assign(R * C, 0);
  x_skew_.assign(R, {});
  for (std::size_t r = 0; r < R; ++r) x_skew_[r].assign(r, {false, 0});
  w_skew_.assign(C, {});
  out_.assign(C, {});
  for (std::size_t c = 0; c < C; ++c) {
    w_skew_[c].assign(c, 0);
    out_[c].assign(C - c, {false, 0});
  }
}

SystolicOsOutputs SystolicOsArray::outputs() const {
  SystolicOsOutputs o;
  o.y_valid = true;
  o.y_out.resize(static_cast<std::size_t>(cols_));
  for (std::size_t c = 0; c < o.y_out.size(); ++c) {
    o.y_out[c] = out_[c].back().second;
    o.y_valid = o.y_valid && out_[c].back().first;  // y_valid = AND of the columns, as in the RTL
  }
  return o;
}

bool SystolicOsArray::y_valid() const {
  if (timing_only_) {
    const auto C = static_cast<std::size_t>(cols_);
    if (t_ == 0) return false;
    for (std::size_t c = 0; c < C; ++c) {
      const std::uint64_t d = C - 1 - c;  // ticks ago
      if (t_ < d + 1) return false;       // before reset: 0
      if (!shift_hist_[static_cast<std::size_t>((t_ - 1 - d) % C) * C + c]) return false;
    }
    return true;
  }
  for (const auto& line : out_)
    if (!line.back().first) return false;
  return true;
}

// The control half of tick(), in place and without allocating: the same valid, hold and shift
// decisions, rows bottom-up and columns right-to-left so each reads its neighbours' old state.
void SystolicOsArray::tick_control(const SystolicOsInputs& in) {
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  v_now_.resize(R * C);
  shift_.resize(C);
  valid_hist_.resize(R);
  shift_hist_.resize(C * C);
  valid_hist_[static_cast<std::size_t>(t_ % R)] = in.valid ? 1 : 0;
  for (std::size_t r = 0; r < R; ++r) {
    // Row r's skew line presents the valid of r ticks ago (0 before reset).
    const std::uint8_t skew = t_ >= r ? valid_hist_[static_cast<std::size_t>((t_ - r) % R)] : 0;
    v_now_[r * C] = skew;
    for (std::size_t c = 1; c < C; ++c) v_now_[r * C + c] = v_[r * C + c];
  }
  for (std::size_t c = 0; c < C; ++c) {
    const std::size_t b = (R - 1) * C + c;
    shift_[c] = (h_[b] != 0 && v_now_[b] == 0) ? 1 : 0;
  }
  for (std::size_t r = R; r-- > 0;) {
    for (std::size_t c = C; c-- > 0;) {
      const std::size_t i = r * C + c;
      if (c > 0) v_[i] = v_now_[i - 1];
      if (v_now_[i] != 0) {
        h_[i] = 1;
      } else if (shift_[c] != 0) {
        h_[i] = r > 0 ? h_[i - C] : 0;
      }
    }
  }
  std::copy(shift_.begin(), shift_.end(),
            shift_hist_.begin() + static_cast<std::ptrdiff_t>((t_ % C) * C));
  ++t_;
}

void SystolicOsArray::tick(const SystolicOsInputs& in) {
  if (timing_only_) {
    tick_control(in);
    return;
  }
  // Everything below reads the state before the edge and writes a new state: register
  // semantics by computing all next values first.
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  // What each PE sees this cycle: column 0's x and valid from the row skew lines, row 0's w from
  // the column skew lines, the others from their registers.
  std::vector<std::int8_t> x_now(R * C), w_now(R * C);
  std::vector<std::uint8_t> v_now(R * C);
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t i = r * C + c;
      if (c > 0) {
        x_now[i] = x_[i];
        v_now[i] = v_[i];
      } else if (r == 0) {
        x_now[i] = in.x_in[0];
        v_now[i] = in.valid ? 1 : 0;
      } else {
        x_now[i] = x_skew_[r].back().second;
        v_now[i] = x_skew_[r].back().first ? 1 : 0;
      }
      if (r > 0) {
        w_now[i] = w_[i];
      } else {
        w_now[i] = c == 0 ? in.w_in[0] : w_skew_[c].back();
      }
    }
  }
  // Column c shifts down when its bottom PE holds a sum and is not accumulating.
  std::vector<std::uint8_t> shift(C);
  for (std::size_t c = 0; c < C; ++c) {
    const std::size_t b = (R - 1) * C + c;
    shift[c] = (h_[b] != 0 && v_now[b] == 0) ? 1 : 0;
  }
  std::vector<std::int8_t> x_next = x_, w_next = w_;
  std::vector<std::uint8_t> v_next = v_, h_next = h_;
  std::vector<std::int32_t> acc_next = acc_;
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t i = r * C + c;
      if (c > 0) {
        x_next[i] = x_now[i - 1];
        v_next[i] = v_now[i - 1];
      }
      if (r > 0) w_next[i] = w_now[i - C];
      if (v_now[i] != 0) {
        const std::int64_t base = h_[i] != 0 ? acc_[i] : 0;
        acc_next[i] = wrap32(base + int{x_now[i]} * int{w_now[i]});
        h_next[i] = 1;
      } else if (shift[c] != 0) {
        acc_next[i] = r > 0 ? acc_[i - C] : 0;
        h_next[i] = r > 0 ? h_[i - C] : 0;
      }
    }
  }
  // Delay lines shift (newest at the front, the output at the back).
  for (std::size_t r = 1; r < R; ++r) {
    auto& line = x_skew_[r];
    for (std::size_t j = line.size(); j-- > 1;) line[j] = line[j - 1];
    line[0] = {in.valid, in.x_in[r]};
  }
  for (std::size_t c = 0; c < C; ++c) {
    auto& ws = w_skew_[c];
    for (std::size_t j = ws.size(); j-- > 1;) ws[j] = ws[j - 1];
    if (!ws.empty()) ws[0] = in.w_in[c];
    auto& out = out_[c];
    for (std::size_t j = out.size(); j-- > 1;) out[j] = out[j - 1];
    const std::size_t b = (R - 1) * C + c;
    out[0] = {shift[c] != 0, acc_[b]};
  }
  x_ = std::move(x_next);
  w_ = std::move(w_next);
  v_ = std::move(v_next);
  h_ = std::move(h_next);
  acc_ = std::move(acc_next);
}

SystolicOsTiming systolic_os_timing(int rows, int cols, std::size_t m, std::size_t k, std::size_t n,
                                    std::size_t k_chunk) {
  if (rows < 1 || cols < 1 || m == 0 || k == 0 || n == 0 || k_chunk == 0) {
    throw std::invalid_argument("systolic_os_timing: need rows, cols, M, K, N, k_chunk >= 1");
  }
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  SystolicOsTiming t;
  t.m_tiles = (m + R - 1) / R;
  t.n_tiles = (n + C - 1) / C;
  t.k_chunks = (k + k_chunk - 1) / k_chunk;
  t.full.load = 0;
  t.full.stream = std::min(k_chunk, k);
  t.full.drain = 2 * R + C - 2;
  t.last_chunk = t.full;
  t.last_chunk.stream = k - (t.k_chunks - 1) * k_chunk;
  const std::uint64_t mn = t.m_tiles * t.n_tiles;
  t.total.load = 0;
  t.total.stream = mn * k;  // the chunks of one (m, n) tile stream K cycles in all
  t.total.drain = mn * t.k_chunks * t.full.drain;
  return t;
}

SystolicOsRun systolic_os_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                               std::size_t k_chunk) {
  SystolicOsArray array(rows, cols);
  return run_systolic_os(array, x, w, k_chunk);
}

}  // namespace quasar::units
