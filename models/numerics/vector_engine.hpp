// The non-GEMM operations of arithmetic spec §6-§7 (KV writes, attention, RMSNorm, RoPE,
// SwiGLU/SiLU, residual add, per-token activation quantization, exp_q) behind one interface, as
// engine.hpp's GemmEngine is for the GEMMs: the CPU reference here, the CUDA path in models/gpu
// (gpu/vector_engine.hpp chooses), so callers (`quasar validate`'s non-GEMM records) run
// either without knowing which.
//
// Every engine takes and returns host data and computes the reference's values bit for bit,
// with the reference's counters (actions and overflow events); bad input (NaN/inf, shapes,
// positions, eps, modes) throws quasar::Error as the reference does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "attention.hpp"
#include "counters.hpp"
#include "kv_cache.hpp"
#include "matrix.hpp"
#include "operands.hpp"
#include "vector_ops.hpp"

namespace quasar {

struct VectorResult {
  MatrixH y;  // fp16 codes
  GemmCounters counters;
};

// KV writes of T tokens for kv_heads kv-heads: x is T x (kv_heads * d) fp16 codes, as
// make_kv_caches takes it.
struct KvWriteResult {
  std::size_t d = 0;
  std::vector<KvVector> vectors;  // T * kv_heads, vectors[t * kv_heads + j] = kv_quantize(x[t, j])
  MatrixF values;                 // v̂: T x (kv_heads * d), as kv_dequantize gives them
  GemmCounters counters;
};

struct TokenQuantResult {
  QuantizedActivations q;
  GemmCounters counters;
};

class VectorEngine {
 public:
  virtual ~VectorEngine() = default;
  virtual std::string_view name() const = 0;  // "cpu" or "gpu"

  // kv_quantize of every (token, kv-head) vector, and its v̂.
  virtual KvWriteResult kv_write(KvFormat f, const MatrixH& x, std::size_t kv_heads) const = 0;
  // quasar::attention (attention.hpp): same arguments, same result.
  virtual AttentionResult attention(const MatrixH& q, std::size_t heads,
                                    const std::vector<std::size_t>& positions,
                                    const std::vector<KvCache>& k, const std::vector<KvCache>& v,
                                    const AttentionOptions& opt) const = 0;
  // quasar::rmsnorm, rope, swiglu, silu, residual_add (vector_ops.hpp).
  virtual VectorResult rmsnorm(const MatrixH& x, const std::vector<std::uint16_t>& g,
                               float eps) const = 0;
  virtual VectorResult rope(const RopeTables& t, const MatrixH& x,
                            const std::vector<std::size_t>& positions) const = 0;
  virtual VectorResult swiglu(const MatrixH& gate, const MatrixH& up) const = 0;
  virtual VectorResult silu(const MatrixH& g) const = 0;
  virtual VectorResult residual_add(const MatrixH& a, const MatrixH& b) const = 0;
  // quasar::quantize_tokens (spec §3's per-token quantizer on fp16 activations).
  virtual TokenQuantResult quantize_tokens(const MatrixH& x) const = 0;
  // exp_q of every value, any bit pattern (NaN in: the canonical quiet NaN out). No counters.
  virtual std::vector<float> exp_q(const std::vector<float>& x) const = 0;
};

// The reference itself behind the interface.
const VectorEngine& cpu_vector_engine();

}  // namespace quasar
