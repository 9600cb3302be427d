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

// The block-scaled GEMMs' actions (spec §5), from the operand formats and the shape (groups =
// K / block), the one formula add_scheme_actions and add_block_gemm_actions share: per MAC one
// multiply and one add of block_sum_bits; per (output, block) fp32: cvt.int->fp32 + add.fp32;
// fixed: shift.align + add.int<acc_bits>, then per output cvt.int->fp32 + mul.fp32; NVFP4:
// cvt.int->fp32 + 2 mul.fp32 (S_x S_w, then I times it) + add.fp32, then per output 2 mul.fp32
// (acc 2^-u, then times s_tx s_tw) and once s_tx s_tw; per output cvt.fp32->fp16.
void add_block_actions(GemmCounters& c, BlockElem x, BlockElem w, unsigned block,
                       bool e4m3_scales, const ActionShape& a);

}  // namespace quasar
