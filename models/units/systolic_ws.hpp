// The weight-stationary systolic array of rtl/units/systolic_array.v as a plain C++ cycle model,
// its load/stream/drain protocol, and the protocol's closed-form phase cycle counts.
//
//   SystolicWsArray      the array register for register: the same ports as the Verilog, one
//                        tick() per rising clock edge. outputs() are registered values.
//   run_systolic_ws      the protocol driver: tiles a GEMM Y = X W^T (X: M x K int8, W: N x K
//                        int8) over the array and drives any array with this port interface
//                        (this model, or the Verilated RTL through an adapter); returns Y and the
//                        measured cycles of every phase of every tile.
//   systolic_ws_timing   the phase counts in closed form (what the SystemC simulator uses as its
//                        cycle-accuracy reference); tests assert run_systolic_ws measures exactly
//                        these on the model and on the RTL.
//   run_systolic_ws_db   the double-buffered protocol on a two-bank array (weight_banks = 2):
//                        decides every phase from what the array shows, cycle by cycle, and
//                        measures each tile's times; tests assert they equal the controller's
//                        rules (WsDoubleBufferedSchedule, systolic_ws_db_timing) exactly.
//
// Protocol (per tile; tiles in order n-tile outer, k-tile inner, so the partial sums of one
// n-tile chain from one k-tile to the next):
//   load    ROWS cycles with w_load = 1; cycle i presents row ROWS-1-i of the weight tile
//           (w_in[c] = W[n0 + c, k0 + ROWS-1-i], 0 outside the matrix: ragged tiles are
//           zero-padded). The array must be empty (after reset or a finished drain).
//   stream  M cycles with x_valid = 1; cycle m presents x_in[r] = X[m, k0 + r] (0 beyond K)
//           and psum_in[c] = 0 for the first k-tile, else the previous k-tile's Y[m, n0 + c].
//           Results of the first tokens can already come out during the stream.
//   drain   cycles with x_valid = 0 after the stream until the M-th result has come out:
//           ROWS + COLS - 2 (the skew/array/deskew pipeline depth minus one).
// Per tile: ROWS + M + ROWS + COLS - 2 cycles; no phase overlaps another (for double-buffered
// weights, see run_systolic_ws_db at the end).
//
// Pipelined PEs (pe_stages = L > 1, for a MAC that cannot finish in one clock, issue 18): each
// PE's multiply-add is L register stages on the partial-sum path, and row r's skew is r L so a
// token meets its partial sum. Results are the same numbers (L - 1) ROWS cycles later; the
// weights still shift one row a load cycle. [choice] The model keeps the one-stage array and
// delays its outputs by (L - 1) ROWS cycles: a retiming of the same pipeline, equal at the
// ports: systolic_array.v with PE_STAGES = L registers each PE's partial sum L times, and
// tests/rtl (the array) and tests/tile (whole tiles) find the two equal cycle for cycle. The
// drain is then L ROWS + COLS - 2. Partial sums are ACC_W = 32 bits, wrapping (the
// RTL's default; the accumulation order differs from int8_gemm's, which does not matter modulo
// 2^32).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "numerics/matrix.hpp"

namespace quasar::units {

// One cycle's input ports (vectors sized COLS, ROWS, COLS). w_bank / x_bank (0 or 1) are read
// only by a two-bank array: the bank a load cycle shifts, the bank this cycle's token uses.
struct SystolicWsInputs {
  bool w_load = false;
  int w_bank = 0;
  std::vector<std::int8_t> w_in;
  bool x_valid = false;
  int x_bank = 0;
  std::vector<std::int8_t> x_in;
  std::vector<std::int32_t> psum_in;
};

// The registered output ports.
struct SystolicWsOutputs {
  bool y_valid = false;
  std::vector<std::int32_t> y_out;  // COLS
};

// The array, register for register (see systolic_array.v for the register placement).
// weight_banks = 2 is the RTL's WBANKS = 2: two weight registers per PE, and every token's bank
// bit travels with its activations (std::invalid_argument for other than 1 or 2).
//
// timing_only(true) keeps only the valid bits (the control that decides when results come out)
// and skips the datapath: the accelerator's timing-only cycle mode. Outputs' values are then 0;
// y_valid is the same as with data (the datapath never feeds back into control).
class SystolicWsArray {
 public:
  SystolicWsArray(int rows, int cols, int weight_banks = 1, int pe_stages = 1);
  int rows() const { return rows_; }
  int pe_stages() const { return stages_; }
  int cols() const { return cols_; }
  int weight_banks() const { return banks_; }
  void reset();  // synchronous reset: every register to 0
  void timing_only(bool on) { timing_only_ = on; }
  SystolicWsOutputs outputs() const;
  bool y_valid() const;                   // outputs().y_valid without building the vector
  void tick(const SystolicWsInputs& in);  // one rising edge

 private:
  std::size_t pe(int r, int c) const { return static_cast<std::size_t>(r * cols_ + c); }
  SystolicWsOutputs undelayed() const;
  bool undelayed_valid() const;
  int rows_, cols_, banks_, stages_;
  bool timing_only_ = false;
  // Per PE: weights (bank b at b * ROWS * COLS), activation (column 0's slot holds the value the
  // skew line presents this cycle, so a row's multiplicands are contiguous) and its token's bank
  // (xb_, the same placement, 0x00 or 0xff; only with two banks), partial sum, valid bit.
  std::vector<std::int8_t> w_, x_;
  std::vector<std::uint8_t> xb_;
  std::vector<std::int32_t> ps_;
  std::vector<std::uint8_t> v_;
  // The skew/deskew delay lines as histories indexed by tick number: row r's skew presents the
  // x_in[r] of r ticks ago, column c's top the (x_valid, psum_in[c]) of c ticks ago, and output
  // column c the bottom PE's state of COLS-1-c ticks ago. Slots of ticks before reset are 0.
  std::uint64_t t_ = 0;                    // ticks since reset
  std::vector<std::int8_t> x_hist_;        // [t % ROWS][r]
  std::vector<std::uint8_t> xb_hist_;      // [t % ROWS][r]: x_bank's mask (two banks only)
  std::vector<std::uint8_t> top_v_hist_;   // [t % COLS][c]
  std::vector<std::int32_t> top_ps_hist_;  // [t % COLS][c]
  std::vector<std::uint8_t> bot_v_hist_;   // [t % COLS][c]: bottom row before tick t
  std::vector<std::int32_t> bot_ps_hist_;  // [t % COLS][c]
  std::vector<std::int32_t> row0_above_;   // scratch: row 0's partial sums from the top
  // Pipelined PEs: the one-stage array's outputs of the last (L - 1) ROWS ticks, by tick number
  // (slot t % D holds those after tick t, until tick t + D reads them out), and what shows now.
  std::size_t delay_ = 0;
  std::vector<std::uint8_t> out_v_hist_;
  std::vector<std::int32_t> out_y_hist_;  // [slot][c]; empty in timing-only mode
  SystolicWsOutputs shown_;
};

// Cycles of each phase.
struct SystolicWsPhases {
  std::uint64_t load = 0, stream = 0, drain = 0;
  std::uint64_t total() const { return load + stream + drain; }
  bool operator==(const SystolicWsPhases& o) const {
    return load == o.load && stream == o.stream && drain == o.drain;
  }
};

struct SystolicWsTiming {
  std::size_t k_tiles = 0, n_tiles = 0;
  SystolicWsPhases per_tile;  // every tile has the same phases (M tokens each)
  SystolicWsPhases total;     // per_tile times k_tiles * n_tiles
};

// The drain: cycles from a tile's stream end until its last result shows, L ROWS + COLS - 2
// with PEs of L stages (std::invalid_argument unless rows, cols, pe_stages >= 1).
std::uint64_t systolic_ws_drain(int rows, int cols, int pe_stages = 1);

// Closed form of the protocol for a rows x cols array and an M x K x N GEMM (M, K, N >= 1).
SystolicWsTiming systolic_ws_timing(int rows, int cols, std::size_t m, std::size_t k,
                                    std::size_t n, int pe_stages = 1);

// One tile's times on a double-buffered array, in cycles (see WsDoubleBufferedSchedule below):
// stream_end is exclusive (stream_start + tokens), done the cycle its last result is visible.
struct WsTileTimes {
  std::uint64_t load_start = 0, stream_start = 0, stream_end = 0, done = 0;
  bool operator==(const WsTileTimes& o) const {
    return load_start == o.load_start && stream_start == o.stream_start &&
           stream_end == o.stream_end && done == o.done;
  }
};

struct SystolicWsRun {
  std::vector<std::int64_t> y;          // M x N row-major, int32 values
  std::vector<SystolicWsPhases> tiles;  // run_systolic_ws: measured, in the order run
  SystolicWsPhases total;               // run_systolic_ws: the sum of tiles
  std::vector<WsTileTimes> times;       // run_systolic_ws_db: measured, in the order run
  std::uint64_t cycles = 0;             // both: cycles from reset until the last result is out
};

// Drives `array` (anything with rows(), cols(), reset(), outputs(), tick(SystolicWsInputs)) through
// the protocol for Y = X W^T and measures each phase. Throws std::runtime_error when the array
// produces more or fewer results than tokens (a drain longer than the closed form's + 64 cycles).
template <class Array>
SystolicWsRun run_systolic_ws(Array& array, const MatrixI8& x, const MatrixI8& w) {
  const int rows = array.rows(), cols = array.cols();
  const std::size_t M = x.rows(), K = x.cols(), N = w.rows();
  if (w.cols() != K || M == 0 || K == 0 || N == 0) {
    throw std::invalid_argument("run_systolic_ws: need X M x K and W N x K, all >= 1");
  }
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  const std::uint64_t drain_limit = systolic_ws_drain(rows, cols, array.pe_stages()) + 64;
  SystolicWsRun run;
  run.y.assign(M * N, 0);
  std::vector<std::int32_t> acc(M * N, 0);
  array.reset();
  SystolicWsInputs in;
  in.w_in.assign(C, 0);
  in.x_in.assign(R, 0);
  in.psum_in.assign(C, 0);
  for (std::size_t n0 = 0; n0 < N; n0 += C) {
    for (std::size_t k0 = 0; k0 < K; k0 += R) {
      SystolicWsPhases ph;
      std::size_t got = 0;  // results collected for this tile
      auto collect = [&] {
        const SystolicWsOutputs out = array.outputs();
        if (!out.y_valid) return;
        if (got == M) throw std::runtime_error("run_systolic_ws: more results than tokens");
        for (std::size_t c = 0; c < C && n0 + c < N; ++c) acc[got * N + n0 + c] = out.y_out[c];
        ++got;
      };
      // load: row ROWS-1 first.
      in.w_load = true;
      in.x_valid = false;
      for (std::size_t i = 0; i < R; ++i) {
        const std::size_t k = k0 + R - 1 - i;
        for (std::size_t c = 0; c < C; ++c) {
          in.w_in[c] = (k < K && n0 + c < N) ? w(n0 + c, k) : std::int8_t{0};
        }
        array.tick(in);
        ++ph.load;
      }
      in.w_load = false;
      std::fill(in.w_in.begin(), in.w_in.end(), std::int8_t{0});
      // stream: one token per cycle.
      const std::vector<std::int32_t> prev = acc;
      in.x_valid = true;
      for (std::size_t m = 0; m < M; ++m) {
        for (std::size_t r = 0; r < R; ++r) in.x_in[r] = k0 + r < K ? x(m, k0 + r) : std::int8_t{0};
        for (std::size_t c = 0; c < C; ++c) {
          in.psum_in[c] = (k0 > 0 && n0 + c < N) ? prev[m * N + n0 + c] : 0;
        }
        array.tick(in);
        ++ph.stream;
        collect();
      }
      // drain: until the M-th result is out.
      in.x_valid = false;
      std::fill(in.x_in.begin(), in.x_in.end(), std::int8_t{0});
      std::fill(in.psum_in.begin(), in.psum_in.end(), 0);
      while (got < M) {
        if (ph.drain > drain_limit) throw std::runtime_error("run_systolic_ws: results missing");
        array.tick(in);
        ++ph.drain;
        collect();
      }
      run.tiles.push_back(ph);
      run.total.load += ph.load;
      run.total.stream += ph.stream;
      run.total.drain += ph.drain;
    }
  }
  for (std::size_t i = 0; i < M * N; ++i) run.y[i] = acc[i];
  run.cycles = run.total.total();  // phases never overlap
  return run;
}

// Double-buffered weights (SystolicWsArray with weight_banks = 2): every PE holds two weight
// registers; a load shifts one bank (w_bank) while tokens stream through the other (each token
// carries its bank in x_bank, with the activation). The controller's rules, in cycles (cycle t
// is the t-th rising edge's inputs; a phase of n cycles that starts at t occupies t .. t+n-1):
//   load     tile i shifts into bank i % 2 once the previous load is over (one w_in port) and
//            tile i - 2, the bank's last user, has all its results out (its `done`);
//   stream   once its load is over and the previous tile's stream is over (one x_in port);
//   done     the cycle its last result is visible on y_out: stream end + ROWS + COLS - 2.
// Partial sums of consecutive k-tiles are added where the results leave the array (an
// accumulator), not fed in at the top: a chained k-tile would otherwise wait for the previous
// k-tile's result of each token, which a short stream cannot hide.
// With M tokens per tile the steady state is max(M, ROWS, (M + 2 ROWS + COLS - 2) / 2) cycles a
// tile instead of 2 ROWS + M + COLS - 2. (An average: every two tiles take exactly
// max(2 M, 2 ROWS, M + 2 ROWS + COLS - 2), and when the bank round trip binds the tiles go in
// pairs, ROWS apart; tests/rtl/test_rtl_systolic.cpp asserts it from the third tile on.)
// The rule for a bank is one cycle conservative: PE (ROWS-1, COLS-1) multiplies the last token of
// tile i - 2 in cycle done - 1, and a load changes the bank at the edge that ends its first cycle,
// so the RTL would compute correctly with the load at done - 1 (but not at done - 2). The rule
// keeps done because that is the first cycle a controller sees the last result; run_systolic_ws_db
// measures exactly these times on the RTL.
class WsDoubleBufferedSchedule {
 public:
  WsDoubleBufferedSchedule(int rows, int cols, int pe_stages = 1);
  // The next tile: its load may not start before `earliest` (its operands are on chip); the
  // load takes `load_cycles` (ROWS, more when the weight port or dequantizers are short) and the
  // stream `stream_cycles` (its tokens, more when a buffer port is short).
  WsTileTimes next(std::uint64_t earliest, std::uint64_t load_cycles, std::uint64_t stream_cycles);
  std::uint64_t drain_cycles() const { return drain_; }

 private:
  std::uint64_t drain_;
  std::uint64_t load_free_ = 0, stream_free_ = 0;
  std::uint64_t bank_free_[2] = {0, 0};
  std::uint64_t index_ = 0;
};

// The whole GEMM on a double-buffered array (every tile M tokens, loads of ROWS cycles, tiles
// n-tile outer, k-tile inner): each tile's times, and the cycles to the last result.
struct SystolicWsDbTiming {
  std::vector<WsTileTimes> tiles;
  std::uint64_t cycles = 0;
};
SystolicWsDbTiming systolic_ws_db_timing(int rows, int cols, std::size_t m, std::size_t k,
                                         std::size_t n, int pe_stages = 1);

// The double-buffered protocol on a two-bank array (anything with rows(), cols(),
// weight_banks() == 2, reset(), outputs(), tick(SystolicWsInputs)): tiles in run_systolic_ws's
// order (n-tile outer, k-tile inner), tile i in bank i % 2, psum_in always 0, and each tile's
// results added into Y (mod 2^32) as they come out. The driver runs cycle by cycle and takes
// every decision from the rules of WsDoubleBufferedSchedule and from what the array shows:
// results come out in tile order, so a y_valid belongs to the oldest tile with results
// outstanding, and a tile is done on the cycle its M-th result is visible (after the tick that
// put it on y_out). Nothing is assumed of the array's latency, so the measured times test the
// schedule. Fills y, times and cycles (tiles and total stay empty: the phases overlap). Throws
// std::runtime_error when the array produces more results than tokens so far, or when a tile's
// results are missing 64 cycles past the closed-form drain after its stream.
template <class Array>
SystolicWsRun run_systolic_ws_db(Array& array, const MatrixI8& x, const MatrixI8& w) {
  const int rows = array.rows(), cols = array.cols();
  const std::size_t M = x.rows(), K = x.cols(), N = w.rows();
  if (w.cols() != K || M == 0 || K == 0 || N == 0) {
    throw std::invalid_argument("run_systolic_ws_db: need X M x K and W N x K, all >= 1");
  }
  if (array.weight_banks() != 2) {
    throw std::invalid_argument("run_systolic_ws_db: needs an array with two weight banks");
  }
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  const std::size_t k_tiles = (K + R - 1) / R, n_tiles = (N + C - 1) / C;
  const std::size_t T = k_tiles * n_tiles;
  const std::uint64_t drain_limit = systolic_ws_drain(rows, cols, array.pe_stages()) + 64;
  auto n0_of = [&](std::size_t i) { return (i / k_tiles) * C; };
  auto k0_of = [&](std::size_t i) { return (i % k_tiles) * R; };
  SystolicWsRun run;
  run.times.assign(T, WsTileTimes{});
  std::vector<std::uint32_t> acc(M * N, 0);  // wrapping sums of the k-tiles' results
  std::vector<std::size_t> got(T, 0);        // results collected per tile
  array.reset();
  SystolicWsInputs in;
  in.w_in.assign(C, 0);
  in.x_in.assign(R, 0);
  in.psum_in.assign(C, 0);  // never chained: k-tiles meet in acc
  bool loading = false, streaming = false;
  std::size_t loads_started = 0, loads_done = 0, streams_started = 0;
  std::size_t load_row = 0, token = 0;  // progress of the current load and stream
  std::size_t oldest = 0;               // the oldest tile with results outstanding
  std::uint64_t tokens = 0, results = 0;
  for (std::uint64_t t = 0;; ++t) {
    // What the array shows during cycle t: the outputs of the tick of cycle t - 1.
    const SystolicWsOutputs out = array.outputs();
    if (out.y_valid) {
      if (results == tokens) {
        throw std::runtime_error("run_systolic_ws_db: more results than tokens");
      }
      const std::size_t n0 = n0_of(oldest), m = got[oldest];
      for (std::size_t c = 0; c < C && n0 + c < N; ++c) {
        acc[m * N + n0 + c] += static_cast<std::uint32_t>(out.y_out[c]);
      }
      ++results;
      if (++got[oldest] == M) run.times[oldest++].done = t;
    }
    if (oldest == T) {
      run.cycles = t;
      break;
    }
    // (stream_end >= ROWS + 1 once set: 0 means the oldest tile is still streaming.)
    if (run.times[oldest].stream_end != 0 && t > run.times[oldest].stream_end + drain_limit) {
      throw std::runtime_error("run_systolic_ws_db: results missing");
    }
    // Decisions for cycle t. Load: the weight port is free and the bank's previous user (two
    // tiles back) is done. Stream: the x port is free and the tile's weights are in.
    if (!loading && loads_started < T && (loads_started < 2 || got[loads_started - 2] == M)) {
      loading = true;
      load_row = 0;
      run.times[loads_started++].load_start = t;
    }
    if (!streaming && streams_started < loads_done) {
      streaming = true;
      token = 0;
      run.times[streams_started++].stream_start = t;
    }
    // This cycle's inputs.
    in.w_load = loading;
    in.w_bank = 0;
    std::fill(in.w_in.begin(), in.w_in.end(), std::int8_t{0});
    if (loading) {
      const std::size_t i = loads_started - 1, n0 = n0_of(i);
      const std::size_t k = k0_of(i) + R - 1 - load_row;  // row ROWS-1 first
      in.w_bank = static_cast<int>(i % 2);
      for (std::size_t c = 0; c < C; ++c) {
        in.w_in[c] = (k < K && n0 + c < N) ? w(n0 + c, k) : std::int8_t{0};
      }
    }
    in.x_valid = streaming;
    in.x_bank = 0;
    std::fill(in.x_in.begin(), in.x_in.end(), std::int8_t{0});
    if (streaming) {
      const std::size_t i = streams_started - 1, k0 = k0_of(i);
      in.x_bank = static_cast<int>(i % 2);
      for (std::size_t r = 0; r < R; ++r) {
        in.x_in[r] = k0 + r < K ? x(token, k0 + r) : std::int8_t{0};
      }
    }
    array.tick(in);
    // Progress after the edge: a phase is over on the cycle after its last one.
    if (loading && ++load_row == R) {
      loading = false;
      ++loads_done;
    }
    if (streaming) {
      ++tokens;
      if (++token == M) {
        streaming = false;
        run.times[streams_started - 1].stream_end = t + 1;
      }
    }
  }
  run.y.assign(M * N, 0);
  for (std::size_t i = 0; i < M * N; ++i) run.y[i] = static_cast<std::int32_t>(acc[i]);
  return run;
}

// Y = X W^T on the C++ array model: single-buffered, and double-buffered (two banks).
SystolicWsRun systolic_ws_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                               int pe_stages = 1);
SystolicWsRun systolic_ws_db_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                                  int pe_stages = 1);

}  // namespace quasar::units
