// The fast CPU path (issue 19): the integer schemes' GEMMs on packed, register-blocked int8
// kernels (AVX-512 VNNI where the CPU has it, else AVX2 or portable code), multi-threaded,
// bit-exact with the reference of models/numerics — outputs and every counter. The reference
// stays the oracle (cpu_engine()); tests/unit/test_fast_cpu_engine compares the two.
//
// What runs fast: w8a8, w4a8-fs, w4a8-is, w4a8-dgq (both dequant modes), w4a8-dint and
// w4a8-qserve. Exact int32 tiles are used wherever no accumulator can wrap; where a wrap is
// possible, a segment whose bound cannot rule it out is stepped in k order like the reference
// (same wraps, same counts). fp16, w4a16 and the block-scaled schemes call the reference.
#pragma once

#include <optional>
#include <string>

#include "kernels.hpp"
#include "numerics/engine.hpp"

namespace quasar::cpu {

struct FastCpuOptions {
  unsigned threads = 0;          // 0: default_threads() (QUASAR_THREADS, else the hardware's)
  std::optional<KernelIsa> isa;  // empty: best_isa() (QUASAR_CPU_ISA may lower it)
};

class FastCpuEngine final : public GemmEngine {
 public:
  explicit FastCpuEngine(const FastCpuOptions& opt = {});
  // "cpu": the same device as the reference, and trace metadata does not depend on which
  // of the two computed it (they are bit-identical).
  std::string_view name() const override { return "cpu"; }
  std::string describe() const;  // "fast CPU kernels (avx512-vnni, 2 threads)"
  unsigned threads() const { return threads_; }
  KernelIsa isa() const { return kernels_->isa; }

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
  GemmResult block_scaled(Scheme s, const BlockTensor& x, const BlockTensor& w,
                          const GemmOptions& opt) const override;

 private:
  GemmResult two_level(const QuantizedActivations& x, const TwoLevelWeights& w, DequantMode mode,
                       const GemmOptions& opt, Scheme scheme) const;
  unsigned threads_;
  const KernelSet* kernels_;
};

// One fast engine per process with the default options (built on first use).
const FastCpuEngine& fast_cpu_engine();

// The engine a CPU run of `validate`, `trace synth` (and `gemm --device cpu`) uses: the fast
// engine, or the reference when the environment says QUASAR_CPU_ENGINE=reference (any value
// other than fast/reference is an error). `note` says which, for the user: "fast CPU kernels
// (avx512-vnni, 2 threads)" or "reference (QUASAR_CPU_ENGINE=reference)".
const GemmEngine& default_cpu_engine(std::string& note);

}  // namespace quasar::cpu
