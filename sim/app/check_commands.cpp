#include "check_commands.hpp"

#include <fstream>
#include <iostream>
#include <memory>

#include "config/arch_config.hpp"
#include "functional/accelerator_engine.hpp"
#include "mapping/workload.hpp"
#include "gpu/device.hpp"
#include "gpu/vector_engine.hpp"
#include "numerics/error.hpp"
#include "report/regress.hpp"
#include "report/trace_check.hpp"
#include "trace/trace.hpp"
#ifdef QUASAR_HAVE_SYSTEMC
#include "io/output_file.hpp"
#include "report/run_report.hpp"
#endif

namespace quasar::app {

std::function<int()> add_validate_command(CLI::App& app) {
  struct Args {
    std::string trace, device = "auto", arch;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("validate",
                                     "Recompute every data-bearing layer of a trace and compare "
                                     "with its expected outputs, bit for bit");
  cmd->add_option("trace", a->trace, "Trace manifest (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--device", a->device,
                  "cpu, gpu, auto (the GPU when usable, else the CPU), or accel (the "
                  "accelerator's datapath: the design's tile plan through its unit models). "
                  "The CPU runs the fast kernels; QUASAR_CPU_ENGINE=reference runs the clear "
                  "reference, QUASAR_THREADS=N sets the threads")
      ->check(CLI::IsMember({"cpu", "gpu", "auto", "accel"}))
      ->capture_default_str();
  cmd->add_option("--arch", a->arch,
                  "With --device accel: the design, a shipped name (intscale, dgq, ...) or a "
                  "YAML file");
  cmd->footer("Exit status 1 when any layer differs.");
  return [a]() {
    if (a->device == "accel") {
      if (a->arch.empty())
        throw Error("validate --device accel needs --arch (a design name or YAML file)");
      const arch::ArchSpec spec = config::load_arch(a->arch);
      const functional::AcceleratorEngine engine(spec);
      const TraceCheck c =
          check_trace(a->trace, engine, "device: accel, " + engine.describe(),
                      [&spec](const trace::Layer& l) { return mapping::why_not_run(spec, l); });
      print_trace_check(std::cout, c);
      return c.all_match() ? 0 : 1;
    }
    if (!a->arch.empty()) throw Error("--arch is used only with --device accel");
    const DeviceChoice d = a->device == "gpu"   ? DeviceChoice::gpu
                           : a->device == "cpu" ? DeviceChoice::cpu
                                                : DeviceChoice::automatic;
    const EngineChoice e = choose_engine(d);
    // The non-GEMM records on the same device as the GEMMs (one GPU check for both).
    const VectorEngineChoice v = choose_vector_engine(d);
    const TraceCheck c = check_trace(a->trace, *e.engine, e.note, {}, *v.engine);
    print_trace_check(std::cout, c);
    return c.all_match() ? 0 : 1;
  };
}

std::function<int()> add_regress_command(CLI::App& app) {
  struct Args {
    std::string root = "traces/golden";
    std::string bless;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "regress", "Run the golden regression cases (exact outputs and statistics)");
  cmd->add_option("dir", a->root, "A golden case folder, or a folder of them")
      ->capture_default_str();
  cmd->add_option("--bless", a->bless,
                  "Regenerate the expected outputs, stats.json and timing.json of this case folder")
      ->check(CLI::ExistingDirectory);
  return [a]() {
    if (!a->bless.empty()) {
      bless_golden_case(a->bless, std::cout);
#ifdef QUASAR_HAVE_SYSTEMC
      const std::string file = a->bless + "/timing.json";
      io::write_file(file,
                     golden_timing({trace::read_manifest(a->bless + "/trace.yaml")}).at(0).json);
      std::cout << "wrote " << file << "\n";
#endif
      return 0;
    }
    const std::vector<std::string> cases = find_golden_cases(a->root);
    std::vector<CaseResult> results;
    for (const std::string& dir : cases) results.push_back(run_golden_case(dir));
#ifdef QUASAR_HAVE_SYSTEMC
    // Timing: every case's trace on every shipped design that runs it, both fidelities.
    std::vector<trace::Trace> traces;
    for (const std::string& dir : cases)
      traces.push_back(trace::read_manifest(dir + "/trace.yaml"));
    const std::vector<GoldenTiming> timing = golden_timing(traces);
    for (std::size_t i = 0; i < cases.size(); ++i) {
      if (!results[i].passed) continue;
      std::string diff = timing[i].cycle_vs_fast;
      if (diff.empty()) diff = golden_file_difference(cases[i] + "/timing.json", timing[i].json);
      if (diff.empty()) {
        results[i].detail += "; timing equal (fast and cycle)";
      } else {
        results[i].passed = false;
        results[i].detail = diff;
      }
    }
#endif
    int failed = 0;
    for (const CaseResult& r : results) {
      std::cout << (r.passed ? "PASS " : "FAIL ") << r.dir << ": " << r.detail << "\n";
      failed += r.passed ? 0 : 1;
    }
    return failed ? 1 : 0;
  };
}

}  // namespace quasar::app
