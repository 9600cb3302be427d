// Data-bearing runs through the accelerator's datapath (issue 5): a GemmEngine that computes
// every scheme the way the design's array (weight- or output-stationary) and edge units do, tile
// by tile.
//
// Each GEMM is planned with mapping::plan_gemm (plan_gemm_ws or plan_gemm_os by the design's
// dataflow), the plan the timing model (models/arch) runs, and executed tile by tile in the
// plan's order (WS: n-tiles outer, k-tiles inner; OS: m-tiles outer, n-tiles, k-chunks inner):
//   load     the tile's weights onto the PEs' weight ports (WS), or onto the weight inputs as
//            they stream (OS): fused dequantization (DGQ, QServe, w4a16) and dint4 decoding
//            happen here, once per weight element per pass of W (WS one pass; OS one per
//            m-tile, as the plan's dequant_ops count);
//   stream   the tile's tokens' sums over its k range, k increasing (the WS column chain, or
//            each OS PE's accumulator), starting from psum_in where the plan chains partial
//            sums (WS) and from 0 where it does not (each group for w4a8-fs/is, the first
//            k-tile otherwise; every OS tile); every step is the PE kind's unit model
//            (models/units) at the design's PE width, wrapping, every wrap counted;
//   edge     when a tile completes a group: the integer-scale (IntScaleAcc) or float-scale
//            (FloatScaleAcc) step per output; on the last k-tile: the epilogue (scales, fp16).
// Outputs and counters equal cpu_engine()'s bit for bit (tests/unit/test_accelerator_engine).
// Overflow events, invalid codes and dequantization range events are the datapath's own
// (per-weight events on the first pass of W only: once per weight element, as the reference);
// action counts come from numerics' formula (add_scheme_actions, the one every engine uses),
// after a check that the datapath did exactly the MACs, dequantizations, rescales and output
// conversions that formula counts (decodes and fused dequantizations: times the passes of W).
//
// The datapath widths are the design's: PE partial sums `array.acc_bits` (the reference's
// acc_bits, or psum_bits for w4a8-fs/is), the integer-scale accumulator `intscale_acc_bits`
// (w4a8-is's acc_bits). A GEMM whose options ask for other widths is rejected (quasar::Error):
// the hardware cannot compute it. Likewise an fp16/w4a16 accumulation tile (GemmOptions::k_tile)
// the array's order cannot follow: WS follows multiples of its k-tile, OS only 0 or >= K.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "functional/datapath.hpp"
#include "mapping/gemm_tiling.hpp"
#include "numerics/engine.hpp"

namespace quasar::functional {

// The trace layer a GEMM call amounts to (name "<scheme> MxKxN"): what plan_gemm plans.
trace::Layer gemm_layer(Scheme s, std::size_t m, std::size_t k, std::size_t n,
                        std::size_t group_size, const GemmOptions& opt,
                        DequantMode dequant = DequantMode::fused, DintSet dint = DintSet::A);

class AcceleratorEngine final : public GemmEngine {
 public:
  // Throws quasar::Error for a spec that is inconsistent (arch::check_consistency).
  explicit AcceleratorEngine(arch::ArchSpec spec);
  const arch::ArchSpec& spec() const { return spec_; }

  std::string_view name() const override { return name_; }
  // "accelerator datapath of design 'NAME' (R x C PE-kind PEs, weight-stationary)" (or
  // output-stationary).
  std::string describe() const;
  GemmResult fp16(const MatrixH& x, const MatrixH& w, const GemmOptions& opt) const override;
  GemmResult w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                  const GemmOptions& opt) const override;
  GemmResult w4a16(const MatrixH& x, const QuantizedWeights& w,
                   const GemmOptions& opt) const override;
  GemmResult w4a8_fs(const QuantizedActivations& x, const QuantizedWeights& w,
                     const GemmOptions& opt) const override;
  GemmResult w4a8_is(const QuantizedActivations& x, const QuantizedWeights& w,
                     const IntegerScales& s, const GemmOptions& opt) const override;
  GemmResult w4a8_dgq(const QuantizedActivations& x, const TwoLevelWeights& w, DequantMode mode,
                      const GemmOptions& opt) const override;
  GemmResult w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                       const GemmOptions& opt) const override;
  GemmResult w4a8_qserve(const QuantizedActivations& x, const TwoLevelWeights& w,
                         const GemmOptions& opt) const override;
  // The block-scaled schemes (spec §5): element integers on the PEs (exact block sums, the
  // chain restarting at every block), the block-scale units at the edge (units::MxFp32Acc,
  // units::MxFixedAcc, or NVFP4's fp32 step), the epilogue.
  GemmResult block_scaled(Scheme s, const BlockTensor& x, const BlockTensor& w,
                          const GemmOptions& opt) const override;

 private:
  arch::ArchSpec spec_;
  std::string name_;
};

// The int8 sums of X W^T on the design's array (a w8a8 plan, int8 PEs of `acc_bits`, the
// design's dataflow): the datapath alone, for comparison with the register-level array models
// (units::SystolicWsArray, units::SystolicOsArray).
struct ArrayIntResult {
  std::vector<std::int64_t> acc;  // M x N, row-major
  DatapathTally tally;
};
ArrayIntResult array_int8_gemm(const arch::ArchSpec& spec, const MatrixI8& x, const MatrixI8& w,
                               int acc_bits);

}  // namespace quasar::functional
