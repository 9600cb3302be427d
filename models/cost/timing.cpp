#include "cost/timing.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cost/cost_model.hpp"
#include "cost/node_scaling.hpp"
#include "numerics/error.hpp"
#include "numerics/scheme.hpp"

namespace quasar::cost {
namespace {

std::string fmt_ps(double ps) {
  char b[32];
  std::snprintf(b, sizeof b, "%.0f ps", ps);
  return b;
}
std::string fmt_mhz(double mhz) {
  char b[32];
  std::snprintf(b, sizeof b, "%.0f MHz", std::floor(mhz));
  return b;
}
std::string fmt_v(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g V", v);
  return b;
}

// Where a unit is timed: "<row> at 45 nm, 0.9 V: 1,000 ps of logic + 51 ps of flip-flops".
std::string where(const arch::ArchSpec& a, const UnitStages& s) {
  return s.unit + " at " + std::to_string(a.process.node_nm) + " nm, " +
         fmt_v(a.process.voltage_v) + ": " + fmt_ps(s.logic_ps) + " of logic + " +
         fmt_ps(s.overhead_ps) + " of flip-flops";
}

// Whether the array model can pipeline the design's PEs (units::SystolicWsArray's pe_stages).
bool pe_pipelinable(const arch::ArchSpec& a) {
  return a.array.dataflow == arch::Dataflow::ws && a.accounting == arch::Accounting::native;
}

}  // namespace

double reg_to_reg_ps(const TimingTable& t, const std::string& unit) {
  const auto it = t.units.find(unit);
  if (it == t.units.end())
    throw Error("timing table '" + t.source + "' has no unit '" + unit + "'");
  const UnitPaths& p = it->second;
  const double cq = t.clk_to_q_ps, su = t.setup_ps;
  return std::max({p.reg_to_reg, p.in_to_reg > 0 ? p.in_to_reg + cq : 0.0,
                   p.reg_to_out > 0 ? p.reg_to_out + su : 0.0,
                   p.in_to_out > 0 ? p.in_to_out + cq + su : 0.0});
}

UnitStages unit_stages(const TimingTable& t, const std::string& unit, int nm, double v,
                       double clock_mhz) {
  return chain_stages(t, {unit}, nm, v, clock_mhz);
}

UnitStages chain_stages(const TimingTable& t, const std::vector<std::string>& units, int nm,
                        double v, double clock_mhz) {
  const double f = delay_factor(nm, v) / delay_factor(t.node_nm, t.voltage_v);
  const double ff = t.clk_to_q_ps + t.setup_ps;
  UnitStages s;
  double logic = 0;
  for (const std::string& u : units) {
    s.unit += (s.unit.empty() ? "" : " + ") + u;
    logic += std::max(0.0, reg_to_reg_ps(t, u) - ff);
  }
  s.logic_ps = logic * f;
  s.overhead_ps = ff * f;
  s.period_ps = 1e6 / clock_mhz;
  s.fmax_one_stage_mhz = 1e6 / (s.logic_ps + s.overhead_ps);
  const double budget = s.period_ps - s.overhead_ps;
  if (budget > 0) {
    // A hair of tolerance so a clock computed as exactly fmax is met.
    const double n = std::ceil(s.logic_ps / budget - 1e-9);
    s.stages = static_cast<std::uint32_t>(std::clamp(n, 1.0, 1e6));
  }
  return s;
}

std::vector<EdgePipeline> edge_pipelines(const arch::ArchSpec& a) {
  const arch::EdgeSpec& e = a.edge;
  std::vector<EdgePipeline> out;
  if (e.intscale_units)
    out.push_back({"intscale", e.intscale_units, e.intscale_latency_cycles, e.intscale_acc_bits});
  if (e.floatscale_units)
    out.push_back({"floatscale", e.floatscale_units, e.floatscale_latency_cycles, 32});
  if (e.block_units) {
    out.push_back({"block", e.block_units, e.block_latency_cycles,
                   e.block_acc == BlockAcc::fixed ? e.block_acc_bits : 32u});
  }
  if (e.epilogue_units) out.push_back({"epilogue", e.epilogue_units, e.epilogue_latency_cycles, 32});
  return out;
}

ArrayPipeline array_pipeline(const arch::ArchSpec& a) {
  ArrayPipeline p;
  if (a.array.pe_stages <= 1) return p;
  p.extra_stages = a.array.pe_stages - 1;
  const double L1 = p.extra_stages, R = a.array.rows, C = a.array.cols;
  const double act = all_pe_kinds()[static_cast<std::size_t>(a.array.pe)].act_bits;
  p.pe_register_bits = R * C * L1 * a.array.acc_bits;
  p.skew_register_bits = L1 * R * (R - 1) / 2 * act;
  p.bits_per_mac = L1 * a.array.acc_bits + p.skew_register_bits / (R * C);
  return p;
}

DesignTiming design_timing(const arch::ArchSpec& a, const TimingTable& t) {
  DesignTiming d;
  const int nm = static_cast<int>(a.process.node_nm);
  const double v = a.process.voltage_v;
  auto add = [&](const std::string& role, const std::string& row, std::uint32_t latency,
                 std::uint32_t bits) {
    if (row.empty() || !t.units.count(row)) {
      d.not_timed.push_back(role + (row.empty() ? "" : " (" + row + ")"));
      return;
    }
    d.units.push_back({role, unit_stages(t, row, nm, v, a.clock_mhz), latency, bits});
  };
  add("pe", pe_mac_row(a.array.pe), a.array.pe_stages, a.array.acc_bits);
  for (const EdgePipeline& p : edge_pipelines(a)) {
    if (p.role == "epilogue") continue;  // timed below, as a chain of two rows
    const std::string row =
        p.role == "intscale"
            ? intscale_unit_row(a.edge.intscale_acc_bits,
                                [&](const std::string& n) { return t.units.count(n) > 0; })
        : p.role == "floatscale" ? "floatscale_acc"
                                 : block_acc_row(a);
    add(p.role, row, p.latency_cycles, p.register_bits);
  }
  if (a.edge.dequant_units) add("dequant", "dequant_dgq", 1, 0);
  // The epilogue: its scale multiply, then an add (as the cost model prices it: fp32_mul +
  // fp32_add), timed as one chain. The vector unit: a lane's fp32 add or multiply (the slower)
  // and the SFU's exp_q, both within its pipeline fill (vector.latency_cycles). Without the
  // table's rows they are listed as not timed, not guessed.
  const auto has = [&](const char* n) { return t.units.count(n) > 0; };
  if (has("fp32_mul") && has("fp32_add")) {
    d.units.push_back({"epilogue", chain_stages(t, {"fp32_mul", "fp32_add"}, nm, v, a.clock_mhz),
                       a.edge.epilogue_latency_cycles, 32});
  } else {
    d.not_timed.push_back("epilogue");
  }
  if (a.vector.lanes) {
    if (has("fp32_add") && has("fp32_mul") && has("exp_q")) {
      const UnitStages add_s = unit_stages(t, "fp32_add", nm, v, a.clock_mhz);
      const UnitStages mul_s = unit_stages(t, "fp32_mul", nm, v, a.clock_mhz);
      d.units.push_back(
          {"vector_lane", add_s.logic_ps >= mul_s.logic_ps ? add_s : mul_s, a.vector.latency_cycles, 0});
      d.units.push_back(
          {"vector_sfu", unit_stages(t, "exp_q", nm, v, a.clock_mhz), a.vector.latency_cycles, 0});
    } else {
      d.not_timed.push_back("vector unit");
    }
  }
  return d;
}

std::string timing_problem(const arch::ArchSpec& a, const DesignTiming& d) {
  for (const DesignUnitTiming& u : d.units) {
    const UnitStages& s = u.need;
    const std::string at = "at " + fmt_mhz(a.clock_mhz);
    if (s.stages == 0) {
      return "clock_mhz: " + at + " the period (" + fmt_ps(s.period_ps) +
             ") is shorter than the flip-flops' own delay: " + where(a, s);
    }
    // Dequantizers have no latency in the array model, nor PEs the array cannot pipeline.
    if (u.role == "pe" && pe_pipelinable(a)) {
      if (u.latency_cycles >= s.stages) continue;
      return "array.pe_stages: " + std::to_string(u.latency_cycles) + " is fewer than the " +
             std::to_string(s.stages) + " stages " + at + " of the PE's multiply-accumulate (" +
             where(a, s) + "); leave the key out to derive it, or lower clock_mhz";
    }
    if (u.role == "vector_lane" || u.role == "vector_sfu") {
      if (u.latency_cycles >= s.stages) continue;
      return "vector.latency_cycles: " + std::to_string(u.latency_cycles) +
             " cycles of pipeline fill is fewer than the " + std::to_string(s.stages) +
             " stages " + at + " of the vector unit's " + where(a, s) +
             " (leave the key out to derive it, or lower clock_mhz)";
    }
    const bool one_cycle = u.role == "pe" || u.role == "dequant";
    if (one_cycle && s.stages > 1) {
      return "clock_mhz: " + at + " the " + (u.role == "pe" ? "PE's multiply-accumulate" : "dequantizer") +
             " (" + where(a, s) + ") needs " + std::to_string(s.stages) +
             " pipeline stages, and the array model runs it in one cycle" +
             (u.role == "pe" ? std::string(" (only a weight-stationary array under native "
                                           "accounting pipelines its PEs)")
                             : std::string()) +
             ": lower clock_mhz to " +
             fmt_mhz(s.fmax_one_stage_mhz) + " or less, or raise process.voltage_v";
    }
    if (!one_cycle && u.latency_cycles < s.stages) {
      return "edge." + u.role + "_latency_cycles: " + std::to_string(u.latency_cycles) +
             " cycles is fewer than the " + std::to_string(s.stages) + " stages " + at +
             " of " + where(a, s) + " (leave the key out to derive it, or lower clock_mhz)";
    }
  }
  return "";
}

void derive_latencies(arch::ArchSpec& a, const TimingTable& t) {
  for (const DesignUnitTiming& u : design_timing(a, t).units) {
    if (u.need.stages == 0) continue;
    if (u.role == "pe" && pe_pipelinable(a)) a.array.pe_stages = u.need.stages;
    if (u.role == "intscale") a.edge.intscale_latency_cycles = u.need.stages;
    if (u.role == "epilogue") a.edge.epilogue_latency_cycles = u.need.stages;
    // [choice] The fill covers the rest of a pass too (scratchpad reads and writes): the
    // design's (default 8 cycles), raised to the deepest unit's stages when they are more.
    if (u.role == "vector_lane" || u.role == "vector_sfu")
      a.vector.latency_cycles = std::max(a.vector.latency_cycles, u.need.stages);
    if (u.role == "floatscale") a.edge.floatscale_latency_cycles = u.need.stages;
    if (u.role == "block") a.edge.block_latency_cycles = u.need.stages;
  }
}

}  // namespace quasar::cost
