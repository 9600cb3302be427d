#include "interop/llmservingsim.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "io/child_process.hpp"
#include "io/output_file.hpp"
#include "io/output_set.hpp"
#include "numerics/error.hpp"
#include "report/run_report.hpp"
#include "trace/generate.hpp"

#ifndef QUASAR_VERSION
#define QUASAR_VERSION "unknown"
#endif

namespace quasar::interop {

namespace {

constexpr const char* kMarker = "quasar-export.json";
constexpr const char* kDense = "dense.csv";
constexpr const char* kPerSequence = "per_sequence.csv";
constexpr const char* kAttention = "attention.csv";

// LLMServingSim's --dtype values (serving/__main__.py) and the variant folder each names
// (trace_generator.resolve_variant: the short form of the weight dtype; KV cache "auto").
const std::vector<std::pair<std::string, std::string>>& dtypes() {
  static const std::vector<std::pair<std::string, std::string>> d{
      {"float16", "fp16"}, {"bfloat16", "bf16"}, {"float32", "fp32"}, {"fp8", "fp8"},
      {"int8", "int8"}};
  return d;
}

std::string variant_of(const std::string& dtype) {
  for (const auto& [name, short_name] : dtypes())
    if (name == dtype) return short_name;
  std::string list;
  for (const auto& d : dtypes()) list += (list.empty() ? "" : ", ") + d.first;
  throw Error("--dtype '" + dtype + "': LLMServingSim takes " + list);
}

// A folder name LLMServingSim joins into a path: letters, digits, '.', '_', '-', not "." or
// "..", and for a model id `parts` segments at most, separated by '/'.
void check_label(const std::string& what, const std::string& v, std::size_t max_parts) {
  std::size_t parts = 0;
  std::string seg;
  std::istringstream in(v);
  bool ok = !v.empty() && v.front() != '/' && v.back() != '/';
  while (ok && std::getline(in, seg, '/')) {
    ++parts;
    ok = !seg.empty() && seg != "." && seg != ".." &&
         std::all_of(seg.begin(), seg.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
         });
  }
  if (!ok || parts > max_parts)
    throw Error(what + " '" + v + "': " +
                (max_parts == 1 ? std::string("a folder name")
                                : "ORG/NAME, folder names") +
                " of letters, digits, '.', '_' and '-'");
}

std::vector<std::uint64_t> sorted_unique(std::vector<std::uint64_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::string list_text(const std::vector<std::uint64_t>& v) {
  std::string s;
  for (std::uint64_t x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

std::string yaml_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Microseconds to the femtosecond (9 decimals; a cycle at 4 GHz over 1024 layers is 2.4e-7 us),
// trailing zeros dropped: no float noise from summing records in the text.
std::string us_text(double us) {
  std::string s = fmt::format("{:.9f}", us);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

LlmServingSimSpec normalized(const LlmServingSimSpec& in, const arch::ArchSpec& a) {
  LlmServingSimSpec s = in;
  s.grid.tokens = sorted_unique(s.grid.tokens);
  s.grid.sequences = sorted_unique(s.grid.sequences);
  s.grid.kv = sorted_unique(s.grid.kv);
  if (s.hardware.empty()) s.hardware = "quasar-" + a.name;
  if (s.model_name.empty()) {
    // A --config file's model is named after the file: "tiny.json" -> quasar/tiny.
    std::string name = s.model.name;
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0) name.resize(name.size() - 5);
    s.model_name = "quasar/" + name;
  }
  return s;
}

// The record -> layer lookup, from the mapping.
const std::map<std::string, const LayerMapping*>& record_layers() {
  static const std::map<std::string, const LayerMapping*> m = [] {
    std::map<std::string, const LayerMapping*> out;
    for (const LayerMapping& l : llmservingsim_mapping())
      for (const std::string& r : l.records) out.emplace(r, &l);
    return out;
  }();
  return m;
}

// One LLMServingSim layer's time in one trace, per decoder layer (records of the decoder block
// divided by their repeat), before dividing by the layer's uses a block.
struct LayerTime {
  double cycles = 0;
  std::vector<std::string> simulated;
  std::vector<std::pair<std::string, std::string>> missing;  // record, why
};

// What the export keeps of a trace's run: the records' cycles and the records not run.
struct TraceRun {
  std::uint64_t cycles = 0;
  std::map<std::string, std::uint64_t> records;
  std::vector<std::pair<std::string, std::string>> not_run;
};

// Every trace in its own forked child (io::run_in_child: SystemC elaborates once per process),
// one after another: the run of trace i is `quasar run` of that trace, and only one trace's
// accelerator is in memory at a time (side by side in one simulation, a grid of 47 traces of
// Llama-3-8B held 7.5 GB).
std::vector<TraceRun> simulate_each(const arch::ArchSpec& a, const std::vector<trace::Trace>& ts,
                                    arch::Fidelity mode, const arch::Progress& progress) {
  std::vector<TraceRun> out;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const double n = static_cast<double>(ts.size());
    const std::string text = io::run_in_child([&]() {
      arch::Progress p;
      if (progress) p = [&](double f) { progress((static_cast<double>(i) + f) / n); };
      const RunReport r = run_trace(a, ts[i], mode, p);
      nlohmann::json j;
      j["cycles"] = r.stats.cycles;
      j["records"] = nlohmann::json::object();
      for (const arch::LayerStats& l : r.stats.layers) j["records"][l.name] = l.cycles;
      j["not_run"] = r.not_run;
      return j.dump();
    });
    const nlohmann::json j = nlohmann::json::parse(text);
    TraceRun t;
    t.cycles = j.at("cycles").get<std::uint64_t>();
    t.records = j.at("records").get<std::map<std::string, std::uint64_t>>();
    t.not_run = j.at("not_run").get<std::vector<std::pair<std::string, std::string>>>();
    out.push_back(std::move(t));
    if (progress) progress(static_cast<double>(i + 1) / n);  // here too: the child's line is gone
  }
  return out;
}

std::map<std::string, LayerTime> layer_times(const trace::Trace& t, const TraceRun& r) {
  const std::map<std::string, std::uint64_t>& cycles = r.records;
  std::map<std::string, std::string> why;
  for (const auto& [name, reason] : r.not_run) why[name] = reason;
  std::map<std::string, LayerTime> out;
  for (const trace::Layer& l : t.layers) {
    const auto it = record_layers().find(l.name);
    if (it == record_layers().end())
      throw Error("internal: trace record '" + l.name + "' of " + t.name +
                  " has no LLMServingSim layer (sim/interop/llmservingsim.cpp mapping)");
    LayerTime& lt = out[it->second->layer];
    if (const auto c = cycles.find(l.name); c != cycles.end()) {
      lt.cycles += static_cast<double>(c->second) / static_cast<double>(l.repeat);
      lt.simulated.push_back(l.name);
    } else if (const auto w = why.find(l.name); w != why.end()) {
      lt.missing.emplace_back(l.name, w->second);
    } else {
      throw Error("internal: record '" + l.name + "' of " + t.name +
                  " is neither simulated nor listed as not run");
    }
  }
  return out;
}

struct Row {
  std::vector<std::uint64_t> key;
  double us = 0;
};

// What a layer's rows cover, over the traces they come from.
struct Coverage {
  std::set<std::string> simulated;
  std::map<std::string, std::string> missing;
  void add(const LayerTime& lt) {
    simulated.insert(lt.simulated.begin(), lt.simulated.end());
    for (const auto& [n, w] : lt.missing) missing.emplace(n, w);
  }
  std::string status(const LayerMapping& m) const {
    if (m.records.empty()) return "not modelled";
    if (simulated.empty()) return "not simulated";
    return missing.empty() ? "simulated" : "partly simulated";
  }
  std::string missing_text() const {
    std::string s;
    for (const auto& [n, w] : missing) s += (s.empty() ? "" : "; ") + n + ": " + w;
    return s;
  }
};

std::string records_text(const LayerMapping& m) {
  std::string s = join(m.records, " + ");
  if (m.uses > 1) s = "(" + s + ") / " + std::to_string(m.uses);
  return s;
}

std::string coverage_csv(const std::vector<CoverageLine>& lines) {
  std::string s = "file,layer,rows,quasar_records,status,note\n";
  for (const CoverageLine& c : lines) {
    s += csv_field(c.file) + "," + csv_field(c.layer) + "," + csv_field(c.rows) + "," +
         csv_field(c.records) + "," + csv_field(c.status) + "," + csv_field(c.note) + "\n";
  }
  return s;
}

std::string model_config_json(const trace::ModelConfig& m, const std::string& dtype) {
  nlohmann::ordered_json j;
  j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = "llama";
  j["hidden_size"] = m.hidden;
  j["intermediate_size"] = m.intermediate;
  j["num_hidden_layers"] = m.layers;
  j["num_attention_heads"] = m.heads;
  j["num_key_value_heads"] = m.kv_heads;
  j["head_dim"] = m.head_dim;
  j["vocab_size"] = m.vocab;
  if (m.max_positions) j["max_position_embeddings"] = m.max_positions;
  j["tie_word_embeddings"] = m.tied_embeddings;
  j["hidden_act"] = "silu";
  j["torch_dtype"] = dtype;
  j["_quasar"] = "shapes of quasar's model '" + m.name +
                 "' (quasar export llmservingsim); fields quasar does not know (rope_theta, "
                 "rms_norm_eps) are left out: LLMServingSim's simulator does not read them";
  return j.dump(2) + "\n";
}

}  // namespace

const std::vector<LayerMapping>& llmservingsim_mapping() {
  static const std::vector<LayerMapping> m{
      {kDense, "embedding", {}, 1,
       "quasar has no record for the token-embedding lookup: time_us 0 (LLMServingSim reads it "
       "as 1 ns)"},
      {kDense, "layernorm",
       {"layer.input_norm", "layer.attn_residual", "layer.post_attn_norm", "layer.mlp_residual"},
       2,
       "vLLM's RMSNorm adds the residual in the same kernel (fused_add_rms_norm), so the "
       "residual adds go with the norms; LLMServingSim emits layernorm twice a block (pre_attn "
       "and post_attn), so a row holds half the four records' time"},
      {kDense, "qkv_proj",
       {"layer.attn_in.quantize_act", "layer.q_proj", "layer.k_proj", "layer.v_proj"}, 1,
       "one GEMM in vLLM (QKVParallelLinear); a quantized linear quantizes its activations "
       "within the layer"},
      {kDense, "rotary_emb", {"layer.rope"}, 1,
       "0 where quasar's vector unit runs RoPE under the q/k/v projections (a record's time is "
       "its share of the timeline)"},
      {kDense, "o_proj", {"layer.attn_out.quantize_act", "layer.o_proj"}, 1, ""},
      {kDense, "gate_up_proj", {"layer.mlp_in.quantize_act", "layer.gate_proj", "layer.up_proj"},
       1, "one GEMM in vLLM (MergedColumnParallelLinear)"},
      {kDense, "act_fn", {"layer.act"}, 1, "SiluAndMul"},
      {kDense, "down_proj", {"layer.mlp_mid.quantize_act", "layer.down_proj"}, 1, ""},
      {kDense, "final_layernorm", {"final_norm"}, 1, "once a forward pass (not per block)"},
      {kAttention, "attention",
       {"layer.kv_append", "layer.attn_qk", "layer.attn_softmax", "layer.attn_pv"}, 1,
       "vLLM's Attention layer writes the step's keys and values into the cache "
       "(reshape_and_cache) and runs the attention kernel"},
      {kPerSequence, "lm_head", {"final_out.quantize_act", "lm_head"}, 1,
       "the logits of one token a sequence (a decode trace of that batch)"},
      {kPerSequence, "sampler", {}, 1,
       "quasar does not model sampling: time_us 0 (LLMServingSim reads it as 1 ns)"},
  };
  return m;
}

void check_llmservingsim(const arch::ArchSpec& a, const LlmServingSimSpec& in) {
  const trace::ModelConfig& m = in.model;
  if (m.family != trace::Family::llama || m.experts != 0)
    throw Error("model '" + m.name +
                "': the export writes LLMServingSim's llama architecture (dense Llama-style "
                "decoders: llama-2-*, llama-3-*); LLMServingSim has no architecture for OPT or "
                "Qwen2, and MoE tables (moe.csv) are not exported");
  if (m.sliding_window != 0)
    throw Error("model '" + m.name + "' has a sliding attention window (" +
                std::to_string(m.sliding_window) +
                "), which LLMServingSim's llama architecture does not describe");
  const LlmServingSimSpec s = normalized(in, a);
  const auto need = [](const char* opt, const std::vector<std::uint64_t>& v) {
    if (v.empty()) throw Error(std::string(opt) + ": an empty list; give one value at least");
    if (v.front() == 0) throw Error(std::string(opt) + ": values are 1 or more, got 0");
  };
  need("--tokens", s.grid.tokens);
  need("--sequences", s.grid.sequences);
  need("--kv", s.grid.kv);
  if (m.max_positions) {
    if (s.grid.tokens.back() > m.max_positions)
      throw Error("--tokens " + std::to_string(s.grid.tokens.back()) + ": " + m.name + " has " +
                  std::to_string(m.max_positions) + " positions (max_position_embeddings)");
    if (s.grid.kv.back() + 1 > m.max_positions)
      throw Error("--kv " + std::to_string(s.grid.kv.back()) + ": a decode step attends to kv + 1 "
                  "keys; " + m.name + " has " + std::to_string(m.max_positions) +
                  " positions (max_position_embeddings)");
  }
  if (s.decoder_layers == 0 || s.decoder_layers > m.layers)
    throw Error("--layers " + std::to_string(s.decoder_layers) + ": 1 to " + m.name + "'s " +
                std::to_string(m.layers) + " decoder layers");
  check_label("--hardware", s.hardware, 1);
  check_label("--model-name", s.model_name, 4);
  variant_of(s.dtype);
}

std::vector<trace::Trace> llmservingsim_traces(const LlmServingSimSpec& s) {
  std::vector<trace::Trace> out;
  trace::GenSpec g;
  g.model = s.model;
  g.linear_scheme = s.linear_scheme;
  g.decoder_layers = s.decoder_layers;
  // Prefill: one sequence of T tokens, logits for its last token only (as vLLM).
  g.phase = trace::Phase::prefill;
  g.batch = 1;
  g.lm_head_last_token = true;
  for (std::uint64_t t : sorted_unique(s.grid.tokens)) {
    g.seq = t;
    out.push_back(trace::generate(g));
  }
  // Decode: n sequences, each with a KV history of k tokens plus its new one.
  g.phase = trace::Phase::decode;
  g.lm_head_last_token = false;
  for (std::uint64_t n : sorted_unique(s.grid.sequences)) {
    for (std::uint64_t k : sorted_unique(s.grid.kv)) {
      g.batch = n;
      g.context = k + 1;
      out.push_back(trace::generate(g));
    }
  }
  return out;
}

LlmServingSimExport export_llmservingsim(const arch::ArchSpec& a, const LlmServingSimSpec& in,
                                         const std::string& dir, arch::Fidelity mode,
                                         const arch::Progress& progress) {
  check_llmservingsim(a, in);
  const LlmServingSimSpec s = normalized(in, a);
  io::OutputTree out(dir, kMarker);  // refused here, before the simulation, when it cannot be
  const std::vector<trace::Trace> traces = llmservingsim_traces(s);
  const std::vector<TraceRun> runs = simulate_each(a, traces, mode, progress);

  LlmServingSimExport e;
  e.dir = dir;
  e.design = a.name;
  e.model = s.model.name;
  e.hardware = s.hardware;
  e.model_name = s.model_name;
  e.variant = variant_of(s.dtype);
  e.grid = s.grid;
  e.decoder_layers = s.decoder_layers;
  e.bundle = "profiler/perf/" + s.hardware + "/" + s.model_name + "/" + e.variant;
  const std::size_t nt = s.grid.tokens.size(), ns = s.grid.sequences.size(),
                    nk = s.grid.kv.size();
  e.prefill_traces = nt;
  e.decode_traces = ns * nk;

  std::vector<std::map<std::string, LayerTime>> times;
  for (std::size_t i = 0; i < traces.size(); ++i) times.push_back(layer_times(traces[i], runs[i]));
  std::set<std::pair<std::string, std::string>> not_run;
  for (const TraceRun& r : runs) not_run.insert(r.not_run.begin(), r.not_run.end());
  e.not_run.assign(not_run.begin(), not_run.end());
  const double mhz = a.clock_mhz;
  // The layer's time in trace i, microseconds per use.
  const auto us = [&](std::size_t i, const LayerMapping& m, Coverage& cov) {
    const auto it = times[i].find(m.layer);
    if (it == times[i].end()) return 0.0;
    cov.add(it->second);
    return it->second.cycles / static_cast<double>(m.uses) / mhz;
  };
  const auto decode_index = [&](std::size_t si, std::size_t ki) { return nt + si * nk + ki; };

  const std::string tmin = std::to_string(s.grid.tokens.front()),
                    tmax = std::to_string(s.grid.tokens.back());
  const std::string tokens_rows = fmt::format("tokens {} ({} rows)", list_text(s.grid.tokens), nt);
  const std::string seq_rows =
      fmt::format("sequences {} ({} rows)", list_text(s.grid.sequences), ns);

  std::string dense = "layer,tokens,time_us\n", per_seq = "layer,sequences,time_us\n";
  std::vector<Row> attention_rows;
  for (const LayerMapping& m : llmservingsim_mapping()) {
    Coverage cov;
    CoverageLine line{"tp1/" + m.file, m.layer, "", records_text(m), "", m.note};
    if (m.file == kDense) {
      for (std::size_t i = 0; i < nt; ++i) {
        dense += fmt::format("{},{},{}\n", m.layer, s.grid.tokens[i], us_text(us(i, m, cov)));
        ++e.dense_rows;
      }
      line.rows = tokens_rows + ": prefill traces of one sequence of that many tokens";
    } else if (m.file == kPerSequence) {
      for (std::size_t si = 0; si < ns; ++si) {
        per_seq += fmt::format("{},{},{}\n", m.layer, s.grid.sequences[si],
                               us_text(us(decode_index(si, 0), m, cov)));
        ++e.per_sequence_rows;
      }
      line.rows = seq_rows + ": decode traces of that batch at kv_decode " +
                  std::to_string(s.grid.kv.front());
    } else {
      // Pure prefill, pure decode, then each prefill with each decode batch (composed).
      std::vector<double> pre(nt), dec(ns * nk);
      for (std::size_t i = 0; i < nt; ++i) {
        pre[i] = us(i, m, cov);
        attention_rows.push_back({{s.grid.tokens[i], 0, 0, 0}, pre[i]});
      }
      for (std::size_t si = 0; si < ns; ++si) {
        for (std::size_t ki = 0; ki < nk; ++ki) {
          dec[si * nk + ki] = us(decode_index(si, ki), m, cov);
          attention_rows.push_back(
              {{0, 0, s.grid.sequences[si], s.grid.kv[ki]}, dec[si * nk + ki]});
        }
      }
      for (std::size_t i = 0; i < nt; ++i)
        for (std::size_t si = 0; si < ns; ++si)
          for (std::size_t ki = 0; ki < nk; ++ki)
            attention_rows.push_back({{s.grid.tokens[i], 0, s.grid.sequences[si], s.grid.kv[ki]},
                                      pre[i] + dec[si * nk + ki]});
      e.attention_prefill = nt;
      e.attention_decode = ns * nk;
      e.attention_mixed = nt * ns * nk;
      const std::string status = cov.status(m);
      const std::string missing = cov.missing_text();
      e.coverage.push_back(
          {"tp1/" + m.file, "attention (pure prefill)",
           fmt::format("prefill_chunk {}, kv_prefill 0, n_decode 0, kv_decode 0 ({} rows)",
                       list_text(s.grid.tokens), nt),
           records_text(m), status,
           "prefill traces of one sequence of prefill_chunk tokens (causal attention over "
           "itself); " + m.note + (missing.empty() ? "" : "; not simulated: " + missing)});
      e.coverage.push_back(
          {"tp1/" + m.file, "attention (pure decode)",
           fmt::format("prefill_chunk 0, kv_prefill 0, n_decode {}, kv_decode {} ({} rows)",
                       list_text(s.grid.sequences), list_text(s.grid.kv), ns * nk),
           records_text(m), status,
           "decode traces of n_decode sequences, context kv_decode + 1 (the new token's key "
           "included)" + (missing.empty() ? "" : "; not simulated: " + missing)});
      e.coverage.push_back(
          {"tp1/" + m.file, "attention (mixed)",
           fmt::format("prefill_chunk {} x n_decode {} x kv_decode {}, kv_prefill 0 ({} rows)",
                       list_text(s.grid.tokens), list_text(s.grid.sequences),
                       list_text(s.grid.kv), nt * ns * nk),
           "pure-prefill row + pure-decode row", "composed",
           "quasar's traces are one phase each, so a mixed batch is not simulated as one: its "
           "row is the sum of the pure-prefill and pure-decode rows of its keys"});
      e.coverage.push_back(
          {"tp1/" + m.file, "attention (kv_prefill > 0)", "none", "", "not covered",
           "quasar's prefill trace has no KV history (a chunk attends to itself only); "
           "LLMServingSim uses the kv_prefill 0 rows for a later chunk of a chunked prefill, "
           "which understates its attention"});
      continue;
    }
    line.status = cov.status(m);
    if (!cov.missing.empty()) line.note += (line.note.empty() ? "" : "; ") +
                                           std::string("not simulated: ") + cov.missing_text();
    e.coverage.push_back(line);
  }
  e.coverage.push_back({"tp1/moe.csv, tp1/skew.csv, tp1/skew_fit.csv", "", "none", "",
                        "not written",
                        "dense models only (no moe.csv); no skew sweep: without skew_fit in "
                        "meta.yaml LLMServingSim applies alpha 0 (the batch at its mean KV)"});
  e.coverage.push_back({"tp2/ ... tpN/", "", "none", "", "not written",
                        "quasar simulates one accelerator: tp1 only (LLMServingSim refuses a "
                        "cluster config with tp_size > 1 for this bundle)"});
  std::sort(attention_rows.begin(), attention_rows.end(),
            [](const Row& x, const Row& y) { return x.key < y.key; });
  std::string attention = "prefill_chunk,kv_prefill,n_decode,kv_decode,time_us\n";
  for (const Row& r : attention_rows)
    attention += fmt::format("{},{},{},{},{}\n", r.key[0], r.key[1], r.key[2], r.key[3],
                             us_text(r.us));

  // meta.yaml: the keys LLMServingSim reads (engine_effective's bounds) and provenance.
  std::string meta;
  meta += "# Written by quasar export llmservingsim: latencies simulated by quasar on design " +
          a.name + ",\n# not measured under vLLM. README.md and coverage.csv in the export's " +
          "top folder say what each row covers.\n";
  meta += "profiler_version: " + yaml_quoted(std::string("quasar ") + QUASAR_VERSION) + "\n";
  meta += "vllm_version: 'n/a'\ngpu: 'n/a'\n";
  meta += "hardware: " + yaml_quoted(s.hardware) + "\n";
  meta += "architecture: llama\n";
  meta += "model: " + yaml_quoted(s.model_name) + "\n";
  meta += "variant: " + e.variant + "\n";
  meta += "tp_degrees: [1]\n";
  meta += "engine_effective:\n";
  meta += "  max_num_batched_tokens: " + tmax + "\n";
  meta += "  max_num_seqs: " + std::to_string(s.grid.sequences.back()) + "\n";
  meta += "measurement_iterations: 1\n";
  meta += "quasar:\n";
  meta += "  design: " + yaml_quoted(a.name) + "\n";
  meta += fmt::format("  clock_mhz: {}\n", a.clock_mhz);
  meta += std::string("  mode: ") + arch::fidelity_name(mode) + "\n";
  meta += "  model: " + yaml_quoted(s.model.name) + "\n";
  meta += "  decoder_layers_per_trace: " + std::to_string(s.decoder_layers) + "\n";
  meta += "  tokens: [" + list_text(s.grid.tokens) + "]\n";
  meta += "  sequences: [" + list_text(s.grid.sequences) + "]\n";
  meta += "  kv_decode: [" + list_text(s.grid.kv) + "]\n";
  meta += "  time_us: 'per decoder layer: the records'' cycles (their share of the run''s "
          "timeline) / decoder layers / clock (MHz)'\n";

  const std::string tp1 = e.bundle + "/tp1/";
  io::write_file(out.path(tp1 + kDense), dense);
  io::write_file(out.path(tp1 + kPerSequence), per_seq);
  io::write_file(out.path(tp1 + kAttention), attention);
  io::write_file(out.path(e.bundle + "/meta.yaml"), meta);
  io::write_file(out.path("configs/model/" + s.model_name + ".json"),
                 model_config_json(s.model, s.dtype));
  io::write_file(out.path("coverage.csv"), coverage_csv(e.coverage));
  for (const trace::Trace& t : traces)
    io::write_file(out.path("traces/" + t.name + ".yaml"), trace::to_yaml(t));

  nlohmann::ordered_json j;
  j["quasar_export"] = "llmservingsim";
  j["quasar_version"] = QUASAR_VERSION;
  j["format"] = "LLMServingSim v1 profile bundle (profiler/perf/<hardware>/<model>/<variant>)";
  j["command"] = s.command;
  j["design"] = a.name;
  j["clock_mhz"] = a.clock_mhz;
  j["mode"] = arch::fidelity_name(mode);
  j["model"] = s.model.name;
  j["hardware"] = s.hardware;
  j["model_name"] = s.model_name;
  j["dtype"] = s.dtype;
  j["variant"] = e.variant;
  j["bundle"] = e.bundle;
  j["decoder_layers_per_trace"] = s.decoder_layers;
  j["tokens"] = s.grid.tokens;
  j["sequences"] = s.grid.sequences;
  j["kv_decode"] = s.grid.kv;
  nlohmann::ordered_json tr = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < traces.size(); ++i)
    tr.push_back({{"trace", "traces/" + traces[i].name + ".yaml"},
                  {"cycles", runs[i].cycles}});
  j["traces"] = tr;
  nlohmann::ordered_json nr = nlohmann::ordered_json::array();
  for (const auto& [name, why] : e.not_run) nr.push_back({{"record", name}, {"reason", why}});
  j["not_simulated"] = nr;
  io::write_file(out.path(kMarker), j.dump(2) + "\n");

  // README.md: how to use the bundle and what it covers.
  std::string md;
  md += "# LLMServingSim profile bundle from quasar\n\n";
  md += "Latencies simulated by quasar (" + std::string(QUASAR_VERSION) + ") on design `" +
        a.name + "` (" + fmt::format("{} MHz", a.clock_mhz) + ", " + arch::fidelity_name(mode) +
        " mode) for model `" + s.model.name + "`, written in the layout of LLMServingSim's "
        "profiler (v1.x: `profiler/perf/<HARDWARE>/<MODEL>/<VARIANT>/`). They are not measured "
        "under vLLM. Made by:\n\n    " + s.command + "\n\n";
  md += "## Install into LLMServingSim\n\nThis folder mirrors an LLMServingSim checkout's root:\n\n"
        "    cp -r configs profiler /path/to/LLMServingSim/\n\n"
        "then point an instance of a cluster config at it: `\"hardware\": \"" + s.hardware +
        "\"`, `\"model_name\": \"" + s.model_name + "\"`, `\"tp_size\": 1`. The model config "
        "(`configs/model/" + s.model_name + ".json`) has `torch_dtype: " + s.dtype +
        "`, so LLMServingSim resolves the variant folder `" + e.variant +
        "` without `--dtype`. The dtype sizes LLMServingSim's memory (weights and KV cache); "
        "the latencies are the design's, whatever its schemes.\n\n";
  md += "## Tables\n\nAll `time_us` are microseconds per decoder layer (LLMServingSim emits the "
        "block's layers once per decoder layer): a row is the quasar records' cycles, each "
        "record's share of its run's timeline, divided by the decoder layers the trace holds (" +
        std::to_string(s.decoder_layers) + ") and the clock in MHz. Records that overlap others "
        "count once, so an iteration's rows add up to quasar's run time.\n\n";
  md += "| file | rows |\n|---|---|\n";
  md += fmt::format("| `{}tp1/dense.csv` | {} layers x tokens {} |\n", e.bundle, e.dense_rows / nt,
                    list_text(s.grid.tokens));
  md += fmt::format("| `{}tp1/per_sequence.csv` | lm_head, sampler x sequences {} |\n", e.bundle,
                    list_text(s.grid.sequences));
  md += fmt::format("| `{}tp1/attention.csv` | {} pure prefill, {} pure decode (simulated), {} "
                    "mixed (composed) |\n\n",
                    e.bundle, e.attention_prefill, e.attention_decode, e.attention_mixed);
  md += "## Coverage (also coverage.csv)\n\n| file | layer | quasar records | status | note |\n"
        "|---|---|---|---|---|\n";
  for (const CoverageLine& c : e.coverage) {
    md += "| " + c.file + " | " + c.layer + " | " + c.records + " | " + c.status + " | " +
          c.note + " |\n";
  }
  md += "\nEach trace simulated is in `traces/`; `quasar run --arch <design> --trace "
        "traces/<name>.yaml` reruns it and reports the same record cycles.\n";
  io::write_file(out.path("README.md"), md);
  out.publish();
  return e;
}

void print_llmservingsim_summary(std::ostream& os, const LlmServingSimExport& e) {
  os << fmt::format(
      "quasar export llmservingsim: {} on design {}, {} decoder layer{} a trace; simulated {} "
      "prefill and {} decode traces, each a run of the design as quasar run\n",
      e.model, e.design, e.decoder_layers, e.decoder_layers == 1 ? "" : "s", e.prefill_traces,
      e.decode_traces);
  os << fmt::format("wrote {}/ (LLMServingSim v1 layout; install: cp -r configs profiler "
                    "<LLMServingSim>/):\n",
                    e.dir);
  os << fmt::format("  {}/meta.yaml\n", e.bundle);
  os << fmt::format("  {}/tp1/dense.csv         {} rows (tokens {})\n", e.bundle, e.dense_rows,
                    list_text(e.grid.tokens));
  os << fmt::format("  {}/tp1/per_sequence.csv  {} rows (sequences {})\n", e.bundle,
                    e.per_sequence_rows, list_text(e.grid.sequences));
  os << fmt::format("  {}/tp1/attention.csv     {} rows ({} prefill, {} decode simulated; {} "
                    "mixed composed)\n",
                    e.bundle, e.attention_prefill + e.attention_decode + e.attention_mixed,
                    e.attention_prefill, e.attention_decode, e.attention_mixed);
  os << fmt::format("  configs/model/{}.json\n", e.model_name);
  os << "  README.md, coverage.csv, quasar-export.json, traces/\n";
  os << fmt::format("cluster config: \"hardware\": \"{}\", \"model_name\": \"{}\", \"tp_size\": 1 "
                    "(variant {})\n",
                    e.hardware, e.model_name, e.variant);
  for (const CoverageLine& c : e.coverage) {
    if (c.status == "simulated" || c.status == "composed") continue;
    os << fmt::format("{}: {}{}{}\n", c.status, c.file, c.layer.empty() ? "" : " " + c.layer,
                      c.status == "not written" || c.status == "not covered"
                          ? ""
                          : " (time_us " + std::string(c.status == "partly simulated"
                                                           ? "of the simulated records only"
                                                           : "0") +
                                ")");
  }
  if (!e.not_run.empty()) {
    os << "records not simulated by the design:\n";
    for (const auto& [name, why] : e.not_run) os << "  " << name << ": " << why << "\n";
  }
}

}  // namespace quasar::interop
