// Transformer shapes from Hugging Face config.json fields (LLaMA, Mistral/Mixtral, OPT, Qwen2),
// the embedded configs of the models quasar knows, and their parameter counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quasar::trace {

enum class Family { llama, mixtral, opt, qwen2 };

struct ModelConfig {
  std::string name;
  Family family = Family::llama;
  std::uint64_t hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0;
  std::uint64_t vocab = 0;
  bool tied_embeddings = false;
  std::uint64_t experts = 0, top_k = 0;  // MoE (Mixtral)
  std::uint64_t max_positions = 0;       // OPT learns max_positions + 2 position embeddings
  std::uint64_t sliding_window = 0;      // attention window (Mistral); 0: full attention

  std::uint64_t q_dim() const { return heads * head_dim; }
  std::uint64_t kv_dim() const { return kv_heads * head_dim; }
};

// Parses config.json text; errors name `source` and the field.
ModelConfig parse_model_config(const std::string& json_text, const std::string& name,
                               const std::string& source);
ModelConfig read_model_config(const std::string& path);

// The configs compiled in from traces/models/*.json, by name (llama-2-7b, mixtral-8x7b, ...).
std::vector<std::string> embedded_model_names();
ModelConfig embedded_model(const std::string& name);  // error lists the known names

// Weights of the whole model: embeddings, every linear, norms, biases, position embeddings.
std::uint64_t parameter_count(const ModelConfig& m);

}  // namespace quasar::trace
