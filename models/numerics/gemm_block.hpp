// The block-scaled formats (spec §5) as schemes of the table (numerics/scheme.hpp): each row
// names its element formats, block size and scale kind, so quantizing for a scheme, checking a
// pair of operands against it and running its reference GEMM read the row, not a switch.
#pragma once

#include "block_scaled.hpp"
#include "gemm.hpp"
#include "scheme.hpp"

namespace quasar {

// The options of the block GEMM from a layer's GemmOptions (block_acc, acc_bits, frac_bits).
BlockAccOptions block_acc_options(const GemmOptions& opt);

// Quantizes activations to block format f (spec §5; a quantize_act record's act_format): MX
// (E8M0 per 32) with f's element, or NVFP4. Throws for ActFormat::int8 (not a block format).
BlockTensor quantize_block_acts(ActFormat f, const MatrixF& v, const char* tensor,
                                BlockQuantStats* stats = nullptr);

// Quantizes x (activations: `weights` false, through quantize_block_acts) or w for scheme s: MX (E8M0 scales) or NVFP4 (E4M3
// block scales and an fp32 tensor scale), the row's element format and block.
BlockTensor quantize_block_operand(Scheme s, bool weights, const MatrixF& v, const char* tensor,
                                   BlockQuantStats* stats = nullptr);

// Throws quasar::Error when x or w is not the scheme's format (element, scale kind, block), the
// shapes disagree, or the options do not apply (NVFP4 has no fixed accumulation).
void check_block_operands(Scheme s, const BlockTensor& x, const BlockTensor& w,
                          const GemmOptions& opt);

// The reference GEMM of a block-scaled scheme: checks, then gemm_block_scaled.
GemmResult gemm_block_scheme(Scheme s, const BlockTensor& x, const BlockTensor& w,
                             const GemmOptions& opt = {});

}  // namespace quasar
