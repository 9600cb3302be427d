#include "tech_config.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include "io/input_file.hpp"
#include "config/yaml_value.hpp"
#include "cost/dram_energy.hpp"
#include "embedded_tech.hpp"
#include "numerics/error.hpp"

namespace quasar::config {
namespace {

// Process nodes of the synthesized-unit libraries quasar knows.
int node_of_technology(const Value& v) {
  const std::string t = v.as_choice({"osu018"});
  (void)t;
  return 180;
}

double positive(const Value& v, bool allow_zero = false) {
  const double d = v.as_double();
  if (!std::isfinite(d) || d < 0 || (!allow_zero && d == 0))
    v.fail(allow_zero ? "must be a finite number >= 0" : "must be a finite number > 0");
  return d;
}

std::string source_of(const Value& v) {
  const std::string s = v.at("source").as_string();
  if (s.empty()) v.at("source").fail("every number needs a source");
  return s;
}

std::string text_of(const std::string& path_or_name, std::string& source) {
  if (path_or_name.find('/') == std::string::npos &&
      path_or_name.find(".yaml") == std::string::npos) {
    for (const EmbeddedTech& e : kEmbeddedTech) {
      if (path_or_name == e.name) {
        source = std::string("configs/tech/") + e.name + ".yaml";
        return e.yaml;
      }
    }
    std::string known;
    for (const std::string& n : shipped_tech_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("technology table '" + path_or_name +
                "' is neither a YAML file nor a shipped table (" + known +
                "); a file is named by a path with a '/' or ending in .yaml");
  }
  source = path_or_name;
  return io::read_text_file(path_or_name, "technology table");
}

// A DRAM standard: one figure for reads and writes, one each, or a datasheet's IDD table that
// cost::dram_energy turns into both (docs/cost-model.md, "DRAM").
cost::DramEntry dram_entry(const Value& d) {
  cost::DramEntry e;
  e.source = source_of(d);
  if (d.has("pj_per_bit")) {
    d.require_keys_in({"pj_per_bit", "source"});
    e.read_pj_per_bit = e.write_pj_per_bit = positive(d.at("pj_per_bit"));
    return e;
  }
  if (d.has("read_pj_per_bit") || d.has("write_pj_per_bit")) {
    d.require_keys_in({"read_pj_per_bit", "write_pj_per_bit", "source"});
    e.read_pj_per_bit = positive(d.at("read_pj_per_bit"));
    e.write_pj_per_bit = positive(d.at("write_pj_per_bit"));
    return e;
  }
  if (!d.has("datasheet"))
    d.fail("give pj_per_bit, read_pj_per_bit + write_pj_per_bit, or a datasheet IDD table");
  d.require_keys_in({"datasheet", "source"});
  const Value ds = d.at("datasheet");
  ds.require_keys_in(
      {"device", "data_rate_mtps", "width_bits", "page_bytes", "trc_ns", "tras_ns", "rails", "io"});
  cost::DramDatasheet sheet;
  sheet.device = ds.at("device").as_string();
  sheet.data_rate_mtps = positive(ds.at("data_rate_mtps"));
  sheet.width_bits = static_cast<unsigned>(ds.at("width_bits").as_uint(1, 1024));
  sheet.page_bytes = static_cast<unsigned>(ds.at("page_bytes").as_uint(1, 1u << 20));
  sheet.trc_ns = positive(ds.at("trc_ns"));
  sheet.tras_ns = positive(ds.at("tras_ns"));
  const Value rails = ds.at("rails");
  if (!rails.is_map() || rails.keys().empty())
    rails.fail("expected a mapping of supply rails, e.g. VDD2H: {volts: ..., idd0_ma: ...}");
  for (const std::string& name : rails.keys()) {
    const Value r = rails.at(name);
    r.require_keys_in({"volts", "idd0_ma", "idd2n_ma", "idd3n_ma", "idd4r_ma", "idd4w_ma"});
    sheet.rails.push_back({name, positive(r.at("volts")), positive(r.at("idd0_ma"), true),
                           positive(r.at("idd2n_ma"), true), positive(r.at("idd3n_ma"), true),
                           positive(r.at("idd4r_ma"), true), positive(r.at("idd4w_ma"), true)});
  }
  if (auto io = ds.find("io")) {
    io->require_keys_in({"pj_per_bit", "source"});
    sheet.io_pj_per_bit = positive(io->at("pj_per_bit"), true);
    e.source += "; I/O: " + source_of(*io);
    sheet.has_io = true;
  }
  const cost::DramEnergy en = cost::dram_energy(sheet, ds.where());
  e.read_pj_per_bit = en.read_pj_per_bit();
  e.write_pj_per_bit = en.write_pj_per_bit();
  e.derivation = sheet.device + ", " + en.derivation(sheet.has_io);
  return e;
}

}  // namespace

void parse_units_table(const std::string& text, const std::string& source, cost::Tech& t) {
  const Value root = Value::load_string(text, source);
  if (!root.is_map()) root.fail("a units table is a mapping (scripts/gen-tech-units.sh)");
  t.units_name = root.at("technology").as_string();
  t.units_node_nm = node_of_technology(root.at("technology"));
  t.units_source = source;
  const Value units = root.at("units");
  if (!units.is_map()) units.fail("expected a mapping of unit names");
  for (const std::string& name : units.keys()) {
    const Value u = units.at(name);
    cost::UnitEntry e;
    e.area_um2 = positive(u.at("area_um2"));
    e.leakage_nw = positive(u.at("leakage_nw"), true);
    if (auto en = u.find("energy_pj_per_op")) {
      for (const std::string& stream : en->keys())
        e.energy_pj_per_op[stream] = positive(en->at(stream));
    }
    e.source = u.at("source").as_string();
    t.units[name] = e;
  }
}

void parse_literature_table(const std::string& text, const std::string& source, cost::Tech& t) {
  const Value root = Value::load_string(text, source);
  if (!root.is_map()) root.fail("a literature table is a mapping (docs/cost-model.md)");
  root.require_keys_in(
      {"quasar_tech", "name", "node_nm", "description", "ops", "sram", "dram", "scaling"});
  if (root.at("quasar_tech").as_int(0, 1000) != 1)
    root.at("quasar_tech").fail("this quasar reads technology table version 1");
  t.literature_name = root.at("name").as_string();
  t.node_nm = static_cast<int>(root.at("node_nm").as_int(1, 1000));

  const Value ops = root.at("ops");
  for (const std::string& name : ops.keys()) {
    const Value o = ops.at(name);
    o.require_keys_in({"energy_pj", "area_um2", "source"});
    t.ops[name] = {positive(o.at("energy_pj")), positive(o.at("area_um2")), source_of(o)};
  }

  const Value sram = root.at("sram");
  sram.require_keys_in(
      {"energy_pj_per_byte", "area_um2_per_kib", "bank_overhead_um2", "leakage_nw_per_kib"});
  const Value epb = sram.at("energy_pj_per_byte");
  epb.require_keys_in({"c0_pj", "c1_pj_per_sqrt_kib", "points", "source"});
  t.sram.c0_pj = positive(epb.at("c0_pj"), true);
  t.sram.c1_pj_per_sqrt_kib = positive(epb.at("c1_pj_per_sqrt_kib"), true);
  if (!(t.sram.pj_per_byte(1.0) > 0)) epb.fail("the fitted SRAM energy must be > 0 at 1 KiB");
  t.sram.source = source_of(epb);
  auto leaf = [](const Value& parent, const char* key, bool zero_ok) {
    const Value v = parent.at(key);
    v.require_keys_in({"value", "source"});
    source_of(v);
    return positive(v.at("value"), zero_ok);
  };
  t.sram.area_um2_per_kib = leaf(sram, "area_um2_per_kib", false);
  // Optional: no sourced figure may exist; the report then says the periphery is unpriced.
  t.sram.has_bank_overhead = sram.has("bank_overhead_um2");
  if (t.sram.has_bank_overhead) t.sram.bank_overhead_um2 = leaf(sram, "bank_overhead_um2", true);
  t.sram.leakage_nw_per_kib = leaf(sram, "leakage_nw_per_kib", true);

  const Value dram = root.at("dram");
  for (const std::string& std_name : dram.keys()) t.dram[std_name] = dram_entry(dram.at(std_name));

  const Value sc = root.at("scaling");
  sc.require_keys_in({"reference", "factors"});
  t.scaling_reference = sc.at("reference").as_string();
  const Value f = sc.at("factors");
  for (const std::string& node : f.keys()) {
    const Value v = f.at(node);
    v.require_keys_in({"energy", "area", "leakage", "source"});  // leakage optional
    source_of(v);
    int nm = 0;
    try {
      nm = std::stoi(node);
    } catch (const std::exception&) {
      v.fail("scaling factors are keyed by node in nm, e.g. 180");
    }
    cost::ScaleFactors sf;
    sf.energy = positive(v.at("energy"));
    sf.area = positive(v.at("area"));
    sf.has_leakage = v.has("leakage");
    if (sf.has_leakage) sf.leakage = positive(v.at("leakage"));
    t.scaling[nm] = sf;
  }
}

cost::Tech load_tech(const std::string& units, const std::string& literature) {
  cost::Tech t;
  std::string src;
  const std::string u = text_of(units, src);
  parse_units_table(u, src, t);
  const std::string l = text_of(literature, src);
  parse_literature_table(l, src, t);
  t.unit_scaling();  // the tables must connect: fail now, naming the missing node
  // The pipeline registers' flop: from the shipped timing table of the same library.
  const cost::TimingTable timing = load_timing_table();
  if (timing.technology == t.units_name && timing.dff_area_um2 > 0) {
    t.flop.area_um2 = timing.dff_area_um2;
    t.flop.energy_pj_per_cycle = timing.dff_energy_pj;
    t.flop.source = timing.source + " dff";
  }
  return t;
}

std::string tech_table_text(const std::string& path_or_name) {
  std::string source;
  return text_of(path_or_name, source);
}

cost::TimingTable parse_timing_table(const std::string& yaml_text, const std::string& source) {
  const Value root = Value::load_string(yaml_text, source);
  cost::TimingTable t;
  t.source = source;
  t.technology = root.at("technology").as_string();
  // The library's node and nominal supply (osu018: 0.18 um, Liberty nom_voltage 1.8 V).
  t.node_nm = node_of_technology(root.at("technology"));
  t.voltage_v = 1.8;
  const Value dff = root.at("dff");
  t.clk_to_q_ps = positive(dff.at("clk_to_q_ps"));
  t.setup_ps = positive(dff.at("setup_ps"), true);
  if (dff.has("area_um2")) t.dff_area_um2 = positive(dff.at("area_um2"));
  if (dff.has("energy_pj_per_bit_cycle"))
    t.dff_energy_pj = positive(dff.at("energy_pj_per_bit_cycle"));
  // The table is generated (scripts/sta-units.sh) and its schema checked by
  // tests/rtl/test_timing_units.cpp: only the fields the model uses are read here.
  const Value units = root.at("units");
  for (const std::string& name : units.keys()) {
    const Value u = units.at(name);
    cost::UnitPaths p;
    p.registered = u.at("registered").as_bool();
    const Value paths = u.at("paths_ps");
    paths.require_keys_in({"reg_to_reg", "in_to_reg", "reg_to_out", "in_to_out"});
    auto path = [&](const char* k, double& out) {
      if (paths.has(k)) out = positive(paths.at(k), true);
    };
    path("reg_to_reg", p.reg_to_reg);
    path("in_to_reg", p.in_to_reg);
    path("reg_to_out", p.reg_to_out);
    path("in_to_out", p.in_to_out);
    t.units[name] = p;
  }
  return t;
}

cost::TimingTable load_timing_table(const std::string& path_or_name) {
  std::string src;
  const std::string text = text_of(path_or_name, src);
  return parse_timing_table(text, src);
}

std::vector<std::string> shipped_tech_names() {
  std::vector<std::string> names;
  // The units' static timing (timing-*.yaml, scripts/sta-units.sh) is no pricing table: it is
  // not offered to --units / --literature.
  for (const EmbeddedTech& e : kEmbeddedTech)
    if (std::string(e.name).rfind("timing-", 0) != 0) names.emplace_back(e.name);
  return names;
}

}  // namespace quasar::config
