// quasar command line: subcommands parse arguments and call the libraries; every error from
// bad input is reported on stderr with a non-zero exit (1: bad input, 2: bad usage).
#include <CLI/CLI.hpp>
#include <exception>
#include <filesystem>
#include <iostream>

#include "check_commands.hpp"
#include "cost_commands.hpp"
#include "gemm_command.hpp"
#include "import_command.hpp"
#include "inspect_command.hpp"
#include "io/output_file.hpp"
#ifdef QUASAR_HAVE_SYSTEMC
#include <systemc>

#include "export_command.hpp"
#include "run_command.hpp"
#include "sweep_command.hpp"
#endif
#include "numerics/error.hpp"
#include "trace_command.hpp"

#ifndef QUASAR_VERSION
#define QUASAR_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  CLI::App app{"quasar: a cycle-level simulator for accelerators that run quantized LLMs"};
  app.set_version_flag("--version", QUASAR_VERSION);
  app.require_subcommand(0, 1);
  const auto gemm = quasar::app::add_gemm_command(app);
  const auto inspect = quasar::app::add_inspect_command(app);
  const auto trace = quasar::app::add_trace_command(app);
  const auto trace_import = quasar::app::add_trace_import_command(*app.get_subcommand("trace"));
  const auto validate = quasar::app::add_validate_command(app);
  const auto regress = quasar::app::add_regress_command(app);
  const auto cost = quasar::app::add_cost_command(app);
  const auto compare = quasar::app::add_compare_command(app);
#ifdef QUASAR_HAVE_SYSTEMC
  const auto run = quasar::app::add_run_command(app);
  const auto sweep = quasar::app::add_sweep_command(app);
  const auto export_cmd = quasar::app::add_export_command(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help/version or the usage error
    return code == 0 ? 0 : 2;
  }
  auto dispatch = [&]() -> int {
    if (app.got_subcommand("gemm")) return gemm();
    if (app.got_subcommand("inspect")) return inspect();
    if (app.got_subcommand("trace"))
      return trace_import.cmd->parsed() ? trace_import.run() : trace();
    if (app.got_subcommand("validate")) return validate();
    if (app.got_subcommand("regress")) return regress();
    if (app.got_subcommand("cost")) return cost();
    if (app.got_subcommand("compare")) return compare();
#ifdef QUASAR_HAVE_SYSTEMC
    if (app.got_subcommand("run")) return run();
    if (app.got_subcommand("sweep")) return sweep();
    if (app.got_subcommand("export")) return export_cmd();
#endif
    std::cout << app.help();
    return 0;
  };
  try {
    const int rc = dispatch();
    quasar::io::finish_stdout();  // output lost behind a full disk or a closed pipe: not 0
    return rc;
  } catch (const quasar::Error& e) {
    std::cerr << "quasar: error: " << e.what() << "\n";
    return 1;
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder that cannot be made or read (e.g. --dir under /proc): bad input, said as is.
    std::cerr << "quasar: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "quasar: internal error: " << e.what() << "\n";
    return 1;
  }
}

#ifdef QUASAR_HAVE_SYSTEMC
// libsystemc references sc_main (its own main() would call it); quasar has its own main() and
// starts simulations from library code, so this is never the entry point.
int sc_main(int, char**) { return 0; }
#endif
