#include "run_report.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "arch/accelerator.hpp"
#include "mapping/workload.hpp"
#include "numerics/error.hpp"

#ifndef QUASAR_VERSION
#define QUASAR_VERSION "unknown"
#endif

namespace quasar {
namespace {

double util(const arch::LayerStats& l, std::uint64_t pes) {
  return l.cycles ? static_cast<double>(l.macs) /
                        (static_cast<double>(l.cycles) * static_cast<double>(pes))
                  : 0.0;
}

}  // namespace

RunReport run_trace(const arch::ArchSpec& a, const trace::Trace& t, arch::Fidelity mode) {
  const mapping::PlannedTrace p = mapping::plan_trace(a, t);
  if (p.work.empty()) {
    throw Error("design '" + a.name + "' runs none of the GEMM layers of trace '" + t.name +
                "' (its schemes do not match); first: " +
                (p.not_run.empty() ? std::string("no layers")
                                   : p.not_run.front().first + ": " + p.not_run.front().second));
  }
  RunReport r;
  r.arch = a;
  r.trace_name = t.name;
  r.not_run = p.not_run;
  r.stats = arch::simulate(a, p.work, {mode}).at(0);
  return r;
}

void print_run_table(std::ostream& os, const RunReport& r) {
  const arch::RunStats& s = r.stats;
  const double us = static_cast<double>(s.cycles) / r.arch.clock_mhz;
  os << fmt::format("quasar run: trace {} on design {} ({}x{} {}, {} PEs, {} MHz), {} mode\n\n",
                    r.trace_name, r.arch.name, r.arch.array.rows, r.arch.array.cols,
                    arch::dataflow_name(r.arch.array.dataflow), arch::pe_kind_name(r.arch.array.pe),
                    r.arch.clock_mhz, arch::fidelity_name(s.fidelity));
  os << fmt::format("{:<28} {:>9} {:>14} {:>7} {:>12} {:>12} {:>10}\n", "layer", "tiles", "cycles",
                    "util", "stall dram", "stall edge", "DRAM MB");
  for (const arch::LayerStats& l : s.layers) {
    os << fmt::format("{:<28} {:>9} {:>14} {:>6.1f}% {:>12} {:>12} {:>10.2f}\n", l.name, l.tiles,
                      l.cycles, 100.0 * util(l, s.pe_count), l.stall_dram, l.stall_edge,
                      static_cast<double>(l.dram_read_bytes + l.dram_write_bytes) / 1e6);
  }
  os << fmt::format(
      "\ntotal: {} cycles = {:.3f} ms at {} MHz; {:.3f} G MACs; utilization {:.1f}%; DRAM {:.2f} "
      "MB read, {:.2f} MB written\n",
      s.cycles, us / 1000.0, r.arch.clock_mhz,
      static_cast<double>(s.total(&arch::LayerStats::macs)) / 1e9, 100.0 * s.utilization(),
      static_cast<double>(s.total(&arch::LayerStats::dram_read_bytes)) / 1e6,
      static_cast<double>(s.total(&arch::LayerStats::dram_write_bytes)) / 1e6);
  if (!r.not_run.empty()) {
    os << "\nnot simulated (" << r.not_run.size() << " records):\n";
    for (const auto& [name, why] : r.not_run) os << "  " << name << ": " << why << "\n";
  }
}

void print_run_json(std::ostream& os, const RunReport& r) {
  nlohmann::ordered_json j;
  j["quasar_version"] = QUASAR_VERSION;
  j["report_schema"] = 1;
  j["trace"] = r.trace_name;
  j["design"] = r.arch.name;
  j["mode"] = arch::fidelity_name(r.stats.fidelity);
  j["clock_mhz"] = r.arch.clock_mhz;
  j["pes"] = r.stats.pe_count;
  j["cycles"] = r.stats.cycles;
  j["utilization"] = r.stats.utilization();
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const arch::LayerStats& l : r.stats.layers) {
    layers.push_back({{"name", l.name},
                      {"tiles", l.tiles},
                      {"cycles", l.cycles},
                      {"macs", l.macs},
                      {"array_busy_cycles", l.array_busy},
                      {"load_cycles", l.load},
                      {"stream_cycles", l.stream},
                      {"drain_cycles", l.drain},
                      {"stall_dram_cycles", l.stall_dram},
                      {"stall_edge_cycles", l.stall_edge},
                      {"dram_read_bytes", l.dram_read_bytes},
                      {"dram_write_bytes", l.dram_write_bytes}});
  }
  j["layers"] = layers;
  nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
  for (const auto& [name, why] : r.not_run) skipped.push_back({{"name", name}, {"reason", why}});
  j["not_simulated"] = skipped;
  os << j.dump(2) << "\n";
}

void write_run_outputs(const std::string& dir, const RunReport& r) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(dir + ": cannot create the output folder: " + ec.message());
  {
    std::ofstream j(dir + "/report.json", std::ios::trunc);
    print_run_json(j, r);
    if (!j) throw Error(dir + "/report.json: write failed");
  }
  std::ofstream c(dir + "/layers.csv", std::ios::trunc);
  c << "layer,tiles,cycles,macs,load_cycles,stream_cycles,drain_cycles,stall_dram_cycles,stall_"
       "edge_cycles,dram_read_bytes,dram_write_bytes\n";
  for (const arch::LayerStats& l : r.stats.layers) {
    c << l.name << "," << l.tiles << "," << l.cycles << "," << l.macs << "," << l.load << ","
      << l.stream << "," << l.drain << "," << l.stall_dram << "," << l.stall_edge << ","
      << l.dram_read_bytes << "," << l.dram_write_bytes << "\n";
  }
  if (!c) throw Error(dir + "/layers.csv: write failed");
}

}  // namespace quasar
