#include "report/cost_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "io/output_file.hpp"
#include "io/output_set.hpp"
#include "report/html_report.hpp"
#include "numerics/error.hpp"
#include "report/text_format.hpp"

namespace quasar {
namespace {

using text::csv_field;
using text::joules;

// Energy of one component over the run (the priced lines summed).
std::map<std::string, double> by_component(const cost::CostReport& c) {
  std::map<std::string, double> m;
  for (const cost::CostLine& l : c.energy) m[l.component] += l.total;
  return m;
}

std::map<std::string, double> area_by_component(const cost::CostReport& c) {
  std::map<std::string, double> m;
  for (const cost::CostLine& l : c.area) m[l.component] += l.total;
  return m;
}

}  // namespace

std::uint64_t trace_tokens(const std::string& phase, std::uint64_t batch, std::uint64_t seq) {
  if (phase == "prefill") return batch * seq;
  if (phase == "decode") return batch;
  return 0;
}

nlohmann::ordered_json cost_json(const cost::CostReport& c, const cost::Tech& t) {
  nlohmann::ordered_json j;
  j["node_nm"] = c.node_nm;
  j["voltage_v"] = c.voltage_v;
  j["stream"] = c.stream;
  j["tables"] = {{"units", t.units_source},
                 {"literature", t.literature_name},
                 {"scaling", t.scaling_reference}};
  j["area_um2"] = c.area_um2;
  nlohmann::ordered_json area = nlohmann::ordered_json::array();
  for (const cost::CostLine& l : c.area) {
    area.push_back({{"component", l.component},
                    {"item", l.item},
                    {"count", l.count},
                    {"um2_each", l.each},
                    {"um2", l.total},
                    {"source", l.source}});
  }
  j["area"] = area;
  j["energy_pj"] = c.energy_pj;
  nlohmann::ordered_json energy = nlohmann::ordered_json::array();
  for (const cost::CostLine& l : c.energy) {
    energy.push_back({{"component", l.component},
                      {"item", l.item},
                      {"count", l.count},
                      {"pj_each", l.each},
                      {"pj", l.total},
                      {"source", l.source}});
  }
  j["energy"] = energy;
  j["leakage_w"] = c.leakage_w;
  j["seconds"] = c.seconds;
  j["avg_power_w"] = c.avg_power_w();
  j["tops"] = c.tops();
  j["tops_per_w"] = c.tops_per_w();
  j["tops_per_mm2"] = c.tops_per_mm2();
  j["tokens"] = c.tokens;
  j["pj_per_token"] = c.pj_per_token();
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const cost::LayerCost& l : c.layers) {
    nlohmann::ordered_json comp;
    for (const auto& [name, pj] : l.pj_by_component) comp[name] = pj;
    layers.push_back({{"name", l.name}, {"pj", l.pj}, {"seconds", l.seconds}, {"pj_by", comp}});
  }
  j["layers"] = layers;
  j["unpriced"] = c.unpriced;
  return j;
}

cost::CostReport price_record(const RunRecord& r, const cost::Tech& tech, const std::string& stream) {
  // SCALE-Sim accounting fills in cycles and MACs only: pricing it would leave out SRAM, DRAM
  // and the edge, and compare it as if complete (quasar run writes "cost": null for it).
  if (r.accounting != "native") {
    throw Error(r.file + ": a run with " + r.accounting +
                " accounting counts cycles and MACs only; it cannot be priced (re-run with "
                "accounting: native)");
  }
  cost::CostOptions o;
  o.stream = stream;
  o.tokens = r.tokens;
  return cost::price_run(r.arch, r.stats, tech, o);
}

void print_cost_summary(std::ostream& os, const cost::CostReport& c) {
  const auto area = area_by_component(c);
  const auto en = by_component(c);
  os << fmt::format("area: {:.3f} mm2 at {} nm, {:g} V (", c.area_um2 * 1e-6, c.node_nm,
                    c.voltage_v);
  bool first = true;
  for (const std::string& comp : cost::cost_components()) {
    const auto it = area.find(comp);
    if (it == area.end()) continue;
    os << (first ? "" : ", ") << comp << " " << fmt::format("{:.3f}", it->second * 1e-6);
    first = false;
  }
  os << ")\n";
  os << "energy: " << joules(c.energy_pj) << " (";
  first = true;
  for (const std::string& comp : cost::cost_components()) {
    const auto it = en.find(comp);
    if (it == en.end() || c.energy_pj <= 0) continue;
    os << (first ? "" : ", ") << comp << " "
       << fmt::format("{:.1f}%", 100.0 * it->second / c.energy_pj);
    first = false;
  }
  os << "); ";
  if (c.tokens) os << joules(c.pj_per_token()) << " per token; ";
  os << fmt::format("{:.3g} W average; {:.3g} TOPS/W; {:.3g} TOPS/mm2 ({} operand stream)\n",
                    c.avg_power_w(), c.tops_per_w(), c.tops_per_mm2(), c.stream);
  for (const std::string& u : c.unpriced) os << "not priced: " << u << "\n";
}

void print_cost_table(std::ostream& os, const RunRecord& r, const cost::CostReport& c) {
  os << fmt::format("quasar cost: {} (design {}, trace {}), at {} nm, {:g} V, {} operand stream\n\n",
                    r.file, r.design, r.trace, c.node_nm, c.voltage_v, c.stream);
  os << fmt::format("{:<12} {:<44} {:>14} {:>12} {:>12}\n", "area", "item", "count", "um2 each",
                    "mm2");
  for (const cost::CostLine& l : c.area) {
    os << fmt::format("{:<12} {:<44} {:>14.6g} {:>12.6g} {:>12.4f}\n", l.component, l.item, l.count,
                      l.each, l.total * 1e-6);
  }
  os << fmt::format("{:<12} {:<44} {:>14} {:>12} {:>12.4f}\n\n", "total", "", "", "",
                    c.area_um2 * 1e-6);
  os << fmt::format("{:<12} {:<44} {:>14} {:>12} {:>12}\n", "energy", "action", "count", "pJ each",
                    "share");
  for (const cost::CostLine& l : c.energy) {
    os << fmt::format("{:<12} {:<44} {:>14.6g} {:>12.6g} {:>11.1f}%\n", l.component, l.item,
                      l.count, l.each, c.energy_pj > 0 ? 100.0 * l.total / c.energy_pj : 0.0);
  }
  os << fmt::format("{:<12} {:<44} {:>14} {:>12} {:>12}\n\n", "total", joules(c.energy_pj), "", "",
                    "");
  print_cost_summary(os, c);
}

void print_cost_markdown(std::ostream& os, const RunRecord& r, const cost::CostReport& c) {
  os << "# Cost of " << r.design << " on " << r.trace << "\n\n";
  os << fmt::format("At {} nm, {:g} V, {} operand stream; run report `{}` ({} mode, {} accounting).\n\n",
                    c.node_nm, c.voltage_v, c.stream, r.file, r.mode, r.accounting);
  os << "| metric | value |\n|---|---|\n";
  os << fmt::format("| latency | {:.6g} ms ({} cycles at {} MHz) |\n", c.seconds * 1e3,
                    r.stats.cycles, r.arch.clock_mhz);
  os << fmt::format("| energy | {} |\n", joules(c.energy_pj));
  if (c.tokens) os << fmt::format("| energy per token | {} |\n", joules(c.pj_per_token()));
  os << fmt::format("| average power | {:.4g} W |\n", c.avg_power_w());
  os << fmt::format("| area | {:.4f} mm2 |\n", c.area_um2 * 1e-6);
  os << fmt::format("| TOPS/W | {:.4g} |\n| TOPS/mm2 | {:.4g} |\n\n", c.tops_per_w(),
                    c.tops_per_mm2());
  for (const std::string& u : c.unpriced) os << "Not priced: " << u << ".\n\n";
  os << "## Area\n\n| component | item | count | um2 each | mm2 | source "
        "|\n|---|---|---|---|---|---|\n";
  for (const cost::CostLine& l : c.area) {
    os << fmt::format("| {} | {} | {:.6g} | {:.6g} | {:.4f} | {} |\n", l.component, l.item, l.count,
                      l.each, l.total * 1e-6, l.source);
  }
  os << "\n## Energy\n\n| component | action | count | pJ each | total | source "
        "|\n|---|---|---|---|---|---|\n";
  for (const cost::CostLine& l : c.energy) {
    os << fmt::format("| {} | {} | {:.6g} | {:.6g} | {} | {} |\n", l.component, l.item, l.count,
                      l.each, joules(l.total), l.source);
  }
  os << "\n## Energy per layer\n\n| layer | time (us) | energy |";
  for (const std::string& comp : cost::cost_components()) os << " " << comp << " |";
  os << "\n|---|---|---|";
  for (std::size_t i = 0; i < cost::cost_components().size(); ++i) os << "---|";
  os << "\n";
  for (const cost::LayerCost& l : c.layers) {
    os << fmt::format("| {} | {:.6g} | {} |", l.name, l.seconds * 1e6, joules(l.pj));
    for (const auto& [name, pj] : l.pj_by_component) os << " " << joules(pj) << " |";
    os << "\n";
  }
}

void write_cost_outputs(const std::string& dir, const RunRecord& r, const cost::CostReport& c,
                        const cost::Tech& t) {
  io::OutputSet out(dir, {"cost.json", "cost.md", "energy.csv", "report.html"});
  io::write_file(out.path("cost.json"), cost_json(c, t).dump(2) + "\n");
  io::write_file_with(out.path("cost.md"), [&](std::ostream& m) { print_cost_markdown(m, r, c); });
  io::write_file_with(out.path("energy.csv"), [&](std::ostream& e) {
    e.precision(text::kCsvDigits);
    e << "layer,seconds,pj";
    for (const std::string& comp : cost::cost_components()) e << "," << comp << "_pj";
    e << "\n";
    for (const cost::LayerCost& l : c.layers) {
      e << csv_field(l.name) << "," << l.seconds << "," << l.pj;
      for (const auto& [name, pj] : l.pj_by_component) e << "," << pj;
      e << "\n";
    }
  });
  write_run_html_file(out.path("report.html"), r, c);
  out.publish();
}

// "" when every run has the first run's layers (names and MACs, in order), else why not.
std::string layer_mismatch(const RunRecord& a, const RunRecord& b) {
  std::string why;
  if (b.stats.layers.size() != a.stats.layers.size()) {
    why = std::to_string(b.stats.layers.size()) + " simulated layers vs " +
          std::to_string(a.stats.layers.size());
  } else {
    for (std::size_t i = 0; i < a.stats.layers.size() && why.empty(); ++i) {
      const arch::LayerStats &x = a.stats.layers[i], &y = b.stats.layers[i];
      if (x.name != y.name || x.macs != y.macs)
        why = "layer " + std::to_string(i) + " is '" + y.name + "' (" + std::to_string(y.macs) +
              " MACs) vs '" + x.name + "' (" + std::to_string(x.macs) + " MACs)";
    }
  }
  return why;
}

bool same_layers(const std::vector<RunRecord>& runs) {
  for (const RunRecord& b : runs)
    if (!layer_mismatch(runs.front(), b).empty()) return false;
  return true;
}

std::vector<std::string> not_simulated_notes(const std::vector<RunRecord>& runs) {
  std::vector<std::string> out;
  for (const RunRecord& r : runs) {
    if (r.not_simulated.empty()) continue;
    std::string s = r.design + " (" + r.file + "): " + std::to_string(r.not_simulated.size()) +
                    " records not simulated:";
    for (std::size_t i = 0; i < r.not_simulated.size(); ++i)
      s += (i ? ", " : " ") + r.not_simulated[i].first + " (" + r.not_simulated[i].second + ")";
    out.push_back(s);
  }
  return out;
}

void require_same_workload(const std::vector<RunRecord>& runs) {
  if (runs.size() < 2) throw Error("compare needs at least two run reports");
  const RunRecord& a = runs.front();
  for (const RunRecord& b : runs) {
    const std::string why =
        b.trace != a.trace ? "trace '" + b.trace + "' vs '" + a.trace + "'" : layer_mismatch(a, b);
    if (!why.empty()) {
      throw Error(b.file + " and " + a.file + " are not runs of the same workload: " + why +
                  " (--allow-different-traces compares them anyway)");
    }
  }
}

CompareRow compare_row(const RunRecord& r, const cost::CostReport& c) {
  CompareRow row;
  row.design = r.design;
  row.file = r.file;
  row.ms = c.seconds * 1e3;
  row.tok_s = c.tokens && c.seconds > 0 ? static_cast<double>(c.tokens) / c.seconds : 0;
  row.uj = c.energy_pj * 1e-6;
  row.uj_tok = c.pj_per_token() * 1e-6;
  row.mm2 = c.area_um2 * 1e-6;
  row.tops_w = c.tops_per_w();
  row.tops_mm2 = c.tops_per_mm2();
  return row;
}

void compare_runs(std::ostream& os, const std::vector<RunRecord>& runs,
                  const std::vector<cost::CostReport>& costs, CompareFormat f,
                  bool allow_different_traces) {
  if (runs.size() < 2) throw Error("compare needs at least two run reports");
  if (!allow_different_traces) require_same_workload(runs);
  using Row = CompareRow;
  std::vector<Row> rows;
  for (std::size_t i = 0; i < runs.size(); ++i) rows.push_back(compare_row(runs[i], costs[i]));
  const Row& base = rows.front();
  const auto ratio = ratio_to;
  if (f == CompareFormat::json) {
    nlohmann::ordered_json j = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      nlohmann::ordered_json layers = nlohmann::ordered_json::array();
      for (std::size_t l = 0; l < runs[i].stats.layers.size(); ++l) {
        layers.push_back({{"name", runs[i].stats.layers[l].name},
                          {"cycles", runs[i].stats.layers[l].cycles},
                          {"pj", costs[i].layers[l].pj}});
      }
      j.push_back({{"design", r.design},
                   {"report", r.file},
                   {"latency_ms", r.ms},
                   {"tokens_per_s", r.tok_s},
                   {"energy_uj", r.uj},
                   {"energy_per_token_uj", r.uj_tok},
                   {"area_mm2", r.mm2},
                   {"tops_per_w", r.tops_w},
                   {"tops_per_mm2", r.tops_mm2},
                   {"latency_ratio", ratio(r.ms, base.ms)},
                   {"energy_ratio", ratio(r.uj, base.uj)},
                   {"area_ratio", ratio(r.mm2, base.mm2)},
                   {"layers", layers}});
    }
    os << j.dump(2) << "\n";
    return;
  }
  if (f == CompareFormat::csv) {
    const auto digits = os.precision(text::kCsvDigits);
    os << "design,report,latency_ms,latency_ratio,tokens_per_s,energy_uj,energy_ratio,"
          "energy_per_token_uj,area_mm2,area_ratio,tops_per_w,tops_per_mm2\n";
    for (const Row& r : rows) {
      os << csv_field(r.design) << "," << csv_field(r.file) << "," << r.ms << ","
         << ratio(r.ms, base.ms) << "," << r.tok_s << "," << r.uj << "," << ratio(r.uj, base.uj)
         << "," << r.uj_tok << "," << r.mm2 << "," << ratio(r.mm2, base.mm2) << "," << r.tops_w
         << "," << r.tops_mm2 << "\n";
    }
    os.precision(digits);
    return;
  }
  os << fmt::format("Compared with {} ({}), at {} nm, {} operand stream.\n\n", base.design,
                    base.file, costs.front().node_nm, costs.front().stream);
  os << "| design | latency (ms) | x | tokens/s | energy (uJ) | x | uJ/token | area (mm2) | x | "
        "TOPS/W | TOPS/mm2 |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const Row& r : rows) {
    os << fmt::format(
        "| {} | {:.4g} | {:.3f} | {:.4g} | {:.4g} | {:.3f} | {:.4g} | {:.4f} | {:.3f} | {:.4g} | "
        "{:.4g} |\n",
        r.design, r.ms, ratio(r.ms, base.ms), r.tok_s, r.uj, ratio(r.uj, base.uj), r.uj_tok, r.mm2,
        ratio(r.mm2, base.mm2), r.tops_w, r.tops_mm2);
  }
  if (const auto notes = not_simulated_notes(runs); !notes.empty()) {
    os << "\nNot in these numbers:\n\n";
    for (const std::string& n : notes) os << "- " << n << "\n";
  }
  if (!same_layers(runs)) {
    // Rows matched by position would put one run's layer under another's name.
    os << "\nPer layer: not shown, the runs do not have the same layers.\n";
    return;
  }
  os << "\nPer layer: cycles and energy, ratio to " << base.design << "\n\n| layer |";
  for (const Row& r : rows) os << " " << r.design << " cycles | " << r.design << " energy |";
  os << "\n|---|";
  for (std::size_t i = 0; i < rows.size(); ++i) os << "---|---|";
  os << "\n";
  const std::size_t n = runs.front().stats.layers.size();
  for (std::size_t l = 0; l < n; ++l) {
    os << "| " << runs.front().stats.layers[l].name << " |";
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (l >= runs[i].stats.layers.size()) {
        os << " - | - |";
        continue;
      }
      const double cyc = static_cast<double>(runs[i].stats.layers[l].cycles);
      const double b = static_cast<double>(runs.front().stats.layers[l].cycles);
      os << fmt::format(" {} ({:.3f}x) | {} ({:.3f}x) |", runs[i].stats.layers[l].cycles,
                        ratio(cyc, b), joules(costs[i].layers[l].pj),
                        ratio(costs[i].layers[l].pj, costs.front().layers[l].pj));
    }
    os << "\n";
  }
}

}  // namespace quasar
