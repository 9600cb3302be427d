#include "import_command.hpp"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli_checks.hpp"
#include "numerics/error.hpp"
#include "numerics/scheme.hpp"
#include "report/trace_report.hpp"
#include "trace/importers.hpp"

namespace quasar::app {

ImportCommand add_trace_import_command(CLI::App& trace) {
  struct Args {
    trace::ImportSpec spec;
    std::string scheme = "auto", out;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = trace.add_subcommand(
      "import",
      "Write a data-bearing trace from a quantized checkpoint folder (GPTQ v1/v2, AutoAWQ "
      "GEMM, compressed-tensors pack-quantized / int-quantized / nvfp4-pack-quantized / "
      "mxfp4-pack-quantized, transformers mxfp4 as GPT-OSS ships it, NVIDIA ModelOpt NVFP4)");
  cmd->add_option("checkpoint", a->spec.dir,
                  "Folder with model.safetensors (or model.safetensors.index.json + shards) and "
                  "config.json / hf_quant_config.json / quantize_config.json")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--layers", a->spec.layers, "Only modules whose name matches this regex");
  cmd->add_option("--max-layers", a->spec.max_layers, "At most this many layers (0: all)")
      ->capture_default_str();
  cmd->add_option("--tokens", a->spec.tokens, "M: synthetic activation rows per layer")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--seed", a->spec.seed, "Seed of the synthetic activations")
      ->check(seed_check())
      ->capture_default_str();
  cmd->add_option("--activations", a->spec.activations,
                  "Given activations instead: safetensors with one float [M, K] tensor per module, "
                  "named as the module, in the checkpoint's channel order")
      ->check(CLI::ExistingFile);
  // The import targets: the scheme table's importable rows.
  std::vector<std::string> targets{"auto"};
  std::string target_text;
  for (const SchemeInfo& s : all_schemes()) {
    if (!s.importable) continue;
    targets.emplace_back(s.name);
    target_text += ", " + std::string(s.name);
  }
  cmd->add_option("--scheme", a->scheme, "auto (each layer's natural scheme)" + target_text)
      ->check(CLI::IsMember(targets))
      ->capture_default_str();
  cmd->add_option("-o,--out", a->out, "Output folder (trace.yaml + payload.safetensors)")
      ->required();
  auto run = [a]() {
    trace::ImportSpec spec = a->spec;
    if (a->scheme != "auto") spec.scheme = scheme_from_name(a->scheme);
    spec.command = "quasar trace import " + spec.dir + " --scheme " + a->scheme + " --tokens " +
                   std::to_string(spec.tokens) + " --seed " + std::to_string(spec.seed) +
                   (spec.layers.empty() ? "" : " --layers '" + spec.layers + "'") +
                   (spec.max_layers ? " --max-layers " + std::to_string(spec.max_layers) : "") +
                   " --out " + a->out;
    const trace::ImportedTrace t = trace::import_checkpoint(spec);
    trace::write_imported_trace(a->out, t);
    print_trace_summary(std::cout, t.trace);
    std::cout << "wrote " << a->out << "/trace.yaml and " << a->out << "/" << t.trace.payload
              << "\n";
    return 0;
  };
  return {cmd, run};
}

}  // namespace quasar::app
