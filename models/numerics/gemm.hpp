// Reference GEMMs, one per scheme of spec section 2: the oracle every other implementation
// (SystemC PEs, Verilog units, CUDA) must match bit for bit. y = X W^T, X: M x K, W: N x K,
// y: M x N in fp16. Each call validates its operands (quasar::Error names the bad tensor),
// then returns the output and what it counted.
#pragma once

#include <cstddef>

#include "block_formats.hpp"
#include "counters.hpp"
#include "matrix.hpp"
#include "operands.hpp"

namespace quasar {

struct GemmOptions {
  int acc_bits = 32;       // the K-long int accumulator and the integer-scale accumulator
  int psum_bits = 32;      // per-group int partial sums P (w4a8-fs, w4a8-is)
  std::size_t k_tile = 0;  // fp16 accumulation order: 0 = one sequential pass over K; T = fp32
                           // partial sums over tiles of T (each from 0), added in tile order
  // Block-scaled schemes (spec §5): how blocks accumulate; `fixed` uses acc_bits as the
  // accumulator's width (kBlockAccBits where the caller gives none) and frac_bits.
  BlockAcc block_acc = BlockAcc::fp32;
  int frac_bits = kBlockFracBits;
};

// DGQ's two ways to feed int8 weights to the array: dequantized in front of the PEs, or
// written to memory as a full N x K int8 copy and read back (the released code's way).
enum class DequantMode { fused, materialized };

struct GemmResult {
  MatrixH y;  // fp16 codes
  GemmCounters counters;
};

GemmResult gemm_fp16(const MatrixH& x, const MatrixH& w, const GemmOptions& opt = {});
GemmResult gemm_w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                     const GemmOptions& opt = {});
GemmResult gemm_w4a16(const MatrixH& x, const QuantizedWeights& w, const GemmOptions& opt = {});
GemmResult gemm_w4a8_fs(const QuantizedActivations& x, const QuantizedWeights& w,
                        const GemmOptions& opt = {});
GemmResult gemm_w4a8_is(const QuantizedActivations& x, const QuantizedWeights& w,
                        const IntegerScales& s, const GemmOptions& opt = {});
GemmResult gemm_w4a8_dgq(const QuantizedActivations& x, const TwoLevelWeights& w, DequantMode mode,
                         const GemmOptions& opt = {});
GemmResult gemm_w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                          const GemmOptions& opt = {});
GemmResult gemm_w4a8_qserve(const QuantizedActivations& x, const TwoLevelWeights& w,
                            const GemmOptions& opt = {});

// The spec's one choice for two-level dequantization out of range (bad traces exist): the
// value saturates to the unit's int8 range and the event is counted [choice, switchable here].
struct DequantRange {
  int lo;
  int hi;
};
inline constexpr DequantRange kDgqDequantRange{-127, 127};     // spec: guaranteed [-127, 127]
inline constexpr DequantRange kQserveDequantRange{-128, 127};  // plain int8

}  // namespace quasar
