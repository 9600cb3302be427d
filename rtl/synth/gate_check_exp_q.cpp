// gate_check_exp_q: simulates a mapped exp_q netlist (yosys `abc -liberty` output, as
// scripts/synth-units.sh and scripts/sta-units.sh write it) and compares its 32 result bits with
// quasar::exp_q (arithmetic spec §7) on 15 special values, 10^6 values uniform in [-90, 90],
// 10^6 random 32-bit patterns and 10^6 softmax-like values uniform in [-11, 0] (N = argv[1]).
// Not part of the CMake build (as toggle_harness.cpp); built by hand with Verilator:
//   python3 rtl/synth/liberty_energy.py cells LIB /tmp/gl/cells.v
//   verilator --cc --exe --build -j 1 -Wno-fatal -Wno-lint -Wno-style --prefix Vnet \
//     --top-module exp_q -Mdir /tmp/gl/obj -CFLAGS "-O1 -I$PWD/models -std=c++17" -o tb \
//     /tmp/gl/cells.v build/sta-units/exp_q/netlist.v rtl/synth/gate_check_exp_q.cpp
//   /tmp/gl/obj/tb 1000000      # "3000015 vectors, 0 mismatches", exit 0
// (build/sta-units/exp_q/speed/balanced/netlist.v for the speed-mapped netlist.)
#include <verilated.h>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <random>
#include "Vnet.h"
#include "numerics/exp_q.hpp"
#include "numerics/float_formats.hpp"
int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  Vnet top;
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<float> u(-90.0f, 90.0f);
  const long n = argc > 1 ? atol(argv[1]) : 1000000;
  long bad = 0, total = 0;
  auto check = [&](uint32_t x) {
    top.x = x;
    top.eval();
    const uint32_t want = quasar::detail::bits_of(quasar::exp_q(quasar::detail::float_of(x)));
    ++total;
    if (top.y != want) {
      if (++bad <= 10) std::printf("mismatch x=%08x net=%08x model=%08x\n", x, top.y, want);
    }
  };
  const uint32_t specials[] = {0u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7f800001u,
                               0xffc00001u, 1u, 0x807fffffu, 0x3f800000u, 0xbf800000u, 0x42b17218u,
                               0xc2aeac50u, 0x7f7fffffu, 0xff7fffffu};
  for (uint32_t s : specials) check(s);
  for (long i = 0; i < n; ++i) check(quasar::detail::bits_of(u(rng)));
  for (long i = 0; i < n; ++i) check(static_cast<uint32_t>(rng()));
  for (long i = 0; i < n; ++i) check(quasar::detail::bits_of(-11.0f * static_cast<float>(rng() >> 11) * 0x1p-53f));
  std::printf("%ld vectors, %ld mismatches\n", total, bad);
  return bad != 0;
}
