// The output-stationary systolic array of rtl/units/systolic_os.v as a plain C++ cycle model,
// its stream/drain protocol, and the protocol's closed-form phase cycle counts.
//
//   SystolicOsArray      the array register for register: the same ports as the Verilog, one
//                        tick() per rising clock edge. outputs() are registered values.
//   run_systolic_os      the protocol driver: tiles a GEMM Y = X W^T (X: M x K int8, W: N x K
//                        int8) over the array and drives any array with this port interface
//                        (this model, or the Verilated RTL through an adapter); returns Y and the
//                        measured cycles of every phase of every tile.
//   systolic_os_timing   the phase counts in closed form; tests assert run_systolic_os measures
//                        exactly these on the model and on the RTL.
//   run_systolic_os_db   the double-buffered protocol on a two-bank array (acc_banks = 2):
//                        decides every phase from the controller's rules and what the array
//                        shows, cycle by cycle, and measures each tile's times; tests assert they
//                        equal the rules (OsDoubleBufferedSchedule, systolic_os_db_timing).
//
// Protocol (per tile; tiles in order m-tile outer, n-tile, k-chunk inner; a tile is up to ROWS
// tokens x up to COLS output channels x one k-chunk of Kc = min(k_chunk, K - k0) indices):
//   load    none (0 cycles): nothing is preloaded, every accumulator starts from 0.
//   stream  Kc cycles with valid = 1; cycle t presents x_in[r] = X[m0 + r, k0 + t] and
//           w_in[c] = W[n0 + c, k0 + t] (0 outside the matrix: ragged tiles are zero-padded),
//           and last = 1 on the final cycle (t = Kc - 1; read by a two-bank array only).
//           The array must be empty (after reset or a finished drain).
//   drain   cycles with valid = 0 after the stream until the last of the ROWS result rows is
//           on y_out: 2 ROWS + COLS - 2. Rows come out bottom first (row ROWS-1 first).
// Per tile: Kc + 2 ROWS + COLS - 2 cycles; no phase overlaps another (for double-buffered
// accumulators, see run_systolic_os_db at the end). The array's accumulators are ACC_W = 32
// bits, wrapping (the RTL's default); the driver sums the k-chunks' results into Y with int32
// wrapping (the edge's job in the accelerator), so Y equals int8_gemm(x, w, 32) for any k_chunk.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "numerics/matrix.hpp"
#include "units/systolic_ws.hpp"

namespace quasar::units {

// One cycle's input ports (vectors sized ROWS and COLS). last is read only by a two-bank array:
// 1 on the stream cycle of a tile's last reduction index.
struct SystolicOsInputs {
  bool valid = false;
  bool last = false;
  std::vector<std::int8_t> x_in;  // ROWS
  std::vector<std::int8_t> w_in;  // COLS
};

// The registered output ports: the same as the weight-stationary array's (y_valid, y_out[COLS]).
using SystolicOsOutputs = SystolicWsOutputs;

// The array, register for register (see systolic_os.v for the register placement).
// acc_banks = 2 is the RTL's ABANKS = 2: a shadow result register per PE (double-buffered
// accumulators), and `last` travels with valid (std::invalid_argument for other than 1 or 2).
class SystolicOsArray {
 public:
  SystolicOsArray(int rows, int cols, int acc_banks = 1);
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  int acc_banks() const { return banks_; }
  void reset();  // synchronous reset: every register to 0
  // Control only (valid, last and hold bits, skew and output lines' valid bits), no datapath:
  // the accelerator's timing-only cycle mode. y_valid is the same as with data (the datapath
  // never feeds back into control); values are not kept (outputs().y_out reads 0). Neither mode
  // allocates in tick().
  void timing_only(bool on) { timing_only_ = on; }
  SystolicOsOutputs outputs() const;
  bool y_valid() const;                   // outputs().y_valid without building the vector
  void tick(const SystolicOsInputs& in);  // one rising edge

 private:
  // A row's skew line entry: {valid, last, x} as the RTL's delay line (last: two banks only).
  struct Skewed {
    std::uint8_t valid = 0, last = 0;
    std::int8_t x = 0;
  };
  void tick_control(const SystolicOsInputs& in);
  // Column c's unload decisions of this cycle from the state before the edge (shift_, first_).
  void decide_unload(std::size_t c, std::uint8_t bottom_valid);
  // Two banks: PE i takes part in this cycle's unload step of column c (state before the edge).
  bool in_group(std::size_t i, std::size_t c) const {
    return hs_[i] != 0 && (u_[i] != 0 || first_[c] != 0);
  }
  int rows_, cols_, banks_;
  bool timing_only_ = false;  // set after reset(), before the first tick
  // Scratch of tick / tick_control (sized in reset(), so ticks do not allocate): what each PE
  // sees this cycle (valid, last; full mode: column 0's x and row 0's w too), and per column
  // whether it unloads this cycle and (two banks) whether this is a tile's first unload step.
  std::vector<std::uint8_t> v_now_, l_now_, shift_, first_;
  std::vector<std::uint8_t> grp_;  // timing-only, two banks: group bits, (ROWS + 1) x COLS
  std::vector<std::int8_t> x0_, w0_;
  // Timing-only delay lines as histories indexed by tick (no shifting): row r's skew presents
  // the valid (bit 0) and last (bit 1) of r ticks ago; output column c the shift decision of
  // COLS-1-c ticks ago.
  std::uint64_t t_ = 0;
  std::vector<std::uint8_t> valid_hist_;  // [t % ROWS]
  std::vector<std::uint8_t> shift_hist_;  // [t % COLS][c]
  // Per PE (index r * COLS + c): the x register with its valid and last bits (columns >= 1),
  // the w register (rows >= 1), the accumulator and its "holds a sum of this tile" bit; with
  // two banks the shadow register s_, its "holds a result" bit hs_ and "being unloaded" bit u_.
  std::vector<std::int8_t> x_, w_;
  std::vector<std::uint8_t> v_, l_, h_, hs_, u_;
  std::vector<std::int32_t> acc_, s_;
  // Delay lines, newest value first: x_skew_[r] has r entries, w_skew_[c] c entries, out_[c]
  // COLS - c entries ({valid, the unloaded register: acc or, with two banks, s}).
  std::vector<std::vector<Skewed>> x_skew_;
  std::vector<std::vector<std::int8_t>> w_skew_;
  std::vector<std::vector<std::pair<bool, std::int32_t>>> out_;
};

// Phase cycles: the weight-stationary struct, load = 0 here.
using SystolicOsPhases = SystolicWsPhases;

struct SystolicOsTiming {
  std::size_t m_tiles = 0, n_tiles = 0, k_chunks = 0;
  SystolicOsPhases full;        // a tile with a full k-chunk (Kc = k_chunk, or K if K < k_chunk)
  SystolicOsPhases last_chunk;  // the last k-chunk of each (m, n) tile (== full if Kc | K)
  SystolicOsPhases total;       // all tiles
  std::size_t tiles() const { return m_tiles * n_tiles * k_chunks; }
  // Phases of the i-th tile in run order (m-tile outer, n-tile, k-chunk inner).
  SystolicOsPhases tile(std::size_t i) const {
    return i % k_chunks == k_chunks - 1 ? last_chunk : full;
  }
};

// Closed form of the protocol for a rows x cols array, an M x K x N GEMM and k-chunks of
// k_chunk reduction indices (all >= 1).
SystolicOsTiming systolic_os_timing(int rows, int cols, std::size_t m, std::size_t k, std::size_t n,
                                    std::size_t k_chunk);

// One tile's times on a double-buffered array, in cycles (see OsDoubleBufferedSchedule below):
// wait_start the first cycle of its wait for the ports, stream_end exclusive (stream_start + Kc),
// done the cycle its last result row is visible on y_out.
struct OsTileTimes {
  std::uint64_t wait_start = 0, stream_start = 0, stream_end = 0, done = 0;
  bool operator==(const OsTileTimes& o) const {
    return wait_start == o.wait_start && stream_start == o.stream_start &&
           stream_end == o.stream_end && done == o.done;
  }
};

struct SystolicOsRun {
  std::vector<std::int64_t> y;          // M x N row-major, int32 values
  std::vector<SystolicOsPhases> tiles;  // run_systolic_os: measured, in the order run
  SystolicOsPhases total;               // run_systolic_os: the sum of tiles
  std::vector<OsTileTimes> times;       // run_systolic_os_db: measured, in the order run
  std::uint64_t cycles = 0;             // both: cycles from reset until the last row is out
};

// Drives `array` (anything with rows(), cols(), reset(), outputs(), tick(SystolicOsInputs))
// through the protocol for Y = X W^T and measures each phase. Throws std::runtime_error when the
// array produces more or fewer result rows than ROWS per tile (a drain longer than
// 2 rows + cols + 64 cycles).
template <class Array>
SystolicOsRun run_systolic_os(Array& array, const MatrixI8& x, const MatrixI8& w,
                              std::size_t k_chunk) {
  const int rows = array.rows(), cols = array.cols();
  const std::size_t M = x.rows(), K = x.cols(), N = w.rows();
  if (w.cols() != K || M == 0 || K == 0 || N == 0 || k_chunk == 0) {
    throw std::invalid_argument(
        "run_systolic_os: need X M x K and W N x K, all >= 1, k_chunk >= 1");
  }
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  auto wrap_add = [](std::int32_t a, std::int32_t b) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
  };
  SystolicOsRun run;
  std::vector<std::int32_t> acc(M * N, 0);
  array.reset();
  SystolicOsInputs in;
  in.x_in.assign(R, 0);
  in.w_in.assign(C, 0);
  for (std::size_t m0 = 0; m0 < M; m0 += R) {
    for (std::size_t n0 = 0; n0 < N; n0 += C) {
      for (std::size_t k0 = 0; k0 < K; k0 += k_chunk) {
        const std::size_t kc = std::min(k_chunk, K - k0);
        SystolicOsPhases ph;
        std::size_t got = 0;  // result rows collected for this tile (row R-1 first)
        auto collect = [&] {
          const SystolicOsOutputs out = array.outputs();
          if (!out.y_valid) return;
          if (got == R) throw std::runtime_error("run_systolic_os: more result rows than ROWS");
          const std::size_t m = m0 + R - 1 - got;
          if (m < M) {
            for (std::size_t c = 0; c < C && n0 + c < N; ++c) {
              std::int32_t& y = acc[m * N + n0 + c];
              y = wrap_add(y, out.y_out[c]);
            }
          }
          ++got;
        };
        // stream: one k per cycle, `last` on the final one.
        in.valid = true;
        for (std::size_t t = 0; t < kc; ++t) {
          in.last = t + 1 == kc;
          const std::size_t k = k0 + t;
          for (std::size_t r = 0; r < R; ++r) {
            in.x_in[r] = m0 + r < M ? x(m0 + r, k) : std::int8_t{0};
          }
          for (std::size_t c = 0; c < C; ++c) {
            in.w_in[c] = n0 + c < N ? w(n0 + c, k) : std::int8_t{0};
          }
          array.tick(in);
          ++ph.stream;
          collect();
        }
        // drain: until the ROWS-th result row is out.
        in.valid = false;
        in.last = false;
        std::fill(in.x_in.begin(), in.x_in.end(), std::int8_t{0});
        std::fill(in.w_in.begin(), in.w_in.end(), std::int8_t{0});
        while (got < R) {
          if (ph.drain > 2 * R + C + 64) {
            throw std::runtime_error("run_systolic_os: result rows missing");
          }
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
  }
  run.y.assign(acc.begin(), acc.end());
  run.cycles = run.total.total();  // phases never overlap
  return run;
}

// Double-buffered accumulators (SystolicOsArray with acc_banks = 2, systolic_os.v ABANKS = 2):
// every PE moves its tile's result into a shadow register on the tile's last product, so its
// accumulator starts the next tile at once, and only the shadow registers unload (bottom row
// first, as the single-bank drain). The controller's rules, in cycles (cycle t is the t-th
// rising edge's inputs; a phase of n cycles that starts at t occupies t .. t+n-1):
//   wait     tile i waits wait_cycles for its ports, from max(earliest, the previous tile's
//            stream end): the operand ports serve one tile at a time, so the wait overlaps the
//            previous tile's unload but never its stream (wait_cycles: see next());
//   stream   Kc consecutive cycles, from the first cycle that is both past the wait
//            (wait_start + wait_cycles) and late enough that the stream ends ROWS or more cycles
//            after the previous tile's stream end (the previous tile's results must have left
//            the shadow register of PE (r, c) before this tile's last product writes it:
//            systolic_os.v, "Two banks");
//   done     the cycle its last result row (row 0) is visible on y_out: stream end
//            + 2 ROWS + COLS - 2, as single-buffered.
// Steady state (equal tiles, `earliest` not binding): every stream ends exactly
// max(wait_cycles + Kc, ROWS) cycles after the previous one (ROWS: y_out carries one result row
// a cycle, so no design beats it), instead of wait_cycles + Kc + 2 ROWS + COLS - 2 single-
// buffered; T such tiles take wait_cycles + Kc + (T - 1) max(wait_cycles + Kc, ROWS)
// + 2 ROWS + COLS - 2 cycles. The ROWS rule is exact, not conservative: a stream ending
// ROWS - 1 cycles after the previous one overwrites some of the previous tile's results (a
// test drives it). Unlike the weight-stationary bank rule it is not visible at the ports (the
// previous tile's first row shows only COLS - 1 cycles after the bound), so the controller
// counts cycles from the previous stream's end.
class OsDoubleBufferedSchedule {
 public:
  OsDoubleBufferedSchedule(int rows, int cols);
  // The next tile (in stream order): its wait may not start before `earliest` (its operands are
  // on chip and the ports may start reading them); then it waits `wait_cycles` before its first
  // stream cycle (the accelerator's OS "load" phase, TileTiming::load_cycles: the cycles by which
  // the ifmap/weight ports or the dequantizers fall short of one step a cycle, so that the
  // bubble-free stream never overtakes them; 0 when they keep up, and in the RTL tests); the
  // stream takes `stream_cycles` (Kc >= 1, std::invalid_argument for 0).
  OsTileTimes next(std::uint64_t earliest, std::uint64_t wait_cycles, std::uint64_t stream_cycles);
  std::uint64_t drain_cycles() const { return drain_; }  // 2 ROWS + COLS - 2
  std::uint64_t unload_cycles() const { return rows_; }  // the ROWS rule

 private:
  std::uint64_t rows_, drain_;
  std::uint64_t stream_free_ = 0;  // the previous tile's stream end (ports and inputs free)
  std::uint64_t end_min_ = 0;      // the earliest end of the next stream (previous end + ROWS)
};

// The whole GEMM on a double-buffered array (tiles in run_systolic_os's order, each waiting
// wait_cycles, earliest 0): each tile's times, and the cycles to the last result row.
struct SystolicOsDbTiming {
  std::vector<OsTileTimes> tiles;
  std::uint64_t cycles = 0;
};
SystolicOsDbTiming systolic_os_db_timing(int rows, int cols, std::size_t m, std::size_t k,
                                         std::size_t n, std::size_t k_chunk,
                                         std::uint64_t wait_cycles = 0);

// The double-buffered protocol on a two-bank array (anything with rows(), cols(),
// acc_banks() == 2, reset(), outputs(), tick(SystolicOsInputs)): tiles in run_systolic_os's
// order, each chunk's rows added into Y (mod 2^32) as they come out. The driver runs cycle by
// cycle and takes every decision from the rules of OsDoubleBufferedSchedule (earliest 0, every
// tile waiting wait_cycles) and from what the array shows: rows come out in tile order, so a
// y_valid belongs to the oldest tile with rows outstanding (row ROWS-1 first), and a tile is done
// on the cycle its ROWS-th row is visible (after the tick that put it on y_out). Nothing is
// assumed of the array's latency, so the measured times test the schedule. Fills y, times and
// cycles (tiles and total stay empty: the phases overlap). Throws std::runtime_error when a row
// shows while no tile with a finished stream has rows outstanding, or when a tile's rows are
// missing 2 rows + cols + 64 cycles after its stream; std::invalid_argument for bad shapes or an
// array with one bank.
template <class Array>
SystolicOsRun run_systolic_os_db(Array& array, const MatrixI8& x, const MatrixI8& w,
                                 std::size_t k_chunk, std::uint64_t wait_cycles = 0) {
  const int rows = array.rows(), cols = array.cols();
  const std::size_t M = x.rows(), K = x.cols(), N = w.rows();
  if (w.cols() != K || M == 0 || K == 0 || N == 0 || k_chunk == 0) {
    throw std::invalid_argument(
        "run_systolic_os_db: need X M x K and W N x K, all >= 1, k_chunk >= 1");
  }
  if (array.acc_banks() != 2) {
    throw std::invalid_argument("run_systolic_os_db: needs an array with two accumulator banks");
  }
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  const std::size_t n_tiles = (N + C - 1) / C, k_chunks = (K + k_chunk - 1) / k_chunk;
  const std::size_t T = (M + R - 1) / R * n_tiles * k_chunks;
  // Tile i in run order: m-tile outer, n-tile, k-chunk inner.
  auto m0_of = [&](std::size_t i) { return i / (n_tiles * k_chunks) * R; };
  auto n0_of = [&](std::size_t i) { return i / k_chunks % n_tiles * C; };
  auto k0_of = [&](std::size_t i) { return i % k_chunks * k_chunk; };
  auto kc_of = [&](std::size_t i) { return std::min(k_chunk, K - k0_of(i)); };
  SystolicOsRun run;
  run.times.assign(T, OsTileTimes{});
  std::vector<std::uint32_t> acc(M * N, 0);  // wrapping sums of the chunks' results
  std::vector<std::size_t> got(T, 0);        // rows collected per tile
  array.reset();
  SystolicOsInputs in;
  in.x_in.assign(R, 0);
  in.w_in.assign(C, 0);
  bool waiting = false, streaming = false;
  std::size_t started = 0;          // tiles whose wait has started (the last one waits or streams)
  std::size_t ended = 0;            // tiles whose stream is over
  std::size_t oldest = 0;           // the oldest tile with rows outstanding
  std::uint64_t waited = 0, k = 0;  // progress of the current wait and stream
  for (std::uint64_t t = 0;; ++t) {
    // What the array shows during cycle t: the outputs of the tick of cycle t - 1.
    const SystolicOsOutputs out = array.outputs();
    if (out.y_valid) {
      if (oldest >= ended) {
        throw std::runtime_error("run_systolic_os_db: a result row before its tile streamed");
      }
      const std::size_t m = m0_of(oldest) + R - 1 - got[oldest], n0 = n0_of(oldest);
      if (m < M) {
        for (std::size_t c = 0; c < C && n0 + c < N; ++c) {
          acc[m * N + n0 + c] += static_cast<std::uint32_t>(out.y_out[c]);
        }
      }
      if (++got[oldest] == R) run.times[oldest++].done = t;
    }
    if (oldest == T) {
      run.cycles = t;
      break;
    }
    if (oldest < ended && t > run.times[oldest].stream_end + 2 * R + C + 64) {
      throw std::runtime_error("run_systolic_os_db: result rows missing");
    }
    // Decisions for cycle t. Wait: the ports are free (no tile waits or streams). Stream: the
    // wait is over and the stream will end ROWS or more cycles after the previous one's.
    if (!waiting && !streaming && started < T) {
      waiting = true;
      waited = 0;
      run.times[started++].wait_start = t;
    }
    if (waiting && waited >= wait_cycles) {
      const std::size_t i = started - 1;
      if (i == 0 || t + kc_of(i) >= run.times[i - 1].stream_end + R) {
        waiting = false;
        streaming = true;
        k = 0;
        run.times[i].stream_start = t;
      }
    }
    // This cycle's inputs.
    in.valid = streaming;
    in.last = false;
    std::fill(in.x_in.begin(), in.x_in.end(), std::int8_t{0});
    std::fill(in.w_in.begin(), in.w_in.end(), std::int8_t{0});
    if (streaming) {
      const std::size_t i = started - 1, m0 = m0_of(i), n0 = n0_of(i);
      const std::size_t kk = k0_of(i) + static_cast<std::size_t>(k);
      in.last = k + 1 == kc_of(i);
      for (std::size_t r = 0; r < R; ++r) {
        in.x_in[r] = m0 + r < M ? x(m0 + r, kk) : std::int8_t{0};
      }
      for (std::size_t c = 0; c < C; ++c) {
        in.w_in[c] = n0 + c < N ? w(n0 + c, kk) : std::int8_t{0};
      }
    }
    array.tick(in);
    // Progress after the edge: a phase is over on the cycle after its last one.
    if (streaming) {
      if (++k == kc_of(started - 1)) {
        streaming = false;
        run.times[started - 1].stream_end = t + 1;
        ++ended;
      }
    } else if (waiting) {
      ++waited;
    }
  }
  run.y.assign(M * N, 0);
  for (std::size_t i = 0; i < M * N; ++i) run.y[i] = static_cast<std::int32_t>(acc[i]);
  return run;
}

// Y = X W^T on the C++ array model: single-buffered, and double-buffered (two banks).
SystolicOsRun systolic_os_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                               std::size_t k_chunk);
SystolicOsRun systolic_os_db_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                                  std::size_t k_chunk, std::uint64_t wait_cycles = 0);

}  // namespace quasar::units
