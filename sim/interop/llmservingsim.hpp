// LLMServingSim's hardware profile bundle from quasar's simulated latencies (issue 21,
// "Interop"). LLMServingSim (github.com/casys-kaist/LLMServingSim, v1.x) builds each serving
// iteration from per-layer latency tables that its profiler measures on a GPU under vLLM; its
// "Adding non-GPU hardware" page invites a simulator to write the same tables. This writes them
// from runs of quasar's SystemC model (the runs `quasar run` does), so a serving study can run
// on a quasar design's numbers. Format, sources and the record -> layer mapping:
// docs/interop-llmservingsim.md.
//
// The tree written (DIR mirrors an LLMServingSim checkout's root, so copying it in installs it):
//   profiler/perf/<HARDWARE>/<MODEL>/<VARIANT>/meta.yaml
//   profiler/perf/<HARDWARE>/<MODEL>/<VARIANT>/tp1/dense.csv         layer,tokens,time_us
//   profiler/perf/<HARDWARE>/<MODEL>/<VARIANT>/tp1/per_sequence.csv  layer,sequences,time_us
//   profiler/perf/<HARDWARE>/<MODEL>/<VARIANT>/tp1/attention.csv
//       prefill_chunk,kv_prefill,n_decode,kv_decode,time_us
//   configs/model/<MODEL>.json     the model's shapes (LLMServingSim sizes memory with them)
//   README.md, coverage.csv        what every table row covers, what is not simulated
//   quasar-export.json             provenance; marks DIR as this command's (it is replaced whole)
//   traces/*.yaml                  the traces simulated (`quasar run --trace` reruns any)
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "arch/accelerator.hpp"
#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"
#include "trace/model_config.hpp"
#include "trace/trace.hpp"

namespace quasar::interop {

// The shapes the tables are keyed by (each list sorted and deduplicated by the exporter).
//   tokens     dense.csv `tokens` and attention.csv's pure-prefill `prefill_chunk`: one prefill
//              trace each, one sequence of that many tokens;
//   sequences  per_sequence.csv `sequences` and attention.csv `n_decode`: decode batch sizes;
//   kv         attention.csv `kv_decode`: the KV history a decoding sequence attends to (its
//              own new token not included; quasar's decode trace gets context kv + 1).
// One decode trace per (sequences, kv) pair.
struct LlmServingSimGrid {
  std::vector<std::uint64_t> tokens{1, 16, 128};
  std::vector<std::uint64_t> sequences{1, 4};
  std::vector<std::uint64_t> kv{128, 1024};
};

struct LlmServingSimSpec {
  trace::ModelConfig model;      // a dense Llama-style decoder (LLMServingSim's llama.yaml)
  std::string hardware;          // LLMServingSim's hardware label (folder); "": quasar-<design>
  std::string model_name;        // LLMServingSim's model id, ORG/NAME; "": quasar/<model>
  std::string dtype = "float16"; // the model config's torch_dtype; names the variant folder
  LlmServingSimGrid grid;
  // Decoder layers each trace holds (the per-layer time is the records' time / this); 1 as
  // LLMServingSim's own profiler (hf_overrides num_hidden_layers: 1).
  std::uint64_t decoder_layers = 1;
  trace::LayerScheme linear_scheme;  // the design's scheme for the linear layers
  std::string command;               // the command line, recorded in README.md
};

// One LLMServingSim layer (a catalog entry of its llama.yaml) and the quasar records it sums.
struct LayerMapping {
  std::string file;      // dense.csv, per_sequence.csv, attention.csv
  std::string layer;     // LLMServingSim's canonical layer name
  std::vector<std::string> records;  // quasar trace records summed (per decoder layer)
  std::uint64_t uses = 1;            // times LLMServingSim emits the layer per block
  std::string note;
};
// The mapping, in the order of llama.yaml's sequence (documented in the interop doc).
const std::vector<LayerMapping>& llmservingsim_mapping();

// Every row's coverage, one line per table layer (and attention row kind).
struct CoverageLine {
  std::string file, layer, rows, records, status, note;
};

struct LlmServingSimExport {
  std::string dir, bundle;  // DIR; the variant folder below it
  std::string design, model, hardware, model_name, variant;
  LlmServingSimGrid grid;
  std::uint64_t decoder_layers = 0;
  std::size_t prefill_traces = 0, decode_traces = 0;
  std::size_t dense_rows = 0, per_sequence_rows = 0;
  std::size_t attention_prefill = 0, attention_decode = 0, attention_mixed = 0;
  std::vector<CoverageLine> coverage;
  std::vector<std::pair<std::string, std::string>> not_run;  // record, why (any trace)
};

// Refuses, before anything is simulated, what cannot be exported (a model LLMServingSim's llama
// architecture does not describe, an empty or zero grid value, a context past the model's
// positions, a label that is not a safe folder name). Throws quasar::Error naming the option.
void check_llmservingsim(const arch::ArchSpec& a, const LlmServingSimSpec& s);

// The traces the export simulates: a prefill per `tokens`, a decode per (sequences, kv).
std::vector<trace::Trace> llmservingsim_traces(const LlmServingSimSpec& s);

// Checks, simulates every trace (each its own run of the design, in a forked child, as
// `quasar run` of that trace), writes DIR (published whole).
LlmServingSimExport export_llmservingsim(const arch::ArchSpec& a, const LlmServingSimSpec& s,
                                         const std::string& dir, arch::Fidelity mode,
                                         const arch::Progress& progress = {});

void print_llmservingsim_summary(std::ostream& os, const LlmServingSimExport& e);

}  // namespace quasar::interop
