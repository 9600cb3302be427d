// Clock limits from static timing (issue 18): each synthesized unit's register-to-register delay
// (configs/tech/timing-osu018.yaml, OpenSTA on the unit's netlist), scaled to the design's node
// and supply by the Stillmaker & Baas delay factor (node_scaling.hpp), gives the pipeline stages
// the unit needs at the design's clock. A design's edge units get those stages as their latency
// (unless the design sets a latency of at least that many cycles); a weight-stationary array's
// PEs get them as array.pe_stages (a pipelined multiply-add, units::SystolicWsArray), while an
// output-stationary array's (or SCALE-Sim's) must finish in one cycle, or the design is refused.
// The loader (sim/config) applies this; the cost model prices the inserted registers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "arch/arch_spec.hpp"

namespace quasar::cost {

// One unit of the table: its worst path of each kind, in ps at the table's node and supply
// (absent kinds are 0), and whether it has a clock port.
struct UnitPaths {
  double reg_to_reg = 0, in_to_reg = 0, reg_to_out = 0, in_to_out = 0;
  bool registered = false;
};

struct TimingTable {
  std::string source;       // file or shipped name, for messages
  std::string technology;   // e.g. osu018
  int node_nm = 180;        // the library's node and nominal supply (Liberty nom_voltage)
  double voltage_v = 1.8;
  double clk_to_q_ps = 0, setup_ps = 0;  // the library's flip-flop
  double dff_area_um2 = 0;               // 0: not in the table
  double dff_energy_pj = 0;              // per bit per clock cycle; 0: not in the table
  std::map<std::string, UnitPaths> units;
};

// The register-to-register delay of a unit placed between pipeline registers: each path kind
// completed with the flip-flop delays it lacks (an input arrives clk_to_q after the edge; an
// output is captured setup before the next). Throws quasar::Error naming the table when the
// unit is not in it.
double reg_to_reg_ps(const TimingTable& t, const std::string& unit);

// What a unit needs at a design's node, supply and clock.
struct UnitStages {
  std::string unit;
  double logic_ps = 0;     // its logic delay at the design's node and supply (flip-flops apart)
  double overhead_ps = 0;  // clk_to_q + setup there
  double period_ps = 0;
  std::uint32_t stages = 0;  // ceil(logic / (period - overhead)); 0: no stage count can meet it
  double fmax_one_stage_mhz = 0;  // the fastest clock with the unit in one stage
};
// [choice] Stages are balanced ideally (retiming cuts the logic into equal parts), so n stages
// need period >= logic / n + overhead.
UnitStages unit_stages(const TimingTable& t, const std::string& unit, int nm, double v,
                       double clock_mhz);
// Units in series between one pair of pipeline registers (the epilogue's multiply, then add):
// their logic delays add; unit names the chain ("fp32_mul + fp32_add").
UnitStages chain_stages(const TimingTable& t, const std::vector<std::string>& units, int nm,
                        double v, double clock_mhz);

// The edge units whose latency is a pipeline: their role, how many, their latency, and the bits
// one inserted pipeline register holds ([choice] the unit's result width: the accumulator;
// integer-scale: its bits, float-scale, fp32 block and the epilogue: 32, fixed block: its bits;
// a cut inside a multiplier can hold more, docs/cost-model.md). A latency of L cycles is L - 1 registers beyond
// the synthesized unit's own output register. Only kinds the design has (units > 0).
struct EdgePipeline {
  std::string role;  // "intscale", "floatscale", "block", "epilogue"
  std::uint32_t units = 0, latency_cycles = 1, register_bits = 0;
};
std::vector<EdgePipeline> edge_pipelines(const arch::ArchSpec& a);

// A pipelined array's registers beyond the one-stage array's (array.pe_stages = L > 1): each PE
// L - 1 partial-sum registers of acc_bits ([choice] the cut is on the partial-sum path), and row
// r's skew line (L - 1) r more activation registers. Per MAC, the bits one operation clocks:
// its PE's L - 1 partial-sum registers and its share of the skew lines (a token passes row r's
// (L - 1) r registers once per tile, for the COLS MACs of that row). Zero when L = 1.
struct ArrayPipeline {
  std::uint32_t extra_stages = 0;  // L - 1
  double pe_register_bits = 0;     // whole array: rows x cols x (L - 1) x acc_bits
  double skew_register_bits = 0;   // whole array: (L - 1) x rows (rows - 1) / 2 x act_bits
  double bits_per_mac = 0;
};
ArrayPipeline array_pipeline(const arch::ArchSpec& a);

// A unit of a design that timing applies to: its role, the table row it is timed by, the
// stages it needs and the latency the design gives it (PEs: 1 cycle, fixed).
struct DesignUnitTiming {
  std::string role;  // "pe", "intscale", "floatscale", "block", "dequant", "epilogue",
                     // "vector_lane", "vector_sfu"
  UnitStages need;
  std::uint32_t latency_cycles = 1;  // PEs: array.pe_stages; vector_*: vector.latency_cycles
  std::uint32_t register_bits = 0;  // the bits one inserted pipeline register holds ([choice])
};
struct DesignTiming {
  std::vector<DesignUnitTiming> units;
  std::vector<std::string> not_timed;  // units the design has that the table has no row for
};
// The design's timed units at its node, supply and clock, with the latencies the spec holds,
// each timed by the row the cost model prices it with (the PE kind's MAC, the integer-scale
// width, the block step's row); units without a row in the table are listed in not_timed.
DesignTiming design_timing(const arch::ArchSpec& a, const TimingTable& t);

// "" when the design meets its clock: the PEs within array.pe_stages (one stage unless the array
// is weight-stationary under native accounting), every edge unit within its latency. Else the
// first problem, naming the key to change (clock_mhz, process.voltage_v, array.pe_stages or the
// latency).
std::string timing_problem(const arch::ArchSpec& a, const DesignTiming& d);

// Sets each edge unit's latency, and a pipelinable array's pe_stages, to the stages it needs (the
// loader's `timing: derived` for the keys a design file does not set). Units with no table row
// keep theirs.
void derive_latencies(arch::ArchSpec& a, const TimingTable& t);

}  // namespace quasar::cost
