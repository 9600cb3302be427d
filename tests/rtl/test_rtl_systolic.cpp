// Does the Verilog weight-stationary array (rtl/units/systolic_array.v) compute the numerics'
// int8 GEMM, and does it take exactly the cycles of the protocol's C++ cycle model
// (models/units/systolic_ws.hpp)? The same protocol driver (run_systolic_ws) drives the
// Verilated array through an adapter and the C++ register model; for random GEMMs (ragged
// tiles: K and N not multiples of the array's size, M = 1 and M longer than the pipeline) both
// must give Y = int8_gemm(X, W) and measure, tile by tile, exactly the load / stream / drain
// cycles of systolic_ws_timing. Array sizes: 2x2, 3x5, 5x3 and 8x8 in RTL; 1x1 .. 8x8 on the
// C++ model.
#include <gtest/gtest.h>

#include <Vsystolic_2x2.h>
#include <Vsystolic_3x5.h>
#include <Vsystolic_5x3.h>
#include <Vsystolic_8x8.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "numerics/int_kernels.hpp"
#include "rtl/port_fields.hpp"
#include "rtl/verilated_unit.hpp"
#include "units/systolic_ws.hpp"

namespace quasar::rtl {
namespace {

using units::SystolicWsInputs;
using units::SystolicWsOutputs;
using units::SystolicWsPhases;

// The Verilated array behind run_systolic_ws's port interface.
template <class Top>
class RtlArray {
 public:
  RtlArray(int rows, int cols) : rows_(rows), cols_(cols) {}
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  void reset() {
    u_.io().rst = 1;
    u_.io().w_load = 0;
    u_.io().x_valid = 0;
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
    u_.io().x_valid = in.x_valid;
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
  int rows_, cols_;
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
void check_rtl_array(int rows, int cols) {
  std::mt19937_64 rng(0x5157 + static_cast<unsigned>(rows * 16 + cols));
  int gemms = 0;
  for (const auto& [M, K, N] : shapes_for(rows, cols)) {
    for (int rep = 0; rep < 3; ++rep) {
      const MatrixI8 x = random_matrix(M, K, rng), w = random_matrix(N, K, rng);
      const Int8GemmResult ref = int8_gemm(x, w, 32);
      const units::SystolicWsTiming t = units::systolic_ws_timing(rows, cols, M, K, N);
      const std::string what = std::to_string(rows) + "x" + std::to_string(cols) +
                               " array, M=" + std::to_string(M) + " K=" + std::to_string(K) +
                               " N=" + std::to_string(N);
      RtlArray<Top> rtl(rows, cols);
      expect_run_matches("RTL " + what, units::run_systolic_ws(rtl, x, w), ref, t);
      expect_run_matches("model " + what, units::systolic_ws_gemm(rows, cols, x, w), ref, t);
      ++gemms;
    }
  }
  EXPECT_GE(gemms, 24);
}

TEST(SystolicArray, Rtl2x2EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_2x2>(2, 2); }
TEST(SystolicArray, Rtl3x5EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_3x5>(3, 5); }
TEST(SystolicArray, Rtl5x3EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_5x3>(5, 3); }
TEST(SystolicArray, Rtl8x8EqualsGemmAndTimingModel) { check_rtl_array<Vsystolic_8x8>(8, 8); }

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

}  // namespace
}  // namespace quasar::rtl
