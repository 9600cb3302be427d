#include "units/systolic_ws.hpp"

#include <string>

namespace quasar::units {

namespace {
std::int32_t wrap32(std::int64_t v) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v)));
}
}  // namespace

SystolicWsArray::SystolicWsArray(int rows, int cols) : rows_(rows), cols_(cols) {
  if (rows < 1 || cols < 1) {
    throw std::invalid_argument("SystolicWsArray: rows and cols must be >= 1, got " +
                                std::to_string(rows) + " x " + std::to_string(cols));
  }
  reset();
}

void SystolicWsArray::reset() {
  const auto n = static_cast<std::size_t>(rows_ * cols_);
  w_.assign(n, 0);
  x_.assign(n, 0);
  ps_.assign(n, 0);
  v_.assign(n, 0);
  x_skew_.assign(static_cast<std::size_t>(rows_), {});
  for (int r = 0; r < rows_; ++r)
    x_skew_[static_cast<std::size_t>(r)].assign(static_cast<std::size_t>(r), 0);
  top_.assign(static_cast<std::size_t>(cols_), {});
  out_.assign(static_cast<std::size_t>(cols_), {});
  for (int c = 0; c < cols_; ++c) {
    top_[static_cast<std::size_t>(c)].assign(static_cast<std::size_t>(c), {false, 0});
    out_[static_cast<std::size_t>(c)].assign(static_cast<std::size_t>(cols_ - 1 - c), {false, 0});
  }
}

SystolicWsOutputs SystolicWsArray::outputs() const {
  SystolicWsOutputs o;
  o.y_valid = true;
  o.y_out.resize(static_cast<std::size_t>(cols_));
  for (int c = 0; c < cols_; ++c) {
    const auto& line = out_[static_cast<std::size_t>(c)];
    const std::size_t bottom = pe(rows_ - 1, c);
    const bool v = line.empty() ? v_[bottom] != 0 : line.back().first;
    o.y_out[static_cast<std::size_t>(c)] = line.empty() ? ps_[bottom] : line.back().second;
    o.y_valid = o.y_valid && v;  // y_valid = AND of the columns, as in the RTL
  }
  return o;
}

void SystolicWsArray::tick(const SystolicWsInputs& in) {
  // Everything below reads the state before the edge and writes a new state: register
  // semantics by computing all next values first.
  const auto R = static_cast<std::size_t>(rows_), C = static_cast<std::size_t>(cols_);
  // The value each PE multiplies this cycle: column 0 from the skew lines, others their register.
  std::vector<std::int8_t> x_now(R * C);
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t i = r * C + c;
      if (c > 0) {
        x_now[i] = x_[i];
      } else {
        x_now[i] = r == 0 ? in.x_in[0] : x_skew_[r].back();
      }
    }
  }
  std::vector<std::int8_t> w_next = w_, x_next = x_;
  std::vector<std::int32_t> ps_next(R * C);
  std::vector<std::uint8_t> v_next(R * C);
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t i = r * C + c;
      std::int32_t ps_above;
      bool v_above;
      std::int8_t w_above;
      if (r == 0) {
        ps_above = c == 0 ? in.psum_in[0] : top_[c].back().second;
        v_above = c == 0 ? in.x_valid : top_[c].back().first;
        w_above = in.w_in[c];
      } else {
        ps_above = ps_[i - C];
        v_above = v_[i - C] != 0;
        w_above = w_[i - C];
      }
      if (in.w_load) w_next[i] = w_above;
      if (c > 0) x_next[i] = x_now[i - 1];
      ps_next[i] = wrap32(static_cast<std::int64_t>(ps_above) + int{w_[i]} * int{x_now[i]});
      v_next[i] = v_above ? 1 : 0;
    }
  }
  // Delay lines shift (newest at the front, the output at the back).
  for (std::size_t r = 1; r < R; ++r) {
    auto& line = x_skew_[r];
    for (std::size_t j = line.size() - 1; j > 0; --j) line[j] = line[j - 1];
    line[0] = in.x_in[r];
  }
  for (std::size_t c = 0; c < C; ++c) {
    auto& top = top_[c];
    for (std::size_t j = top.size(); j-- > 1;) top[j] = top[j - 1];
    if (!top.empty()) top[0] = {in.x_valid, in.psum_in[c]};
    auto& out = out_[c];
    for (std::size_t j = out.size(); j-- > 1;) out[j] = out[j - 1];
    const std::size_t bottom = (R - 1) * C + c;
    if (!out.empty()) out[0] = {v_[bottom] != 0, ps_[bottom]};
  }
  w_ = std::move(w_next);
  x_ = std::move(x_next);
  ps_ = std::move(ps_next);
  v_ = std::move(v_next);
}

SystolicWsTiming systolic_ws_timing(int rows, int cols, std::size_t m, std::size_t k,
                                    std::size_t n) {
  if (rows < 1 || cols < 1 || m == 0 || k == 0 || n == 0) {
    throw std::invalid_argument("systolic_ws_timing: need rows, cols, M, K, N >= 1");
  }
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  SystolicWsTiming t;
  t.k_tiles = (k + R - 1) / R;
  t.n_tiles = (n + C - 1) / C;
  t.per_tile.load = R;
  t.per_tile.stream = m;
  t.per_tile.drain = R + C - 2;
  const std::uint64_t tiles = t.k_tiles * t.n_tiles;
  t.total.load = tiles * t.per_tile.load;
  t.total.stream = tiles * t.per_tile.stream;
  t.total.drain = tiles * t.per_tile.drain;
  return t;
}

SystolicWsRun systolic_ws_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w) {
  SystolicWsArray array(rows, cols);
  return run_systolic_ws(array, x, w);
}

}  // namespace quasar::units
