#include "cost/cost_model.hpp"

#include <cmath>
#include <cstdio>
#include <iterator>

#include "arch/scale_rf.hpp"
#include "cost/node_scaling.hpp"
#include "cost/timing.hpp"
#include "numerics/error.hpp"

namespace quasar::cost {

double SramModel::pj_per_byte(double bank_kib) const {
  return c0_pj + c1_pj_per_sqrt_kib * std::sqrt(bank_kib);
}

const ScaleFactors& Tech::unit_scaling() const {
  const auto it = scaling.find(units_node_nm);
  if (it == scaling.end()) {
    throw Error("technology table '" + literature_name + "' has no scaling factors from " +
                std::to_string(units_node_nm) + " nm (scaling.factors." +
                std::to_string(units_node_nm) + "), needed for the units of '" + units_name + "'");
  }
  return it->second;
}

const std::vector<std::string>& cost_components() {
  static const std::vector<std::string> c = {
      "array",      "dequant",     "intscale",   "floatscale", "block",       "scale_rf",
      "epilogue",
      "vector",     "ifmap_sram",  "weight_sram", "ofmap_sram", "vector_sram", "dram",
      "leakage"};
  return c;
}

std::string intscale_unit_row(std::uint32_t bits,
                              const std::function<bool(const std::string&)>& has) {
  for (std::uint32_t w : {32u, 40u, 48u, 64u}) {
    const std::string name = "intscale_acc_" + std::to_string(w);
    if (w >= bits && has(name)) return name;
  }
  return "";
}

namespace {

// Looks up and scales table entries; every miss names the table and the key.
class Pricer {
 public:
  Pricer(const Tech& t, std::string stream)
      : t_(t), sf_(t.unit_scaling()), stream_(std::move(stream)) {}

  const UnitEntry& unit(const std::string& name) const {
    const auto it = t_.units.find(name);
    if (it == t_.units.end())
      throw Error("technology table '" + t_.units_name + "' has no unit '" + name + "'");
    return it->second;
  }
  double area(const std::string& name) const { return unit(name).area_um2 * sf_.area; }
  // 0 when the tables give no leakage factor for the units' node (the report says so).
  double leakage_w(const std::string& name) const {
    return sf_.has_leakage ? unit(name).leakage_nw * 1e-9 * sf_.leakage : 0.0;
  }
  double energy(const std::string& name) const {
    const UnitEntry& u = unit(name);
    const auto it = u.energy_pj_per_op.find(stream_);
    if (it == u.energy_pj_per_op.end()) {
      throw Error("technology table '" + t_.units_name + "': unit '" + name +
                  "' has no energy per op for operand stream '" + stream_ + "'");
    }
    return it->second * sf_.energy;
  }
  const OpEntry& op(const std::string& name) const {
    const auto it = t_.ops.find(name);
    if (it == t_.ops.end())
      throw Error("technology table '" + t_.literature_name + "' has no op '" + name + "'");
    return it->second;
  }
  const DramEntry& dram(const std::string& standard) const {
    const auto it = t_.dram.find(standard);
    if (it == t_.dram.end()) {
      std::string known;
      for (const auto& [name, entry] : t_.dram) known += (known.empty() ? "" : ", ") + name;
      throw Error("technology table '" + t_.literature_name + "' has no DRAM standard '" +
                  standard + "' (it has: " + known +
                  "; a table of your own can add one, docs/cost-model.md \"DRAM\")");
    }
    return it->second;
  }
  std::string unit_source(const std::string& name) const {
    return t_.units_name + " " + name + ", scaled " + std::to_string(t_.units_node_nm) + " -> " +
           std::to_string(t_.node_nm) + " nm";
  }

 private:
  const Tech& t_;
  const ScaleFactors& sf_;
  std::string stream_;
};

// dint4 PEs are priced as set A's decoder (the dINT paper's) [choice]; set B differs by 7 %.
std::string mac_unit(arch::PeKind pe) {
  return std::string(all_pe_kinds()[static_cast<std::size_t>(pe)].mac_unit);
}

// The synthesized integer-scale accumulator at least as wide as the design's.
std::string intscale_unit(const Tech& t, std::uint32_t bits) {
  const std::string name =
      intscale_unit_row(bits, [&](const std::string& n) { return t.units.count(n) > 0; });
  if (!name.empty()) return name;
  throw Error("technology table '" + t.units_name +
              "' has no intscale_acc unit of >= " + std::to_string(bits) + " bits");
}

// The synthesized register file with at least `entries` 16-bit words: its _read and _write
// rows (the same netlist; energy per read, per write).
std::string scale_rf_unit(const Tech& t, std::uint64_t entries) {
  static_assert(arch::kScaleWordBits == 16, "the synthesized register files have 16-bit words");
  for (std::uint64_t e = 2; e <= 256; e *= 2) {
    const std::string name = "regfile_" + std::to_string(e) + "x16";
    if (e >= entries && t.units.count(name + "_read") && t.units.count(name + "_write"))
      return name;
  }
  throw Error("technology table '" + t.units_name +
              "' has no regfile_Ex16_read/_write unit of >= " + std::to_string(entries) +
              " entries (the group-scale register files)");
}

// [choice] One block-scale accumulator kind per design, from its schemes and block_acc:
// nvfp4_fp32_acc when it runs w4a4-nvfp4 (E4M3 scales: the scale product, F32(I) x it, the fp32
// add), else the mx_fp32_acc (block_acc fp32) or mx_fixed_acc (fixed) row synthesized at the u of
// the design's first MX scheme (the one sweeps and the default run give its linear layers). A
// design that runs NVFP4 and an MX scheme has its MX block steps priced as nvfp4_fp32_acc too,
// and one that runs MX schemes of several u's has them all priced at the first one's row (both
// said in the report).
bool runs_nvfp4(const arch::ArchSpec& a) {
  for (Scheme s : a.schemes) {
    if (traits(s).e4m3_scales) return true;
  }
  return false;
}
// The MX (E8M0) block schemes the design runs, comma-separated ("" when none).
std::string mx_block_schemes(const arch::ArchSpec& a) {
  std::string names;
  for (Scheme s : a.schemes) {
    const SchemeInfo& i = traits(s);
    if (!block_scaled(i) || i.e4m3_scales) continue;
    names += (names.empty() ? "" : ", ") + std::string(i.name);
  }
  return names;
}

// u of an MX scheme's element pair (the scheme traits' x_elem and w_elem): its block sums count
// in 2^-u.
int scheme_unit(Scheme s) {
  const SchemeInfo& i = traits(s);
  return ::quasar::block_unit(i.x_elem, i.w_elem);
}
// The scheme the unsuffixed MX rows (mx_fixed_acc, mx_fp32_acc) were synthesized for: w4a8-mx
// (u = 10). They kept their names when the rows of the other u's (mx_*_acc_u2, _u12) were added.
constexpr Scheme kUnsuffixedMxScheme = Scheme::w4a8_mx;
// The units.list row of an MX block step at u: mx_fixed_acc / mx_fp32_acc at w4a8-mx's u, else
// the same name with _u<u>.
std::string mx_row(BlockAcc acc, int u) {
  const std::string base = acc == BlockAcc::fixed ? "mx_fixed_acc" : "mx_fp32_acc";
  return u == scheme_unit(kUnsuffixedMxScheme) ? base : base + "_u" + std::to_string(u);
}

// The row of the design's block step: nvfp4_fp32_acc for a design running NVFP4, else the MX
// row of its block_acc at its first MX scheme's u (w4a8-mx's without one).
std::string wanted_block_row(const arch::ArchSpec& a) {
  if (runs_nvfp4(a)) return "nvfp4_fp32_acc";
  Scheme first = kUnsuffixedMxScheme;
  for (Scheme s : a.schemes) {
    const SchemeInfo& i = traits(s);
    if (block_scaled(i) && !i.e4m3_scales) {
      first = s;
      break;
    }
  }
  return mx_row(a.edge.block_acc, scheme_unit(first));
}

// The synthesized block-scale accumulator of the design: `want`, the row of its block step, and
// `name`, the row that prices it: want; for an MX row the table lacks, the unsuffixed row of
// w4a8-mx's u (said in the report); "" when the table has none that holds it (the report lists
// the block units as not priced rather than pricing them as another unit).
constexpr std::uint32_t kFixedRowBits = 48, kFixedRowFrac = 24;  // units.list's mx_fixed_acc*
struct BlockRow {
  std::string want, name;
  std::string fallback;  // MX: the unsuffixed row of w4a8-mx's u
  bool nvfp4 = false;
  std::vector<Scheme> mx;  // the MX schemes the design runs, in its order
};
BlockRow block_unit(const arch::ArchSpec& a, const Tech& t) {
  BlockRow r;
  for (Scheme s : a.schemes) {
    const SchemeInfo& i = traits(s);
    if (block_scaled(i) && !i.e4m3_scales) r.mx.push_back(s);
  }
  if (!a.edge.block_units) return r;
  r.nvfp4 = runs_nvfp4(a);
  r.want = wanted_block_row(a);
  if (r.nvfp4) {
    r.name = t.units.count(r.want) ? r.want : "";
    return r;
  }
  const BlockAcc acc = a.edge.block_acc;
  if (acc == BlockAcc::fixed && a.edge.block_acc_bits > kFixedRowBits) return r;
  r.fallback = mx_row(acc, scheme_unit(kUnsuffixedMxScheme));
  r.name = t.units.count(r.want) ? r.want : t.units.count(r.fallback) ? r.fallback : "";
  return r;
}

// What the block units' pricing leaves out or approximates, for the report's not-priced list.
std::vector<std::string> block_unit_notes(const arch::ArchSpec& a, const Tech& t,
                                          const BlockRow& row) {
  std::vector<std::string> notes;
  const arch::EdgeSpec& e = a.edge;
  const std::string n = std::to_string(e.block_units);
  const std::string& unit = row.name;
  const bool fixed = !row.nvfp4 && e.block_acc == BlockAcc::fixed;
  if (unit.empty()) {
    std::string want = row.want + " row";
    if (!row.fallback.empty() && row.fallback != row.want) want += " (nor " + row.fallback + ")";
    if (fixed && e.block_acc_bits > kFixedRowBits) {
      want = row.want + " row of >= " + std::to_string(e.block_acc_bits) + " bits";
    }
    notes.push_back("the " + n + " block-scale accumulators: area, leakage and energy " +
                    "(technology table '" + t.units_name + "' has no " + want + ")");
    return notes;
  }
  const auto u_of = [](Scheme s) {
    return std::string(scheme_name(s)) + " (u = " + std::to_string(scheme_unit(s)) + ")";
  };
  if (unit != row.want) {  // an MX row of another u: the table has none at the design's
    notes.push_back("the " + n + " block-scale accumulators of " +
                    u_of(row.mx.empty() ? kUnsuffixedMxScheme : row.mx.front()) +
                    " are priced as " + unit + ", synthesized for " + u_of(kUnsuffixedMxScheme) +
                    " (technology table '" + t.units_name + "' has no " + row.want + " row)");
  }
  if (!row.nvfp4 && row.mx.size() > 1) {
    std::string others;
    for (std::size_t i = 1; i < row.mx.size(); ++i) {
      if (scheme_unit(row.mx[i]) == scheme_unit(row.mx.front())) continue;
      others += (others.empty() ? "" : ", ") + u_of(row.mx[i]);
    }
    if (!others.empty()) {
      notes.push_back("the block steps of " + others + " are priced as " + unit +
                      ", the row of " + u_of(row.mx.front()) +
                      " (one block unit kind per design, its first MX scheme's; a unit that "
                      "selects u per scheme is not priced)");
    }
  }
  if (fixed && (e.block_acc_bits != kFixedRowBits || e.block_frac_bits != kFixedRowFrac)) {
    notes.push_back("the " + n + " fixed block accumulators of " +
                    std::to_string(e.block_acc_bits) + " bits (" +
                    std::to_string(e.block_frac_bits) + " fraction bits) are priced as " + unit +
                    "'s 48 (24): an upper bound");
  }
  const std::string mx = mx_block_schemes(a);
  if (row.nvfp4 && !mx.empty()) {
    notes.push_back("the MX block steps of " + mx +
                    " are priced as nvfp4_fp32_acc (one block unit kind per design, NVFP4's): "
                    "the E8M0 path (mx_fp32_acc / mx_fixed_acc) is not priced");
  }
  return notes;
}

}  // namespace

std::string pe_mac_row(arch::PeKind pe) { return mac_unit(pe); }
std::string block_acc_row(const arch::ArchSpec& a) { return wanted_block_row(a); }

CostReport price_run(const arch::ArchSpec& a, const arch::RunStats& stats, const Tech& tech,
                     const CostOptions& opt) {
  const Pricer p(tech, opt.stream);
  CostReport r;
  // The tables are at their node and 0.9 V; the design is priced at its own process.
  const NodeFactors node =
      node_factors(tech.node_nm, kPriceVoltage, static_cast<int>(a.process.node_nm),
                   a.process.voltage_v);
  const auto scaled = [&](const char* what, double f) {
    if (node.identity()) return std::string();
    char b[200];
    std::snprintf(b, sizeof b, "; x %.4g (%s, %d nm 0.9 V -> %u nm %g V, cost/node_scaling.hpp)",
                  f, what, tech.node_nm, a.process.node_nm, a.process.voltage_v);
    return std::string(b);
  };
  r.node_nm = static_cast<int>(a.process.node_nm);
  r.voltage_v = a.process.voltage_v;
  r.stream = opt.stream;
  r.tokens = opt.tokens;
  const double pes = static_cast<double>(a.array.rows) * a.array.cols;
  const double hz = a.clock_mhz * 1e6;
  r.seconds = static_cast<double>(stats.cycles) / hz;

  // ---- Area and static power.
  auto add_area = [&](const std::string& comp, const std::string& item, double count, double each,
                      const std::string& source) {
    if (count <= 0) return;
    r.area.push_back({comp, item, count, each, count * each, source});
    r.area_um2 += count * each;
  };
  if (!tech.unit_scaling().has_leakage) {
    r.unpriced.push_back(
        "leakage of the synthesized units (no " + std::to_string(tech.units_node_nm) + " -> " +
        std::to_string(tech.node_nm) + " nm leakage factor in " + tech.literature_name + ")");
  }
  if (!tech.sram.has_bank_overhead) {
    r.unpriced.push_back("SRAM bank periphery beyond the per-KiB density (no sourced figure in " +
                         tech.literature_name + ")");
  }
  if (a.edge.epilogue_units > 0 && !(tech.units.count("fp32_mul") && tech.units.count("fp32_add"))) {
    r.unpriced.push_back("leakage of the epilogue's fp32 units (" + tech.literature_name +
                         "'s ops have energy and area, no leakage)");
  }
  const std::string mac = mac_unit(a.array.pe);
  // A PE kind whose MAC is not synthesized yet (PeKindInfo::mac_synthesized false) is listed as
  // not priced rather than priced as another unit. The synthesized kinds' rows must be there (a
  // table without one is an error naming it).
  const bool mac_row = tech.units.count(mac) > 0 ||
                       all_pe_kinds()[static_cast<std::size_t>(a.array.pe)].mac_synthesized;
  if (mac_row) {
    add_area("array", mac, pes, p.area(mac), p.unit_source(mac));
    r.leakage_w += pes * p.leakage_w(mac);
  } else {
    r.unpriced.push_back("the array's " + std::string(arch::pe_kind_name(a.array.pe)) +
                         " MACs: area, leakage and energy (technology table '" + tech.units_name +
                         "' has no " + mac + " row)");
  }
  // What the array adds to each MAC (weight and activation registers, skew lines), measured on
  // the synthesized 4x4 int8 array: its area per PE minus the int8 MAC's.
  if (tech.units.count("systolic_4x4") && tech.units.count("mac_int8")) {
    const double extra = p.area("systolic_4x4") / 16.0 - p.area("mac_int8");
    const double extra_leak = p.leakage_w("systolic_4x4") / 16.0 - p.leakage_w("mac_int8");
    add_area("array", "PE registers (systolic_4x4 / 16 - mac_int8)", pes, std::max(extra, 0.0),
             p.unit_source("systolic_4x4"));
    r.leakage_w += pes * std::max(extra_leak, 0.0);
  }
  // Double buffering's second bank of registers per PE, measured the same way: the two-bank
  // 4x4 array's area per PE minus the one-bank array's (weights for WS, accumulators for OS).
  if (a.array.double_buffer) {
    const bool os = a.array.dataflow == arch::Dataflow::os;
    const std::string one = os ? "systolic_os_4x4" : "systolic_4x4";
    const std::string two = os ? "systolic_os_db_4x4" : "systolic_db_4x4";
    if (tech.units.count(one) && tech.units.count(two)) {
      const double extra = (p.area(two) - p.area(one)) / 16.0;
      const double extra_leak = (p.leakage_w(two) - p.leakage_w(one)) / 16.0;
      add_area("array", "second register bank (" + two + " - " + one + ") / 16", pes,
               std::max(extra, 0.0), p.unit_source(two));
      r.leakage_w += pes * std::max(extra_leak, 0.0);
    } else {
      r.unpriced.push_back("the double-buffered array's second register bank (technology table '" +
                           tech.units_name + "' has no " + one + " and " + two + ")");
    }
  }
  const arch::EdgeSpec& e = a.edge;
  const std::string is_unit = e.intscale_units ? intscale_unit(tech, e.intscale_acc_bits) : "";
  if (e.intscale_units) {
    add_area("intscale", is_unit, e.intscale_units, p.area(is_unit), p.unit_source(is_unit));
    r.leakage_w += e.intscale_units * p.leakage_w(is_unit);
  }
  if (e.floatscale_units) {
    add_area("floatscale", "floatscale_acc", e.floatscale_units, p.area("floatscale_acc"),
             p.unit_source("floatscale_acc"));
    r.leakage_w += e.floatscale_units * p.leakage_w("floatscale_acc");
  }
  if (e.dequant_units) {
    add_area("dequant", "dequant_dgq", e.dequant_units, p.area("dequant_dgq"),
             p.unit_source("dequant_dgq"));
    r.leakage_w += e.dequant_units * p.leakage_w("dequant_dgq");
  }
  // The block-scale accumulators: nvfp4_fp32_acc (a design running w4a4-nvfp4), else
  // mx_fp32_acc (block_acc fp32) or mx_fixed_acc (block_acc fixed), each synthesized at the u of
  // the design's MX scheme (w4a8-mx's 10: the unsuffixed rows; _u2 w4a4-mxfp4, _u12
  // w8a8-mxint8). The fixed rows are 48 bits with 24 fraction bits: a design's narrower
  // accumulator is priced as its row (an upper bound, said below), a wider one is not priced.
  const BlockRow bk_row = block_unit(a, tech);
  const std::string& bk_unit = bk_row.name;
  if (e.block_units && !bk_unit.empty()) {
    add_area("block", bk_unit, e.block_units, p.area(bk_unit), p.unit_source(bk_unit));
    r.leakage_w += e.block_units * p.leakage_w(bk_unit);
  }
  if (e.block_units) {
    for (const std::string& note : block_unit_notes(a, tech, bk_row)) r.unpriced.push_back(note);
  }
  // Each unit that consumes group scales keeps them in its own register file (arch/scale_rf.hpp),
  // sized for its kind: the widest scheme it runs and the columns it serves.
  struct ScaleFile {
    std::string name;  // regfile_Ex16, "" when this kind holds no scales
    double units = 0, read_pj = 0, write_pj = 0;
    std::string read_source, write_source;
  };
  ScaleFile files[std::size(arch::kScaleUnits)];
  for (arch::ScaleUnit u : arch::kScaleUnits) {
    const std::uint32_t units = arch::scale_units(e, u);
    const std::uint64_t entries = arch::scale_rf_entries(a.schemes, u, units, a.array.cols);
    if (entries == 0) continue;
    ScaleFile& f = files[static_cast<int>(u)];
    f.name = scale_rf_unit(tech, entries);
    f.units = units;
    f.read_pj = p.energy(f.name + "_read");
    f.write_pj = p.energy(f.name + "_write");
    f.read_source = p.unit_source(f.name + "_read");
    f.write_source = p.unit_source(f.name + "_write");
    add_area("scale_rf",
             f.name + " (" + arch::scale_unit_name(u) + ": " + std::to_string(entries) +
                 " words needed)",
             f.units, p.area(f.name + "_read"), f.read_source);
    r.leakage_w += f.units * p.leakage_w(f.name + "_read");
  }
  const ScaleFile& rf_is = files[static_cast<int>(arch::ScaleUnit::intscale)];
  const ScaleFile& rf_fs = files[static_cast<int>(arch::ScaleUnit::floatscale)];
  const ScaleFile& rf_dq = files[static_cast<int>(arch::ScaleUnit::dequant)];
  const ScaleFile& rf_bk = files[static_cast<int>(arch::ScaleUnit::block)];
  // [choice] An epilogue unit = one fp32 multiply + one fp32 add: the scale multiply, and a
  // stand-in for the int->fp32 and fp32->fp16 conversions. A vector lane is the same pair. Both
  // from the synthesized units (rtl/units/fp32_mul.v, fp32_add.v: area, leakage and energy per
  // op from our flow, like every other unit) when the units table has them; else from the
  // literature table (energy and area, no leakage).
  const bool fp32_rows = tech.units.count("fp32_mul") && tech.units.count("fp32_add");
  const OpEntry& fmul_lit = p.op("fp32_mul");
  const OpEntry& fadd_lit = p.op("fp32_add");
  struct Fp32Pair {
    double area_um2, leakage_w, mul_pj, add_pj;
    std::string source;
  };
  const Fp32Pair fp32 =
      fp32_rows ? Fp32Pair{p.area("fp32_mul") + p.area("fp32_add"),
                           p.leakage_w("fp32_mul") + p.leakage_w("fp32_add"),
                           p.energy("fp32_mul"), p.energy("fp32_add"),
                           p.unit_source("fp32_mul") + "; " + p.unit_source("fp32_add")}
                : Fp32Pair{fmul_lit.area_um2 + fadd_lit.area_um2, 0.0, fmul_lit.energy_pj,
                           fadd_lit.energy_pj, tech.literature_name + " fp32_mul, fp32_add"};
  add_area("epilogue", "fp32_mul + fp32_add", e.epilogue_units, fp32.area_um2, fp32.source);
  r.leakage_w += e.epilogue_units * fp32.leakage_w;
  // [choice] A vector lane = one fp32 multiplier + one fp32 adder (literature); an SFU lane = the
  // synthesized exp_q unit (reciprocal, square root and divide are priced as exp_q: the tables
  // have no row for them, said below); the scratchpad as SRAM of its size.
  const arch::VectorSpec& vu = a.vector;
  const bool sfu_row = tech.units.count("exp_q") > 0;
  if (vu.present()) {
    add_area("vector", "lane: fp32_mul + fp32_add", vu.lanes, fp32.area_um2, fp32.source);
    r.leakage_w += vu.lanes * fp32.leakage_w;
    if (sfu_row) {
      add_area("vector", "SFU lane: exp_q", vu.sfu_lanes, p.area("exp_q"), p.unit_source("exp_q"));
      r.leakage_w += vu.sfu_lanes * p.leakage_w("exp_q");
      r.unpriced.push_back("the SFU's reciprocal, square root and divide (priced as one exp_q op "
                           "each: no synthesized unit for them yet)");
    } else {
      r.unpriced.push_back("the vector unit's SFU lanes and ops (no exp_q row in " +
                           tech.units_name + ")");
    }
    if (!fp32_rows) {
      r.unpriced.push_back("leakage of the vector lanes' fp32 units (" + tech.literature_name +
                           "'s ops have energy and area, no leakage)");
    }
    const double kib = vu.buffer_kib;
    add_area("vector_sram", "SRAM KiB", kib, tech.sram.area_um2_per_kib,
             tech.literature_name + " sram");
    r.leakage_w += kib * tech.sram.leakage_nw_per_kib * 1e-9;
  }
  const std::pair<const char*, const arch::BufferSpec*> bufs[] = {
      {"ifmap_sram", &a.buffers.ifmap},
      {"weight_sram", &a.buffers.weight},
      {"ofmap_sram", &a.buffers.ofmap}};
  for (const auto& [name, b] : bufs) {
    const double kib = static_cast<double>(b->size_bytes) / 1024.0;
    add_area(name, "SRAM KiB", kib, tech.sram.area_um2_per_kib, tech.literature_name + " sram");
    if (tech.sram.has_bank_overhead) {
      add_area(name, "bank periphery", b->banks, tech.sram.bank_overhead_um2,
               tech.literature_name + " sram");
    }
    r.leakage_w += kib * tech.sram.leakage_nw_per_kib * 1e-9;
  }
  // Pipeline registers: an edge unit of latency L has L - 1 registers of its result width beyond
  // the synthesized unit's own (cost/timing.hpp edge_pipelines), each bit the library's flop.
  const std::vector<EdgePipeline> pipes = edge_pipelines(a);
  const bool flop_row = tech.flop.area_um2 > 0;
  const std::string flop_source =
      flop_row ? tech.flop.source + ", scaled " + std::to_string(tech.units_node_nm) + " -> " +
                     std::to_string(tech.node_nm) + " nm"
               : "";
  bool pipelined = false;
  for (const EdgePipeline& pp : pipes) {
    const double bits = static_cast<double>(pp.latency_cycles - 1) * pp.register_bits;
    if (bits <= 0) continue;
    pipelined = true;
    if (!flop_row) continue;
    add_area(pp.role,
             "pipeline registers (" + std::to_string(pp.latency_cycles - 1) + " x " +
                 std::to_string(pp.register_bits) + " bits each)",
             pp.units * bits, tech.flop.area_um2 * tech.unit_scaling().area, flop_source);
  }
  // A pipelined array's PE and skew registers (cost/timing.hpp array_pipeline).
  const ArrayPipeline ap = array_pipeline(a);
  if (ap.extra_stages) {
    pipelined = true;
    if (flop_row) {
      const double flop_um2 = tech.flop.area_um2 * tech.unit_scaling().area;
      add_area("array",
               "PE pipeline registers (" + std::to_string(ap.extra_stages) + " x " +
                   std::to_string(a.array.acc_bits) + " bits each)",
               ap.pe_register_bits, flop_um2, flop_source);
      add_area("array",
               "skew registers of the pipelined PEs ((pe_stages - 1) x row, activation bits)",
               ap.skew_register_bits, flop_um2, flop_source);
    }
  }
  if (pipelined) {
    r.unpriced.push_back(flop_row ? "leakage of the pipeline registers (the timing table's "
                                    "flip-flop has no leakage figure)"
                                  : "the pipeline registers (no flip-flop row in the timing "
                                    "table)");
  }

  // The design's node: area and leakage from the tables' node (DRAM is its own chip).
  if (!node.identity()) {
    for (CostLine& l : r.area) {
      l.each *= node.area;
      l.total *= node.area;
      l.source += scaled("area", node.area);
    }
    r.area_um2 *= node.area;
    r.leakage_w *= node.leakage;
  }
  // Everything above is one core's (array, edge units, register files, buffers): a design of
  // several cores has that many of each.
  if (a.cores > 1) {
    for (CostLine& l : r.area) {
      l.count *= a.cores;
      l.total *= a.cores;
    }
    r.area_um2 *= a.cores;
    r.leakage_w *= a.cores;
  }

  // ---- Energy: per layer, by component; and the run's lines by component and action.
  auto bank_kib = [](const arch::BufferSpec& b) {
    return static_cast<double>(b.size_bytes) / 1024.0 / std::max<std::uint32_t>(b.banks, 1);
  };
  const double e_mac = mac_row ? p.energy(mac) : 0.0;
  const double e_is = e.intscale_units ? p.energy(is_unit) : 0.0;
  const double e_fs = e.floatscale_units ? p.energy("floatscale_acc") : 0.0;
  const double e_dq = e.dequant_units ? p.energy("dequant_dgq") : 0.0;
  const double e_bk = bk_unit.empty() ? 0.0 : p.energy(bk_unit);
  const double e_epi = fp32.mul_pj + fp32.add_pj;
  // One op's pipeline-register energy of an edge unit kind: (L - 1) x bits flop cycles.
  auto pipe_pj = [&](const char* role) {
    for (const EdgePipeline& pp : pipes) {
      if (pp.role == role && flop_row) {
        return static_cast<double>(pp.latency_cycles - 1) * pp.register_bits *
               tech.flop.energy_pj_per_cycle * tech.unit_scaling().energy;
      }
    }
    return 0.0;
  };
  // [choice] A lane op is an add, multiply, compare or conversion: priced at the mean of the
  // fp32 add and multiply. The scratchpad sees every byte the vector unit moves twice (written
  // from DRAM or the lanes, read by the lanes or the DMA), in banks of half its size.
  const double e_lane = vu.present() ? (fp32.mul_pj + fp32.add_pj) / 2 : 0.0;
  const double e_sfu = vu.present() && sfu_row ? p.energy("exp_q") : 0.0;
  const double e_vs =
      vu.present() ? tech.sram.pj_per_byte(static_cast<double>(vu.buffer_kib) / 2.0) : 0.0;
  const double e_if = tech.sram.pj_per_byte(bank_kib(a.buffers.ifmap));
  const double e_w = tech.sram.pj_per_byte(bank_kib(a.buffers.weight));
  const double e_of = tech.sram.pj_per_byte(bank_kib(a.buffers.ofmap));
  const DramEntry& dram = p.dram(a.dram.standard);
  const std::string dram_source = tech.literature_name + " dram " + a.dram.standard +
                                  (dram.derivation.empty() ? "" : ": " + dram.derivation);
  struct Action {
    const char* component;
    std::string item;
    double each;
    std::string source;
    double (*count)(const arch::LayerStats&);
    bool priced = true;  // false: the tables have no row; the report lists it as not priced
  };
  using L = arch::LayerStats;
  std::vector<Action> actions = {
      {"array", mac + " op", e_mac, mac_row ? p.unit_source(mac) : "",
       [](const L& l) { return static_cast<double>(l.macs); }, mac_row},
      {"dequant", "dequant_dgq op", e_dq, e.dequant_units ? p.unit_source("dequant_dgq") : "",
       [](const L& l) { return static_cast<double>(l.dequant_ops); }},
      {"intscale", is_unit + " op", e_is, e.intscale_units ? p.unit_source(is_unit) : "",
       [](const L& l) { return static_cast<double>(l.intscale_ops); }},
      {"floatscale", "floatscale_acc op", e_fs,
       e.floatscale_units ? p.unit_source("floatscale_acc") : "",
       [](const L& l) { return static_cast<double>(l.floatscale_ops); }},
      {"block", (bk_unit.empty() ? std::string("block-scale accumulator") : bk_unit) + " op", e_bk,
       bk_unit.empty() ? "" : p.unit_source(bk_unit),
       [](const L& l) { return static_cast<double>(l.block_ops); }, !bk_unit.empty()},
      // The words read and written, priced with the file of the unit kind the layer's scheme
      // uses (a layer runs one scheme, so at most one kind has operations).
      {"scale_rf", rf_is.name + " (intscale) read", rf_is.read_pj, rf_is.read_source,
       [](const L& l) { return l.intscale_ops ? static_cast<double>(l.scale_reads) : 0.0; }},
      {"scale_rf", rf_is.name + " (intscale) write", rf_is.write_pj, rf_is.write_source,
       [](const L& l) { return l.intscale_ops ? static_cast<double>(l.scale_writes) : 0.0; }},
      {"scale_rf", rf_fs.name + " (floatscale) read", rf_fs.read_pj, rf_fs.read_source,
       [](const L& l) { return l.floatscale_ops ? static_cast<double>(l.scale_reads) : 0.0; }},
      {"scale_rf", rf_fs.name + " (floatscale) write", rf_fs.write_pj, rf_fs.write_source,
       [](const L& l) { return l.floatscale_ops ? static_cast<double>(l.scale_writes) : 0.0; }},
      {"scale_rf", rf_dq.name + " (dequant) read", rf_dq.read_pj, rf_dq.read_source,
       [](const L& l) { return l.dequant_ops ? static_cast<double>(l.scale_reads) : 0.0; }},
      {"scale_rf", rf_dq.name + " (dequant) write", rf_dq.write_pj, rf_dq.write_source,
       [](const L& l) { return l.dequant_ops ? static_cast<double>(l.scale_writes) : 0.0; }},
      {"scale_rf", rf_bk.name + " (block) read", rf_bk.read_pj, rf_bk.read_source,
       [](const L& l) { return l.block_ops ? static_cast<double>(l.scale_reads) : 0.0; }},
      {"scale_rf", rf_bk.name + " (block) write", rf_bk.write_pj, rf_bk.write_source,
       [](const L& l) { return l.block_ops ? static_cast<double>(l.scale_writes) : 0.0; }},
      {"epilogue", "fp32_mul + fp32_add", e_epi, fp32.source,
       [](const L& l) { return static_cast<double>(l.epilogue_ops); }},
      {"vector", "lane op (mean of fp32_add, fp32_mul)", e_lane, fp32.source,
       [](const L& l) { return static_cast<double>(l.vector_lane_ops); }},
      {"vector", "SFU op (exp_q)", e_sfu, sfu_row ? p.unit_source("exp_q") : "",
       [](const L& l) { return static_cast<double>(l.vector_sfu_ops); }, sfu_row},
      {"ifmap_sram", "byte read or written", e_if, tech.literature_name + " sram model",
       [](const L& l) { return static_cast<double>(l.ifmap_read_bytes + l.ifmap_write_bytes); }},
      {"weight_sram", "byte read or written", e_w, tech.literature_name + " sram model",
       [](const L& l) { return static_cast<double>(l.weight_read_bytes + l.weight_write_bytes); }},
      {"ofmap_sram", "byte read or written", e_of, tech.literature_name + " sram model",
       [](const L& l) { return static_cast<double>(l.ofmap_read_bytes + l.ofmap_write_bytes); }},
      {"vector_sram", "byte read or written", e_vs, tech.literature_name + " sram model",
       [](const L& l) {
         return l.vector_blocks ? 2.0 * static_cast<double>(l.dram_read_bytes + l.dram_write_bytes)
                                : 0.0;
       }},
      {"dram", "byte read", 8.0 * dram.read_pj_per_bit, dram_source,
       [](const L& l) { return static_cast<double>(l.dram_read_bytes); }},
      {"dram", "byte written", 8.0 * dram.write_pj_per_bit, dram_source,
       [](const L& l) { return static_cast<double>(l.dram_write_bytes); }},
  };
  // Each op clocks its unit's L - 1 pipeline registers once (units of latency 1 have none); a
  // pipelined array's MAC its share of the array's. Each goes after its component's other
  // actions, which must stay adjacent (one per-layer entry per component, below).
  auto add_after_component = [&](Action x) {
    auto at = actions.end();
    for (auto it = actions.begin(); it != actions.end(); ++it)
      if (std::string(it->component) == x.component) at = it + 1;
    actions.insert(at, std::move(x));
  };
  const std::pair<const char*, double (*)(const L&)> pipe_ops[] = {
      {"intscale", [](const L& l) { return static_cast<double>(l.intscale_ops); }},
      {"floatscale", [](const L& l) { return static_cast<double>(l.floatscale_ops); }},
      {"block", [](const L& l) { return static_cast<double>(l.block_ops); }},
      {"epilogue", [](const L& l) { return static_cast<double>(l.epilogue_ops); }}};
  for (const auto& [role, count] : pipe_ops) {
    if (const double pj = pipe_pj(role); pj > 0)
      add_after_component({role, "pipeline registers per op", pj, flop_source, count});
  }
  if (ap.extra_stages && flop_row) {
    add_after_component({"array", "pipeline and skew registers per MAC",
                         ap.bits_per_mac * tech.flop.energy_pj_per_cycle *
                             tech.unit_scaling().energy,
                         flop_source, [](const L& l) { return static_cast<double>(l.macs); }});
  }
  // Dynamic energy at the design's node and supply (the DRAM's is its own chip's).
  if (!node.identity()) {
    for (Action& x : actions) {
      if (std::string(x.component) == "dram") continue;
      x.each *= node.energy;
      if (!x.source.empty()) x.source += scaled("energy", node.energy);
    }
  }
  std::vector<double> run_counts(actions.size(), 0.0);
  for (const arch::LayerStats& l : stats.layers) {
    LayerCost lc;
    lc.name = l.name;
    lc.seconds = static_cast<double>(l.cycles) / hz;
    for (std::size_t i = 0; i < actions.size(); ++i) {
      const double n = actions[i].count(l);
      // (Actions without a table row are listed as not priced instead.)
      if (n > 0 && actions[i].each <= 0 && std::string(actions[i].component) != "dram" &&
          actions[i].priced) {
        throw Error(std::string("design '") + a.name + "' performs " + actions[i].component +
                    " actions but has no " + actions[i].component + " units to price them");
      }
      run_counts[i] += n;
      // A component's actions are adjacent: one per-layer entry per component.
      if (!lc.pj_by_component.empty() && lc.pj_by_component.back().first == actions[i].component) {
        lc.pj_by_component.back().second += n * actions[i].each;
      } else {
        lc.pj_by_component.emplace_back(actions[i].component, n * actions[i].each);
      }
      lc.pj += n * actions[i].each;
    }
    const double leak = r.leakage_w * lc.seconds * 1e12;
    lc.pj_by_component.emplace_back("leakage", leak);
    lc.pj += leak;
    r.energy_pj += lc.pj;
    r.macs += static_cast<double>(l.macs);
    r.layers.push_back(lc);
  }
  for (std::size_t i = 0; i < actions.size(); ++i) {
    if (run_counts[i] <= 0) continue;
    r.energy.push_back({actions[i].component, actions[i].item, run_counts[i], actions[i].each,
                        run_counts[i] * actions[i].each, actions[i].source});
  }
  // Leakage over the whole run (the layers' shares sum to it).
  const double leak_pj = r.leakage_w * r.seconds * 1e12;
  r.energy.push_back({"leakage", "run time (s) x static power (pJ/s)", r.seconds,
                      r.leakage_w * 1e12, leak_pj,
                      "units' Liberty leakage (scaled) + sram leakage per KiB" +
                          scaled("leakage: [choice] power per area held, linear in the supply",
                                 node.leakage)});
  return r;
}

}  // namespace quasar::cost
