#include "units/systolic_os.hpp"

#include <algorithm>
#include <string>

namespace quasar::units {

namespace {
std::int32_t wrap32(std::int64_t v) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)));
}
}  // namespace

SystolicOsArray::SystolicOsArray(int rows, int cols, int acc_banks)
    : rows_(rows), cols_(cols), banks_(acc_banks) {
  if (rows < 1 || cols < 1) {
    throw std::invalid_argument("SystolicOsArray: rows and cols must be >= 1, got " +
                                std::to_string(rows) + " x " + std::to_string(cols));
  }
  if (acc_banks != 1 && acc_banks != 2) {
    throw std::invalid_argument("SystolicOsArray: acc_banks must be 1 or 2, got " +
                                std::to_string(acc_banks));
  }
  reset();
}

void SystolicOsArray::reset() {
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  const std::size_t shadow = banks_ == 2 ? R * C : 0;
  t_ = 0;
  valid_hist_.assign(R, 0);
  shift_hist_.assign(C * C, 0);
  v_now_.assign(R * C, 0);
  l_now_.assign(R * C, 0);
  shift_.assign(C, 0);
  first_.assign(C, 0);
  x0_.assign(R, 0);
  w0_.assign(C, 0);
  x_.assign(R * C, 0);
  w_.assign(R * C, 0);
  v_.assign(R * C, 0);
  l_.assign(R * C, 0);
  h_.assign(R * C, 0);
  acc_.assign(R * C, 0);
  hs_.assign(shadow, 0);
  u_.assign(shadow, 0);
  grp_.assign(banks_ == 2 ? (R + 1) * C : 0, 0);
  s_.assign(shadow, 0);
  x_skew_.assign(R, {});
  for (std::size_t r = 0; r < R; ++r) x_skew_[r].assign(r, Skewed{});
  w_skew_.assign(C, {});
  out_.assign(C, {});
  for (std::size_t c = 0; c < C; ++c) {
    w_skew_[c].assign(c, 0);
    out_[c].assign(C - c, {false, 0});
  }
}

SystolicOsOutputs SystolicOsArray::outputs() const {
  SystolicOsOutputs o;
  o.y_out.resize(static_cast<std::size_t>(cols_));
  if (timing_only_) {  // no values kept: y_out reads 0
    o.y_valid = y_valid();
    return o;
  }
  o.y_valid = true;
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

// One bank: column c shifts when its bottom PE holds a sum and is not accumulating. Two banks:
// it unloads when its bottom's shadow holds a result, and a bottom not yet being unloaded
// (u = 0) makes this the tile's first step, in which every PE holding a result joins.
void SystolicOsArray::decide_unload(std::size_t c, std::uint8_t bottom_valid) {
  const std::size_t b = static_cast<std::size_t>(rows_ - 1) * static_cast<std::size_t>(cols_) + c;
  if (banks_ == 2) {
    shift_[c] = hs_[b];
    first_[c] = (hs_[b] != 0 && u_[b] == 0) ? 1 : 0;
  } else {
    shift_[c] = (h_[b] != 0 && bottom_valid == 0) ? 1 : 0;
  }
}

// The control half of tick(), in place and without allocating: the same valid, last, hold and
// unload decisions. (Two banks: the accumulator's h bit only selects data, so it is not kept
// here.)
void SystolicOsArray::tick_control(const SystolicOsInputs& in) {
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  const bool two = banks_ == 2;
  // Raw pointers: stores through uint8_t would otherwise make the compiler reload every vector's
  // data pointer, and the loops below would not vectorize (the accelerator's cycle mode ticks
  // this every cycle).
  std::uint8_t *const vn = v_now_.data(), *const ln = l_now_.data(), *const v = v_.data();
  std::uint8_t *const l = l_.data(), *const h = h_.data(), *const hs = hs_.data();
  std::uint8_t *const u = u_.data(), *const grp = grp_.data();
  const std::uint8_t *const shift = shift_.data(), *const first = first_.data();
  valid_hist_[static_cast<std::size_t>(t_ % R)] =
      static_cast<std::uint8_t>((in.valid ? 1 : 0) | (two && in.last ? 2 : 0));
  for (std::size_t r = 0; r < R; ++r) {
    // Row r's skew line presents the {valid, last} of r ticks ago (0 before reset).
    const std::uint8_t skew = t_ >= r ? valid_hist_[static_cast<std::size_t>((t_ - r) % R)] : 0;
    vn[r * C] = skew & 1;
    std::copy(v + r * C + 1, v + (r + 1) * C, vn + r * C + 1);
    if (two) {  // (one bank: `last` is not read, its bits stay 0)
      ln[r * C] = (skew >> 1) & 1;
      std::copy(l + r * C + 1, l + (r + 1) * C, ln + r * C + 1);
    }
  }
  for (std::size_t c = 0; c < C; ++c) decide_unload(c, vn[(R - 1) * C + c]);
  // The operand registers take the left neighbour's {valid, last}.
  for (std::size_t r = 0; r < R; ++r) {
    std::copy(vn + r * C, vn + (r + 1) * C - 1, v + r * C + 1);
    if (two) std::copy(ln + r * C, ln + (r + 1) * C - 1, l + r * C + 1);
  }
  // The hold and unload bits as 0/1 arithmetic without branches: the same priorities as tick().
  if (two) {
    // grp row r + 1 holds row r's group bits before the edge; row 0 is the top's zeros.
    for (std::size_t r = 0; r < R; ++r) {
      for (std::size_t c = 0; c < C; ++c) {
        const std::size_t i = r * C + c;
        grp[C + i] = hs[i] & (u[i] | first[c]);
      }
    }
    for (std::size_t i = 0; i < R * C; ++i) {
      const std::uint8_t last = vn[i] & ln[i], g = grp[C + i], keep = g ^ 1;
      const std::uint8_t take = g & grp[i];  // in the group, and so is the PE above
      hs[i] = static_cast<std::uint8_t>(last | take | (keep & hs[i]));
      u[i] = static_cast<std::uint8_t>((last ^ 1) & (take | (keep & u[i])));
    }
  } else {
    // Rows bottom-up: row r reads row r - 1's h before it changes.
    for (std::size_t r = R; r-- > 0;) {
      for (std::size_t c = 0; c < C; ++c) {
        const std::size_t i = r * C + c;
        const std::uint8_t vi = vn[i], sh = shift[c], above = r > 0 ? h[i - C] : 0;
        h[i] = static_cast<std::uint8_t>(vi | ((vi ^ 1) & ((sh & above) | ((sh ^ 1) & h[i]))));
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
  // Register semantics in place: first everything that the edge reads from delay lines (column
  // 0's operands, row 0's weights) and the unload decisions, then the PEs rows bottom-up and
  // columns right-to-left, so each PE reads its left and upper neighbours before they change.
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  const bool two = banks_ == 2;
  for (std::size_t r = 0; r < R; ++r) {
    const Skewed s = r > 0 ? x_skew_[r].back()
                           : Skewed{static_cast<std::uint8_t>(in.valid ? 1 : 0),
                                    static_cast<std::uint8_t>(two && in.last ? 1 : 0), in.x_in[0]};
    x0_[r] = s.x;
    v_now_[r * C] = s.valid;
    l_now_[r * C] = s.last;
  }
  for (std::size_t c = 0; c < C; ++c) w0_[c] = c == 0 ? in.w_in[0] : w_skew_[c].back();
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t c = 1; c < C; ++c) {
      v_now_[r * C + c] = v_[r * C + c];
      l_now_[r * C + c] = l_[r * C + c];
    }
  }
  for (std::size_t c = 0; c < C; ++c) decide_unload(c, v_now_[(R - 1) * C + c]);
  // Output lines (newest at the front, the output at the back): the bottom's unloaded register
  // before the edge.
  for (std::size_t c = 0; c < C; ++c) {
    auto& out = out_[c];
    for (std::size_t j = out.size(); j-- > 1;) out[j] = out[j - 1];
    const std::size_t b = (R - 1) * C + c;
    out[0] = {shift_[c] != 0, two ? s_[b] : acc_[b]};
  }
  for (std::size_t r = R; r-- > 0;) {
    for (std::size_t c = C; c-- > 0;) {
      const std::size_t i = r * C + c;
      const std::int8_t x = c > 0 ? x_[i] : x0_[r];
      const std::int8_t w = r > 0 ? w_[i] : w0_[c];
      if (v_now_[i] != 0) {
        const std::int64_t base = h_[i] != 0 ? acc_[i] : 0;
        const std::int32_t sum = wrap32(base + int{x} * int{w});
        acc_[i] = sum;
        if (!two) {
          h_[i] = 1;
        } else if (l_now_[i] != 0) {
          h_[i] = 0;
          s_[i] = sum;
          hs_[i] = 1;
          u_[i] = 0;
        } else {
          h_[i] = 1;
        }
      } else if (!two && shift_[c] != 0) {
        acc_[i] = r > 0 ? acc_[i - C] : 0;
        h_[i] = r > 0 ? h_[i - C] : 0;
      }
      if (two && !(v_now_[i] != 0 && l_now_[i] != 0) && in_group(i, c)) {
        const bool g = r > 0 && in_group(i - C, c);  // row r-1 not yet updated
        s_[i] = r > 0 ? s_[i - C] : 0;
        hs_[i] = g ? 1 : 0;
        u_[i] = g ? 1 : 0;
      }
      // The operand registers take the left neighbour's x (valid, last) and the upper's w.
      if (c > 0) {
        x_[i] = c > 1 ? x_[i - 1] : x0_[r];
        v_[i] = v_now_[i - 1];
        l_[i] = l_now_[i - 1];
      }
      if (r > 0) w_[i] = r > 1 ? w_[i - C] : w0_[c];
    }
  }
  // Skew lines shift (newest at the front, the output at the back).
  for (std::size_t r = 1; r < R; ++r) {
    auto& line = x_skew_[r];
    for (std::size_t j = line.size(); j-- > 1;) line[j] = line[j - 1];
    line[0] = {static_cast<std::uint8_t>(in.valid ? 1 : 0),
               static_cast<std::uint8_t>(two && in.last ? 1 : 0), in.x_in[r]};
  }
  for (std::size_t c = 1; c < C; ++c) {
    auto& ws = w_skew_[c];
    for (std::size_t j = ws.size(); j-- > 1;) ws[j] = ws[j - 1];
    ws[0] = in.w_in[c];
  }
  ++t_;
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

OsDoubleBufferedSchedule::OsDoubleBufferedSchedule(int rows, int cols) {
  if (rows < 1 || cols < 1) {
    throw std::invalid_argument("OsDoubleBufferedSchedule: rows and cols must be >= 1");
  }
  rows_ = static_cast<std::uint64_t>(rows);
  drain_ = 2 * rows_ + static_cast<std::uint64_t>(cols) - 2;
}

OsTileTimes OsDoubleBufferedSchedule::next(std::uint64_t earliest, std::uint64_t wait_cycles,
                                           std::uint64_t stream_cycles) {
  if (stream_cycles == 0) {
    throw std::invalid_argument("OsDoubleBufferedSchedule: a tile needs stream_cycles >= 1");
  }
  OsTileTimes t;
  t.wait_start = std::max(earliest, stream_free_);
  const std::uint64_t shadow = end_min_ > stream_cycles ? end_min_ - stream_cycles : 0;
  t.stream_start = std::max(t.wait_start + wait_cycles, shadow);
  t.stream_end = t.stream_start + stream_cycles;
  t.done = t.stream_end + drain_;
  stream_free_ = t.stream_end;
  end_min_ = t.stream_end + rows_;
  return t;
}

SystolicOsDbTiming systolic_os_db_timing(int rows, int cols, std::size_t m, std::size_t k,
                                         std::size_t n, std::size_t k_chunk,
                                         std::uint64_t wait_cycles) {
  const SystolicOsTiming single = systolic_os_timing(rows, cols, m, k, n, k_chunk);
  OsDoubleBufferedSchedule s(rows, cols);
  SystolicOsDbTiming t;
  t.tiles.reserve(single.tiles());
  for (std::size_t i = 0; i < single.tiles(); ++i) {
    t.tiles.push_back(s.next(0, wait_cycles, single.tile(i).stream));
    t.cycles = t.tiles.back().done;
  }
  return t;
}

SystolicOsRun systolic_os_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                               std::size_t k_chunk) {
  SystolicOsArray array(rows, cols);
  return run_systolic_os(array, x, w, k_chunk);
}

SystolicOsRun systolic_os_db_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                                  std::size_t k_chunk, std::uint64_t wait_cycles) {
  SystolicOsArray array(rows, cols, 2);
  return run_systolic_os_db(array, x, w, k_chunk, wait_cycles);
}

}  // namespace quasar::units
