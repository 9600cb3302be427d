#include "engine.hpp"

namespace quasar {
namespace {

class CpuEngine final : public GemmEngine {
 public:
  std::string_view name() const override { return "cpu"; }
  GemmResult fp16(const MatrixH& x, const MatrixH& w, const GemmOptions& o) const override {
    return gemm_fp16(x, w, o);
  }
  GemmResult w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                  const GemmOptions& o) const override {
    return gemm_w8a8(x, w, o);
  }
  GemmResult w4a16(const MatrixH& x, const QuantizedWeights& w,
                   const GemmOptions& o) const override {
    return gemm_w4a16(x, w, o);
  }
  GemmResult w4a8_fs(const QuantizedActivations& x, const QuantizedWeights& w,
                     const GemmOptions& o) const override {
    return gemm_w4a8_fs(x, w, o);
  }
  GemmResult w4a8_is(const QuantizedActivations& x, const QuantizedWeights& w,
                     const IntegerScales& s, const GemmOptions& o) const override {
    return gemm_w4a8_is(x, w, s, o);
  }
  GemmResult w4a8_dgq(const QuantizedActivations& x, const TwoLevelWeights& w, DequantMode m,
                      const GemmOptions& o) const override {
    return gemm_w4a8_dgq(x, w, m, o);
  }
  GemmResult w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                       const GemmOptions& o) const override {
    return gemm_w4a8_dint(x, w, o);
  }
  GemmResult w4a8_qserve(const QuantizedActivations& x, const TwoLevelWeights& w,
                         const GemmOptions& o) const override {
    return gemm_w4a8_qserve(x, w, o);
  }
  GemmResult block_scaled(Scheme s, const BlockTensor& x, const BlockTensor& w,
                          const GemmOptions& o) const override {
    return gemm_block_scheme(s, x, w, o);
  }
};

}  // namespace

const GemmEngine& cpu_engine() {
  static const CpuEngine engine;
  return engine;
}

}  // namespace quasar
