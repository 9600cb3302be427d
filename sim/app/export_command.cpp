#include "export_command.hpp"

#include <iostream>
#include <memory>

#include "config/arch_config.hpp"
#include "config/sweep_config.hpp"
#include "interop/llmservingsim.hpp"
#include "io/progress.hpp"
#include "mapping/workload.hpp"
#include "numerics/error.hpp"

namespace quasar::app {

namespace {

// "1,16,128" -> {1, 16, 128}; each value a positive integer (checked again by the library).
std::vector<std::uint64_t> parse_list(const std::string& option, const std::string& text) {
  std::vector<std::uint64_t> out;
  if (text.empty()) throw Error(option + ": an empty list; give one value at least, e.g. 1,16,128");
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string v = text.substr(start, comma - start);
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos)
      throw Error(option + " '" + text + "': expected positive integers separated by commas, "
                  "got '" + v + "'");
    out.push_back(std::stoull(v));
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::function<int()> add_export_command(CLI::App& app) {
  struct Args {
    std::string arch = "intscale", model, config, out, mode = "fast";
    std::string tokens = "1,16,128", sequences = "1,4", kv = "128,1024";
    std::string hardware, model_name, dtype = "float16";
    std::vector<std::string> sets;
    std::uint64_t layers = 1;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("export", "Write another tool's input from quasar's simulations");
  cmd->require_subcommand(1);
  CLI::App* ls = cmd->add_subcommand(
      "llmservingsim",
      "LLMServingSim's hardware profile bundle (per-layer latency tables) from a design's "
      "simulated runs (docs/interop-llmservingsim.md)");
  ls->add_option("--arch", a->arch,
                 "Design: a YAML file or a shipped name (" +
                     [] {
                       std::string s;
                       for (const auto& n : config::shipped_arch_names())
                         s += (s.empty() ? "" : ", ") + n;
                       return s;
                     }() +
                     ")")
      ->capture_default_str();
  ls->add_option("--set", a->sets, "Override a design key, KEY.PATH=VALUE (repeatable), as run");
  ls->add_option("--model", a->model, "Embedded model (trace gen --list-models; Llama family)");
  ls->add_option("--config", a->config, "Hugging Face config.json of another Llama-style model")
      ->check(CLI::ExistingFile);
  ls->add_option("-o,--out", a->out,
                 "Folder to write (new, empty, or an earlier export: replaced whole); it mirrors "
                 "an LLMServingSim checkout's root")
      ->required();
  ls->add_option("--tokens", a->tokens,
                 "dense.csv tokens and pure-prefill attention prefill_chunk: a prefill trace of "
                 "one sequence each")
      ->capture_default_str();
  ls->add_option("--sequences", a->sequences,
                 "per_sequence.csv sequences and attention n_decode: decode batch sizes")
      ->capture_default_str();
  ls->add_option("--kv", a->kv,
                 "attention kv_decode: KV history of a decoding sequence (a decode trace per "
                 "sequences x kv)")
      ->capture_default_str();
  ls->add_option("--layers", a->layers,
                 "Decoder layers each trace holds (rows are per layer); 1 as LLMServingSim's "
                 "profiler")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 16))
      ->capture_default_str();
  ls->add_option("--hardware", a->hardware,
                 "LLMServingSim hardware label (folder; a cluster config's \"hardware\"); "
                 "default quasar-<design>");
  ls->add_option("--model-name", a->model_name,
                 "LLMServingSim model id, ORG/NAME (a cluster config's \"model_name\"); default "
                 "quasar/<model>");
  ls->add_option("--dtype", a->dtype,
                 "torch_dtype of the written model config: names the variant folder and sizes "
                 "LLMServingSim's memory")
      ->check(CLI::IsMember({"float16", "bfloat16", "float32", "fp8", "int8"}))
      ->capture_default_str();
  ls->add_option("--mode", a->mode, "fast (phase-level) or cycle; same results")
      ->check(CLI::IsMember({"fast", "cycle"}))
      ->capture_default_str();
  ls->footer(
      "Simulates a prefill trace per --tokens and a decode trace per --sequences x --kv (each "
      "a run of the design, as quasar run), maps quasar's records to LLMServingSim's layers and writes "
      "profiler/perf/<hardware>/<model>/<variant>/{meta.yaml,tp1/*.csv} (time_us: microseconds "
      "per decoder layer), configs/model/<model>.json, README.md and coverage.csv (what each row "
      "covers; records not simulated are listed, with time_us 0).");
  return [a]() {
    if (a->model.empty() == a->config.empty())
      throw Error("export llmservingsim: give exactly one of --model or --config");
    interop::LlmServingSimSpec s;
    s.grid.tokens = parse_list("--tokens", a->tokens);
    s.grid.sequences = parse_list("--sequences", a->sequences);
    s.grid.kv = parse_list("--kv", a->kv);
    s.model = a->config.empty() ? trace::embedded_model(a->model)
                                : trace::read_model_config(a->config);
    const arch::ArchSpec spec = config::load_arch_with(a->arch, a->sets);
    s.linear_scheme = mapping::design_layer_scheme(spec, spec.schemes.front());
    s.hardware = a->hardware;
    s.model_name = a->model_name;
    s.dtype = a->dtype;
    s.decoder_layers = a->layers;
    s.command = "quasar export llmservingsim --arch " + a->arch;
    for (const std::string& kv : a->sets) s.command += " --set " + kv;
    s.command += a->config.empty() ? " --model " + a->model : " --config " + a->config;
    s.command += " --tokens " + a->tokens + " --sequences " + a->sequences + " --kv " + a->kv +
                 " --layers " + std::to_string(a->layers);
    if (!a->hardware.empty()) s.command += " --hardware " + a->hardware;
    if (!a->model_name.empty()) s.command += " --model-name " + a->model_name;
    if (a->dtype != "float16") s.command += " --dtype " + a->dtype;
    if (a->mode != "fast") s.command += " --mode " + a->mode;
    s.command += " --out " + a->out;
    io::ProgressLine line("quasar export");
    const interop::LlmServingSimExport e = interop::export_llmservingsim(
        spec, s, a->out, a->mode == "cycle" ? arch::Fidelity::cycle : arch::Fidelity::fast,
        [&line](double f) {
          line.update(f, std::to_string(static_cast<int>(100.0 * f)) + "% of the traces");
        });
    line.finish();
    interop::print_llmservingsim_summary(std::cout, e);
    return 0;
  };
}

}  // namespace quasar::app
