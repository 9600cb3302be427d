#include "cost_commands.hpp"

#include <iostream>
#include <memory>

#include "config/tech_config.hpp"
#include "cost/node_scaling.hpp"
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
  return price_record(r, tech, t.stream);
}

// `quasar cost --set`: the keys that change how a run is priced and not what it simulated (a
// key such as array.rows would need a new run: quasar run --set).
void apply_pricing_sets(RunRecord& r, const std::vector<std::string>& sets) {
  std::string node, volt;
  for (const std::string& kv : sets) {
    const std::size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
      throw Error("--set '" + kv + "': expected KEY.PATH=VALUE, e.g. --set process.node_nm=16");
    const std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "process.node_nm") {
      node = value;
    } else if (key == "process.voltage_v") {
      volt = value;
    } else if (key == "dram.standard") {
      r.arch.dram.standard = value;
    } else {
      throw Error("--set '" + kv + "': quasar cost re-prices what the run simulated and takes "
                  "process.node_nm, process.voltage_v and dram.standard; other keys change the "
                  "simulation (quasar run --set " + kv + ")");
    }
  }
  const auto number = [](const std::string& key, const std::string& v) {
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(v, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != v.size()) throw Error("--set " + key + "=" + v + ": not a number");
    return x;
  };
  if (!node.empty()) {
    const double nm = number("process.node_nm", node);
    cost::node_fit(static_cast<int>(nm));
    if (nm != static_cast<double>(static_cast<int>(nm)))
      throw Error("--set process.node_nm=" + node + ": not a whole number of nm");
    r.arch.process.node_nm = static_cast<std::uint32_t>(nm);
    r.arch.process.voltage_v = cost::node_fit(static_cast<int>(nm)).v_nominal;
    if (static_cast<int>(nm) == cost::kPriceNodeNm) r.arch.process.voltage_v = cost::kPriceVoltage;
  }
  if (!volt.empty()) r.arch.process.voltage_v = number("process.voltage_v", volt);
  if (const std::string p = cost::voltage_problem(static_cast<int>(r.arch.process.node_nm),
                                                  r.arch.process.voltage_v);
      !p.empty())
    throw Error("--set process.voltage_v: " + p);
}

}  // namespace

std::function<int()> add_cost_command(CLI::App& app) {
  struct Args {
    std::string report, out, format = "table";
    std::vector<std::string> sets;
    TechArgs tech;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "cost", "Price a finished run (report.json of quasar run) with technology tables");
  cmd->add_option("--set", a->sets,
                  "Price at another process or DRAM: process.node_nm=N, process.voltage_v=V, "
                  "dram.standard=S (repeatable)");
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
    RunRecord r = read_run_report(a->report);
    apply_pricing_sets(r, a->sets);
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
