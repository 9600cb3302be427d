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
//
// Protocol (per tile; tiles in order m-tile outer, n-tile, k-chunk inner; a tile is up to ROWS
// tokens x up to COLS output channels x one k-chunk of Kc = min(k_chunk, K - k0) indices):
//   load    none (0 cycles): nothing is preloaded, every accumulator starts from 0.
//   stream  Kc cycles with valid = 1; cycle t presents x_in[r] = X[m0 + r, k0 + t] and
//           w_in[c] = W[n0 + c, k0 + t] (0 outside the matrix: ragged tiles are zero-padded).
//           The array must be empty (after reset or a finished drain).
//   drain   cycles with valid = 0 after the stream until the last of the ROWS result rows is
//           on y_out: 2 ROWS + COLS - 2. Rows come out bottom first (row ROWS-1 first).
// Per tile: Kc + 2 ROWS + COLS - 2 cycles; no phase overlaps another (no double-buffered
// accumulators). The array's accumulators are ACC_W = 32 bits, wrapping (the RTL's default);
// the driver sums the k-chunks' results into Y with int32 wrapping (the edge's job in the
// accelerator), so Y equals int8_gemm(x, w, 32) for any k_chunk.
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

// One cycle's input ports (vectors sized ROWS and COLS).
struct SystolicOsInputs {
  bool valid = false;
  std::vector<std::int8_t> x_in;  // ROWS
  std::vector<std::int8_t> w_in;  // COLS
};

// The registered output ports: the same as the weight-stationary array's (y_valid, y_out[COLS]).
using SystolicOsOutputs = SystolicWsOutputs;

// The array, register for register (see systolic_os.v for the register placement).
class SystolicOsArray {
 public:
  SystolicOsArray(int rows, int cols);
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  void reset();  // synchronous reset: every register to 0
  // Control only (valid and hold bits, skew and output lines' valid bits), no datapath: the
  // accelerator's timing-only cycle mode. y_valid is the same as with data; values are not kept.
  void timing_only(bool on) { timing_only_ = on; }
  SystolicOsOutputs outputs() const;
  bool y_valid() const;                   // outputs().y_valid without building the vector
  void tick(const SystolicOsInputs& in);  // one rising edge

 private:
  void tick_control(const SystolicOsInputs& in);
  bool timing_only_ = false;                 // set after reset(), before the first tick
  std::vector<std::uint8_t> v_now_, shift_;  // scratch of tick_control
  // Timing-only delay lines as histories indexed by tick (no shifting): row r's skew presents
  // the `valid` of r ticks ago; output column c the shift decision of COLS-1-c ticks ago.
  std::uint64_t t_ = 0;
  std::vector<std::uint8_t> valid_hist_;  // [t % ROWS]
  std::vector<std::uint8_t> shift_hist_;  // [t % COLS][c]
  int rows_, cols_;
  // Per PE (index r * COLS + c): the x register and its valid bit (columns >= 1), the w
  // register (rows >= 1), the accumulator and its "holds a sum of this tile" bit.
  std::vector<std::int8_t> x_, w_;
  std::vector<std::uint8_t> v_, h_;
  std::vector<std::int32_t> acc_;
  // Delay lines, newest value first: x_skew_[r] has r entries ({valid, x}), w_skew_[c] c
  // entries, out_[c] COLS - c entries ({valid, acc}).
  std::vector<std::vector<std::pair<bool, std::int8_t>>> x_skew_;
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

struct SystolicOsRun {
  std::vector<std::int64_t> y;          // M x N row-major, int32 values
  std::vector<SystolicOsPhases> tiles;  // measured, in the order run
  SystolicOsPhases total;
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
        // stream: one k per cycle.
        in.valid = true;
        for (std::size_t t = 0; t < kc; ++t) {
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
  return run;
}

// Y = X W^T on the C++ array model.
SystolicOsRun systolic_os_gemm(int rows, int cols, const MatrixI8& x, const MatrixI8& w,
                               std::size_t k_chunk);

}  // namespace quasar::units
