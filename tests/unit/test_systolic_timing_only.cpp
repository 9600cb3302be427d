// Do the arrays' timing-only modes (control only: what the accelerator's cycle fidelity ticks)
// raise y_valid on exactly the cycles the full register models do, for any input stream?
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "units/systolic_os.hpp"
#include "units/systolic_ws.hpp"

namespace quasar::units {
namespace {

TEST(TimingOnly, WeightStationaryValidEqualsTheFullModel) {
  std::mt19937_64 rng(11);
  for (int rows : {1, 3, 8}) {
    for (int cols : {1, 5, 8}) {
      SystolicWsArray full(rows, cols), ctrl(rows, cols);
      ctrl.timing_only(true);
      SystolicWsInputs in;
      in.w_in.assign(static_cast<std::size_t>(cols), 0);
      in.x_in.assign(static_cast<std::size_t>(rows), 0);
      in.psum_in.assign(static_cast<std::size_t>(cols), 0);
      std::uint64_t valid_cycles = 0;
      for (int t = 0; t < 3000; ++t) {
        in.w_load = rng() % 5 == 0;
        in.x_valid = rng() % 3 != 0;  // bursts with bubbles
        for (auto& x : in.x_in) x = static_cast<std::int8_t>(rng());
        for (auto& w : in.w_in) w = static_cast<std::int8_t>(rng());
        for (auto& p : in.psum_in) p = static_cast<std::int32_t>(rng());
        full.tick(in);
        ctrl.tick(in);
        ASSERT_EQ(full.outputs().y_valid, ctrl.y_valid()) << rows << "x" << cols << " cycle " << t;
        ASSERT_EQ(full.outputs().y_valid, full.y_valid());
        valid_cycles += full.y_valid() ? 1 : 0;
      }
      EXPECT_GT(valid_cycles, 100u);
    }
  }
}

TEST(TimingOnly, OutputStationaryValidEqualsTheFullModel) {
  std::mt19937_64 rng(12);
  for (int rows : {1, 3, 8}) {
    for (int cols : {1, 5, 8}) {
      SystolicOsArray full(rows, cols), ctrl(rows, cols);
      ctrl.timing_only(true);
      SystolicOsInputs in;
      in.x_in.assign(static_cast<std::size_t>(rows), 0);
      in.w_in.assign(static_cast<std::size_t>(cols), 0);
      std::uint64_t valid_cycles = 0;
      // Streams of random length separated by random gaps (the protocol), and random noise.
      for (int t = 0; t < 4000;) {
        const int burst = 1 + static_cast<int>(rng() % 20), gap = static_cast<int>(rng() % 40);
        for (int k = 0; k < burst + gap; ++k, ++t) {
          in.valid = k < burst || rng() % 17 == 0;
          for (auto& x : in.x_in) x = static_cast<std::int8_t>(rng());
          for (auto& w : in.w_in) w = static_cast<std::int8_t>(rng());
          full.tick(in);
          ctrl.tick(in);
          ASSERT_EQ(full.outputs().y_valid, ctrl.y_valid())
              << rows << "x" << cols << " cycle " << t;
          ASSERT_EQ(full.outputs().y_valid, full.y_valid());
          valid_cycles += full.y_valid() ? 1 : 0;
        }
      }
      EXPECT_GT(valid_cycles, 100u);
    }
  }
}

}  // namespace
}  // namespace quasar::units
