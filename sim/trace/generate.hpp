// Shape traces of a whole model from its config: every GEMM of a decoder layer (with the
// decoder's layer count as the repeat), the non-GEMM ops between them, and the lm_head, for
// prefill (S tokens x batch B) or decode (batch B against a KV cache of L tokens).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model_config.hpp"
#include "trace.hpp"

namespace quasar::trace {

enum class Phase { prefill, decode };

struct GenSpec {
  ModelConfig model;
  Phase phase = Phase::prefill;
  std::uint64_t seq = 2048;         // prefill: tokens per sequence
  std::uint64_t batch = 1;          // sequences
  std::uint64_t context = 4096;     // decode: KV-cache length L
  bool lm_head_last_token = false;  // prefill: logits for the last token only (vLLM) or all
  // Scheme per layer class. Classes: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj
  // fc1 fc2 router lm_head attention. Linear layers default to `linear_scheme`; router,
  // lm_head and attention (QK^T, PV: activation x activation) default to fp16 [choice].
  LayerScheme linear_scheme;
  std::map<std::string, LayerScheme> overrides;
  // Tokens routed to each expert (MoE). Empty: uniform, top_k * tokens spread evenly with the
  // remainder on the first experts. Otherwise one count per expert summing to top_k * tokens.
  std::vector<std::uint64_t> expert_tokens;
  // Decoder layers to emit as the repeat of the per-layer records; 0: the model's own count.
  std::uint64_t decoder_layers = 0;
};

// The layer classes an override may name for this model.
std::vector<std::string> layer_classes(const ModelConfig& m);

Trace generate(const GenSpec& spec);

}  // namespace quasar::trace
