// The actions a scheme's datapath performs for one GEMM, from its shape alone: one formula per
// scheme, shared by every implementation (the CPU reference, the CUDA path, later the SystemC
// model's totals), so counts cannot drift apart. Data-dependent events (overflows, invalid
// codes) are counted by each implementation as it computes.
#pragma once

#include <cstdint>

#include "counters.hpp"
#include "gemm.hpp"
#include "scheme.hpp"

namespace quasar {

struct ActionShape {
  std::uint64_t m = 0, n = 0, k = 0;
  std::uint64_t groups = 1;                  // per-group schemes: K / group size
  GemmOptions opt;                           // widths, fp16 accumulation tile
  std::int64_t int_scale_max = 1;            // w4a8-is: largest integer scale (multiplier width)
  bool bias = false;                         // w4a8-dgq
  DequantMode dequant = DequantMode::fused;  // w4a8-dgq
};

void add_scheme_actions(GemmCounters& c, Scheme s, const ActionShape& a);

}  // namespace quasar
