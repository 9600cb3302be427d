#include "cost_commands.hpp"

#include <iostream>
#include <memory>

#include "config/tech_config.hpp"
#include "numerics/error.hpp"
#include "report/cost_report.hpp"
#include "report/html_report.hpp"

namespace quasar::app {
namespace {

std::string shipped_tables() {
  std::string s;
  for (const auto& n : config::shipped_tech_names()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

struct TechArgs {
  std::string units = config::kDefaultUnitsTable;
  std::string literature = config::kDefaultLiteratureTable;
  std::string stream = "llm";
};

void add_tech_options(CLI::App* cmd, TechArgs& t) {
  cmd->add_option(
         "--units", t.units,
         "Synthesized-unit table: a YAML file or a shipped name (" + shipped_tables() + ")")
      ->capture_default_str();
  cmd->add_option("--literature", t.literature,
                  "Literature table (ops, SRAM, DRAM, node scaling): a YAML file or a shipped name")
      ->capture_default_str();
  cmd->add_option("--stream", t.stream, "Operand stream whose measured unit energies price the run")
      ->check(CLI::IsMember({"llm", "random"}))
      ->capture_default_str();
}

cost::CostReport price(const RunRecord& r, const cost::Tech& tech, const TechArgs& t) {
  // SCALE-Sim accounting fills in cycles and MACs only: pricing it would leave out SRAM, DRAM
  // and the edge, and compare it as if complete (quasar run writes "cost": null for it).
  if (r.accounting != "native") {
    throw Error(r.file + ": a run with " + r.accounting +
                " accounting counts cycles and MACs only; it cannot be priced (re-run with "
                "accounting: native)");
  }
  cost::CostOptions o;
  o.stream = t.stream;
  o.tokens = r.tokens;
  return cost::price_run(r.arch, r.stats, tech, o);
}

}  // namespace

std::function<int()> add_cost_command(CLI::App& app) {
  struct Args {
    std::string report, out, format = "table";
    TechArgs tech;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "cost", "Price a finished run (report.json of quasar run) with technology tables");
  cmd->add_option("report", a->report, "report.json written by quasar run --out")
      ->required()
      ->check(CLI::ExistingFile);
  add_tech_options(cmd, a->tech);
  cmd->add_option("--format", a->format, "Output format")
      ->check(CLI::IsMember({"table", "json", "md", "html"}))
      ->capture_default_str();
  cmd->add_option("-o,--out", a->out,
                  "Write cost.json, cost.md, energy.csv and report.html to this folder");
  return [a]() {
    const cost::Tech tech = config::load_tech(a->tech.units, a->tech.literature);
    const RunRecord r = read_run_report(a->report);
    const cost::CostReport c = price(r, tech, a->tech);
    if (!a->out.empty()) write_cost_outputs(a->out, r, c, tech);
    if (a->format == "json") {
      std::cout << cost_json(c, tech).dump(2) << "\n";
    } else if (a->format == "md") {
      print_cost_markdown(std::cout, r, c);
    } else if (a->format == "html") {
      write_run_html(std::cout, r, c);
    } else {
      print_cost_table(std::cout, r, c);
    }
    return 0;
  };
}

std::function<int()> add_compare_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> reports;
    std::string format = "md";
    bool allow_different = false;
    TechArgs tech;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Runs side by side (latency, energy, area, TOPS/W, per layer), ratios to the first");
  cmd->add_option("reports", a->reports, "Two or more report.json files of quasar run")
      ->required()
      ->check(CLI::ExistingFile);
  add_tech_options(cmd, a->tech);
  cmd->add_option("--format", a->format, "Output format")
      ->check(CLI::IsMember({"md", "csv", "json", "html"}))
      ->capture_default_str();
  cmd->add_flag("--allow-different-traces", a->allow_different,
                "Compare runs of different workloads (trace, layers or MACs differ)");
  return [a]() {
    const cost::Tech tech = config::load_tech(a->tech.units, a->tech.literature);
    std::vector<RunRecord> runs;
    std::vector<cost::CostReport> costs;
    for (const std::string& f : a->reports) {
      runs.push_back(read_run_report(f));
      costs.push_back(price(runs.back(), tech, a->tech));
    }
    if (a->format == "html") {
      compare_runs_html(std::cout, runs, costs, a->allow_different);
      return 0;
    }
    const CompareFormat f = a->format == "csv"    ? CompareFormat::csv
                            : a->format == "json" ? CompareFormat::json
                                                  : CompareFormat::markdown;
    compare_runs(std::cout, runs, costs, f, a->allow_different);
    return 0;
  };
}

}  // namespace quasar::app
