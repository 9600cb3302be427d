#include "run_command.hpp"

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <algorithm>
#include <memory>
#include <thread>

#include "config/arch_config.hpp"
#include "config/sweep_config.hpp"
#include "io/output_set.hpp"
#include "io/progress.hpp"
#include "numerics/error.hpp"
#include "report/run_report.hpp"
#include "request/request.hpp"
#include "mapping/workload.hpp"
#include "trace/generate.hpp"

namespace quasar::app {

namespace {

// Progress on stderr (io::ProgressLine: a live line on a terminal, a line every 30 s in a log);
// stdout, the report, stays byte for byte the same.
arch::Progress tile_progress(io::ProgressLine& line) {
  return [&line](double f) {
    line.update(f, std::to_string(static_cast<int>(100.0 * f)) + "% of tiles");
  };
}

// Ctrl-C: say what an interrupted run keeps (only async-signal-safe calls here).
extern "C" void on_run_interrupt(int) {
  static const char msg[] =
      "\nquasar run: interrupted; nothing written (--out publishes its files together: the "
      "folder keeps its previous set)\n";
  (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
  ::_exit(130);
}

}  // namespace

std::function<int()> add_run_command(CLI::App& app) {
  struct Args {
    std::string arch = "intscale", trace, mode = "fast", out, format = "table", vcd;
    std::string model;
    std::vector<std::string> sets;
    std::uint64_t prompt = 2048, generate = 128, batch = 1, layers = 0;
    unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
    bool whole_steps = false;
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
  cmd->add_option("--set", a->sets,
                  "Override a design key, KEY.PATH=VALUE (repeatable), checked like the YAML: "
                  "--set array.rows=64 --set process.node_nm=16");
  cmd->add_option("--trace", a->trace,
                  "Trace manifest (default: one LLaMA-2-7B decoder layer, prefill of 2048 tokens, "
                  "in the design's first scheme)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--mode", a->mode,
                  "fast (phase-level, on quasar's own event loop; QUASAR_FAST_KERNEL=systemc "
                  "runs it on SystemC) or cycle (the array ticked every cycle); same results")
      ->check(CLI::IsMember({"fast", "cycle"}))
      ->capture_default_str();
  cmd->add_option("-o,--out", a->out,
                  "Write report.json, layers.csv and (when priced) report.html to this folder");
  cmd->add_option("--vcd", a->vcd,
                  "With --mode cycle: write a VCD waveform of each core's array (load, stream, "
                  "result, tiles) and DMA engines to this file (docs/run-report.md)");
  cmd->add_option("--format", a->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_option("--model", a->model,
                  "Run an end-to-end request on this embedded model (trace gen --list-models): "
                  "the prefill, then every decode step with the KV cache growing");
  cmd->add_option("--prompt", a->prompt, "Request: prompt tokens per sequence")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 24))
      ->capture_default_str();
  cmd->add_option("--generate", a->generate, "Request: tokens generated per sequence")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--batch", a->batch, "Request: sequences")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20))
      ->capture_default_str();
  cmd->add_option("--layers", a->layers,
                  "Request: decoder layers to simulate (default: the model's full depth)")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 16));
  cmd->add_option("-j,--jobs", a->jobs,
                  "Request: simulations run at once, each in its own process (default: every "
                  "core), when its steps run whole; the report does not depend on it")
      ->check(CLI::Range(1u, 4096u));
  cmd->add_flag("--whole-steps", a->whole_steps,
                "Request: simulate every distinct step whole instead of cutting steps where the "
                "accelerator is idle and reusing the segments an earlier step ran (the same "
                "report, slower: a check of the reuse)");
  cmd->footer(
      "Models the MAC array (weight- and output-stationary), the vector unit (norms, RoPE, "
      "softmax, activations, KV appends, fp32 attention) and the DRAM, and prices the run with "
      "the shipped technology tables (docs/cost-model.md); records the design does not run are "
      "listed as not simulated. With --model: an end-to-end request (TTFT, TPOT, tokens/s, "
      "J/token).");
  return [a]() {
    std::signal(SIGINT, on_run_interrupt);
    // Refused before the simulation rather than after it.
    if (!a->out.empty()) io::OutputSet::check(a->out);
    const arch::ArchSpec spec = config::load_arch_with(a->arch, a->sets);
    const arch::Fidelity fidelity =
        a->mode == "cycle" ? arch::Fidelity::cycle : arch::Fidelity::fast;
    if (!a->model.empty()) {
      if (!a->trace.empty()) throw Error("--model runs a request; --trace runs one trace: not both");
      if (!a->vcd.empty()) throw Error("--vcd writes one trace's waveforms: not with --model");
      if (!a->out.empty())
        throw Error("--out writes one run's files; a request prints its report (--format json)");
      request::RequestSpec rs;
      rs.model = trace::embedded_model(a->model);
      rs.prompt = a->prompt;
      rs.generate = a->generate;
      rs.batch = a->batch;
      rs.decoder_layers = a->layers;
      rs.workers = a->jobs;
      rs.reuse_segments = !a->whole_steps;
      rs.linear_scheme = mapping::design_layer_scheme(spec, spec.schemes.front());
      io::ProgressLine line("quasar run");
      const request::RequestReport r =
          request::run_request(spec, rs, fidelity, tile_progress(line));
      line.finish();
      if (a->format == "json") {
        request::print_request_json(std::cout, r);
      } else {
        request::print_request_table(std::cout, r);
      }
      return 0;
    }
    const trace::Trace t =
        a->trace.empty() ? default_run_trace(spec) : trace::read_manifest(a->trace);
    io::ProgressLine line("quasar run");
    const RunReport r = run_trace(spec, t, fidelity, tile_progress(line), a->vcd);
    line.finish();
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
