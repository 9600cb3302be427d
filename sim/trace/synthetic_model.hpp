// "Layer traces from quantized models" end to end, with no download: a small seeded
// LLaMA-architecture model (RMSNorm, RoPE, grouped-query causal attention, SiLU-gated MLP)
// whose residual stream has a few outlier channels, as real LLMs do. Its linear layers are
// quantized with the foundation's quantizers for the chosen scheme and it runs a prefill
// forward pass in which every linear is the scheme's reference GEMM (on the chosen engine) and
// every other operation is the bit-exact numerics reference (arithmetic spec §3, §6, §7: fp16
// activations between operations), so the activations each layer sees are those of the
// quantized model. Every record's inputs and outputs are recorded as a data-bearing trace: the
// linears' quantized operands and outputs, and the norms, activation quantizations, RoPE, KV
// cache writes, attention (as a unit, on its pv record), SiLU-gated products and residual adds
// (docs/trace-format.md, "Non-GEMM records"). A record reads its producer's output tensor
// itself (one tensor, named by both), so `quasar validate` checks the whole chain.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "numerics/attention.hpp"
#include "numerics/engine.hpp"
#include "numerics/error_metrics.hpp"
#include "numerics/vector_engine.hpp"
#include "numerics/kv_cache.hpp"
#include "numerics/scheme_runner.hpp"
#include "trace/safetensors.hpp"
#include "trace/trace.hpp"

namespace quasar::trace {

struct SyntheticModelSpec {
  std::uint64_t hidden = 256, intermediate = 768, layers = 2, heads = 4, kv_heads = 2;
  std::uint64_t vocab = 512, tokens = 32;
  // > 0: the trace is a decode step instead of a prefill: `tokens` new tokens at positions
  // context .. context + tokens - 1 attending the cache of the `context` earlier tokens plus
  // their own (causal). Every record holds the new tokens' rows only; the attention record's K
  // and V are the whole cache (its own tensors, read from no record of the trace).
  std::uint64_t context = 0;
  std::uint64_t seed = 1;
  std::uint64_t outlier_channels = 4;  // residual-stream channels ~30x larger than the rest
  double outlier_gain = 30.0;
  Scheme scheme = Scheme::w4a8_is;          // linear layers
  std::map<std::string, Scheme> overrides;  // q_proj ... down_proj, lm_head (default fp16)
  SchemeConfig config = [] {
    SchemeConfig c;
    c.group_size = 64;
    return c;
  }();
  KvFormat kv = KvFormat::fp16;  // the KV cache's format (spec §6)
  AttentionOptions attention;    // fp32 scores, unfused softmax (spec §7)
  double rope_theta = 10000.0;
  float norm_eps = 1e-6f;
  // Attention scores and probabilities are recorded (on the pv record) while heads x tokens^2
  // stays at most this many values a tensor (16 MiB of fp32), so a long prefill does not grow
  // the payload quadratically.
  std::uint64_t max_score_values = std::uint64_t{1} << 22;
};

struct SyntheticModelTrace {
  Trace trace;
  safetensors::File payload;
};

// The linears run on `engine`, the other records (norms, RoPE, attention, ...) on
// `vector_engine`; both bit-exact with the reference, so the payload is the same on any pair.
// `each` runs the reference's own loops (the fp64 products the error reports take, the weights'
// Box-Muller transforms), most of a large model's synthesis: `quasar trace synth` passes
// cpu::for_each_parallel(); the values do not depend on it.
SyntheticModelTrace synthesize_model_trace(const SyntheticModelSpec& spec, const GemmEngine& engine,
                                           const VectorEngine& vector_engine = cpu_vector_engine(),
                                           const ForEachIndex& each = {});
// Writes DIR/trace.yaml and DIR/payload.safetensors.
void write_synthetic_model_trace(const std::string& dir, const SyntheticModelTrace& t);

}  // namespace quasar::trace
