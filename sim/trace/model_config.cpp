#include "model_config.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/input_file.hpp"
#include "embedded_models.hpp"
#include "numerics/error.hpp"

namespace quasar::trace {
namespace {

std::uint64_t field(const nlohmann::json& j, const char* key, const std::string& source,
                    bool required = true, std::uint64_t fallback = 0) {
  if (!j.contains(key) || j[key].is_null()) {  // HF writes null for "use the default"
    if (required) throw Error(source + ": config field '" + key + "' is missing");
    return fallback;
  }
  if (!j[key].is_number_unsigned() || j[key].get<std::uint64_t>() == 0) {
    throw Error(source + ": config field '" + key + "' must be a positive integer");
  }
  return j[key].get<std::uint64_t>();
}

}  // namespace

ModelConfig parse_model_config(const std::string& json_text, const std::string& name,
                               const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(source + ": a config.json is a JSON object");
  const std::string type = j.value("model_type", "");
  ModelConfig m;
  m.name = name;
  if (type == "llama" || type == "mistral") {
    m.family = Family::llama;
  } else if (type == "mixtral") {
    m.family = Family::mixtral;
  } else if (type == "opt") {
    m.family = Family::opt;
  } else if (type == "qwen2") {
    m.family = Family::qwen2;
  } else {
    throw Error(source + ": model_type '" + type +
                "' is not supported (accepted: llama, mistral, mixtral, opt, qwen2)");
  }
  m.hidden = field(j, "hidden_size", source);
  m.intermediate =
      m.family == Family::opt ? field(j, "ffn_dim", source) : field(j, "intermediate_size", source);
  m.layers = field(j, "num_hidden_layers", source);
  m.heads = field(j, "num_attention_heads", source);
  m.kv_heads =
      m.family == Family::opt ? m.heads : field(j, "num_key_value_heads", source, false, m.heads);
  if (m.hidden % m.heads != 0 && (!j.contains("head_dim") || j["head_dim"].is_null())) {
    throw Error(source +
                ": hidden_size is not a multiple of num_attention_heads and no head_dim is given");
  }
  m.head_dim = field(j, "head_dim", source, false, m.hidden / m.heads);
  if (m.heads % m.kv_heads != 0)
    throw Error(source + ": num_attention_heads is not a multiple of num_key_value_heads");
  m.vocab = field(j, "vocab_size", source);
  m.tied_embeddings = j.value("tie_word_embeddings", m.family == Family::opt);
  if (m.family == Family::mixtral) {
    m.experts = field(j, "num_local_experts", source);
    m.top_k = field(j, "num_experts_per_tok", source);
    if (m.top_k > m.experts)
      throw Error(source + ": num_experts_per_tok exceeds num_local_experts");
  }
  // Qwen2 carries a sliding_window value but applies it only with use_sliding_window: true.
  const bool window_on = type != "qwen2" || j.value("use_sliding_window", false);
  if (window_on && type != "opt") m.sliding_window = field(j, "sliding_window", source, false, 0);
  // The longest context the model was trained for (requests check against it); OPT's learned
  // position embeddings need it.
  m.max_positions = field(j, "max_position_embeddings", source, m.family == Family::opt, 0);
  if (m.family == Family::opt) {
    if (j.contains("word_embed_proj_dim") && j["word_embed_proj_dim"] != m.hidden) {
      throw Error(
          source +
          ": OPT with word_embed_proj_dim != hidden_size (OPT-350m style) is not supported");
    }
  }
  return m;
}

ModelConfig read_model_config(const std::string& path) {
  const std::string text = io::read_text_file(path, "model config");
  // The model's name: the file's, or its folder's for a Hugging Face config.json.
  const std::filesystem::path p = std::filesystem::absolute(path).lexically_normal();
  std::string name = p.filename().string();
  if (name == "config.json" && p.has_parent_path() && !p.parent_path().filename().empty())
    name = p.parent_path().filename().string();
  return parse_model_config(text, name, path);
}

std::vector<std::string> embedded_model_names() {
  std::vector<std::string> names;
  for (const EmbeddedModel& m : kEmbeddedModels) names.emplace_back(m.name);
  return names;
}

ModelConfig embedded_model(const std::string& name) {
  for (const EmbeddedModel& m : kEmbeddedModels) {
    if (name == m.name)
      return parse_model_config(m.json, m.name, std::string("embedded config ") + m.name);
  }
  std::string known;
  for (const auto& n : embedded_model_names()) known += (known.empty() ? "" : ", ") + n;
  throw Error("unknown model '" + name + "' (known: " + known + "; or pass --config config.json)");
}

std::uint64_t parameter_count(const ModelConfig& m) {
  const std::uint64_t H = m.hidden, I = m.intermediate, q = m.q_dim(), kv = m.kv_dim();
  std::uint64_t layer = H * q + 2 * H * kv + q * H;  // q, k, v, o projections
  switch (m.family) {
    case Family::llama:
      layer += 3 * H * I + 2 * H;  // gate, up, down; two RMSNorm weights
      break;
    case Family::qwen2:
      layer += q + 2 * kv + 3 * H * I + 2 * H;  // q/k/v biases
      break;
    case Family::mixtral:
      layer += m.experts * 3 * H * I + H * m.experts + 2 * H;  // experts, router, norms
      break;
    case Family::opt:
      layer += q + 2 * kv + H;     // q/k/v/out biases
      layer += 2 * H * I + I + H;  // fc1, fc2 with biases
      layer += 2 * 2 * H;          // two LayerNorms (weight + bias)
      break;
  }
  std::uint64_t total = m.layers * layer + m.vocab * H;  // decoder layers + token embeddings
  total += m.family == Family::opt ? 2 * H : H;          // final norm
  if (!m.tied_embeddings) total += m.vocab * H;          // lm_head
  if (m.family == Family::opt) total += (m.max_positions + 2) * H;  // learned positions (offset 2)
  return total;
}

}  // namespace quasar::trace
