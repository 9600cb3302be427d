#include "units/systolic_ws.hpp"

#include <algorithm>
#include <string>

namespace quasar::units {

SystolicWsArray::SystolicWsArray(int rows, int cols, int weight_banks, int pe_stages)
    : rows_(rows), cols_(cols), banks_(weight_banks), stages_(pe_stages) {
  if (rows < 1 || cols < 1) {
    throw std::invalid_argument("SystolicWsArray: rows and cols must be >= 1, got " +
                                std::to_string(rows) + " x " + std::to_string(cols));
  }
  if (weight_banks != 1 && weight_banks != 2) {
    throw std::invalid_argument("SystolicWsArray: weight_banks must be 1 or 2, got " +
                                std::to_string(weight_banks));
  }
  if (pe_stages < 1 || pe_stages > 64) {
    throw std::invalid_argument("SystolicWsArray: pe_stages must be in [1, 64], got " +
                                std::to_string(pe_stages));
  }
  reset();
}

void SystolicWsArray::reset() {
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  w_.assign(static_cast<std::size_t>(banks_) * R * C, 0);
  x_.assign(R * C, 0);
  xb_.assign(banks_ == 2 ? R * C : 0, 0);
  ps_.assign(R * C, 0);
  v_.assign(R * C, 0);
  t_ = 0;
  x_hist_.assign(R * R, 0);
  xb_hist_.assign(banks_ == 2 ? R * R : 0, 0);
  top_v_hist_.assign(C * C, 0);
  top_ps_hist_.assign(C * C, 0);
  bot_v_hist_.assign(C * C, 0);
  bot_ps_hist_.assign(C * C, 0);
  row0_above_.assign(C, 0);
  delay_ = static_cast<std::size_t>(stages_ - 1) * R;
  out_v_hist_.assign(delay_, 0);
  out_y_hist_.assign(timing_only_ ? 0 : delay_ * C, 0);
  shown_.y_valid = false;
  shown_.y_out.assign(C, 0);
}

SystolicWsOutputs SystolicWsArray::outputs() const { return delay_ ? shown_ : undelayed(); }

bool SystolicWsArray::y_valid() const { return delay_ ? shown_.y_valid : undelayed_valid(); }

SystolicWsOutputs SystolicWsArray::undelayed() const {
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  SystolicWsOutputs o;
  o.y_valid = true;
  o.y_out.resize(C);
  for (std::size_t c = 0; c < C; ++c) {
    const std::size_t d = C - 1 - c;  // deskew delay
    bool v;
    if (d == 0) {
      v = v_[(R - 1) * C + c] != 0;
      o.y_out[c] = ps_[(R - 1) * C + c];
    } else {
      // The bottom state before tick t_ - d, i.e. d ticks ago (t_ ticks done so far).
      const std::size_t slot = static_cast<std::size_t>((t_ + C - d) % C) * C + c;
      v = bot_v_hist_[slot] != 0;
      o.y_out[c] = bot_ps_hist_[slot];
    }
    o.y_valid = o.y_valid && v;  // y_valid = AND of the columns, as in the RTL
  }
  return o;
}

bool SystolicWsArray::undelayed_valid() const {
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  for (std::size_t c = 0; c < C; ++c) {
    const std::size_t d = C - 1 - c;
    const bool v = d == 0 ? v_[(R - 1) * C + c] != 0
                          : bot_v_hist_[static_cast<std::size_t>((t_ + C - d) % C) * C + c] != 0;
    if (!v) return false;
  }
  return true;
}

void SystolicWsArray::tick(const SystolicWsInputs& in) {
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  // Histories: this tick's inputs, and the bottom row's state before the edge.
  const std::size_t xs = static_cast<std::size_t>(t_ % R) * R;
  const std::size_t cs = static_cast<std::size_t>(t_ % C) * C;
  const std::size_t bottom = (R - 1) * C;
  for (std::size_t c = 0; c < C; ++c) {
    top_v_hist_[cs + c] = in.x_valid ? 1 : 0;
    bot_v_hist_[cs + c] = v_[bottom + c];
  }
  // What column c's top presents this cycle: the inputs of c ticks ago.
  auto top_slot = [&](std::size_t c) { return static_cast<std::size_t>((t_ + C - c) % C) * C + c; };
  if (!timing_only_) {
    for (std::size_t r = 0; r < R; ++r) x_hist_[xs + r] = in.x_in[r];
    for (std::size_t c = 0; c < C; ++c) {
      top_ps_hist_[cs + c] = in.psum_in[c];
      bot_ps_hist_[cs + c] = ps_[bottom + c];
    }
    for (std::size_t c = 0; c < C; ++c) row0_above_[c] = top_ps_hist_[top_slot(c)];
    const bool two = banks_ == 2;
    if (two) {
      // Kept as a mask (0x00 bank 0, 0xff bank 1) so the select below is branch-free.
      const std::uint8_t mask = in.x_bank != 0 ? 0xff : 0;
      for (std::size_t r = 0; r < R; ++r) xb_hist_[xs + r] = mask;
    }
    // The bank a load shifts: bank 1's registers follow bank 0's.
    const std::size_t load_bank = two && in.w_bank != 0 ? R * C : 0;
    // Rows bottom-up, in place: row r reads row r-1's registers before they change.
    for (std::size_t r = R; r-- > 0;) {
      std::int8_t* x = &x_[r * C];
      std::int8_t* w = &w_[r * C];
      std::int32_t* ps = &ps_[r * C];
      const std::size_t skew = static_cast<std::size_t>((t_ + R - r) % R) * R + r;
      x[0] = x_hist_[skew];  // the skew's output
      const std::int32_t* above = r == 0 ? row0_above_.data() : &ps_[(r - 1) * C];
      if (!two) {
        for (std::size_t c = 0; c < C; ++c) {
          // int32 wrap-around, as the RTL's ACC_W = 32 adder.
          ps[c] = static_cast<std::int32_t>(static_cast<std::uint32_t>(above[c]) +
                                            static_cast<std::uint32_t>(int{w[c]} * int{x[c]}));
        }
      } else {
        // Each PE multiplies by the weight of the bank its token carries.
        std::uint8_t* xb = &xb_[r * C];
        const std::int8_t* w1 = w + R * C;
        xb[0] = xb_hist_[skew];
        for (std::size_t c = 0; c < C; ++c) {
          const auto w0 = static_cast<std::uint8_t>(w[c]), wb = static_cast<std::uint8_t>(w1[c]);
          const auto wv = static_cast<std::int8_t>(w0 ^ ((w0 ^ wb) & xb[c]));
          ps[c] = static_cast<std::int32_t>(static_cast<std::uint32_t>(above[c]) +
                                            static_cast<std::uint32_t>(int{wv} * int{x[c]}));
        }
        std::copy_backward(xb, xb + C - 1, xb + C);  // the bank bit moves with the activation
      }
      if (in.w_load) {
        std::int8_t* wl = &w_[load_bank + r * C];
        const std::int8_t* w_above = r == 0 ? in.w_in.data() : wl - C;
        std::copy(w_above, w_above + C, wl);
      }
      std::copy_backward(x, x + C - 1, x + C);  // activations move one PE right
    }
  }
  // Valid bits move down one row; row 0 takes the column tops.
  std::copy_backward(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(bottom), v_.end());
  for (std::size_t c = 0; c < C; ++c) v_[c] = top_v_hist_[top_slot(c)];
  ++t_;
  if (delay_) {
    // Show what the one-stage array showed delay_ ticks ago; keep this tick's in its place.
    const std::size_t slot = static_cast<std::size_t>(t_ % delay_);
    shown_.y_valid = out_v_hist_[slot] != 0;
    out_v_hist_[slot] = undelayed_valid() ? 1 : 0;
    if (!timing_only_) {
      if (out_y_hist_.size() != delay_ * C) out_y_hist_.assign(delay_ * C, 0);
      std::int32_t* y = &out_y_hist_[slot * C];
      std::copy(y, y + C, shown_.y_out.begin());
      const SystolicWsOutputs now = undelayed();
      std::copy(now.y_out.begin(), now.y_out.end(), y);
    }
  }
}

std::uint64_t systolic_ws_drain(int rows, int cols, int pe_stages) {
  if (rows < 1 || cols < 1 || pe_stages < 1) {
    throw std::invalid_argument("systolic_ws_drain: need rows, cols, pe_stages >= 1");
  }
  return static_cast<std::uint64_t>(pe_stages) * static_cast<std::uint64_t>(rows) +
         static_cast<std::uint64_t>(cols) - 2;
}

SystolicWsTiming systolic_ws_timing(int rows, int cols, std::size_t m, std::size_t k,
                                    std::size_t n, int pe_stages) {
  if (rows < 1 || cols < 1 || m == 0 || k == 0 || n == 0) {
    throw std::invalid_argument("systolic_ws_timing: need rows, cols, M, K, N >= 1");
  }
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  SystolicWsTiming t;
  t.k_tiles = (k + R - 1) / R;
  t.n_tiles = (n + C - 1) / C;
  t.per_tile.load = R;
  t.per_tile.stream = m;
  t.per_tile.drain = systolic_ws_drain(rows, cols, pe_stages);
  const std::uint64_t tiles = t.k_tiles * t.n_tiles;
  t.total.load = tiles * t.per_tile.load;
  t.total.stream = tiles * t.per_tile.stream;
  t.total.drain = tiles * t.per_tile.drain;
  return t;
}

WsDoubleBufferedSchedule::WsDoubleBufferedSchedule(int rows, int cols, int pe_stages)
    : drain_(systolic_ws_drain(rows, cols, pe_stages)) {}

WsTileTimes WsDoubleBufferedSchedule::next(std::uint64_t earliest, std::uint64_t load_cycles,
                                           std::uint64_t stream_cycles) {
  std::uint64_t& bank = bank_free_[index_ % 2];
  WsTileTimes t;
  t.load_start = std::max({earliest, load_free_, bank});
  load_free_ = t.load_start + load_cycles;
  t.stream_start = std::max(load_free_, stream_free_);
  t.stream_end = t.stream_start + stream_cycles;
  stream_free_ = t.stream_end;
  t.done = t.stream_end + drain_;
  bank = t.done;
  ++index_;
  return t;
}

SystolicWsDbTiming systolic_ws_db_timing(int rows, int cols, std::size_t m, std::size_t k,
                                         std::size_t n, int pe_stages) {
  const SystolicWsTiming single = systolic_ws_timing(rows, cols, m, k, n, pe_stages);
  WsDoubleBufferedSchedule s(rows, cols, pe_stages);
  SystolicWsDbTiming t;
  const std::size_t tiles = single.k_tiles * single.n_tiles;
  t.tiles.reserve(tiles);
  for (std::size_t i = 0; i < tiles; ++i) {
    t.tiles.push_back(s.next(0, static_cast<std::uint64_t>(rows), m));
    t.cycles = t.tiles.back().done;
  }
  return t;
}

SystolicWsRun systolic_ws_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                               int pe_stages) {
  SystolicWsArray array(rows, cols, 1, pe_stages);
  return run_systolic_ws(array, x, w);
}

SystolicWsRun systolic_ws_db_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                                  int pe_stages) {
  SystolicWsArray array(rows, cols, 2, pe_stages);
  return run_systolic_ws_db(array, x, w);
}

}  // namespace quasar::units
