#include "check_commands.hpp"

#include <iostream>
#include <memory>

#include "gpu/device.hpp"
#include "report/regress.hpp"
#include "report/trace_check.hpp"

namespace quasar::app {

std::function<int()> add_validate_command(CLI::App& app) {
  struct Args {
    std::string trace, device = "auto";
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("validate",
                                     "Recompute every data-bearing layer of a trace and compare "
                                     "with its expected outputs, bit for bit");
  cmd->add_option("trace", a->trace, "Trace manifest (YAML)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--device", a->device, "cpu, gpu, or auto (the GPU when usable, else the CPU)")
      ->check(CLI::IsMember({"cpu", "gpu", "auto"}))
      ->capture_default_str();
  cmd->footer(
      "Exit status 1 when any layer differs. (Comparison with the simulated accelerator "
      "joins once the SystemC model exists.)");
  return [a]() {
    const DeviceChoice d = a->device == "gpu"   ? DeviceChoice::gpu
                           : a->device == "cpu" ? DeviceChoice::cpu
                                                : DeviceChoice::automatic;
    const EngineChoice e = choose_engine(d);
    const TraceCheck c = check_trace(a->trace, *e.engine, e.note);
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
                  "Regenerate the expected outputs and stats.json of this case folder")
      ->check(CLI::ExistingDirectory);
  return [a]() {
    if (!a->bless.empty()) {
      bless_golden_case(a->bless, std::cout);
      return 0;
    }
    int failed = 0;
    for (const std::string& dir : find_golden_cases(a->root)) {
      const CaseResult r = run_golden_case(dir);
      std::cout << (r.passed ? "PASS " : "FAIL ") << dir << ": " << r.detail << "\n";
      failed += r.passed ? 0 : 1;
    }
    return failed ? 1 : 0;
  };
}

}  // namespace quasar::app
