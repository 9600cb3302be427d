// Does the Verilog output-stationary array (rtl/units/systolic_os.v) compute the numerics' int8
// GEMM, and does it take exactly the cycles of the protocol's closed form
// (models/units/systolic_os.hpp)? The same protocol driver (run_systolic_os) drives the
// Verilated array through an adapter and the C++ register model; for random GEMMs (M, K, N
// smaller than, equal to, multiples of and ragged against the array; k-chunks of all of K, 1,
// non-divisors and more than K) both must give Y = int8_gemm(X, W) and measure, tile by tile,
// exactly the stream / drain cycles of systolic_os_timing. Array sizes 2x2, 3x5, 5x3 and 8x8
// (the C++ model alone at every size 1x1 .. 8x8: tests/unit/test_unit_models.cpp).
//
// Double-buffered accumulators (ABANKS = 2, SystolicOsArray(rows, cols, 2)): run_systolic_os_db
// decides every phase from the controller's rules and what the array shows, and measures each
// tile's wait start, stream start, stream end and done; on the RTL, on the model and on the
// model's timing-only mode these must equal systolic_os_db_timing (the rules in closed form,
// what the accelerator model uses) field by field, and Y must equal int8_gemm. The model must
// also equal the RTL port for port on random inputs (protocol or not), the rules' ROWS bound must
// be exact (one cycle less corrupts results), and the steady state must be max(wait + Kc, ROWS)
// cycles a tile.
#include <gtest/gtest.h>

#include <Vsystolic_os_2x2.h>
#include <Vsystolic_os_3x5.h>
#include <Vsystolic_os_5x3.h>
#include <Vsystolic_os_8x8.h>
#include <Vsystolic_os_db_2x2.h>
#include <Vsystolic_os_db_3x5.h>
#include <Vsystolic_os_db_5x3.h>
#include <Vsystolic_os_db_8x8.h>

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
#include "units/systolic_os.hpp"

namespace quasar::rtl {
namespace {

using units::SystolicOsInputs;
using units::SystolicOsOutputs;

// The Verilated array behind run_systolic_os's (and run_systolic_os_db's) port interface.
// banks: the ABANKS the Top was Verilated with.
template <class Top>
class RtlOsArray {
 public:
  RtlOsArray(int rows, int cols, int banks = 1) : rows_(rows), cols_(cols), banks_(banks) {}
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  int acc_banks() const { return banks_; }
  void reset() {
    u_.io().rst = 1;
    u_.io().valid = 0;
    u_.io().last = 0;
    u_.tick();
    u_.io().rst = 0;
    u_.eval();
  }
  SystolicOsOutputs outputs() {
    u_.eval();
    SystolicOsOutputs o;
    o.y_valid = u_.io().y_valid != 0;
    for (int c = 0; c < cols_; ++c) {
      o.y_out.push_back(static_cast<std::int32_t>(
          static_cast<std::uint32_t>(get_field(u_.io().y_out, 32 * c, 32))));
    }
    return o;
  }
  void tick(const SystolicOsInputs& in) {
    u_.io().valid = in.valid;
    u_.io().last = in.last;
    for (int r = 0; r < rows_; ++r) {
      set_field(u_.io().x_in, 8 * r, 8,
                static_cast<std::uint8_t>(in.x_in[static_cast<std::size_t>(r)]));
    }
    for (int c = 0; c < cols_; ++c) {
      set_field(u_.io().w_in, 8 * c, 8,
                static_cast<std::uint8_t>(in.w_in[static_cast<std::size_t>(c)]));
    }
    u_.tick();
  }

 private:
  int rows_, cols_, banks_;
  VerilatedUnit<Top> u_;
};

MatrixI8 random_matrix(std::size_t rows, std::size_t cols, std::mt19937_64& rng) {
  MatrixI8 m(rows, cols);
  for (auto& v : m.values()) v = static_cast<std::int8_t>(rng() & 0xffu);
  return m;
}

// GEMM shapes M x K x N for a rows x cols array: one element, exact tiles, M and N smaller than
// the array, ragged, several tiles each way, K longer than the pipeline.
std::vector<std::array<std::size_t, 3>> shapes_for(int rows, int cols) {
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  return {{1, 1, 1},
          {R, 5, C},
          {R / 2 + 1, 9, C / 2 + 1},
          {R + 1, R + C + 3, C + 1},
          {2 * R, 12, 2 * C},
          {3 * R - 1, 2 * R + 1, 2 * C + 1}};
}

// k-chunk sizes for a K: all of it, 1, 3 and 5 (non-divisors of most K), about half, more.
std::vector<std::size_t> k_chunks_for(std::size_t K) { return {K, 1, 3, 5, K / 2 + 1, K + 4}; }

// Checks one run (RTL or model) against the reference GEMM and the closed-form timing.
void expect_run_matches(const std::string& what, const units::SystolicOsRun& run,
                        const Int8GemmResult& ref, const units::SystolicOsTiming& t) {
  EXPECT_EQ(run.y, ref.acc) << what << ": outputs differ from int8_gemm";
  ASSERT_EQ(run.tiles.size(), t.tiles()) << what;
  for (std::size_t i = 0; i < run.tiles.size(); ++i) {
    const units::SystolicOsPhases& p = run.tiles[i];
    const units::SystolicOsPhases q = t.tile(i);
    EXPECT_EQ(p.load, q.load) << what << " tile " << i << ": load";
    EXPECT_EQ(p.stream, q.stream) << what << " tile " << i << ": stream";
    EXPECT_EQ(p.drain, q.drain) << what << " tile " << i << ": drain";
  }
  EXPECT_TRUE(run.total == t.total)
      << what << ": total " << run.total.total() << " vs " << t.total.total();
}

template <class Top>
void check_rtl_array(int rows, int cols) {
  std::mt19937_64 rng(0x0505 + static_cast<unsigned>(rows * 16 + cols));
  int gemms = 0;
  for (const auto& [M, K, N] : shapes_for(rows, cols)) {
    for (int rep = 0; rep < 2; ++rep) {
      const MatrixI8 x = random_matrix(M, K, rng), w = random_matrix(N, K, rng);
      const Int8GemmResult ref = int8_gemm(x, w, 32);
      for (const std::size_t kc : k_chunks_for(K)) {
        const units::SystolicOsTiming t = units::systolic_os_timing(rows, cols, M, K, N, kc);
        const std::string what = std::to_string(rows) + "x" + std::to_string(cols) +
                                 " array, M=" + std::to_string(M) + " K=" + std::to_string(K) +
                                 " N=" + std::to_string(N) + " k_chunk=" + std::to_string(kc);
        RtlOsArray<Top> rtl(rows, cols);
        expect_run_matches("RTL " + what, units::run_systolic_os(rtl, x, w, kc), ref, t);
        expect_run_matches("model " + what, units::systolic_os_gemm(rows, cols, x, w, kc), ref, t);
        ++gemms;
      }
    }
  }
  EXPECT_EQ(gemms, 6 * 2 * 6);
}

TEST(SystolicOsArray, Rtl2x2EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_os_2x2>(2, 2); }
TEST(SystolicOsArray, Rtl3x5EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_os_3x5>(3, 5); }
TEST(SystolicOsArray, Rtl5x3EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_os_5x3>(5, 3); }
TEST(SystolicOsArray, Rtl8x8EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_os_8x8>(8, 8); }

// The 32-bit accumulators wrap like int8_gemm's: 140000 products of +-128 x +-128 overflow
// int32 inside the PEs (k_chunk = K) or in the driver's sum of chunks (k_chunk = 50000).
TEST(SystolicOsArray, Rtl2x2AccumulatorWrapsModulo2To32) {
  const std::size_t K = 140000;
  std::mt19937_64 rng(0x0f);
  MatrixI8 x(3, K), w(3, K);
  for (std::size_t k = 0; k < K; ++k) {
    x(0, k) = -128, x(1, k) = 127, x(2, k) = static_cast<std::int8_t>(rng() & 0xffu);
    w(0, k) = -128, w(1, k) = 127, w(2, k) = static_cast<std::int8_t>(rng() & 0xffu);
  }
  const Int8GemmResult ref = int8_gemm(x, w, 32);
  EXPECT_GT(ref.wraps, 0u);
  EXPECT_EQ(ref.acc[0], -2001207296);  // 140000 * 16384 - 2^32
  for (const std::size_t kc : {K, std::size_t{50000}}) {
    RtlOsArray<Vsystolic_os_2x2> rtl(2, 2);
    expect_run_matches("RTL 2x2 k_chunk=" + std::to_string(kc),
                       units::run_systolic_os(rtl, x, w, kc), ref,
                       units::systolic_os_timing(2, 2, 3, K, 3, kc));
  }
}

// ---- Double-buffered accumulators ----

// Checks one double-buffered run against the reference GEMM (unless ref is null: a timing-only
// run has no values) and the controller's rules.
void expect_db_run_matches(const std::string& what, const units::SystolicOsRun& run,
                           const Int8GemmResult* ref, const units::SystolicOsDbTiming& t) {
  if (ref != nullptr) {
    EXPECT_EQ(run.y, ref->acc) << what << ": outputs differ from int8_gemm";
  }
  ASSERT_EQ(run.times.size(), t.tiles.size()) << what;
  for (std::size_t i = 0; i < run.times.size(); ++i) {
    const units::OsTileTimes &got = run.times[i], &want = t.tiles[i];
    EXPECT_EQ(got.wait_start, want.wait_start) << what << " tile " << i << ": wait_start";
    EXPECT_EQ(got.stream_start, want.stream_start) << what << " tile " << i << ": stream_start";
    EXPECT_EQ(got.stream_end, want.stream_end) << what << " tile " << i << ": stream_end";
    EXPECT_EQ(got.done, want.done) << what << " tile " << i << ": done";
  }
  EXPECT_EQ(run.cycles, t.cycles) << what << ": total cycles";
}

// The double-buffered protocol on the model (full and timing-only) for one GEMM.
void check_model_db(int rows, int cols, const MatrixI8& x, const MatrixI8& w, std::size_t kc,
                    std::uint64_t wait, const Int8GemmResult& ref, const std::string& what) {
  const units::SystolicOsDbTiming t =
      units::systolic_os_db_timing(rows, cols, x.rows(), x.cols(), w.rows(), kc, wait);
  expect_db_run_matches("model " + what, units::systolic_os_db_gemm(rows, cols, x, w, kc, wait),
                        &ref, t);
  units::SystolicOsArray ctrl(rows, cols, 2);
  ctrl.timing_only(true);
  expect_db_run_matches("timing-only model " + what,
                        units::run_systolic_os_db(ctrl, x, w, kc, wait), nullptr, t);
}

template <class Top>
void check_rtl_db_array(int rows, int cols) {
  std::mt19937_64 rng(0x0db5 + static_cast<unsigned>(rows * 16 + cols));
  int gemms = 0;
  for (const auto& [M, K, N] : shapes_for(rows, cols)) {
    for (int rep = 0; rep < 2; ++rep) {
      const MatrixI8 x = random_matrix(M, K, rng), w = random_matrix(N, K, rng);
      const Int8GemmResult ref = int8_gemm(x, w, 32);
      for (const std::size_t kc : k_chunks_for(K)) {
        // A wait of 3 cycles (ports slower than the stream) on two of the k-chunks.
        for (const std::uint64_t wait : {std::uint64_t{0}, std::uint64_t{3}}) {
          if (wait != 0 && kc != 1 && kc != K) continue;
          const std::string what = std::to_string(rows) + "x" + std::to_string(cols) +
                                   " two-bank array, M=" + std::to_string(M) +
                                   " K=" + std::to_string(K) + " N=" + std::to_string(N) +
                                   " k_chunk=" + std::to_string(kc) +
                                   " wait=" + std::to_string(wait);
          RtlOsArray<Top> rtl(rows, cols, 2);
          expect_db_run_matches("RTL " + what, units::run_systolic_os_db(rtl, x, w, kc, wait), &ref,
                                units::systolic_os_db_timing(rows, cols, M, K, N, kc, wait));
          check_model_db(rows, cols, x, w, kc, wait, ref, what);
          ++gemms;
        }
        if (rep == 0) {
          // The single-buffered protocol (stream, drain) runs unchanged on two banks.
          RtlOsArray<Top> single(rows, cols, 2);
          expect_run_matches("RTL single-buffered protocol on two banks",
                             units::run_systolic_os(single, x, w, kc), ref,
                             units::systolic_os_timing(rows, cols, M, K, N, kc));
        }
      }
    }
  }
  EXPECT_GE(gemms, 6 * 2 * (6 + 2));  // more where K = 1 (k_chunk 1 is also K)
}

TEST(SystolicOsArrayDb, Rtl2x2EqualsGemmAndSchedule) {
  check_rtl_db_array<Vsystolic_os_db_2x2>(2, 2);
}
TEST(SystolicOsArrayDb, Rtl3x5EqualsGemmAndSchedule) {
  check_rtl_db_array<Vsystolic_os_db_3x5>(3, 5);
}
TEST(SystolicOsArrayDb, Rtl5x3EqualsGemmAndSchedule) {
  check_rtl_db_array<Vsystolic_os_db_5x3>(5, 3);
}
TEST(SystolicOsArrayDb, Rtl8x8EqualsGemmAndSchedule) {
  check_rtl_db_array<Vsystolic_os_db_8x8>(8, 8);
}

// The model equals the RTL port for port, every cycle (y_valid and every column's y_out, also
// while y_valid is 0), on random inputs that follow no protocol: streams of random length with
// `last` at random, gaps, stray valid cycles. With one and two banks; the model's timing-only
// mode raises y_valid on the same cycles.
template <class Top>
void check_rtl_equals_model(int rows, int cols, int banks) {
  std::mt19937_64 rng(0xc05 + static_cast<unsigned>(rows * 16 + cols + 256 * banks));
  RtlOsArray<Top> rtl(rows, cols, banks);
  rtl.reset();
  units::SystolicOsArray model(rows, cols, banks), ctrl(rows, cols, banks);
  ctrl.timing_only(true);
  SystolicOsInputs in;
  in.x_in.assign(static_cast<std::size_t>(rows), 0);
  in.w_in.assign(static_cast<std::size_t>(cols), 0);
  const std::string what = std::to_string(rows) + "x" + std::to_string(cols) +
                           " ABANKS=" + std::to_string(banks) + " cycle ";
  std::uint64_t valid_cycles = 0;
  for (int t = 0; t < 5000;) {
    const int burst = 1 + static_cast<int>(rng() % 16), gap = static_cast<int>(rng() % 24);
    for (int k = 0; k < burst + gap; ++k, ++t) {
      in.valid = k < burst || rng() % 13 == 0;
      in.last = (k + 1 == burst) != (rng() % 11 == 0);  // mostly at the burst's end
      for (auto& v : in.x_in) v = static_cast<std::int8_t>(rng());
      for (auto& v : in.w_in) v = static_cast<std::int8_t>(rng());
      rtl.tick(in);
      model.tick(in);
      ctrl.tick(in);
      const SystolicOsOutputs a = rtl.outputs(), b = model.outputs();
      ASSERT_EQ(a.y_valid, b.y_valid) << what << t;
      ASSERT_EQ(a.y_out, b.y_out) << what << t;
      ASSERT_EQ(b.y_valid, model.y_valid()) << what << t;
      ASSERT_EQ(b.y_valid, ctrl.y_valid()) << "timing-only " << what << t;
      valid_cycles += a.y_valid ? 1 : 0;
    }
  }
  EXPECT_GT(valid_cycles, 200u) << what;
}

TEST(SystolicOsArrayDb, RtlEqualsModelOnRandomInputs) {
  check_rtl_equals_model<Vsystolic_os_2x2>(2, 2, 1);
  check_rtl_equals_model<Vsystolic_os_3x5>(3, 5, 1);
  check_rtl_equals_model<Vsystolic_os_5x3>(5, 3, 1);
  check_rtl_equals_model<Vsystolic_os_8x8>(8, 8, 1);
  check_rtl_equals_model<Vsystolic_os_db_2x2>(2, 2, 2);
  check_rtl_equals_model<Vsystolic_os_db_3x5>(3, 5, 2);
  check_rtl_equals_model<Vsystolic_os_db_5x3>(5, 3, 2);
  check_rtl_equals_model<Vsystolic_os_db_8x8>(8, 8, 2);
}

// The C++ two-bank model alone (and its timing-only mode), every size 1x1 .. 8x8, the shapes and
// k-chunks above, waits 0 and 2.
TEST(SystolicOsDbModel, EverySizeUpTo8x8EqualsGemmAndSchedule) {
  std::mt19937_64 rng(0xdb0);
  int gemms = 0;
  for (int rows = 1; rows <= 8; ++rows) {
    for (int cols = 1; cols <= 8; ++cols) {
      for (const auto& [M, K, N] : shapes_for(rows, cols)) {
        const MatrixI8 x = random_matrix(M, K, rng), w = random_matrix(N, K, rng);
        const Int8GemmResult ref = int8_gemm(x, w, 32);
        for (const std::size_t kc : k_chunks_for(K)) {
          for (const std::uint64_t wait : {std::uint64_t{0}, std::uint64_t{2}}) {
            check_model_db(rows, cols, x, w, kc, wait, ref,
                           std::to_string(rows) + "x" + std::to_string(cols) +
                               " M=" + std::to_string(M) + " K=" + std::to_string(K) +
                               " N=" + std::to_string(N) + " k_chunk=" + std::to_string(kc) +
                               " wait=" + std::to_string(wait));
            ++gemms;
          }
        }
      }
    }
  }
  EXPECT_EQ(gemms, 64 * 6 * 6 * 2);
}

// Worked by hand: a 4x4 array, M = 6, K = 10, N = 5, k_chunk = 4 (the single-buffered worked
// example of tests/unit/test_unit_models.cpp): 2 m-tiles x 2 n-tiles x 3 chunks (Kc = 4, 4, 2).
//   single-buffered: drain 2*4 + 4 - 2 = 10; 4 x (14 + 14 + 12) = 160 cycles.
//   double-buffered, wait 0 (wait start, stream start, stream end, done = stream end + 10):
//     tile 0  (Kc 4)   0,  0,  4, 14
//     tile 1  (Kc 4)   4,  4,  8, 18   streams while tile 0 drains (end 8 >= 4 + ROWS)
//     tile 2  (Kc 2)   8, 10, 12, 22   held 2 cycles: its end must be >= 8 + 4
//     tile 3  (Kc 4)  12, 12, 16, 26   (the next (m, n) tile: the same pattern)
//     ... every (m, n) tile of 3 chunks takes 12 cycles, tile 3g + j = tile j + 12 g ...
//     tile 11 (Kc 2)  44, 46, 48, 58
//   58 cycles: 40 stream cycles, 8 cycles held by the ROWS rule, the last drain 10.
//   double-buffered, wait 3: a tile's stream end follows the previous one's by
//   max(3 + Kc, 4): 7, 7, 5 per (m, n) tile, 19 in all; tile 0 (0, 3, 7, 17), tile 1
//   (7, 10, 14, 24), tile 2 (14, 17, 19, 29); tile 11 (71, 74, 76, 86): 86 cycles against
//   4 x (17 + 17 + 15) = 196 single-buffered.
TEST(SystolicOsDbModel, WorkedExampleBeatsSingleBuffering) {
  std::mt19937_64 rng(0x4e);
  const MatrixI8 x = random_matrix(6, 10, rng), w = random_matrix(5, 10, rng);
  const Int8GemmResult ref = int8_gemm(x, w, 32);
  const units::SystolicOsRun single = units::systolic_os_gemm(4, 4, x, w, 4);
  EXPECT_EQ(single.y, ref.acc);
  EXPECT_EQ(single.cycles, 160u);
  const units::SystolicOsRun db = units::systolic_os_db_gemm(4, 4, x, w, 4);
  EXPECT_EQ(db.y, ref.acc);
  const std::vector<units::OsTileTimes> first = {{0, 0, 4, 14}, {4, 4, 8, 18}, {8, 10, 12, 22}};
  ASSERT_EQ(db.times.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) {
    const std::uint64_t g = 12 * (i / 3);
    const units::OsTileTimes& f = first[i % 3];
    const units::OsTileTimes want{f.wait_start + g, f.stream_start + g, f.stream_end + g,
                                  f.done + g};
    EXPECT_TRUE(db.times[i] == want) << "tile " << i;
    EXPECT_TRUE(units::systolic_os_db_timing(4, 4, 6, 10, 5, 4).tiles[i] == want) << "tile " << i;
  }
  EXPECT_TRUE(db.times[11] == (units::OsTileTimes{44, 46, 48, 58}));
  EXPECT_EQ(db.cycles, 58u);
  // With a wait of 3 cycles a tile.
  const units::SystolicOsRun dbw = units::systolic_os_db_gemm(4, 4, x, w, 4, 3);
  EXPECT_EQ(dbw.y, ref.acc);
  ASSERT_EQ(dbw.times.size(), 12u);
  EXPECT_TRUE(dbw.times[0] == (units::OsTileTimes{0, 3, 7, 17}));
  EXPECT_TRUE(dbw.times[1] == (units::OsTileTimes{7, 10, 14, 24}));
  EXPECT_TRUE(dbw.times[2] == (units::OsTileTimes{14, 17, 19, 29}));
  EXPECT_TRUE(dbw.times[11] == (units::OsTileTimes{71, 74, 76, 86}));
  EXPECT_EQ(dbw.cycles, 86u);
  const units::SystolicOsTiming t = units::systolic_os_timing(4, 4, 6, 10, 5, 4);
  EXPECT_EQ(t.total.total() + 3 * t.tiles(), 196u);  // single-buffered with the waits
}

// The steady state: with equal tiles every stream ends exactly max(wait + Kc, ROWS) after the
// previous one (tile 1 on), so T tiles take wait + Kc + (T - 1) max(wait + Kc, ROWS)
// + 2 ROWS + COLS - 2 cycles, against T (wait + Kc + 2 ROWS + COLS - 2) single-buffered; at every
// size 1x1 .. 8x8, Kc 1 .. 12, wait 0 .. 3 (24 tiles of 3 m-tiles x 2 n-tiles x 4 chunks); the
// model measures the same on a sample.
TEST(SystolicOsDbModel, SteadyStateIsMaxOfStreamAndUnload) {
  std::mt19937_64 rng(0x57);
  for (std::uint64_t rows = 1; rows <= 8; ++rows) {
    for (std::uint64_t cols = 1; cols <= 8; ++cols) {
      for (std::uint64_t kc = 1; kc <= 12; ++kc) {
        for (std::uint64_t wait = 0; wait <= 3; ++wait) {
          const int R = static_cast<int>(rows), C = static_cast<int>(cols);
          const std::uint64_t step = std::max(wait + kc, rows), drain = 2 * rows + cols - 2;
          const units::SystolicOsDbTiming t =
              units::systolic_os_db_timing(R, C, 3 * rows, 4 * kc, 2 * cols, kc, wait);
          const std::string what = std::to_string(R) + "x" + std::to_string(C) +
                                   " Kc=" + std::to_string(kc) + " wait=" + std::to_string(wait);
          ASSERT_EQ(t.tiles.size(), 24u);
          for (std::size_t i = 1; i < t.tiles.size(); ++i) {
            EXPECT_EQ(t.tiles[i].stream_end - t.tiles[i - 1].stream_end, step) << what;
            EXPECT_EQ(t.tiles[i].done - t.tiles[i].stream_end, drain) << what;
          }
          EXPECT_EQ(t.cycles, wait + kc + 23 * step + drain) << what;
          EXPECT_LT(t.cycles, 24 * (wait + kc + drain)) << what;
          if ((kc + wait + rows + cols) % 9 == 0) {
            const MatrixI8 x = random_matrix(3 * rows, 4 * kc, rng),
                           w = random_matrix(2 * cols, 4 * kc, rng);
            const units::SystolicOsRun r = units::systolic_os_db_gemm(R, C, x, w, kc, wait);
            EXPECT_EQ(r.y, int8_gemm(x, w, 32).acc) << what;
            EXPECT_EQ(r.cycles, t.cycles) << what;
          }
        }
      }
    }
  }
  // The worked example's steady state: Kc = 4 on a 4x4 array, one tile every 4 cycles against
  // 14 single-buffered; an 8x8 array with Kc = 2: ROWS binds, 8 a tile against 24.
  EXPECT_EQ(units::systolic_os_db_timing(8, 8, 8, 20, 8, 2).tiles[5].stream_end -
                units::systolic_os_db_timing(8, 8, 8, 20, 8, 2).tiles[4].stream_end,
            8u);
}

// Streams two tiles by hand: tile A (the ka columns of xa, wa) from cycle 0, then tile B (kb =
// 1, xb, wb) in the single cycle that makes its stream end `gap` cycles after A's; returns the
// result rows in the order they come out (each ROWS x COLS values), as many as appear within
// 2 ROWS + COLS + gap + 64 cycles.
template <class Array>
std::vector<std::vector<std::int32_t>> stream_two_tiles(Array& a, const MatrixI8& xa,
                                                        const MatrixI8& wa, const MatrixI8& xb,
                                                        const MatrixI8& wb, std::size_t gap) {
  const std::size_t R = xa.rows(), C = wa.rows(), ka = xa.cols();
  a.reset();
  SystolicOsInputs in;
  in.x_in.assign(R, 0);
  in.w_in.assign(C, 0);
  std::vector<std::vector<std::int32_t>> rows_out;
  const std::size_t b_cycle = ka + gap - 1, end = b_cycle + 2 * R + C + 64;
  for (std::size_t t = 0; t < end; ++t) {
    const bool in_a = t < ka, in_b = t == b_cycle;
    in.valid = in_a || in_b;
    in.last = (in_a && t + 1 == ka) || in_b;
    for (std::size_t r = 0; r < R; ++r) {
      in.x_in[r] = in_a ? xa(r, t) : in_b ? xb(r, 0) : std::int8_t{0};
    }
    for (std::size_t c = 0; c < C; ++c) {
      in.w_in[c] = in_a ? wa(c, t) : in_b ? wb(c, 0) : std::int8_t{0};
    }
    a.tick(in);
    const SystolicOsOutputs out = a.outputs();
    if (out.y_valid) rows_out.push_back(out.y_out);
  }
  return rows_out;
}

// The ROWS rule is exact: tile B's stream ending ROWS cycles after tile A's gives both tiles'
// results, back to back on y_out; ending one cycle earlier overwrites some of A's results in
// the shadow registers (the outputs differ). On the RTL (ROWS >= 2) and on the model at every
// size with ROWS >= 2.
template <class Array>
void check_rule_is_exact(Array& a, int rows, int cols, std::mt19937_64& rng) {
  const auto R = static_cast<std::size_t>(rows), C = static_cast<std::size_t>(cols);
  const std::string what = std::to_string(rows) + "x" + std::to_string(cols);
  for (const std::size_t ka : {std::size_t{1}, std::size_t{3}, std::size_t{9}}) {
    const MatrixI8 xa = random_matrix(R, ka, rng), wa = random_matrix(C, ka, rng);
    const MatrixI8 xb = random_matrix(R, 1, rng), wb = random_matrix(C, 1, rng);
    const Int8GemmResult ya = int8_gemm(xa, wa, 32), yb = int8_gemm(xb, wb, 32);
    std::vector<std::vector<std::int32_t>> want;
    for (const Int8GemmResult* y : {&ya, &yb}) {
      for (std::size_t r = R; r-- > 0;) {  // bottom row first
        want.emplace_back(y->acc.begin() + static_cast<std::ptrdiff_t>(r * C),
                          y->acc.begin() + static_cast<std::ptrdiff_t>((r + 1) * C));
      }
    }
    for (std::size_t gap = R - 1; gap <= R + 2; ++gap) {
      const auto got = stream_two_tiles(a, xa, wa, xb, wb, gap);
      if (gap >= R) {
        EXPECT_EQ(got, want) << what << " ka=" << ka << " gap=" << gap;
      } else {
        EXPECT_NE(got, want) << what << " ka=" << ka << " gap=" << gap << " (one too short)";
      }
    }
  }
}

TEST(SystolicOsArrayDb, RtlRowsRuleIsExact) {
  std::mt19937_64 rng(0xe1);
  RtlOsArray<Vsystolic_os_db_2x2> a22(2, 2, 2);
  check_rule_is_exact(a22, 2, 2, rng);
  RtlOsArray<Vsystolic_os_db_3x5> a35(3, 5, 2);
  check_rule_is_exact(a35, 3, 5, rng);
  RtlOsArray<Vsystolic_os_db_5x3> a53(5, 3, 2);
  check_rule_is_exact(a53, 5, 3, rng);
  RtlOsArray<Vsystolic_os_db_8x8> a88(8, 8, 2);
  check_rule_is_exact(a88, 8, 8, rng);
}

TEST(SystolicOsDbModel, RowsRuleIsExact) {
  std::mt19937_64 rng(0xe2);
  for (int rows = 2; rows <= 8; ++rows) {
    for (int cols = 1; cols <= 8; ++cols) {
      units::SystolicOsArray a(rows, cols, 2);
      check_rule_is_exact(a, rows, cols, rng);
    }
  }
}

// The int32 wrap on two banks: the 2x2 RTL with k_chunk = K (the PE's accumulator, then its
// shadow, wraps) and 50000 (the driver's sum wraps).
TEST(SystolicOsArrayDb, Rtl2x2AccumulatorWrapsModulo2To32) {
  const std::size_t K = 140000;
  std::mt19937_64 rng(0x1f);
  MatrixI8 x(3, K), w(3, K);
  for (std::size_t k = 0; k < K; ++k) {
    x(0, k) = -128, x(1, k) = 127, x(2, k) = static_cast<std::int8_t>(rng() & 0xffu);
    w(0, k) = -128, w(1, k) = 127, w(2, k) = static_cast<std::int8_t>(rng() & 0xffu);
  }
  const Int8GemmResult ref = int8_gemm(x, w, 32);
  EXPECT_EQ(ref.acc[0], -2001207296);
  for (const std::size_t kc : {K, std::size_t{50000}}) {
    RtlOsArray<Vsystolic_os_db_2x2> rtl(2, 2, 2);
    expect_db_run_matches("RTL 2x2 two banks k_chunk=" + std::to_string(kc),
                          units::run_systolic_os_db(rtl, x, w, kc), &ref,
                          units::systolic_os_db_timing(2, 2, 3, K, 3, kc));
  }
}

// (FaultyArray: faulty_array.hpp.)
using Faulty = FaultyArray<units::SystolicOsArray>;

TEST(SystolicOsDbModel, DriverThrowsOnLostOrExtraRows) {
  std::mt19937_64 rng(0x78);
  // 2 m-tiles x 3 n-tiles x 2 chunks on a 3x2 array: 12 tiles, 36 rows.
  const MatrixI8 x = random_matrix(5, 7, rng), w = random_matrix(6, 7, rng);
  for (int lose : {0, 4, 35}) {
    Faulty lossy(3, 2, lose, false);
    EXPECT_THROW(units::run_systolic_os_db(lossy, x, w, 4), std::runtime_error) << "lose " << lose;
  }
  Faulty early(3, 2, -1, true);
  EXPECT_THROW(units::run_systolic_os_db(early, x, w, 4), std::runtime_error);
  Faulty fine(3, 2, -1, false);
  EXPECT_EQ(units::run_systolic_os_db(fine, x, w, 4).y, int8_gemm(x, w, 32).acc);
}

TEST(SystolicOsDbModel, RejectsBadBanksAndStreams) {
  EXPECT_THROW(units::SystolicOsArray(2, 2, 0), std::invalid_argument);
  EXPECT_THROW(units::SystolicOsArray(2, 2, 3), std::invalid_argument);
  units::SystolicOsArray one(2, 2);
  EXPECT_EQ(one.acc_banks(), 1);
  const MatrixI8 x(1, 2), w(2, 2);
  EXPECT_THROW(units::run_systolic_os_db(one, x, w, 1), std::invalid_argument);
  EXPECT_EQ(units::SystolicOsArray(2, 2, 2).acc_banks(), 2);
  units::OsDoubleBufferedSchedule s(2, 3);
  EXPECT_EQ(s.drain_cycles(), 5u);
  EXPECT_EQ(s.unload_cycles(), 2u);
  EXPECT_THROW(s.next(0, 0, 0), std::invalid_argument);
  EXPECT_THROW(units::OsDoubleBufferedSchedule(0, 1), std::invalid_argument);
  // `earliest` binds the wait's start, never an earlier cycle.
  EXPECT_TRUE(s.next(10, 1, 3) == (units::OsTileTimes{10, 11, 14, 19}));
  EXPECT_TRUE(s.next(0, 0, 1) == (units::OsTileTimes{14, 15, 16, 21}));  // end >= 14 + 2
  EXPECT_TRUE(s.next(30, 2, 1) == (units::OsTileTimes{30, 32, 33, 38}));
}

}  // namespace
}  // namespace quasar::rtl
