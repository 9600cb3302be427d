// The cost model: a finished run's action counts and traffic (arch::RunStats, the same numbers
// report.json holds) times the technology tables (cost::Tech) = area and energy. Counting stays
// in the simulator; pricing is here, so a report can be re-priced under other tables without
// simulating again (`quasar cost`). Plain C++; docs/cost-model.md has the model and its limits.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"
#include "cost/tech.hpp"

namespace quasar::cost {

struct CostOptions {
  std::string stream = "llm";  // which measured operand stream prices the units: llm | random
  std::uint64_t tokens = 0;    // tokens the trace processes (0: no energy per token)
};

// One priced line: `count` things (units, or actions) of `each` (um2, or pJ) = `total`.
struct CostLine {
  std::string component;  // array, intscale, floatscale, dequant, epilogue, *_sram, dram, leakage
  std::string item;       // the unit or action priced (mac_w4a8, sram read byte, ...)
  double count = 0.0;
  double each = 0.0;
  double total = 0.0;
  std::string source;  // which table entry, and the scaling applied
};

struct LayerCost {
  std::string name;
  std::vector<std::pair<std::string, double>> pj_by_component;  // in component order
  double pj = 0.0;
  double seconds = 0.0;
};

struct CostReport {
  int node_nm = 0;         // the design's process (ArchSpec::process)
  double voltage_v = 0.0;
  std::string stream;
  std::vector<CostLine> area;  // um2
  double area_um2 = 0.0;
  std::vector<CostLine> energy;  // pJ over the whole run, by component and action
  std::vector<LayerCost> layers;
  double energy_pj = 0.0;  // dynamic + leakage
  double leakage_w = 0.0;  // static power of the design
  double seconds = 0.0;    // the run's simulated time
  double macs = 0.0;
  std::uint64_t tokens = 0;
  std::vector<std::string> unpriced;  // what the tables could not price (said in every report)
  double avg_power_w() const { return seconds > 0 ? energy_pj * 1e-12 / seconds : 0.0; }
  double tops_per_w() const { return energy_pj > 0 ? 2.0 * macs / energy_pj : 0.0; }  // ops/pJ
  double tops() const { return seconds > 0 ? 2.0 * macs / seconds / 1e12 : 0.0; }
  double tops_per_mm2() const { return area_um2 > 0 ? tops() / (area_um2 * 1e-6) : 0.0; }
  double pj_per_token() const { return tokens ? energy_pj / static_cast<double>(tokens) : 0.0; }
};

// The technology-table rows a design's units are priced and timed by: its PE kind's MAC, the
// narrowest integer-scale accumulator of at least `bits` that `has` ("" when none), the
// block-scale accumulator its schemes and block_acc call for.
std::string pe_mac_row(arch::PeKind pe);
std::string intscale_unit_row(std::uint32_t bits,
                              const std::function<bool(const std::string&)>& has);
std::string block_acc_row(const arch::ArchSpec& a);

// The component names in report order.
const std::vector<std::string>& cost_components();

// Prices `stats` (a run of design `a`) with `tech`. Throws quasar::Error naming the missing
// table entry (a unit, op, DRAM standard or scaling node) when the tables cannot price it.
CostReport price_run(const arch::ArchSpec& a, const arch::RunStats& stats, const Tech& tech,
                     const CostOptions& opt = {});

}  // namespace quasar::cost
