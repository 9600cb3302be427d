#include "action_counts.hpp"

namespace quasar {
namespace {

int bit_length(std::int64_t v) {
  int b = 0;
  while (v > 0) ++b, v >>= 1;
  return b;
}

// fp32 multiply-add over K for every output; with k tiles, the tile merges are fp32 adds too.
void fp16_core(GemmCounters& c, const ActionShape& a) {
  const std::uint64_t mnk = a.m * a.n * a.k;
  const std::uint64_t tile = (a.opt.k_tile == 0 || a.opt.k_tile >= a.k) ? a.k : a.opt.k_tile;
  const std::uint64_t tiles = a.k ? (a.k + tile - 1) / tile : 0;
  c.add_action(act::kMulFp16xFp16, mnk);
  c.add_action(act::kAddFp32, mnk + (tiles > 1 ? a.m * a.n * tiles : 0));
}

// An int8-operand MAC array over the whole K, then F32(acc) * scale product per output.
void int_mac_epilogue(GemmCounters& c, const ActionShape& a, const char* mul, int scale_muls) {
  const std::uint64_t mn = a.m * a.n;
  c.add_action(mul, mn * a.k);
  c.add_action(act::add_int(a.opt.acc_bits), mn * a.k);
  c.add_action(act::kCvtIntToFp32, mn);
  c.add_action(act::kMulFp32, static_cast<std::uint64_t>(scale_muls) * mn);
}

}  // namespace

void add_scheme_actions(GemmCounters& c, Scheme s, const ActionShape& a) {
  const std::uint64_t mn = a.m * a.n, mnk = mn * a.k, nk = a.n * a.k;
  switch (s) {
    case Scheme::fp16:
      fp16_core(c, a);
      break;
    case Scheme::w4a16:
      fp16_core(c, a);
      c.add_action(act::kDequantW4ToFp16, nk);
      break;
    case Scheme::w8a8:
      int_mac_epilogue(c, a, act::kMulInt8xInt8, 2);  // s_x * s_w, then acc * that
      break;
    case Scheme::w4a8_dint:
      int_mac_epilogue(c, a, act::kMulDint4xInt8, 3);  // s_x * s_w * 0.5, then acc * that
      c.add_action(act::kDecodeDint4, nk);
      break;
    case Scheme::w4a8_fs:
      c.add_action(act::kMulInt4xInt8, mnk);
      c.add_action(act::add_int(a.opt.psum_bits), mnk);
      c.add_action(act::kCvtIntToFp32, mn * a.groups);
      c.add_action(act::kMulFp32, mn * a.groups + mn);
      c.add_action(act::kAddFp32, mn * a.groups);
      break;
    case Scheme::w4a8_is:
      c.add_action(act::kMulInt4xInt8, mnk);
      c.add_action(act::add_int(a.opt.psum_bits), mnk);
      c.add_action(act::intscale_mul(a.opt.psum_bits, bit_length(a.int_scale_max) + 1),
                   mn * a.groups);
      c.add_action(act::intscale_add(a.opt.acc_bits), mn * a.groups);
      c.add_action(act::kCvtIntToFp32, mn);
      c.add_action(act::kMulFp32, a.m + mn);  // s_x * 2^-b once per row, acc * that per output
      break;
    case Scheme::w4a8_dgq:
      int_mac_epilogue(c, a, act::kMulInt8xInt8, 2);
      if (a.bias) c.add_action(act::kAddFp32, mn);
      c.add_action(act::kDequantTwoLevel, nk);
      if (a.dequant == DequantMode::materialized) {
        c.add_action(act::kMemWriteBytes, nk);  // the int8 copy written, then read back
        c.add_action(act::kMemReadBytes, nk);
      }
      break;
    case Scheme::w4a8_qserve:
      int_mac_epilogue(c, a, act::kMulInt8xInt8, 2);
      c.add_action(act::kDequantTwoLevel, nk);
      break;
    case Scheme::w4a8_mx:
    case Scheme::w4a4_mxfp4:
    case Scheme::w8a8_mxint8:
    case Scheme::w4a4_nvfp4:
      add_block_actions(c, traits(s).x_elem, traits(s).w_elem, traits(s).block,
                        traits(s).e4m3_scales, a);
      return;  // (its epilogue's conversions included)
  }
  c.add_action(act::kCvtFp32ToFp16, mn);
}

void add_block_actions(GemmCounters& c, BlockElem x, BlockElem w, unsigned block,
                       bool e4m3_scales, const ActionShape& a) {
  const std::uint64_t mn = a.m * a.n, mnk = mn * a.k, mnb = mn * a.groups;
  c.add_action(x == BlockElem::mxint8                           ? act::kMulInt8xInt8
               : x == BlockElem::e4m3 || w == BlockElem::e4m3 ? act::kMulE2m1xE4m3
                                                               : act::kMulE2m1xE2m1,
               mnk);
  c.add_action(act::add_int(block_sum_bits(x, w, block)), mnk);
  if (e4m3_scales) {
    c.add_action(act::kCvtIntToFp32, mnb);
    c.add_action(act::kMulFp32, 2 * mnb + 2 * mn + (mn ? 1 : 0));
    c.add_action(act::kAddFp32, mnb);
  } else if (a.opt.block_acc == BlockAcc::fp32) {
    c.add_action(act::kCvtIntToFp32, mnb);
    c.add_action(act::kAddFp32, mnb);
  } else {
    c.add_action(act::kShiftAlign, mnb);
    c.add_action(act::add_int(a.opt.acc_bits), mnb);
    c.add_action(act::kCvtIntToFp32, mn);
    c.add_action(act::kMulFp32, mn);
  }
  c.add_action(act::kCvtFp32ToFp16, mn);
}

}  // namespace quasar
