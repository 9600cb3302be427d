// Does the cost model price a run exactly as docs/cost-model.md says (counts x table entries,
// scaled from the units' node), and do the technology-table readers reject what they must?
// The tables here are test fixtures with round numbers, not technology data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "config/tech_config.hpp"
#include "cost/cost_model.hpp"
#include "cost/dram_energy.hpp"
#include "cost/node_scaling.hpp"
#include "numerics/error.hpp"

namespace quasar::cost {
namespace {

const char* kUnits = R"(technology: osu018
units:
  mac_int8: {area_um2: 100, leakage_nw: 10, energy_pj_per_op: {random: 4.0, llm: 2.0}, source: "fixture"}
  intscale_acc_32: {area_um2: 1000, leakage_nw: 50, energy_pj_per_op: {llm: 8.0}, source: "fixture"}
  intscale_acc_48: {area_um2: 1200, leakage_nw: 60, energy_pj_per_op: {llm: 9.0}, source: "fixture"}
  systolic_4x4: {area_um2: 2400, leakage_nw: 320, source: "fixture"}
  dequant_dgq: {area_um2: 300, leakage_nw: 30, energy_pj_per_op: {llm: 0.5}, source: "fixture"}
  regfile_2x16_read: {area_um2: 200, leakage_nw: 20, energy_pj_per_op: {random: 1.0, llm: 1.0}, source: "fixture"}
  regfile_2x16_write: {area_um2: 200, leakage_nw: 20, energy_pj_per_op: {random: 3.0, llm: 3.0}, source: "fixture"}
  regfile_8x16_read: {area_um2: 800, leakage_nw: 80, energy_pj_per_op: {random: 2.0, llm: 2.0}, source: "fixture"}
  regfile_8x16_write: {area_um2: 800, leakage_nw: 80, energy_pj_per_op: {random: 5.0, llm: 5.0}, source: "fixture"}
  exp_q: {area_um2: 400, leakage_nw: 40, energy_pj_per_op: {random: 6.0, llm: 6.0}, source: "fixture"}
)";

const char* kLiterature = R"(quasar_tech: 1
name: fixture-45
node_nm: 45
ops:
  fp32_mul: {energy_pj: 3.0, area_um2: 30, source: "fixture"}
  fp32_add: {energy_pj: 1.0, area_um2: 10, source: "fixture"}
sram:
  energy_pj_per_byte:
    c0_pj: 0.5
    c1_pj_per_sqrt_kib: 0.25
    points: []
    source: "fixture"
  area_um2_per_kib: {value: 1000, source: "fixture"}
  bank_overhead_um2: {value: 100, source: "fixture"}
  leakage_nw_per_kib: {value: 2, source: "fixture"}
dram:
  lpddr5: {pj_per_bit: 5.0, source: "fixture"}
scaling:
  reference: "fixture"
  factors:
    180: {energy: 0.5, area: 0.25, leakage: 0.1, source: "fixture"}
)";

Tech fixture() {
  Tech t;
  config::parse_units_table(kUnits, "units.yaml", t);
  config::parse_literature_table(kLiterature, "lit.yaml", t);
  return t;
}

arch::ArchSpec small_design() {
  arch::ArchSpec a;
  a.name = "tiny";
  a.schemes = {Scheme::w4a8_is};  // its integer-scale units hold 2-word scale files
  a.clock_mhz = 1000;
  a.array.rows = a.array.cols = 2;
  a.array.pe = arch::PeKind::int8;
  a.edge.intscale_units = 2;  // one per column
  a.edge.intscale_acc_bits = 40;  // priced as the 48-bit unit, the narrowest that holds it
  a.edge.epilogue_units = 1;
  a.edge.epilogue_latency_cycles = 1;  // no pipeline registers (PricesPipelineRegistersByHand)
  a.buffers.ifmap = {4096, 4, 64, true};  // 4 KiB in 4 banks of 1 KiB
  a.buffers.weight = {1024, 1, 64, true};
  a.buffers.ofmap = {1024, 1, 64, true};
  a.dram.standard = "lpddr5";
  return a;
}

// A run of one layer "g" lasting `cycles` (1 GHz designs: ns); tests set its counters.
arch::RunStats one_layer_run(std::uint64_t cycles) {
  arch::RunStats s;
  s.cycles = cycles;
  arch::LayerStats l;
  l.name = "g";
  l.cycles = cycles;
  s.layers.push_back(l);
  return s;
}

// Whether the report lists `what` among what it could not price.
bool said(const CostReport& r, const std::string& what) {
  return std::any_of(r.unpriced.begin(), r.unpriced.end(),
                     [&](const std::string& u) { return u.find(what) != std::string::npos; });
}

// The first line of a component that is not its scale register file's (empty when none).
CostLine line(const std::vector<CostLine>& v, const std::string& comp) {
  const auto it = std::find_if(v.begin(), v.end(), [&](const CostLine& l) {
    return l.component == comp && l.item.find("regfile") == std::string::npos;
  });
  return it == v.end() ? CostLine{} : *it;
}

TEST(CostModel, PricesARunByHand) {
  const Tech t = fixture();
  arch::RunStats s = one_layer_run(1000);  // 1 us at 1 GHz
  arch::LayerStats& l = s.layers[0];
  l.macs = 10;
  l.intscale_ops = 2;
  l.scale_reads = 2;
  l.epilogue_ops = 3;
  l.ifmap_read_bytes = 4;
  l.ifmap_write_bytes = 4;
  l.weight_read_bytes = 1;
  l.ofmap_write_bytes = 2;
  l.dram_read_bytes = 6;
  CostOptions o;
  o.tokens = 5;
  const CostReport r = price_run(small_design(), s, t, o);

  // Area: 4 PEs x (100 + (2400/16 - 100)) x 0.25, 2 x intscale_acc_48 1200 x 0.25, their scale
  // files 2 x regfile_2x16 200 x 0.25, epilogue 40, buffers 6 KiB x 1000 + 6 banks x 100.
  EXPECT_DOUBLE_EQ(r.area_um2, 4 * 150 * 0.25 + 2 * 1200 * 0.25 + 2 * 200 * 0.25 + 40 + 6000 + 600);
  // Leakage: 4 x (10 + (320/16 - 10)) x 0.1 nW + 2 x (60 + 20) x 0.1 nW + 6 KiB x 2 nW.
  EXPECT_NEAR(r.leakage_w, (4 * 20 * 0.1 + 16 + 12) * 1e-9, 1e-18);
  // Dynamic: MACs 10 x 2 x 0.5; intscale 2 x 9 x 0.5 and its 2 scale reads 2 x 1 x 0.5;
  // epilogue 3 x (3 + 1); ifmap 8 bytes at
  // 0.5 + 0.25 sqrt(1 KiB bank); weight 1 byte and ofmap 2 bytes at the same (1 KiB banks);
  // DRAM 6 bytes x 8 bits x 5 pJ; leakage over 1 us.
  const double sram = 0.5 + 0.25 * 1.0;
  const double dynamic =
      10 * 1.0 + 2 * 4.5 + 2 * 0.5 + 3 * 4.0 + 8 * sram + 1 * sram + 2 * sram + 240.0;
  const double leak_pj = r.leakage_w * 1e-6 * 1e12;
  EXPECT_NEAR(r.energy_pj, dynamic + leak_pj, 1e-9);
  ASSERT_EQ(r.layers.size(), 1u);
  EXPECT_NEAR(r.layers[0].pj, r.energy_pj, 1e-9);
  EXPECT_NEAR(r.pj_per_token(), r.energy_pj / 5, 1e-9);
  EXPECT_NEAR(r.tops_per_w(), 20.0 / r.energy_pj, 1e-12);
  EXPECT_EQ(r.node_nm, 45);
}

// Pipeline registers by hand (issue 18): an integer-scale unit of latency 3 has 2 registers of
// its 40 bits beyond its own; each bit is the flop's area, and each op clocks all 80 once.
// Latency 1 has none; without a flop row the report says they are not priced.
TEST(CostModel, PricesPipelineRegistersByHand) {
  Tech t = fixture();
  t.flop = {2.0, 0.01, "flop fixture"};
  arch::ArchSpec a = small_design();
  arch::RunStats s = one_layer_run(1000);
  s.layers[0].intscale_ops = 7;
  const CostReport one = price_run(a, s, t);
  a.edge.intscale_latency_cycles = 3;
  const CostReport three = price_run(a, s, t);
  // 2 units x 2 registers x 40 bits x 2 um2 x 0.25 (180 -> 45 nm).
  EXPECT_NEAR(three.area_um2 - one.area_um2, 2 * 2 * 40 * 2.0 * 0.25, 1e-9);
  // 7 ops x 80 bit-cycles x 0.01 pJ x 0.5, plus nothing else (same leakage, same time).
  EXPECT_NEAR(three.energy_pj - one.energy_pj, 7 * 80 * 0.01 * 0.5, 1e-9);
  EXPECT_FALSE(said(one, "pipeline registers"));
  EXPECT_TRUE(said(three, "leakage of the pipeline registers"));
  // At another node the registers scale with everything else on chip (they were once added
  // after the node's factors, priced at the tables' node).
  arch::ArchSpec a7 = a;
  a7.process = {7, 0.7};
  arch::ArchSpec one7 = a7;
  one7.edge.intscale_latency_cycles = 1;
  const NodeFactors f = node_factors(45, 0.9, 7, a7.process.voltage_v);
  EXPECT_NEAR(price_run(a7, s, t).area_um2 - price_run(one7, s, t).area_um2,
              2 * 2 * 40 * 2.0 * 0.25 * f.area, 1e-9);
  EXPECT_NEAR(price_run(a7, s, t).energy_pj - price_run(one7, s, t).energy_pj,
              7 * 80 * 0.01 * 0.5 * f.energy, 1e-9);
  // The epilogue's too: latency 3 is 2 registers of 32 bits, clocked by each of its 5 ops.
  arch::ArchSpec ep = a;
  ep.edge.intscale_latency_cycles = 1;
  s.layers[0].epilogue_ops = 5;
  const CostReport e1 = price_run(ep, s, t);
  ep.edge.epilogue_latency_cycles = 3;
  const CostReport e3 = price_run(ep, s, t);
  EXPECT_NEAR(e3.area_um2 - e1.area_um2, 2 * 32 * 2.0 * 0.25, 1e-9);
  EXPECT_NEAR(e3.energy_pj - e1.energy_pj, 5 * 64 * 0.01 * 0.5, 1e-9);
  t.flop = {};
  const CostReport none = price_run(a, s, t);
  EXPECT_DOUBLE_EQ(none.area_um2, one.area_um2);
  EXPECT_TRUE(said(none, "the pipeline registers (no flip-flop row"));
}

// A pipelined array by hand (array.pe_stages = 3 on the 2 x 2 int8 array, acc_bits 32): each
// PE 2 x 32 partial-sum register bits, row 1's skew 2 x 1 more activations of 8 bits (row 0
// has none); each MAC clocks its PE's 64 bits and its share of the skew, 16 / 4 = 4 bits.
TEST(CostModel, PricesAPipelinedArrayByHand) {
  Tech t = fixture();
  t.flop = {2.0, 0.01, "flop fixture"};
  arch::ArchSpec a = small_design();
  arch::RunStats s = one_layer_run(1000);
  s.layers[0].macs = 10;
  const CostReport one = price_run(a, s, t);
  a.array.pe_stages = 3;
  const CostReport three = price_run(a, s, t);
  EXPECT_NEAR(three.area_um2 - one.area_um2, (4 * 2 * 32 + 2 * 1 * 8) * 2.0 * 0.25, 1e-9);
  EXPECT_NEAR(three.energy_pj - one.energy_pj, 10 * (64 + 4) * 0.01 * 0.5, 1e-9);
  EXPECT_TRUE(said(three, "leakage of the pipeline registers"));
  EXPECT_FALSE(said(one, "pipeline registers"));
}

// The vector unit by hand: 4 lanes (fp32_mul + fp32_add each), 2 SFU lanes (exp_q), a 2 KiB
// scratchpad; lane ops at the mean of the fp32 add and multiply, SFU ops at exp_q's energy,
// and the scratchpad sees each byte the unit moves twice (1 KiB banks). A design without one
// prices none of it; a table without exp_q says what it could not price.
TEST(CostModel, PricesTheVectorUnitByHand) {
  const Tech t = fixture();
  arch::ArchSpec a = small_design();
  const double base_area = price_run(a, one_layer_run(1000), t).area_um2;
  a.vector.lanes = 4;
  a.vector.sfu_lanes = 2;
  a.vector.buffer_kib = 2;
  arch::RunStats s = one_layer_run(1000);
  arch::LayerStats& l = s.layers[0];
  l.vector_lane_ops = 100;
  l.vector_sfu_ops = 10;
  l.vector_blocks = 1;
  l.dram_read_bytes = 3;
  const CostReport r = price_run(a, s, t);
  EXPECT_DOUBLE_EQ(r.area_um2, base_area + 4 * (30 + 10) + 2 * 400 * 0.25 + 2 * 1000);
  const double sram = 0.5 + 0.25 * 1.0;
  double vector_pj = 0, vsram_pj = 0;
  for (const CostLine& c : r.energy) {
    if (c.component == "vector") vector_pj += c.total;
    if (c.component == "vector_sram") vsram_pj += c.total;
  }
  EXPECT_DOUBLE_EQ(vector_pj, 100 * (3.0 + 1.0) / 2 + 10 * 6.0 * 0.5);
  EXPECT_DOUBLE_EQ(vsram_pj, 2 * 3 * sram);
  bool said = false;
  for (const std::string& u : r.unpriced) said = said || u.find("reciprocal, square root") == 0 ||
                                                 u.find("the SFU's reciprocal") == 0;
  EXPECT_TRUE(said);
  Tech no_sfu = t;
  no_sfu.units.erase("exp_q");
  const CostReport n = price_run(a, s, no_sfu);
  bool listed = false;
  for (const std::string& u : n.unpriced) listed = listed || u.find("SFU lanes and ops") != std::string::npos;
  EXPECT_TRUE(listed);
  // With synthesized fp32_mul and fp32_add rows, the lanes and the epilogue are priced from them
  // (scaled 180 -> 45 nm like every unit: area x 0.25, energy x 0.5, leakage x 0.1) and their
  // leakage is no longer listed as not priced.
  Tech syn = t;
  config::parse_units_table(std::string(kUnits) + R"(  fp32_mul: {area_um2: 800, leakage_nw: 70, energy_pj_per_op: {random: 12.0, llm: 10.0}, source: "fixture"}
  fp32_add: {area_um2: 400, leakage_nw: 30, energy_pj_per_op: {random: 5.0, llm: 4.0}, source: "fixture"}
)", "units.yaml", syn);
  const CostReport y = price_run(a, s, syn);
  EXPECT_DOUBLE_EQ(y.area_um2 - r.area_um2, (4 + 1) * ((800 + 400) * 0.25 - (30 + 10)));
  EXPECT_NEAR(y.leakage_w - r.leakage_w, (4 + 1) * (70 + 30) * 0.1 * 1e-9, 1e-18);
  double y_vector = 0;
  for (const CostLine& c : y.energy)
    if (c.component == "vector") y_vector += c.total;
  EXPECT_DOUBLE_EQ(y_vector, 100 * (10.0 + 4.0) * 0.5 / 2 + 10 * 6.0 * 0.5);
  for (const std::string& u : y.unpriced) EXPECT_EQ(u.find("leakage of the vector lanes"), std::string::npos) << u;
  for (const std::string& u : y.unpriced) EXPECT_EQ(u.find("leakage of the epilogue"), std::string::npos) << u;
}

// The group-scale register files: one per scale-consuming unit, sized by the design's widest
// scheme (double-buffered words), one read per unit operation and one write per word loaded.
TEST(CostModel, PricesScaleRegisterFiles) {
  const Tech t = fixture();
  arch::RunStats s = one_layer_run(1000);
  s.layers[0].intscale_ops = 6;
  s.layers[0].scale_reads = 6;
  s.layers[0].scale_writes = 4;
  arch::ArchSpec a = small_design();
  a.schemes = {Scheme::w4a8_is, Scheme::w8a8};  // 1 word per group, x 2 buffers = 2 entries
  auto scale_lines = [](const CostReport& r) {
    std::vector<std::string> lines;
    for (const CostLine& c : r.area)
      if (c.component == "scale_rf") lines.push_back(c.item + " " + std::to_string(c.total));
    for (const CostLine& c : r.energy)
      if (c.component == "scale_rf") lines.push_back(c.item + " " + std::to_string(c.total));
    return lines;
  };
  const CostReport is = price_run(a, s, t);
  EXPECT_THAT(scale_lines(is),
              ::testing::ElementsAre("regfile_2x16 (intscale: 2 words needed) 100.000000",  // 2 x 50
                                     "regfile_2x16 (intscale) read 3.000000",    // 6 x 1 x 0.5
                                     "regfile_2x16 (intscale) write 6.000000"));  // 4 x 3 x 0.5
  // The per-layer breakdown has one scale_rf entry holding the reads and the writes.
  int entries = 0;
  for (const auto& [comp, pj] : is.layers[0].pj_by_component) {
    if (comp != "scale_rf") continue;
    ++entries;
    EXPECT_NEAR(pj, 3.0 + 6.0, 1e-9);
  }
  EXPECT_EQ(entries, 1);

  // One unit for both columns holds both columns' scales: 4 words, priced as the 8-word file
  // (the smallest synthesized size that holds them), reads and writes at its energies.
  a.edge.intscale_units = 1;
  EXPECT_THAT(scale_lines(price_run(a, s, t)),
              ::testing::ElementsAre("regfile_8x16 (intscale: 4 words needed) 200.000000",
                                     "regfile_8x16 (intscale) read 6.000000",     // 6 x 2 x 0.5
                                     "regfile_8x16 (intscale) write 10.000000"));  // 4 x 5 x 0.5
  a.edge.intscale_units = 2;

  // w4a16 on the dequantizers: fp16 scale + zero take 2 words, 4 entries per unit (8-word
  // file); the intscale units keep their own 2-word files; a w4a16 layer's words are priced
  // with the dequantizers' file.
  a.schemes = {Scheme::w4a8_is, Scheme::w4a16};
  a.edge.dequant_units = 2;
  s.layers[0].intscale_ops = 0;
  s.layers[0].dequant_ops = 3;
  EXPECT_THAT(scale_lines(price_run(a, s, t)),
              ::testing::ElementsAre("regfile_2x16 (intscale: 2 words needed) 100.000000",
                                     "regfile_8x16 (dequant: 4 words needed) 400.000000",
                                     "regfile_8x16 (dequant) read 6.000000",
                                     "regfile_8x16 (dequant) write 10.000000"));

  // No scheme of the design has group scales: no file is priced.
  a.schemes = {Scheme::w8a8};
  a.edge.intscale_units = a.edge.dequant_units = 0;
  s.layers[0].dequant_ops = s.layers[0].scale_reads = s.layers[0].scale_writes = 0;
  EXPECT_TRUE(scale_lines(price_run(a, s, t)).empty());

  a.schemes = {Scheme::w4a16};
  a.edge.dequant_units = 2;
  Tech small = fixture();
  small.units.erase("regfile_8x16_write");
  EXPECT_THAT([&] { price_run(a, s, small); },
              ::testing::ThrowsMessage<Error>(
                  ::testing::HasSubstr("has no regfile_Ex16_read/_write unit of >= 4 entries")));
}

// A block-scaled design by hand: its fp4xfp8 PEs are priced from mac_e2m1xe4m3, its block
// units from mx_fp32_acc (block_acc fp32) or mx_fixed_acc (fixed, an accumulator of at most the
// row's 48 bits; a narrower one is priced as the row, said; a wider one is not priced, said),
// area and leakage per unit x block_units, energy per block op. A design running w4a4-nvfp4 is
// priced from nvfp4_fp32_acc (its own row: the fixture's differs from both MX rows in area,
// leakage and energy), never as mx_fp32_acc; with an MX scheme beside it, its MX block steps too
// (one kind per design, said); a table without the row lists its block units as not priced.
TEST(CostModel, PricesBlockUnitsByHand) {
  Tech t = fixture();
  t.units["mac_e2m1xe4m3"] = {80, 8, {{"llm", 1.5}}, "fixture"};
  t.units["mac_e2m1xe2m1"] = {60, 6, {{"llm", 1.0}}, "fixture"};
  t.units["mx_fp32_acc"] = {2000, 100, {{"llm", 12.0}}, "fixture"};
  t.units["mx_fixed_acc"] = {1000, 40, {{"llm", 6.0}}, "fixture"};
  t.units["nvfp4_fp32_acc"] = {2400, 120, {{"llm", 15.0}}, "fixture"};
  arch::ArchSpec a = small_design();
  a.schemes = {Scheme::w4a8_mx};
  a.array.pe = arch::PeKind::fp4xfp8;
  a.edge.intscale_units = 0;
  a.edge.block_units = 3;
  arch::RunStats s = one_layer_run(1000);
  s.layers[0].macs = 64;
  s.layers[0].block_ops = 2;

  const CostReport r = price_run(a, s, t);
  const CostLine mac = line(r.area, "array");
  EXPECT_EQ(mac.item, "mac_e2m1xe4m3");
  EXPECT_DOUBLE_EQ(mac.total, 4 * 80 * 0.25);
  const CostLine bk = line(r.area, "block");
  EXPECT_EQ(bk.item, "mx_fp32_acc");
  EXPECT_DOUBLE_EQ(bk.count, 3);
  EXPECT_DOUBLE_EQ(bk.each, 2000 * 0.25);
  EXPECT_DOUBLE_EQ(bk.total, 3 * 2000 * 0.25);
  const CostLine bke = line(r.energy, "block");
  EXPECT_EQ(bke.item, "mx_fp32_acc op");
  EXPECT_DOUBLE_EQ(bke.total, 2 * 12.0 * 0.5);
  EXPECT_DOUBLE_EQ(line(r.energy, "array").total, 64 * 1.5 * 0.5);
  EXPECT_FALSE(said(r, "block"));
  EXPECT_FALSE(said(r, "MACs"));
  // Leakage: the block units' 3 x 100 nW x 0.1 are in it (the same table with the row's
  // leakage at 0 gives that much less).
  Tech no_leak = t;
  no_leak.units["mx_fp32_acc"].leakage_nw = 0;
  EXPECT_NEAR(r.leakage_w - price_run(a, s, no_leak).leakage_w, 3 * 100 * 0.1 * 1e-9, 1e-18);

  // fixed, 40 bits: priced as the 48-bit row, said as an upper bound.
  a.edge.block_acc = BlockAcc::fixed;
  a.edge.block_acc_bits = 40;
  const CostReport f = price_run(a, s, t);
  EXPECT_EQ(line(f.area, "block").item, "mx_fixed_acc");
  EXPECT_DOUBLE_EQ(line(f.area, "block").total, 3 * 1000 * 0.25);
  EXPECT_DOUBLE_EQ(line(f.energy, "block").total, 2 * 6.0 * 0.5);
  EXPECT_TRUE(said(f, "priced as mx_fixed_acc's 48 (24): an upper bound"));
  // fixed, 64 bits: no row holds it.
  a.edge.block_acc_bits = 64;
  const CostReport w = price_run(a, s, t);
  EXPECT_EQ(line(w.area, "block").item, "");
  EXPECT_EQ(line(w.energy, "block").total, 0.0);
  EXPECT_TRUE(said(w, "has no mx_fixed_acc row of >= 64 bits"));
  // NVFP4 on fp4 PEs: nvfp4_fp32_acc's area, leakage and energy, nothing left unpriced.
  a.schemes = {Scheme::w4a4_nvfp4};
  a.array.pe = arch::PeKind::fp4;
  a.edge.block_acc = BlockAcc::fp32;
  a.edge.block_acc_bits = 48;
  const CostReport n = price_run(a, s, t);
  EXPECT_EQ(line(n.area, "array").item, "mac_e2m1xe2m1");
  EXPECT_EQ(line(n.area, "block").item, "nvfp4_fp32_acc");
  EXPECT_DOUBLE_EQ(line(n.area, "block").total, 3 * 2400 * 0.25);
  EXPECT_EQ(line(n.energy, "block").item, "nvfp4_fp32_acc op");
  EXPECT_DOUBLE_EQ(line(n.energy, "block").total, 2 * 15.0 * 0.5);
  Tech nv_no_leak = t;
  nv_no_leak.units["nvfp4_fp32_acc"].leakage_nw = 0;
  EXPECT_NEAR(n.leakage_w - price_run(a, s, nv_no_leak).leakage_w, 3 * 120 * 0.1 * 1e-9, 1e-18);
  EXPECT_FALSE(said(n, "block"));
  EXPECT_FALSE(said(n, "NVFP4"));
  // NVFP4's block_acc is fp32 whatever the design says (the spec has no fixed NVFP4 path): a
  // design with fixed MX units still prices NVFP4's step as nvfp4_fp32_acc.
  a.edge.block_acc = BlockAcc::fixed;
  EXPECT_EQ(line(price_run(a, s, t).area, "block").item, "nvfp4_fp32_acc");
  a.edge.block_acc = BlockAcc::fp32;
  // NVFP4 and an MX scheme on one design: one kind, nvfp4_fp32_acc, and the MX steps said.
  a.schemes = {Scheme::w4a4_nvfp4, Scheme::w4a4_mxfp4};
  const CostReport both = price_run(a, s, t);
  EXPECT_EQ(line(both.area, "block").item, "nvfp4_fp32_acc");
  EXPECT_DOUBLE_EQ(line(both.energy, "block").total, 2 * 15.0 * 0.5);
  EXPECT_TRUE(said(both, "MX block steps of w4a4-mxfp4 are priced as nvfp4_fp32_acc"));
  a.schemes = {Scheme::w4a4_nvfp4};
  // A table without the NVFP4 row: the block units are listed as not priced (not priced as
  // mx_fp32_acc), nothing thrown.
  Tech no_nv = t;
  no_nv.units.erase("nvfp4_fp32_acc");
  const CostReport nn = price_run(a, s, no_nv);
  EXPECT_EQ(line(nn.area, "block").item, "");
  EXPECT_EQ(line(nn.energy, "block").total, 0.0);
  EXPECT_TRUE(said(nn, "has no nvfp4_fp32_acc row"));
  // A table without the fp32 rows (w4a4-mxfp4's u = 2 row, nor the u = 10 row it would fall
  // back to): an MX fp32 design's block units are listed as not priced.
  a.schemes = {Scheme::w4a4_mxfp4};
  t.units.erase("mx_fp32_acc");
  const CostReport m = price_run(a, s, t);
  EXPECT_EQ(line(m.area, "block").item, "");
  EXPECT_TRUE(said(m, "has no mx_fp32_acc_u2 row (nor mx_fp32_acc)"));
}

// Each MX scheme's block units are priced from the rows synthesized at its element pair's u
// (scheme traits): w4a8-mx (u = 10) from the unsuffixed mx_fp32_acc / mx_fixed_acc, w4a4-mxfp4
// (u = 2) from mx_*_acc_u2, w8a8-mxint8 (u = 12) from mx_*_acc_u12, area, leakage and energy,
// nothing said. The fixture's six rows all differ, so pricing mxfp4 or mxint8 from the u = 10
// row fails here. A design running MX schemes of two u's is priced at its first one's row (said,
// naming the other scheme); a table without the u's row prices it as the u = 10 row (said,
// naming both rows), nothing thrown; the fixed rows' width notes name the row priced.
TEST(CostModel, PricesEachMxSchemeFromTheRowAtItsU) {
  Tech t = fixture();
  t.units["mac_e2m1xe4m3"] = {80, 8, {{"llm", 1.5}}, "fixture"};
  t.units["mx_fp32_acc"] = {2000, 100, {{"llm", 12.0}}, "fixture"};
  t.units["mx_fixed_acc"] = {1000, 40, {{"llm", 6.0}}, "fixture"};
  t.units["mx_fp32_acc_u2"] = {1900, 90, {{"llm", 11.0}}, "fixture"};
  t.units["mx_fixed_acc_u2"] = {900, 30, {{"llm", 5.0}}, "fixture"};
  t.units["mx_fp32_acc_u12"] = {2100, 110, {{"llm", 13.0}}, "fixture"};
  t.units["mx_fixed_acc_u12"] = {1100, 50, {{"llm", 7.0}}, "fixture"};
  arch::ArchSpec a = small_design();
  a.edge.intscale_units = 0;
  a.edge.block_units = 3;
  arch::RunStats s = one_layer_run(1000);
  s.layers[0].macs = 64;
  s.layers[0].block_ops = 2;
  struct Case {
    Scheme scheme;
    arch::PeKind pe;
    BlockAcc acc;
    const char* row;
    double area, leak_nw, pj;
  };
  const Case cases[] = {
      {Scheme::w4a8_mx, arch::PeKind::fp4xfp8, BlockAcc::fp32, "mx_fp32_acc", 2000, 100, 12.0},
      {Scheme::w4a8_mx, arch::PeKind::fp4xfp8, BlockAcc::fixed, "mx_fixed_acc", 1000, 40, 6.0},
      {Scheme::w4a4_mxfp4, arch::PeKind::fp4xfp8, BlockAcc::fp32, "mx_fp32_acc_u2", 1900, 90,
       11.0},
      {Scheme::w4a4_mxfp4, arch::PeKind::fp4xfp8, BlockAcc::fixed, "mx_fixed_acc_u2", 900, 30,
       5.0},
      {Scheme::w8a8_mxint8, arch::PeKind::int8, BlockAcc::fp32, "mx_fp32_acc_u12", 2100, 110,
       13.0},
      {Scheme::w8a8_mxint8, arch::PeKind::int8, BlockAcc::fixed, "mx_fixed_acc_u12", 1100, 50,
       7.0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.row);
    a.schemes = {c.scheme};
    a.array.pe = c.pe;
    a.edge.block_acc = c.acc;
    const CostReport r = price_run(a, s, t);
    EXPECT_EQ(line(r.area, "block").item, c.row);
    EXPECT_DOUBLE_EQ(line(r.area, "block").total, 3 * c.area * 0.25);
    EXPECT_EQ(line(r.energy, "block").item, std::string(c.row) + " op");
    EXPECT_DOUBLE_EQ(line(r.energy, "block").total, 2 * c.pj * 0.5);
    Tech no_leak = t;
    no_leak.units[c.row].leakage_nw = 0;
    EXPECT_NEAR(r.leakage_w - price_run(a, s, no_leak).leakage_w, 3 * c.leak_nw * 0.1 * 1e-9,
                1e-18);
    EXPECT_FALSE(said(r, "block"));
  }

  // Two u's on one design: the first MX scheme's row, the other's steps said.
  a.array.pe = arch::PeKind::fp4xfp8;
  a.edge.block_acc = BlockAcc::fp32;
  a.schemes = {Scheme::w4a4_mxfp4, Scheme::w4a8_mx};
  const CostReport two = price_run(a, s, t);
  EXPECT_EQ(line(two.area, "block").item, "mx_fp32_acc_u2");
  EXPECT_TRUE(said(two, "the block steps of w4a8-mx (u = 10) are priced as mx_fp32_acc_u2, the "
                        "row of w4a4-mxfp4 (u = 2)"));
  a.schemes = {Scheme::w4a8_mx, Scheme::w4a4_mxfp4};
  const CostReport two10 = price_run(a, s, t);
  EXPECT_EQ(line(two10.area, "block").item, "mx_fp32_acc");
  EXPECT_TRUE(said(two10, "the block steps of w4a4-mxfp4 (u = 2) are priced as mx_fp32_acc, "
                          "the row of w4a8-mx (u = 10)"));

  // A table without the u = 12 rows: priced as the u = 10 rows, said.
  a.schemes = {Scheme::w8a8_mxint8};
  a.array.pe = arch::PeKind::int8;
  Tech old = t;
  old.units.erase("mx_fp32_acc_u12");
  old.units.erase("mx_fixed_acc_u12");
  const CostReport f = price_run(a, s, old);
  EXPECT_EQ(line(f.area, "block").item, "mx_fp32_acc");
  EXPECT_DOUBLE_EQ(line(f.energy, "block").total, 2 * 12.0 * 0.5);
  EXPECT_TRUE(said(f, "the 3 block-scale accumulators of w8a8-mxint8 (u = 12) are priced as "
                      "mx_fp32_acc, synthesized for w4a8-mx (u = 10)"));
  EXPECT_TRUE(said(f, "has no mx_fp32_acc_u12 row"));
  // The fixed option: the u = 10 row, and the width note names it.
  a.edge.block_acc = BlockAcc::fixed;
  a.edge.block_acc_bits = 40;
  const CostReport ff = price_run(a, s, old);
  EXPECT_EQ(line(ff.area, "block").item, "mx_fixed_acc");
  EXPECT_TRUE(said(ff, "priced as mx_fixed_acc, synthesized for w4a8-mx (u = 10)"));
  EXPECT_TRUE(said(ff, "priced as mx_fixed_acc's 48 (24): an upper bound"));
  // With the u = 12 row: the note names it; wider than 48 bits: no row holds it.
  const CostReport fw = price_run(a, s, t);
  EXPECT_EQ(line(fw.area, "block").item, "mx_fixed_acc_u12");
  EXPECT_TRUE(said(fw, "priced as mx_fixed_acc_u12's 48 (24): an upper bound"));
  EXPECT_FALSE(said(fw, "synthesized for"));
  a.edge.block_acc_bits = 64;
  const CostReport w = price_run(a, s, t);
  EXPECT_EQ(line(w.area, "block").item, "");
  EXPECT_TRUE(said(w, "has no mx_fixed_acc_u12 row of >= 64 bits"));
}

// The shipped tables price every component a shipped design has, unit leakage included (the
// osu018 -> gscl45nm factor): only the SRAM bank periphery is left unpriced, and the units'
// static power (the epilogue's synthesized fp32 multiply and add included) is their 180 nm
// Liberty leakage times that factor.
TEST(CostModel, ShippedTablesPriceUnitLeakage) {
  const Tech t = config::load_tech();
  ASSERT_TRUE(t.unit_scaling().has_leakage);
  EXPECT_GT(t.unit_scaling().leakage, 1.0);
  arch::ArchSpec a = small_design();
  a.dram.standard = "hbm2e";
  a.array.pe = arch::PeKind::w4a8;
  a.edge.intscale_acc_bits = 32;
  const CostReport r = price_run(a, one_layer_run(1000), t);
  EXPECT_THAT(r.unpriced, ::testing::ElementsAre(::testing::HasSubstr("SRAM bank periphery")));
  const double sram_w = 6.0 * t.sram.leakage_nw_per_kib * 1e-9;
  // Per PE: the MAC plus what the 4x4 array adds to each int8 MAC (registers, skew lines).
  const double pe_nw = t.units.at("mac_w4a8").leakage_nw +
                       std::max(t.units.at("systolic_4x4").leakage_nw / 16 -
                                    t.units.at("mac_int8").leakage_nw,
                                0.0);
  const double units_nw = 4 * pe_nw + 2 * t.units.at("intscale_acc_32").leakage_nw +
                          2 * t.units.at("regfile_2x16_read").leakage_nw +
                          a.edge.epilogue_units * (t.units.at("fp32_mul").leakage_nw +
                                                   t.units.at("fp32_add").leakage_nw);
  ASSERT_GT(a.edge.epilogue_units, 0u);
  EXPECT_NEAR(r.leakage_w - sram_w, units_nw * 1e-9 * t.unit_scaling().leakage, 1e-12);
}

TEST(CostModel, RandomStreamAndMissingEntriesAreClearErrors) {
  const Tech t = fixture();
  arch::RunStats s = one_layer_run(10);
  s.layers[0].intscale_ops = 1;
  CostOptions o;
  o.stream = "random";  // intscale_acc_48 has only an llm energy in the fixture
  EXPECT_THAT([&] { price_run(small_design(), s, t, o); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr(
                  "unit 'intscale_acc_48' has no energy per op for operand stream 'random'")));
  arch::ArchSpec fp = small_design();
  fp.array.pe = arch::PeKind::fp16;
  EXPECT_THAT([&] { price_run(fp, s, t); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("has no unit 'mac_fp16'")));
  arch::ArchSpec hbm = small_design();
  hbm.dram.standard = "hbm2e";
  EXPECT_THAT([&] { price_run(hbm, s, t); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("no DRAM standard 'hbm2e'")));
}

TEST(TechConfig, LiteratureTableIsReadStrictly) {
  Tech t;
  std::string bad = kLiterature;
  const std::string from = "area_um2: 30, source: \"fixture\"}";
  bad.replace(bad.find(from), from.size(), "area_um2: 30, source: \"\"}");
  EXPECT_THAT([&] { config::parse_literature_table(bad, "lit.yaml", t); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr(
                  "lit.yaml:5: ops.fp32_mul.source: every number needs a source")));
  std::string unknown = kLiterature;
  unknown.replace(unknown.find("node_nm: 45"), 11, "node_nm: 45\nvoltage: 1");
  EXPECT_THAT([&] { config::parse_literature_table(unknown, "lit.yaml", t); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("unknown key 'voltage'")));
  std::string no_180 = kLiterature;
  no_180.replace(no_180.find("    180:"), 8, "    90:");
  Tech u;
  config::parse_units_table(kUnits, "units.yaml", u);
  config::parse_literature_table(no_180, "lit.yaml", u);
  EXPECT_THAT(
      [&] { u.unit_scaling(); },
      ::testing::ThrowsMessage<Error>(::testing::HasSubstr("no scaling factors from 180 nm")));
}

// A round-number datasheet: the IDD method's three terms worked by hand.
DramDatasheet round_sheet() {
  DramDatasheet d;
  d.device = "fixture";
  d.data_rate_mtps = 1000;
  d.width_bits = 8;
  d.page_bytes = 1024;
  d.trc_ns = 50;
  d.tras_ns = 35;
  d.rails = {{"VDD", 1.0, 60, 30, 40, 120, 100}, {"VPP", 2.0, 4, 2, 2, 2, 2}};
  d.io_pj_per_bit = 0.5;
  d.has_io = true;
  return d;
}

TEST(DramEnergy, FollowsTheIddMethodByHand) {
  const DramEnergy e = dram_energy(round_sheet(), "sheet");
  // Burst: VDD 1.0 V x (120 - 40) mA over 1000 Mb/s x 8 pins = 80 mW / 8 Gb/s = 10 pJ/bit;
  // write (100 - 40) -> 7.5; VPP draws no burst current above IDD3N.
  EXPECT_DOUBLE_EQ(e.read_burst_pj_per_bit, 10.0);
  EXPECT_DOUBLE_EQ(e.write_burst_pj_per_bit, 7.5);
  // ACT+PRE: VDD 60 x 50 - 40 x 35 - 30 x 15 = 1150 pJ; VPP 2 x (4 x 50 - 2 x 35 - 2 x 15) =
  // 200 pJ; one 1 KiB row = 8192 bits.
  EXPECT_DOUBLE_EQ(e.activation_pj, 1350.0);
  EXPECT_DOUBLE_EQ(e.activation_pj_per_bit, 1350.0 / 8192);
  EXPECT_DOUBLE_EQ(e.read_pj_per_bit(), 10.0 + 1350.0 / 8192 + 0.5);
  EXPECT_DOUBLE_EQ(e.write_pj_per_bit(), 7.5 + 1350.0 / 8192 + 0.5);
  EXPECT_THAT(e.derivation(true),
              ::testing::HasSubstr("read 10.7 = burst 10 + activation 0.165 + I/O 0.5"));
  EXPECT_THAT(e.derivation(false), ::testing::HasSubstr("I/O not priced"));
  EXPECT_THAT(e.derivation(true), ::testing::HasSubstr("rails VDD + VPP;"));
}

TEST(DramEnergy, RejectsSheetsTheMethodCannotUse) {
  DramDatasheet all_banks_open = round_sheet();
  all_banks_open.rails[0].idd3n_ma = 80;  // above IDD0 x tRC's share: activation < 0
  EXPECT_THAT([&] { dram_energy(all_banks_open, "t.yaml:3: dram.ddr5.datasheet"); },
              ::testing::ThrowsMessage<Error>(::testing::AllOf(
                  ::testing::HasSubstr("t.yaml:3: dram.ddr5.datasheet: the activation energy"),
                  ::testing::HasSubstr("all banks open"))));
  DramDatasheet low_read = round_sheet();
  low_read.rails[1].idd4r_ma = 1;
  EXPECT_THAT([&] { dram_energy(low_read, "s"); },
              ::testing::ThrowsMessage<Error>(
                  ::testing::HasSubstr("s: rail VPP: idd4r_ma is below idd3n_ma")));
  DramDatasheet times = round_sheet();
  times.trc_ns = 30;
  EXPECT_THAT([&] { dram_energy(times, "s"); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("0 < tras_ns < trc_ns")));
}

// The shipped lpddr4 row (configs/tech/literature-45nm.yaml) against the TN-41-01 arithmetic done
// by hand from the DRAMPower memspec it transcribes: github.com/tukl-msd/DRAMPower
// memspecs/MICRON_6Gb_LPDDR4-3200_32bit_A.json, commit 67e08c702f567d430419f33cf3769c2e8644354a.
//   memtimingspec.clkMhz 1600 -> tCK = 1000 / 1600 = 0.625 ns; memarchitecturespec.dataRate 2
//   -> 3200 Mb/s per pin; width 16 -> 3200 x 16 = 51,200 Mb/s = 51.2 bit/ns;
//   nbrOfColumns 1024 x width 16 = 16,384 bit per row (2048 B);
//   RC 97 cycles x 0.625 = 60.625 ns; RAS 68 x 0.625 = 42.5 ns; tRC - tRAS = 18.125 ns.
//   Currents in mA, as the file writes them (VDD1: idd*, vdd 1.8 V; VDD2: idd*2, vdd2 1.1 V;
//   VDDQ: idd*q, vddq 1.1 V).
// Read burst, V x (IDD4R - IDD3N) / 51.2 bit/ns:
//   VDD1 1.8 x (idd4r 2.25 - idd3n 2.25)     = 0
//   VDD2 1.1 x (idd4r2 275 - idd3n2 30)      = 269.5 mW
//   VDDQ 1.1 x (idd4rq 150 - idd3nq 0.75)    = 164.175 mW
//   433.675 mW / 51.2 bit/ns = 8.470215 pJ/bit
// Write burst, the same with IDD4W:
//   VDD1 0; VDD2 1.1 x (idd4w2 210 - 30) = 198 mW; VDDQ 1.1 x (idd4wq 55 - 0.75) = 59.675 mW
//   257.675 mW / 51.2 bit/ns = 5.032715 pJ/bit
// One ACT + PRE, V x (IDD0 x tRC - IDD3N x tRAS - IDD2N x (tRC - tRAS)):
//   VDD1 1.8 x (idd0 3.5 x 60.625 - 2.25 x 42.5 - idd2n 2.0 x 18.125) = 1.8 x 80.3125 = 144.5625 pJ
//   VDD2 1.1 x (idd02 45 x 60.625 - 30 x 42.5 - idd2n2 27 x 18.125) = 1.1 x 963.75 = 1060.125 pJ
//   VDDQ 1.1 x 0.75 x (60.625 - 42.5 - 18.125)                       = 0
//   1204.6875 pJ over one row of 16,384 bits = 0.073528 pJ/bit
// Read 8.470215 + 0.073528 = 8.543743 pJ/bit; write 5.032715 + 0.073528 = 5.106243 pJ/bit.
TEST(DramEnergy, ShippedLpddr4MatchesTheMemspecByHand) {
  const Tech t = config::load_tech();
  ASSERT_EQ(t.dram.count("lpddr4"), 1u);
  const DramEntry& d = t.dram.at("lpddr4");
  const double tck = 1000.0 / 1600, trc = 97 * tck, tras = 68 * tck;
  const double bits_per_ns = 3200 * 16 / 1e3;
  const double read_burst =
      (1.8 * (2.25 - 2.25) + 1.1 * (275 - 30) + 1.1 * (150 - 0.75)) / bits_per_ns;
  const double write_burst =
      (1.8 * (2.25 - 2.25) + 1.1 * (210 - 30) + 1.1 * (55 - 0.75)) / bits_per_ns;
  const double act = 1.8 * (3.5 * trc - 2.25 * tras - 2.0 * (trc - tras)) +
                     1.1 * (45 * trc - 30 * tras - 27 * (trc - tras)) +
                     1.1 * (0.75 * trc - 0.75 * tras - 0.75 * (trc - tras));
  EXPECT_DOUBLE_EQ(act, 1204.6875);
  EXPECT_NEAR(d.read_pj_per_bit, read_burst + act / (1024 * 16), 1e-12);
  EXPECT_NEAR(d.write_pj_per_bit, write_burst + act / (1024 * 16), 1e-12);
  EXPECT_NEAR(d.read_pj_per_bit, 8.543743, 1e-6);
  EXPECT_NEAR(d.write_pj_per_bit, 5.106243, 1e-6);
  EXPECT_THAT(d.derivation,
              ::testing::AllOf(::testing::HasSubstr("read 8.54 = burst 8.47 + activation 0.0735"),
                               ::testing::HasSubstr("write 5.11 = burst 5.03 + activation 0.0735"),
                               ::testing::HasSubstr("rails VDD1 + VDD2 + VDDQ")));
  EXPECT_THAT(d.source, ::testing::HasSubstr("67e08c702f567d430419f33cf3769c2e8644354a"));
}

// The three ways a table gives a DRAM standard, and what the cost model charges reads and writes.
TEST(TechConfig, DramEntriesPriceReadsAndWritesApart) {
  // round_sheet() written as a table row (shared with the CLI test), plus a read/write pair.
  std::ifstream row_file(std::string(QUASAR_SOURCE_DIR) + "/tests/cli/datasheet_row.yaml");
  std::stringstream row;
  row << row_file.rdbuf();
  ASSERT_FALSE(row.str().empty());
  const std::string sheet =
      row.str() + "  split: {read_pj_per_bit: 2.0, write_pj_per_bit: 3.0, source: \"fixture\"}\n";
  std::string lit = kLiterature;
  const std::string at = "dram:\n";
  lit.insert(lit.find(at) + at.size(), sheet);
  Tech t;
  config::parse_units_table(kUnits, "units.yaml", t);
  config::parse_literature_table(lit, "lit.yaml", t);
  const DramEntry& d = t.dram.at("ddr9");
  EXPECT_DOUBLE_EQ(d.read_pj_per_bit, dram_energy(round_sheet(), "").read_pj_per_bit());
  EXPECT_DOUBLE_EQ(d.write_pj_per_bit, dram_energy(round_sheet(), "").write_pj_per_bit());
  EXPECT_EQ(d.source, "fixture sheet; I/O: fixture io");
  EXPECT_THAT(d.derivation, ::testing::StartsWith("fixture x8, read 10.7"));
  EXPECT_EQ(t.dram.at("lpddr5").read_pj_per_bit, 5.0);
  EXPECT_EQ(t.dram.at("lpddr5").write_pj_per_bit, 5.0);

  arch::RunStats s = one_layer_run(1000);
  s.layers[0].dram_read_bytes = 10;
  s.layers[0].dram_write_bytes = 4;
  arch::ArchSpec a = small_design();
  a.dram.standard = "split";
  auto dram_pj = [&](const CostReport& r) {
    const auto& c = r.layers.at(0).pj_by_component;
    const auto it =
        std::find_if(c.begin(), c.end(), [](const auto& p) { return p.first == "dram"; });
    return it == c.end() ? -1.0 : it->second;
  };
  EXPECT_DOUBLE_EQ(dram_pj(price_run(a, s, t, CostOptions{})), 10 * 8 * 2.0 + 4 * 8 * 3.0);
  a.dram.standard = "ddr9";
  const CostReport r = price_run(a, s, t, CostOptions{});
  EXPECT_DOUBLE_EQ(dram_pj(r), 10 * 8 * d.read_pj_per_bit + 4 * 8 * d.write_pj_per_bit);

  std::string neither = kLiterature;
  neither.replace(neither.find("{pj_per_bit: 5.0, "), 18, "{");
  Tech u;
  EXPECT_THAT([&] { config::parse_literature_table(neither, "lit.yaml", u); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr(
                  "dram.lpddr5: give pj_per_bit, read_pj_per_bit + write_pj_per_bit, or a "
                  "datasheet IDD table")));
  std::string no_volts = lit;
  no_volts.replace(no_volts.find("VPP: {volts: 2.0, "), 18, "VPP: {");
  EXPECT_THAT([&] { config::parse_literature_table(no_volts, "lit.yaml", u); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("rails.VPP")));
}

}  // namespace
}  // namespace quasar::cost
