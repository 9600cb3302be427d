#include "run_command.hpp"

#include <unistd.h>

#include <iostream>
#include <memory>

#include "config/arch_config.hpp"
#include "io/output_set.hpp"
#include "numerics/error.hpp"
#include "report/run_report.hpp"
#include "trace/generate.hpp"

namespace quasar::app {

std::function<int()> add_run_command(CLI::App& app) {
  struct Args {
    std::string arch = "intscale", trace, mode = "fast", out, format = "table";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd =
      app.add_subcommand("run", "Simulate a trace on an accelerator design (SystemC model)");
  cmd->add_option(
         "--arch", a->arch,
         "Design: a YAML file or a shipped name (" +
             [] {
               std::string s;
               for (const auto& n : config::shipped_arch_names()) s += (s.empty() ? "" : ", ") + n;
               return s;
             }() +
             ")")
      ->capture_default_str();
  cmd->add_option("--trace", a->trace,
                  "Trace manifest (default: one LLaMA-2-7B decoder layer, prefill of 2048 tokens, "
                  "in the design's first scheme)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--mode", a->mode,
                  "fast (phase-level) or cycle (the array ticked every cycle); same results")
      ->check(CLI::IsMember({"fast", "cycle"}))
      ->capture_default_str();
  cmd->add_option("-o,--out", a->out,
                  "Write report.json, layers.csv and (when priced) report.html to this folder");
  cmd->add_option("--format", a->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->footer(
      "Models GEMM layers on weight- and output-stationary arrays and prices them with the "
      "shipped technology tables (docs/cost-model.md); non-GEMM records and layers in schemes "
      "the design does not run are listed as not simulated.");
  return [a]() {
    // Refused before the simulation rather than after it.
    if (!a->out.empty()) io::OutputSet::check(a->out);
    const arch::ArchSpec spec = config::load_arch(a->arch);
    trace::Trace t;
    if (a->trace.empty()) {
      trace::GenSpec g;
      g.model = trace::embedded_model("llama-2-7b");
      g.seq = 2048;
      g.decoder_layers = 1;
      g.linear_scheme.scheme = spec.schemes.front();
      t = trace::generate(g);
    } else {
      t = trace::read_manifest(a->trace);
    }
    // Progress on a terminal only: piped or redirected output stays byte for byte the same.
    arch::Progress progress;
    if (isatty(STDERR_FILENO)) {
      progress = [](double f) {
        std::cerr << "\rquasar run: " << static_cast<int>(100.0 * f) << "% of tiles"
                  << (f >= 1.0 ? "\n" : "") << std::flush;
      };
    }
    const RunReport r = run_trace(
        spec, t, a->mode == "cycle" ? arch::Fidelity::cycle : arch::Fidelity::fast, progress);
    if (!a->out.empty()) write_run_outputs(a->out, r);
    if (a->format == "json") {
      print_run_json(std::cout, r);
    } else {
      print_run_table(std::cout, r);
      if (!a->out.empty()) std::cout << "wrote " << a->out << "/report.json and layers.csv\n";
    }
    return 0;
  };
}

}  // namespace quasar::app
