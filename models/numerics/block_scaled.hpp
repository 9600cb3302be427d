// Block-scaled formats of arithmetic spec §5 (OCP MX v1.0 and NVFP4): the tensor type, the two
// quantizers, exact dequantization, operand checks and the reference GEMM y = X W^T. The element
// and scale decodes and the per-block accumulation steps are block_formats.hpp's (one definition
// shared with CUDA and the block units); this file orders them, validates and counts.
#pragma once

#include <cstddef>
#include <cstdint>

#include "block_formats.hpp"
#include "counters.hpp"
#include "gemm.hpp"
#include "matrix.hpp"

namespace quasar {

// MX: an E8M0 scale per block; NVFP4: an E4M3 scale per block and an fp32 scale per tensor.
enum class BlockScale : std::uint8_t { e8m0, e4m3 };

// A rows x K tensor of block-scaled elements, blocks along K (row = token for X, output channel
// for W).
struct BlockTensor {
  BlockElem elem = BlockElem::e2m1;
  BlockScale scale = BlockScale::e8m0;
  std::size_t block = 32;     // 32 for MX, 16 for NVFP4
  MatrixU8 codes;             // rows x K, one code per byte (E2M1 in the low 4 bits)
  MatrixU8 scales;            // rows x (K / block): E8M0 or E4M3 codes
  float tensor_scale = 1.0f;  // NVFP4's s_t; 1 for MX

  std::size_t rows() const { return codes.rows(); }
  std::size_t cols() const { return codes.cols(); }
  std::size_t blocks() const { return block ? codes.cols() / block : 0; }
};

// What a quantizer clamped: `saturated` counts elements (and NVFP4 block scales) whose RNE
// result was beyond the format's largest value; `zero_scale_blocks` counts NVFP4 blocks whose
// S_b rounded to 0 and got 2^-9 instead (an all-zero block too; MX has no such case).
struct BlockQuantStats {
  std::uint64_t saturated = 0;
  std::uint64_t zero_scale_blocks = 0;
};

// The block sizes of spec §5.
inline constexpr std::size_t kMxBlock = 32;
inline constexpr std::size_t kNvfp4Block = 16;
// NVFP4's per-tensor scale divisor F32(6 * 448) (largest E2M1 times largest E4M3).
inline constexpr float kNvfp4TensorDivisor = 2688.0f;

// MX quantization (OCP v1.0 §6.3): per block of 32 along K, shared_exp from amax's bit pattern
// (mx_shared_exp), E8M0 = shared_exp + 127, P = elem_encode(V / 2^shared_exp), saturating and
// counted. K must be a multiple of 32; values must be finite (Error naming tensor, row, column).
BlockTensor quantize_mx(const MatrixF& v, BlockElem elem, const char* tensor,
                        BlockQuantStats* stats = nullptr);
// NVFP4 quantization: s_t = F32(amax / 2688) (1 when amax = 0), per block of 16 S_b = E4M3 RNE
// of F32(F32(amax_b / 6) / s_t) saturating to 448 (2^-9 where it rounds to 0), d = F32(S_b s_t),
// P = E2M1 RNE of F32(V / d) saturating to +-6.
BlockTensor quantize_nvfp4(const MatrixF& v, const char* tensor, BlockQuantStats* stats = nullptr);

// The values as fp32: exact for MX (every value of a code in fp32's range is an fp32; a value
// beyond it is +-inf), F32 of the exact P * S_b * s_t for NVFP4 (one rounding: the product can
// need 30 significant bits). Invalid codes and scales decode to NaN. Throws on a wrong shape.
MatrixF dequantize(const BlockTensor& t);

// Throws quasar::Error (OperandError naming `tensor`.codes / .scales / .tensor_scale, the row
// and element or block, and what is accepted) for anything a file may not contain: a format
// combination other than MX (E8M0, block 32) or NVFP4 (E2M1, E4M3, block 16), K not a multiple
// of the block, scales of the wrong shape, an element code that is not valid (E2M1 >= 16,
// E4M3 NaN, MXINT8 -128), an E8M0 255, an NVFP4 block scale that is NaN or has its sign bit
// set, a tensor scale that is not finite and > 0 (NVFP4) or not 1 (MX).
void check_block_tensor(const BlockTensor& t, const char* tensor);

struct BlockAccOptions {
  BlockAcc mode = BlockAcc::fp32;
  int acc_bits = kBlockAccBits;    // fixed: accumulator width, 2..64
  int frac_bits = kBlockFracBits;  // fixed: fraction bits, 0..126
};

// y = X W^T in fp16 codes (M x N), with counters. X: M x K, W: N x K. Accepted pairs (x, w):
// E4M3 x E2M1 (w4a8-mx), E2M1 x E2M1 (w4a4-mxfp4), MXINT8 x MXINT8 (w8a8-mxint8), all E8M0 per
// 32; E2M1 x E2M1 with E4M3 per 16 (w4a4-nvfp4, fp32 accumulation only). Errors: see
// detail::validate_block_gemm. Counted events, not errors (spec): an E8M0 255 (`invalid_scale`,
// the block pair contributes 0), an MXINT8 -128 or E4M3 NaN element (`invalid_codes`, the
// element contributes 0), the fixed mode's `block_align_round` and `block_acc`, and
// `output_fp16_inf`.
GemmResult gemm_block_scaled(const BlockTensor& x, const BlockTensor& w,
                             const BlockAccOptions& opt = {});

// The actions of a block-scaled GEMM from its shape alone: action_counts.hpp's
// add_block_actions (the one formula, shared with add_scheme_actions).
void add_block_gemm_actions(GemmCounters& c, const BlockTensor& x, const BlockTensor& w,
                            const BlockAccOptions& opt);

namespace detail {
// Everything gemm_block_scaled checks before computing (shared with other engines so that all
// reject the same inputs with the same words): the structure of each operand (as
// check_block_tensor, without the code and scale values the spec counts as events), same K and
// block, an accepted pair, `fixed` refused for NVFP4, acc_bits 2..64 and frac_bits 0..126, E2M1
// codes below 16, NVFP4 block scales not NaN and sign bit clear.
void validate_block_gemm(const BlockTensor& x, const BlockTensor& w, const BlockAccOptions& opt);
}  // namespace detail

}  // namespace quasar
