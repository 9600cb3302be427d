#include "gemm_block.hpp"

#include <string>

#include "error.hpp"

namespace quasar {
namespace {

const char* elem_name(BlockElem e) {
  return e == BlockElem::e2m1 ? "E2M1" : e == BlockElem::e4m3 ? "E4M3" : "MXINT8";
}

std::string format_text(BlockElem e, bool e4m3_scales, std::size_t block) {
  return std::string(elem_name(e)) + " elements with " + (e4m3_scales ? "E4M3" : "E8M0") +
         " scales per " + std::to_string(block);
}

void require_format(Scheme s, const BlockTensor& t, BlockElem elem, const char* tensor) {
  const SchemeInfo& i = traits(s);
  const bool e4m3 = t.scale == BlockScale::e4m3;
  if (t.elem != elem || e4m3 != i.e4m3_scales || t.block != i.block) {
    throw Error("tensor '" + std::string(tensor) + "' holds " +
                format_text(t.elem, e4m3, t.block) + "; scheme " + std::string(i.name) +
                " takes " + format_text(elem, i.e4m3_scales, i.block));
  }
}

}  // namespace

BlockAccOptions block_acc_options(const GemmOptions& opt) {
  BlockAccOptions o;
  o.mode = opt.block_acc;
  o.acc_bits = opt.acc_bits;
  o.frac_bits = opt.frac_bits;
  return o;
}

BlockTensor quantize_block_operand(Scheme s, bool weights, const MatrixF& v, const char* tensor,
                                   BlockQuantStats* stats) {
  const SchemeInfo& i = traits(s);
  if (!block_scaled(i)) {
    throw Error("scheme " + std::string(i.name) + " is not block-scaled");
  }
  if (!weights) return quantize_block_acts(*act_format(s), v, tensor, stats);
  if (i.e4m3_scales) return quantize_nvfp4(v, tensor, stats);
  return quantize_mx(v, i.w_elem, tensor, stats);
}

BlockTensor quantize_block_acts(ActFormat f, const MatrixF& v, const char* tensor,
                                BlockQuantStats* stats) {
  const ActFormatInfo& i = act_format_info(f);
  if (i.block == 0) throw Error("activation format " + std::string(i.name) + " is not block-scaled");
  if (f == ActFormat::nvfp4) return quantize_nvfp4(v, tensor, stats);
  return quantize_mx(v, i.elem, tensor, stats);
}

void check_block_operands(Scheme s, const BlockTensor& x, const BlockTensor& w,
                          const GemmOptions& opt) {
  const SchemeInfo& i = traits(s);
  if (!block_scaled(i)) throw Error("scheme " + std::string(i.name) + " is not block-scaled");
  require_format(s, x, i.x_elem, "x");
  require_format(s, w, i.w_elem, "w");
  if (i.e4m3_scales && opt.block_acc == BlockAcc::fixed) {
    throw Error("scheme " + std::string(i.name) +
                " accumulates its blocks in fp32 only (the spec defines no fixed-point path "
                "for E4M3 block scales); block_acc: fixed applies to the MX schemes");
  }
}

GemmResult gemm_block_scheme(Scheme s, const BlockTensor& x, const BlockTensor& w,
                             const GemmOptions& opt) {
  check_block_operands(s, x, w, opt);
  return gemm_block_scaled(x, w, block_acc_options(opt));
}

}  // namespace quasar
