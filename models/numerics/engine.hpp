// A GEMM engine: one implementation of every scheme behind one interface, so callers
// (run_scheme, `quasar gemm --device`, `quasar validate`) can switch between the CPU reference
// and the CUDA path (models/gpu) without knowing which runs.
#pragma once

#include <string_view>

#include "gemm.hpp"
#include "gemm_block.hpp"

namespace quasar {

class GemmEngine {
 public:
  virtual ~GemmEngine() = default;
  virtual std::string_view name() const = 0;
  virtual GemmResult fp16(const MatrixH& x, const MatrixH& w, const GemmOptions& opt) const = 0;
  virtual GemmResult w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                          const GemmOptions& opt) const = 0;
  virtual GemmResult w4a16(const MatrixH& x, const QuantizedWeights& w,
                           const GemmOptions& opt) const = 0;
  virtual GemmResult w4a8_fs(const QuantizedActivations& x, const QuantizedWeights& w,
                             const GemmOptions& opt) const = 0;
  virtual GemmResult w4a8_is(const QuantizedActivations& x, const QuantizedWeights& w,
                             const IntegerScales& s, const GemmOptions& opt) const = 0;
  virtual GemmResult w4a8_dgq(const QuantizedActivations& x, const TwoLevelWeights& w,
                              DequantMode mode, const GemmOptions& opt) const = 0;
  virtual GemmResult w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                               const GemmOptions& opt) const = 0;
  virtual GemmResult w4a8_qserve(const QuantizedActivations& x, const TwoLevelWeights& w,
                                 const GemmOptions& opt) const = 0;
  // The block-scaled schemes (spec §5), any of the four: the scheme row says the formats.
  virtual GemmResult block_scaled(Scheme s, const BlockTensor& x, const BlockTensor& w,
                                  const GemmOptions& opt) const = 0;
};

// The reference (the gemm_* functions of gemm.hpp).
const GemmEngine& cpu_engine();

}  // namespace quasar
