// Does the Verilog output-stationary array (rtl/units/systolic_os.v) compute the numerics' int8
// GEMM, and does it take exactly the cycles of the protocol's closed form
// (models/units/systolic_os.hpp)? The same protocol driver (run_systolic_os) drives the
// Verilated array through an adapter and the C++ register model; for random GEMMs (M, K, N
// smaller than, equal to, multiples of and ragged against the array; k-chunks of all of K, 1,
// non-divisors and more than K) both must give Y = int8_gemm(X, W) and measure, tile by tile,
// exactly the stream / drain cycles of systolic_os_timing. Array sizes 2x2, 3x5, 5x3 and 8x8
// (the C++ model alone at every size 1x1 .. 8x8: tests/unit/test_unit_models.cpp).
#include <gtest/gtest.h>

#include <Vsystolic_os_2x2.h>
#include <Vsystolic_os_3x5.h>
#include <Vsystolic_os_5x3.h>
#include <Vsystolic_os_8x8.h>

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "numerics/int_kernels.hpp"
#include "rtl/port_fields.hpp"
#include "rtl/verilated_unit.hpp"
#include "units/systolic_os.hpp"

namespace quasar::rtl {
namespace {

using units::SystolicOsInputs;
using units::SystolicOsOutputs;

// The Verilated array behind run_systolic_os's port interface.
template <class Top>
class RtlOsArray {
 public:
  RtlOsArray(int rows, int cols) : rows_(rows), cols_(cols) {}
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  void reset() {
    u_.io().rst = 1;
    u_.io().valid = 0;
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
  int rows_, cols_;
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

}  // namespace
}  // namespace quasar::rtl
