// Technology tables the cost model prices action counts with (plain structs; sim/config fills
// them from configs/tech/*.yaml, docs/cost-model.md has every number's source):
//   units       our arithmetic units synthesized to OSU 0.18 um (configs/tech/units-osu018.yaml):
//               area, leakage and switching energy per operation per operand stream;
//   literature  figures at a literature node (configs/tech/literature-45nm.yaml): arithmetic the
//               RTL flow does not synthesize, the SRAM model, DRAM energy per bit, and the
//               factors that bring another node's numbers to this one.
// Every cost is reported at the literature table's node; unit numbers are scaled to it.
#pragma once

#include <map>
#include <string>

namespace quasar::cost {

struct UnitEntry {
  double area_um2 = 0.0;
  double leakage_nw = 0.0;
  std::map<std::string, double> energy_pj_per_op;  // by operand stream ("random", "llm")
  std::string source;
};

struct OpEntry {
  double energy_pj = 0.0;
  double area_um2 = 0.0;
  std::string source;
};

// SRAM buffers: per-byte access energy c0 + c1 * sqrt(bank KiB); area per KiB plus a
// per-bank overhead; leakage per KiB.
struct SramModel {
  double c0_pj = 0.0, c1_pj_per_sqrt_kib = 0.0;
  double area_um2_per_kib = 0.0, bank_overhead_um2 = 0.0, leakage_nw_per_kib = 0.0;
  bool has_bank_overhead = true;  // false: no sourced figure; bank periphery unpriced
  std::string source;
  double pj_per_byte(double bank_kib) const;
};

// DRAM energy of one standard: given per bit, or derived from a datasheet (dram_energy.hpp).
struct DramEntry {
  double read_pj_per_bit = 0.0, write_pj_per_bit = 0.0;
  std::string source;
  std::string derivation;  // how a datasheet entry's figures were computed; empty otherwise
};

struct ScaleFactors {
  double energy = 1.0, area = 1.0, leakage = 1.0;
  bool has_leakage = true;  // false: the table gives no leakage factor (unit leakage unpriced)
};

// The library's flip-flop as one pipeline register bit (the timing table's dff section,
// scripts/sta-units.sh): Liberty area and energy per clock cycle; 0 when no table gives them.
struct FlopEntry {
  double area_um2 = 0.0, energy_pj_per_cycle = 0.0;
  std::string source;
};

struct Tech {
  // Synthesized units.
  std::string units_name;  // e.g. "osu018"
  int units_node_nm = 0;
  std::string units_source;
  std::map<std::string, UnitEntry> units;
  FlopEntry flop;  // of the units' library
  // Literature.
  std::string literature_name;
  int node_nm = 0;  // the node every cost is expressed at
  std::map<std::string, OpEntry> ops;
  SramModel sram;
  std::map<std::string, DramEntry> dram;  // by standard (lpddr5, hbm2e, ...)
  std::map<int, ScaleFactors> scaling;  // from node (nm) -> to node_nm
  std::string scaling_reference;

  // The factors from the units' node to node_nm (throws quasar::Error when the table has none).
  const ScaleFactors& unit_scaling() const;
};

}  // namespace quasar::cost
