// Does the Verilog weight-stationary array (rtl/units/systolic_array.v) compute the numerics'
// int8 GEMM, and does it take exactly the cycles of the protocol's C++ cycle model
// (models/units/systolic_ws.hpp)? The same protocol driver (run_systolic_ws) drives the
// Verilated array through an adapter and the C++ register model; for random GEMMs (ragged
// tiles: K and N not multiples of the array's size, M = 1 and M longer than the pipeline) both
// must give Y = int8_gemm(X, W) and measure, tile by tile, exactly the load / stream / drain
// cycles of systolic_ws_timing. Array sizes: 2x2, 3x5, 5x3 and 8x8 in RTL; 1x1 .. 8x8 on the
// C++ model.
//
// Double-buffered weights (WBANKS = 2, SystolicWsArray(rows, cols, 2)): run_systolic_ws_db
// decides every phase from the controller's rules and what the array shows, and measures each
// tile's load start, stream start, stream end and done; on the RTL and on the model these must
// equal systolic_ws_db_timing (the rules in closed form, what the accelerator model uses) field
// by field, and Y must equal int8_gemm.
//
// Pipelined PEs (PE_STAGES = L > 1, arch pe_stages): the RTL registers each PE's partial sum L
// times and skews row r by r L; the model keeps one stage and delays its outputs (a retiming,
// [choice] in systolic_ws.hpp). Both must measure the same closed forms with L, single- and
// double-buffered, and compute the GEMM.
#include <gtest/gtest.h>

#include <Vsystolic_2x2.h>
#include <Vsystolic_3x5.h>
#include <Vsystolic_5x3.h>
#include <Vsystolic_8x8.h>
#include <Vsystolic_db_2x2.h>
#include <Vsystolic_db_3x5.h>
#include <Vsystolic_db_5x3.h>
#include <Vsystolic_db_8x8.h>
#include <Vsystolic_db_p2_5x3.h>
#include <Vsystolic_db_p3_8x8.h>
#include <Vsystolic_p3_3x5.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "numerics/int_kernels.hpp"
#include "rtl/faulty_array.hpp"
#include "rtl/port_fields.hpp"
#include "rtl/verilated_unit.hpp"
#include "units/systolic_ws.hpp"

namespace quasar::rtl {
namespace {

using units::SystolicWsInputs;
using units::SystolicWsOutputs;
using units::SystolicWsPhases;

// The Verilated array behind run_systolic_ws's (and run_systolic_ws_db's) port interface. banks:
// the WBANKS the Top was Verilated with.
template <class Top>
class RtlArray {
 public:
  // stages: the PE_STAGES the Top was Verilated with.
  RtlArray(int rows, int cols, int banks = 1, int stages = 1)
      : rows_(rows), cols_(cols), banks_(banks), stages_(stages) {}
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  int weight_banks() const { return banks_; }
  int pe_stages() const { return stages_; }
  void reset() {
    u_.io().rst = 1;
    u_.io().w_load = 0;
    u_.io().w_bank = 0;
    u_.io().x_valid = 0;
    u_.io().x_bank = 0;
    u_.tick();
    u_.io().rst = 0;
    u_.eval();
  }
  SystolicWsOutputs outputs() {
    u_.eval();
    SystolicWsOutputs o;
    o.y_valid = u_.io().y_valid != 0;
    for (int c = 0; c < cols_; ++c) {
      o.y_out.push_back(static_cast<std::int32_t>(
          static_cast<std::uint32_t>(get_field(u_.io().y_out, 32 * c, 32))));
    }
    return o;
  }
  void tick(const SystolicWsInputs& in) {
    u_.io().w_load = in.w_load;
    u_.io().w_bank = in.w_bank != 0;
    u_.io().x_valid = in.x_valid;
    u_.io().x_bank = in.x_bank != 0;
    for (int c = 0; c < cols_; ++c) {
      const auto i = static_cast<std::size_t>(c);
      set_field(u_.io().w_in, 8 * c, 8, static_cast<std::uint8_t>(in.w_in[i]));
      set_field(u_.io().psum_in, 32 * c, 32, static_cast<std::uint32_t>(in.psum_in[i]));
    }
    for (int r = 0; r < rows_; ++r) {
      set_field(u_.io().x_in, 8 * r, 8,
                static_cast<std::uint8_t>(in.x_in[static_cast<std::size_t>(r)]));
    }
    u_.tick();
  }

 private:
  int rows_, cols_, banks_, stages_;
  VerilatedUnit<Top> u_;
};

MatrixI8 random_matrix(std::size_t rows, std::size_t cols, std::mt19937_64& rng) {
  MatrixI8 m(rows, cols);
  for (auto& v : m.values()) v = static_cast<std::int8_t>(rng() & 0xffu);
  return m;
}

// GEMM shapes for a rows x cols array: exact tiles, ragged K and N, M = 1, M longer than the
// pipeline, several tiles each way.
std::vector<std::array<std::size_t, 3>> shapes_for(int rows, int cols) {
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  return {{1, 1, 1},
          {1, R, C},
          {4, R, C},
          {5, R + 1, C + 1},
          {R + C + 3, 2 * R, 2 * C},
          {3, 3 * R - 1, 2 * C + 1},
          {7, R / 2 + 1, C / 2 + 1},
          {2 * (R + C), 2 * R + 1, 3 * C - 1}};
}

// Checks one run (RTL or model) against the reference GEMM and the closed-form timing.
void expect_run_matches(const std::string& what, const units::SystolicWsRun& run,
                        const Int8GemmResult& ref, const units::SystolicWsTiming& t) {
  EXPECT_EQ(run.y, ref.acc) << what << ": outputs differ from int8_gemm";
  ASSERT_EQ(run.tiles.size(), t.k_tiles * t.n_tiles) << what;
  for (std::size_t i = 0; i < run.tiles.size(); ++i) {
    const SystolicWsPhases& p = run.tiles[i];
    EXPECT_EQ(p.load, t.per_tile.load) << what << " tile " << i << ": load";
    EXPECT_EQ(p.stream, t.per_tile.stream) << what << " tile " << i << ": stream";
    EXPECT_EQ(p.drain, t.per_tile.drain) << what << " tile " << i << ": drain";
  }
  EXPECT_TRUE(run.total == t.total)
      << what << ": total " << run.total.total() << " vs " << t.total.total();
}

template <class Top>
void check_rtl_array(int rows, int cols, int stages = 1) {
  std::mt19937_64 rng(0x5157 + static_cast<unsigned>(rows * 16 + cols + 256 * stages));
  int gemms = 0;
  for (const auto& [M, K, N] : shapes_for(rows, cols)) {
    for (int rep = 0; rep < 3; ++rep) {
      const MatrixI8 x = random_matrix(M, K, rng), w = random_matrix(N, K, rng);
      const Int8GemmResult ref = int8_gemm(x, w, 32);
      const units::SystolicWsTiming t = units::systolic_ws_timing(rows, cols, M, K, N, stages);
      const std::string what = std::to_string(rows) + "x" + std::to_string(cols) + " L=" +
                               std::to_string(stages) + " array, M=" + std::to_string(M) +
                               " K=" + std::to_string(K) + " N=" + std::to_string(N);
      RtlArray<Top> rtl(rows, cols, 1, stages);
      expect_run_matches("RTL " + what, units::run_systolic_ws(rtl, x, w), ref, t);
      expect_run_matches("model " + what, units::systolic_ws_gemm(rows, cols, x, w, stages), ref,
                         t);
      ++gemms;
    }
  }
  EXPECT_GE(gemms, 24);
}

TEST(SystolicArray, Rtl2x2EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_2x2>(2, 2); }
TEST(SystolicArray, Rtl3x5EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_3x5>(3, 5); }
TEST(SystolicArray, Rtl5x3EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_5x3>(5, 3); }
TEST(SystolicArray, Rtl8x8EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_8x8>(8, 8); }
TEST(SystolicArray, Rtl3x5ThreeStagePesEqualGemmAndTimingModel) {
  check_rtl_array<Vsystolic_p3_3x5>(3, 5, 3);
}

// The C++ model alone, every size 1x1 .. 8x8.
TEST(SystolicWsModel, EverySizeUpTo8x8EqualsGemmAndTiming) {
  std::mt19937_64 rng(0x3a);
  for (int rows = 1; rows <= 8; ++rows) {
    for (int cols = 1; cols <= 8; ++cols) {
      for (const auto& [M, K, N] : shapes_for(rows, cols)) {
        const MatrixI8 x = random_matrix(M, K, rng), w = random_matrix(N, K, rng);
        expect_run_matches(std::to_string(rows) + "x" + std::to_string(cols),
                           units::systolic_ws_gemm(rows, cols, x, w), int8_gemm(x, w, 32),
                           units::systolic_ws_timing(rows, cols, M, K, N));
      }
    }
  }
}

// Worked example for the docs: a 4x4 array, M = 16, K = 10, N = 6: 3 k-tiles x 2 n-tiles,
// each 4 load + 16 stream + 6 drain = 26 cycles; 156 in all.
TEST(SystolicWsModel, ClosedFormWorkedExample) {
  const units::SystolicWsTiming t = units::systolic_ws_timing(4, 4, 16, 10, 6);
  EXPECT_EQ(t.k_tiles, 3u);
  EXPECT_EQ(t.n_tiles, 2u);
  EXPECT_EQ(t.per_tile.total(), 26u);
  EXPECT_EQ(t.total.total(), 156u);
}

// ---- Double-buffered weights ----

// Checks one double-buffered run against the reference GEMM and the controller's rules.
void expect_db_run_matches(const std::string& what, const units::SystolicWsRun& run,
                           const Int8GemmResult& ref, const units::SystolicWsDbTiming& t) {
  EXPECT_EQ(run.y, ref.acc) << what << ": outputs differ from int8_gemm";
  ASSERT_EQ(run.times.size(), t.tiles.size()) << what;
  for (std::size_t i = 0; i < run.times.size(); ++i) {
    const units::WsTileTimes &got = run.times[i], &want = t.tiles[i];
    EXPECT_EQ(got.load_start, want.load_start) << what << " tile " << i << ": load_start";
    EXPECT_EQ(got.stream_start, want.stream_start) << what << " tile " << i << ": stream_start";
    EXPECT_EQ(got.stream_end, want.stream_end) << what << " tile " << i << ": stream_end";
    EXPECT_EQ(got.done, want.done) << what << " tile " << i << ": done";
  }
  EXPECT_EQ(run.cycles, t.cycles) << what << ": total cycles";
}

template <class Top>
void check_rtl_db_array(int rows, int cols, int stages = 1) {
  std::mt19937_64 rng(0xdb57 + static_cast<unsigned>(rows * 16 + cols + 256 * stages));
  int gemms = 0;
  for (const auto& [M, K, N] : shapes_for(rows, cols)) {
    for (int rep = 0; rep < 3; ++rep) {
      const MatrixI8 x = random_matrix(M, K, rng), w = random_matrix(N, K, rng);
      const Int8GemmResult ref = int8_gemm(x, w, 32);
      const units::SystolicWsDbTiming t =
          units::systolic_ws_db_timing(rows, cols, M, K, N, stages);
      const std::string what = std::to_string(rows) + "x" + std::to_string(cols) + " L=" +
                               std::to_string(stages) + " two-bank array, M=" +
                               std::to_string(M) + " K=" + std::to_string(K) +
                               " N=" + std::to_string(N);
      RtlArray<Top> rtl(rows, cols, 2, stages);
      expect_db_run_matches("RTL " + what, units::run_systolic_ws_db(rtl, x, w), ref, t);
      expect_db_run_matches("model " + what,
                            units::systolic_ws_db_gemm(rows, cols, x, w, stages), ref, t);
      if (rep == 0) {
        // Bank 0 alone (w_bank = x_bank = 0) is the single-buffered array.
        RtlArray<Top> single(rows, cols, 2, stages);
        expect_run_matches("RTL single-buffered on " + what, units::run_systolic_ws(single, x, w),
                           ref, units::systolic_ws_timing(rows, cols, M, K, N, stages));
      }
      ++gemms;
    }
  }
  EXPECT_GE(gemms, 24);
}

TEST(SystolicArrayDb, Rtl2x2EqualsGemmAndSchedule) { check_rtl_db_array<Vsystolic_db_2x2>(2, 2); }
TEST(SystolicArrayDb, Rtl3x5EqualsGemmAndSchedule) { check_rtl_db_array<Vsystolic_db_3x5>(3, 5); }
TEST(SystolicArrayDb, Rtl5x3EqualsGemmAndSchedule) { check_rtl_db_array<Vsystolic_db_5x3>(5, 3); }
TEST(SystolicArrayDb, Rtl8x8EqualsGemmAndSchedule) { check_rtl_db_array<Vsystolic_db_8x8>(8, 8); }
TEST(SystolicArrayDb, Rtl5x3TwoStagePesEqualGemmAndSchedule) {
  check_rtl_db_array<Vsystolic_db_p2_5x3>(5, 3, 2);
}
TEST(SystolicArrayDb, Rtl8x8ThreeStagePesEqualGemmAndSchedule) {
  check_rtl_db_array<Vsystolic_db_p3_8x8>(8, 8, 3);
}

// The C++ two-bank model alone, every size 1x1 .. 8x8; its timing-only mode (what the
// accelerator's cycle mode ticks) measures the same times.
TEST(SystolicWsDbModel, EverySizeUpTo8x8EqualsGemmAndSchedule) {
  std::mt19937_64 rng(0xdb);
  for (int rows = 1; rows <= 8; ++rows) {
    for (int cols = 1; cols <= 8; ++cols) {
      for (const auto& [M, K, N] : shapes_for(rows, cols)) {
        const MatrixI8 x = random_matrix(M, K, rng), w = random_matrix(N, K, rng);
        const std::string what = std::to_string(rows) + "x" + std::to_string(cols) +
                                 " M=" + std::to_string(M) + " K=" + std::to_string(K) +
                                 " N=" + std::to_string(N);
        const units::SystolicWsDbTiming t = units::systolic_ws_db_timing(rows, cols, M, K, N);
        expect_db_run_matches(what, units::systolic_ws_db_gemm(rows, cols, x, w),
                              int8_gemm(x, w, 32), t);
        units::SystolicWsArray ctrl(rows, cols, 2);
        ctrl.timing_only(true);
        const units::SystolicWsRun r = units::run_systolic_ws_db(ctrl, x, w);
        ASSERT_EQ(r.times.size(), t.tiles.size()) << "timing-only " << what;
        for (std::size_t i = 0; i < r.times.size(); ++i) {
          EXPECT_TRUE(r.times[i] == t.tiles[i]) << "timing-only " << what << " tile " << i;
        }
        EXPECT_EQ(r.cycles, t.cycles) << "timing-only " << what;
      }
    }
  }
}

// Pipelined PEs (pe_stages L, issue 18): the model, single- and double-buffered, with data and
// timing-only, still computes the GEMM, and measures the closed forms with a drain of
// L ROWS + COLS - 2: (L - 1) ROWS cycles more than one-stage PEs.
TEST(SystolicWsModel, PipelinedPesEqualGemmAndTheirClosedForms) {
  std::mt19937_64 rng(0x91e);
  for (const int stages : {2, 3, 5}) {
    for (const auto& [rows, cols] : {std::pair{1, 1}, {2, 3}, {4, 4}, {5, 2}, {8, 8}}) {
      EXPECT_EQ(units::systolic_ws_drain(rows, cols, stages),
                units::systolic_ws_drain(rows, cols) +
                    static_cast<std::uint64_t>((stages - 1) * rows));
      for (const auto& [M, K, N] : shapes_for(rows, cols)) {
        const MatrixI8 x = random_matrix(M, K, rng), w = random_matrix(N, K, rng);
        const std::string what = "L=" + std::to_string(stages) + " " + std::to_string(rows) +
                                 "x" + std::to_string(cols) + " M=" + std::to_string(M) +
                                 " K=" + std::to_string(K) + " N=" + std::to_string(N);
        const Int8GemmResult ref = int8_gemm(x, w, 32);
        expect_run_matches("single " + what, units::systolic_ws_gemm(rows, cols, x, w, stages),
                           ref, units::systolic_ws_timing(rows, cols, M, K, N, stages));
        const units::SystolicWsDbTiming t =
            units::systolic_ws_db_timing(rows, cols, M, K, N, stages);
        expect_db_run_matches("double " + what,
                              units::systolic_ws_db_gemm(rows, cols, x, w, stages), ref, t);
        units::SystolicWsArray ctrl(rows, cols, 2, stages);
        ctrl.timing_only(true);
        const units::SystolicWsRun r = units::run_systolic_ws_db(ctrl, x, w);
        ASSERT_EQ(r.times.size(), t.tiles.size()) << "timing-only " << what;
        for (std::size_t i = 0; i < r.times.size(); ++i)
          EXPECT_TRUE(r.times[i] == t.tiles[i]) << "timing-only " << what << " tile " << i;
      }
    }
  }
  EXPECT_THROW(units::SystolicWsArray(2, 2, 1, 0), std::invalid_argument);
  EXPECT_THROW(units::systolic_ws_drain(2, 2, 0), std::invalid_argument);
}

// A short stream, where single buffering wastes most cycles on loads and drains: an 8x8 array,
// M = 2, K = 16, N = 16: 2 k-tiles x 2 n-tiles. Load 8 cycles, drain 8 + 8 - 2 = 14.
//   single-buffered: every tile 8 load + 2 stream + 14 drain = 24 cycles; 4 tiles, 96.
//   double-buffered (load start, stream start, stream end, done = stream end + 14):
//     tile 0 (bank 0)  0,  8, 10, 24
//     tile 1 (bank 1)  8, 16, 18, 32  loads while tile 0 streams and drains
//     tile 2 (bank 0) 24, 32, 34, 48  waits for tile 0's done (24) to reuse bank 0
//     tile 3 (bank 1) 32, 40, 42, 56  waits for tile 1's done (32) and the weight port
//   56 cycles.
TEST(SystolicWsDbModel, ShortStreamBeatsSingleBuffering) {
  std::mt19937_64 rng(0x5a);
  const MatrixI8 x = random_matrix(2, 16, rng), w = random_matrix(16, 16, rng);
  const Int8GemmResult ref = int8_gemm(x, w, 32);
  const units::SystolicWsRun single = units::systolic_ws_gemm(8, 8, x, w);
  const units::SystolicWsRun db = units::systolic_ws_db_gemm(8, 8, x, w);
  EXPECT_EQ(single.y, ref.acc);
  EXPECT_EQ(db.y, ref.acc);
  EXPECT_EQ(single.cycles, 96u);
  EXPECT_EQ(single.total.total(), 96u);
  const std::vector<units::WsTileTimes> want = {
      {0, 8, 10, 24}, {8, 16, 18, 32}, {24, 32, 34, 48}, {32, 40, 42, 56}};
  ASSERT_EQ(db.times.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(db.times[i] == want[i]) << "tile " << i;
    EXPECT_TRUE(units::systolic_ws_db_timing(8, 8, 2, 16, 16).tiles[i] == want[i]) << "tile " << i;
  }
  EXPECT_EQ(db.cycles, 56u);
}

// The steady state. Per two tiles the rules give B = max(2 M, 2 ROWS, M + 2 ROWS + COLS - 2):
// the weight port (a load per tile), the x port (a stream per tile), and a bank's round trip:
// tile i + 2's load waits for tile i's done = its load start + ROWS + M + ROWS + COLS - 2, and
// two banks share that. So the average is B / 2 a tile (not ceil(B / 2): with odd B the pairs
// take exactly B), and the single steps need not be B / 2: when the bank round trip binds,
// tiles go in pairs (8x8, M = 2: load starts 0, 8, 24, 32, 48, ...: steps 8 and 16). From the
// third tile on, every tile's load start and done are B after those of the tile two back, at
// every size 1x1 .. 8x8 and M 1 .. 40; the model measures the same on 12 tiles.
TEST(SystolicWsDbModel, SteadyStateIsMaxOfPortsAndBankRoundTrip) {
  std::mt19937_64 rng(0x55);
  for (std::uint64_t rows = 1; rows <= 8; ++rows) {
    for (std::uint64_t cols = 1; cols <= 8; ++cols) {
      for (std::uint64_t m = 1; m <= 40; ++m) {
        const std::uint64_t B = std::max({2 * m, 2 * rows, m + 2 * rows + cols - 2});
        const int R = static_cast<int>(rows), C = static_cast<int>(cols);
        const units::SystolicWsDbTiming t =
            units::systolic_ws_db_timing(R, C, m, 6 * rows, 2 * cols);
        ASSERT_EQ(t.tiles.size(), 12u);
        for (std::size_t i = 2; i + 2 < t.tiles.size(); ++i) {
          EXPECT_EQ(t.tiles[i + 2].load_start - t.tiles[i].load_start, B)
              << R << "x" << C << " M=" << m << " tile " << i;
          EXPECT_EQ(t.tiles[i + 2].done - t.tiles[i].done, B)
              << R << "x" << C << " M=" << m << " tile " << i;
        }
        if (m % 7 == 1) {
          const MatrixI8 x = random_matrix(m, 6 * rows, rng),
                         w = random_matrix(2 * cols, 6 * rows, rng);
          const units::SystolicWsRun r = units::systolic_ws_db_gemm(R, C, x, w);
          ASSERT_EQ(r.times.size(), 12u);
          for (std::size_t i = 2; i + 2 < r.times.size(); ++i) {
            EXPECT_EQ(r.times[i + 2].load_start - r.times[i].load_start, B);
          }
          // Never slower than single buffering; faster from two tiles on.
          EXPECT_LT(r.cycles, 12 * (2 * rows + m + cols - 2));
        }
      }
    }
  }
  // The short-stream example: B = 24 per two tiles, 12 a tile against 24 single-buffered.
  const units::SystolicWsDbTiming t = units::systolic_ws_db_timing(8, 8, 2, 48, 16);
  EXPECT_EQ(t.tiles[5].load_start - t.tiles[3].load_start, 24u);
}

// (FaultyArray: faulty_array.hpp.)
using Faulty = FaultyArray<units::SystolicWsArray>;

TEST(SystolicWsDbModel, DriverThrowsOnLostOrExtraResults) {
  std::mt19937_64 rng(0x77);
  // 3 x 3 tiles on a 3x2 array, 45 results.
  const MatrixI8 x = random_matrix(5, 7, rng), w = random_matrix(6, 7, rng);
  for (int lose : {0, 4, 29}) {
    Faulty lossy(3, 2, lose, false);
    EXPECT_THROW(units::run_systolic_ws_db(lossy, x, w), std::runtime_error) << "lose " << lose;
  }
  Faulty early(3, 2, -1, true);
  EXPECT_THROW(units::run_systolic_ws_db(early, x, w), std::runtime_error);
  Faulty fine(3, 2, -1, false);
  EXPECT_EQ(units::run_systolic_ws_db(fine, x, w).y, int8_gemm(x, w, 32).acc);
}

TEST(SystolicWsDbModel, RejectsBadBanks) {
  EXPECT_THROW(units::SystolicWsArray(2, 2, 0), std::invalid_argument);
  EXPECT_THROW(units::SystolicWsArray(2, 2, 3), std::invalid_argument);
  units::SystolicWsArray one(2, 2);
  EXPECT_EQ(one.weight_banks(), 1);
  const MatrixI8 x(1, 2), w(2, 2);
  EXPECT_THROW(units::run_systolic_ws_db(one, x, w), std::invalid_argument);
  EXPECT_EQ(units::SystolicWsArray(2, 2, 2).weight_banks(), 2);
}

}  // namespace
}  // namespace quasar::rtl
