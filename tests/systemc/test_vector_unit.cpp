// The vector unit (models/arch/vector) by hand: a block's cycles from its shape and the unit's
// widths, the scratchpad's two halves overlapping a block's read with the previous block's
// compute, writes behind the compute, and its layers overlapping independent array work on the
// same core. The plan: a generated decoder layer runs every non-GEMM record on a design with a
// vector unit and lists none of them as not run.
//
// libsystemc defines main() and calls sc_main, so this file defines sc_main (toolchain trap 1).
// One simulation per process: ctest runs each test alone.
#include <gtest/gtest.h>

#include <systemc>

#include "arch/accelerator.hpp"
#include "arch/vector/vector_unit.hpp"
#include "config/arch_config.hpp"
#include "numerics/error.hpp"
#include "mapping/gemm_tiling.hpp"
#include "mapping/vector_plan.hpp"
#include "mapping/workload.hpp"
#include "trace/generate.hpp"
#include "trace/model_config.hpp"

namespace quasar::arch {
namespace {

// The int8 baseline (64 B/cycle, 100-cycle latency, 64 B bursts, one channel) with a vector
// unit of 16 lanes, one SFU lane, 8 cycles a pass; attention fp32, fp16 KV, unfused.
ArchSpec design() {
  ArchSpec a = config::read_arch_config(std::string(QUASAR_SOURCE_DIR) +
                                        "/configs/arch/int8-baseline.yaml");
  a.vector.lanes = 16;
  a.vector.sfu_lanes = 1;
  a.vector.latency_cycles = 8;
  a.vector.buffer_kib = 64;
  a.attention = AttentionSpec{};
  return a;
}

LayerWork vector_layer(const ArchSpec& a, trace::Op op, std::uint64_t m, std::uint64_t n) {
  trace::Layer l;
  l.name = trace::op_name(op);
  l.op = op;
  l.m = m, l.n = n;
  LayerWork w;
  w.name = l.name;
  w.vector = mapping::plan_vector(a, l).work;
  return w;
}

LayerWork gemm_layer(const ArchSpec& a, std::uint64_t m, std::uint64_t k, std::uint64_t n) {
  trace::Layer l;
  l.name = "g";
  l.op = trace::Op::linear;
  l.m = m, l.k = k, l.n = n;
  trace::LayerScheme s;
  s.scheme = Scheme::w8a8;
  l.scheme = s;
  const mapping::GemmPlan p = mapping::plan_gemm(a, l);
  LayerWork w;
  w.name = l.name;
  w.tiles = p.tiles;
  w.runs = p.runs;
  w.instances = p.instances;
  return w;
}

// RMSNorm of 4 tokens x 64: per row 5 x 64 = 320 lane ops, 2 SFU ops (sqrt, reciprocal), 2
// passes; 128 B read and written per row, 128 B of gains once. One block: its 640 B read takes
// 10 cycles + 100 latency (ready at 110); compute max(4 x 320 / 16, 4 x 2 / 1) + 2 x 8 = 96
// (until 206); its 512 B write 8 + 100 (complete at 314).
TEST(VectorUnit, OneBlockByHand) {
  const ArchSpec a = design();
  const std::vector<LayerWork> w{vector_layer(a, trace::Op::rmsnorm, 4, 64)};
  EXPECT_EQ(w[0].vector.lane_ops, 320u);
  EXPECT_EQ(w[0].vector.sfu_ops, 2u);
  EXPECT_EQ(w[0].vector.rows_per_block, 4u);
  EXPECT_EQ(vector_block_cycles(a.vector, w[0].vector, 4), 96u);
  const std::vector<RunStats> r = simulate(a, w, {Fidelity::fast, Fidelity::cycle});
  for (const RunStats& s : r) {
    EXPECT_EQ(s.cycles, 314u);
    const LayerStats& l = s.layers[0];
    EXPECT_EQ(l.vector_busy, 96u);
    EXPECT_EQ(l.vector_lane_ops, 4u * 320u);
    EXPECT_EQ(l.vector_sfu_ops, 8u);
    EXPECT_EQ(l.vector_blocks, 1u);
    EXPECT_EQ(l.dram_read_bytes, 640u);
    EXPECT_EQ(l.dram_write_bytes, 512u);
    EXPECT_EQ(l.macs + l.tiles, 0u);
  }
}

// Two blocks (a 1 KiB scratchpad: 512 B halves, 4 rows each): both reads issue at once and
// follow each other on the bus (640 B ready at 110, 512 B at 118); block 1 computes once
// block 0 is done (206 .. 302); write 0 (206: 8 + 100, until 314) and write 1 (302: until 410)
// run behind. Without the second half, block 1's read would start at 206.
TEST(VectorUnit, TheNextBlockLoadsWhileThisOneComputes) {
  ArchSpec a = design();
  a.vector.buffer_kib = 1;
  const std::vector<LayerWork> w{vector_layer(a, trace::Op::rmsnorm, 8, 64)};
  EXPECT_EQ(w[0].vector.rows_per_block, 4u);
  const std::vector<RunStats> r = simulate(a, w, {Fidelity::fast});
  EXPECT_EQ(r[0].cycles, 410u);
  EXPECT_EQ(r[0].layers[0].vector_blocks, 2u);
  EXPECT_EQ(r[0].layers[0].vector_busy, 2u * 96u);
}

// A softmax row is SFU-bound on one SFU lane: 64 exp_q + 1 reciprocal per row.
TEST(VectorUnit, SfuBoundRowsByHand) {
  const ArchSpec a = design();
  const LayerWork w = vector_layer(a, trace::Op::softmax, 2, 64);
  EXPECT_EQ(w.vector.sfu_ops, 65u);
  EXPECT_EQ(w.vector.lane_ops, 4u * 64u);
  EXPECT_EQ(w.vector.passes, 3u);
  // max(2 x 256 / 16 = 32, 2 x 65 / 1 = 130) + 3 x 8.
  EXPECT_EQ(vector_block_cycles(a.vector, w.vector, 2), 154u);
}

// An array layer and a vector layer that does not read it overlap on one core (the run takes
// less than the two alone); when the vector layer reads the GEMM's output, it waits for it.
// Fast and cycle agree on both.
TEST(VectorUnit, OverlapsIndependentArrayWork) {
  const ArchSpec a = design();
  std::vector<LayerWork> free{gemm_layer(a, 64, 256, 256),
                              vector_layer(a, trace::Op::softmax, 64, 256)};
  std::vector<LayerWork> chain = free;
  chain[1].after = {0};
  const std::vector<LayerWork> g{free[0]}, v{free[1]};
  const std::vector<RunStats> r =
      simulate_jobs({{&a, &free, Fidelity::fast}, {&a, &free, Fidelity::cycle},
                     {&a, &chain, Fidelity::fast}, {&a, &chain, Fidelity::cycle},
                     {&a, &g, Fidelity::fast}, {&a, &v, Fidelity::fast}});
  const std::uint64_t alone_g = r[4].cycles, alone_v = r[5].cycles;
  EXPECT_LT(r[0].cycles, alone_g + alone_v);
  EXPECT_GE(r[0].cycles, std::max(alone_g, alone_v));
  EXPECT_GE(r[2].cycles, alone_g + r[5].layers[0].vector_busy);
  EXPECT_GT(r[2].cycles, r[0].cycles);
  EXPECT_EQ(r[0].cycles, r[1].cycles);
  EXPECT_EQ(r[2].cycles, r[3].cycles);
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_TRUE(r[0].layers[l] == r[1].layers[l]) << l;
    EXPECT_TRUE(r[2].layers[l] == r[3].layers[l]) << l;
  }
  // The timeline shares still add up to the run.
  EXPECT_EQ(r[0].layers[0].cycles + r[0].layers[1].cycles, r[0].cycles);
}

// A GEMM whose producer (a vector record) ends while an independent GEMM's tiles are still in
// flight: the cycle mode accounted those tiles' stalls with the newer layer's floor (it moved
// on when the second GEMM's first tile was gated) and disagreed with the fast mode. Each tile
// now keeps its own layer's floor.
TEST(VectorUnit, StallsKeepTheirLayersFloorWhileTheNextLayerStarts) {
  const ArchSpec a = design();
  // v1, v2: two norms on the vector unit (v2 ends after v1); g1 reads v1, g2 reads v2. g1's
  // first tile waits for its operands (a DRAM stall) and is still in flight when g2's first
  // tile is gated, after v2's end.
  const std::vector<std::uint64_t> sizes{4, 16, 64};  // tokens of the GEMMs
  std::vector<std::vector<LayerWork>> works;
  for (std::uint64_t m : sizes) {
    works.push_back({vector_layer(a, trace::Op::rmsnorm, 4, 64),
                     vector_layer(a, trace::Op::rmsnorm, 4, 64), gemm_layer(a, m, 64, 64),
                     gemm_layer(a, m, 64, 64)});
    works.back()[1].after = {};
    works.back()[2].after = {0};
    works.back()[3].after = {1};
  }
  std::vector<SimJob> jobs;
  for (const auto& w : works) {
    jobs.push_back({&a, &w, Fidelity::fast});
    jobs.push_back({&a, &w, Fidelity::cycle});
  }
  const std::vector<RunStats> r = simulate_jobs(jobs);  // one simulation per process
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const RunStats &f = r[2 * i], &c = r[2 * i + 1];
    EXPECT_EQ(f.cycles, c.cycles) << sizes[i];
    EXPECT_GT(f.layers[2].stall_dram, 0u) << sizes[i];
    for (std::size_t l = 0; l < 4; ++l)
      EXPECT_TRUE(f.layers[l] == c.layers[l])
          << sizes[i] << " tokens, layer " << l << ": stall_dram fast " << f.layers[l].stall_dram
          << ", cycle " << c.layers[l].stall_dram;
  }
}

// A block quantize_act is planned in its own format: an MX row scales by a power of two on the
// lanes (no SFU divide, unlike per-token int8) and writes its codes plus a 1 B scale per 32;
// NVFP4 divides by d per element and twice per block of 16 on the SFU.
TEST(VectorUnit, BlockQuantizationIsPlannedInItsFormat) {
  const ArchSpec a = design();
  trace::Layer l;
  l.name = "q";
  l.op = trace::Op::quantize_act;
  l.m = 4, l.n = 4096;
  const VectorWork i8 = mapping::plan_vector(a, l).work;
  EXPECT_EQ(i8.sfu_ops, 4096u + 1);
  EXPECT_EQ(i8.write_bytes, 4096u + 4);
  l.act_format = ActFormat::mxfp8;
  const VectorWork fp8 = mapping::plan_vector(a, l).work;
  EXPECT_EQ(fp8.sfu_ops, 0u);
  EXPECT_EQ(fp8.lane_ops, 5u * 4096 + 4096 / 32);
  EXPECT_EQ(fp8.write_bytes, 4096u + 4096 / 32);
  l.act_format = ActFormat::mxfp4;
  EXPECT_EQ(mapping::plan_vector(a, l).work.write_bytes, 2048u + 4096 / 32);
  l.act_format = ActFormat::nvfp4;
  const VectorWork nv = mapping::plan_vector(a, l).work;
  EXPECT_EQ(nv.sfu_ops, 4096u + 2 * 4096 / 16);
  EXPECT_EQ(nv.write_bytes, 2048u + 4096 / 16);
}

// Two cores split a compute-bound vector layer's rows: close to half the time; the per-core
// statistics add up to the layer's.
TEST(VectorUnit, CoresSplitTheRows) {
  ArchSpec one = design();
  one.vector.lanes = 1;  // compute-bound
  ArchSpec two = one;
  two.cores = 2;
  trace::Layer l;
  l.name = "act";
  l.op = trace::Op::activation;
  l.function = "silu_mul";
  l.m = 64, l.n = 512;
  const VectorWork v = mapping::plan_vector(one, l).work;
  LayerWork w;
  w.name = l.name;
  w.vector = v;
  const std::vector<LayerWork> w1{w};
  std::vector<std::vector<LayerWork>> w2(2, w1);
  for (std::uint32_t c = 0; c < 2; ++c) w2[c][0].vector = mapping::vector_share(v, 2, c);
  const std::vector<RunStats> r =
      simulate_jobs({{&one, &w1, Fidelity::fast}, {&two, nullptr, Fidelity::fast, &w2}});
  const double speedup = static_cast<double>(r[0].cycles) / static_cast<double>(r[1].cycles);
  EXPECT_GT(speedup, 1.8);
  EXPECT_LE(speedup, 2.0);
  ASSERT_EQ(r[1].cores.size(), 2u);
  EXPECT_EQ(r[1].cores[0].vector_lane_ops + r[1].cores[1].vector_lane_ops,
            r[0].layers[0].vector_lane_ops);
  EXPECT_EQ(r[1].layers[0].dram_read_bytes, r[0].layers[0].dram_read_bytes);
}

// One decoder layer of `model`, decode, batch 4, context 256, w8a8 linears.
trace::GenSpec decode_layer(const char* model) {
  trace::GenSpec g;
  g.model = trace::embedded_model(model);
  g.phase = trace::Phase::decode;
  g.batch = 4;
  g.context = 256;
  g.decoder_layers = 1;
  g.linear_scheme.scheme = Scheme::w8a8;
  return g;
}

// A LLaMA decoder layer on a design with a vector unit: every non-GEMM record and the two
// attention matmuls (fp32, the design's default) are planned onto it; only the fp16 lm_head is
// not run (the design's PEs run w8a8 only).
TEST(VectorUnit, ADecoderLayerRunsItsVectorRecords) {
  const ArchSpec a = design();
  const trace::Trace t = trace::generate(decode_layer("llama-2-7b"));
  const mapping::PlannedTrace p = mapping::plan_trace(a, t);
  for (const auto& [name, why] : p.not_run)
    EXPECT_EQ(name, "lm_head") << why;
  std::size_t vec = 0;
  for (const LayerWork& w : p.cores[0]) vec += w.vector.present() ? 1 : 0;
  // 2 norms, rope, kv_append, softmax, act, 2 residuals, the final norm, 4 quantize_act (the
  // inputs of q/k/v, o_proj, gate/up and down_proj), and QK^T and PV.
  EXPECT_EQ(vec, 15u);
  EXPECT_EQ(p.not_run.size(), 1u);
  const std::vector<RunStats> r = simulate(a, p.cores, {Fidelity::fast, Fidelity::cycle});
  EXPECT_EQ(r[0].cycles, r[1].cycles);
  std::uint64_t busy = 0;
  for (const LayerStats& l : r[0].layers) busy += l.vector_busy;
  EXPECT_GT(busy, 0u);
}

trace::Layer attention_record(const char* which, std::uint64_t batch, std::uint64_t m,
                              std::uint64_t d, std::uint64_t keys, bool causal = false) {
  trace::Layer l;
  l.name = std::string("attn_") + which;
  l.op = trace::Op::bmm;
  l.attention = which;
  l.causal = causal;
  l.batch = batch;
  l.m = m;
  const bool qk = l.attention == "qk";
  l.k = qk ? d : keys;
  l.n = qk ? keys : d;
  trace::LayerScheme fp16;
  l.scheme = fp16;
  return l;
}

// fp32 attention of a decode step on the lanes, by hand: 2 (batch x kv-head) instances of one
// query, d = 128, 256 cached keys in int8 (128 codes + a 2-byte scale each).
TEST(Attention, DecodeFp32WorkByHand) {
  ArchSpec a = design();
  a.attention.kv = KvFormat::int8;
  const mapping::VectorPlan qk = mapping::plan_vector(a, attention_record("qk", 2, 1, 128, 256));
  EXPECT_EQ(qk.instances, 2u);
  EXPECT_EQ(qk.work.rows, 1u);
  EXPECT_EQ(qk.work.fixed_read_bytes, 256u * 130u);       // K, once per instance
  EXPECT_EQ(qk.work.fixed_lane_ops, 256u * 128u * 2u);    // widen: cvt and * s16
  EXPECT_EQ(qk.work.lane_ops, 128u + 256u * (2u * 128u + 1u));  // cvt q; mul + add; * c
  EXPECT_EQ(qk.work.read_bytes, 256u);                    // q, fp16
  EXPECT_EQ(qk.work.write_bytes, 256u * 4u);              // fp32 scores (unfused)
  const mapping::VectorPlan pv = mapping::plan_vector(a, attention_record("pv", 2, 1, 128, 256));
  EXPECT_EQ(pv.work.read_bytes, 256u * 4u);  // fp32 probabilities
  EXPECT_EQ(pv.work.fixed_read_bytes, 256u * 130u);
  EXPECT_EQ(pv.work.write_bytes, 256u);      // fp16 output
  EXPECT_EQ(pv.work.sfu_ops, 0u);
  // Tiled by 64 keys: no scores or probabilities in DRAM; the output divides by l (128 SFU
  // ops) and 4 key tiles each rescale the 128 accumulators.
  a.attention.tile = 64;
  const mapping::VectorPlan qk_t = mapping::plan_vector(a, attention_record("qk", 2, 1, 128, 256));
  const mapping::VectorPlan pv_t = mapping::plan_vector(a, attention_record("pv", 2, 1, 128, 256));
  EXPECT_EQ(qk_t.work.write_bytes, 0u);
  EXPECT_EQ(pv_t.work.read_bytes, 0u);
  EXPECT_EQ(pv_t.work.sfu_ops, 128u);
  EXPECT_EQ(pv_t.work.lane_ops, 2u * 128u * 256u + 128u + 4u * 128u);
  // The cache's format sets the K and V bytes: fp16 2d, int4 d/2 + 3.
  a.attention.kv = KvFormat::fp16;
  EXPECT_EQ(mapping::plan_vector(a, attention_record("qk", 2, 1, 128, 256)).work.fixed_read_bytes,
            256u * 256u);
  a.attention.kv = KvFormat::int4;
  EXPECT_EQ(mapping::plan_vector(a, attention_record("qk", 2, 1, 128, 256)).work.fixed_read_bytes,
            256u * 67u);
}

// Prefill attention counts the causal triangle: S queries see S (S + 1) / 2 scores, not S^2.
TEST(Attention, CausalPrefillCountsTheTriangle) {
  const ArchSpec a = design();
  const std::uint64_t S = 64, d = 16;
  const mapping::VectorPlan full = mapping::plan_vector(a, attention_record("qk", 1, S, d, S));
  const mapping::VectorPlan tri =
      mapping::plan_vector(a, attention_record("qk", 1, S, d, S, true));
  // Per row: d conversions + (2d + 1) per visible key; (S + 1) / 2 = 32.5 keys on average, a
  // per-row cost of 1088.5 rounded to 1089: within half an operation a row of the triangle.
  const std::uint64_t scores_full = S * S, scores_tri = S * (S + 1) / 2;
  EXPECT_EQ(full.work.rows * full.work.lane_ops, S * d + scores_full * (2 * d + 1));
  const std::uint64_t exact = S * d + scores_tri * (2 * d + 1);
  EXPECT_GE(tri.work.rows * tri.work.lane_ops, exact);
  EXPECT_LE(tri.work.rows * tri.work.lane_ops, exact + S / 2);
  EXPECT_EQ(tri.work.rows * tri.work.write_bytes, 4 * scores_tri);
  trace::Layer sm;
  sm.name = "softmax";
  sm.op = trace::Op::softmax;
  sm.m = sm.n = S;
  sm.causal = true;
  const mapping::VectorPlan soft = mapping::plan_vector(a, sm);
  EXPECT_EQ(soft.work.rows * soft.work.read_bytes, 4 * scores_tri);
  // exp_q each, a reciprocal a row (33.5 a row, rounded to 34).
  EXPECT_GE(soft.work.rows * soft.work.sfu_ops, scores_tri + S);
  EXPECT_LE(soft.work.rows * soft.work.sfu_ops, scores_tri + S + S / 2);
}

// A decode layer's attention, unfused and tiled (flash-style), simulated: tiled moves no scores
// or probabilities through DRAM (exactly those bytes fewer) and is faster when memory-bound.
TEST(Attention, TiledKeepsScoresOnChip) {
  ArchSpec unfused = design();
  unfused.vector.lanes = 256;
  unfused.vector.sfu_lanes = 16;
  unfused.dram.bandwidth_gbps = 16;
  ArchSpec tiled = unfused;
  tiled.attention.tile = 128;
  trace::GenSpec g;
  g.model = trace::embedded_model("llama-2-7b");
  g.phase = trace::Phase::decode;
  g.batch = 2;
  g.context = 512;
  g.decoder_layers = 1;
  g.linear_scheme.scheme = Scheme::w8a8;
  const trace::Trace t = trace::generate(g);
  const mapping::PlannedTrace pu = mapping::plan_trace(unfused, t);
  const mapping::PlannedTrace pt = mapping::plan_trace(tiled, t);
  const std::vector<RunStats> r = simulate_jobs(
      {{&unfused, nullptr, Fidelity::fast, &pu.cores}, {&tiled, nullptr, Fidelity::fast, &pt.cores}});
  auto layer = [&](const RunStats& s, const std::string& n) {
    for (const LayerStats& l : s.layers)
      if (l.name == n) return l;
    ADD_FAILURE() << n;
    return LayerStats{};
  };
  // 2 sequences x 32 heads, one query each, 512 keys: 32768 fp32 scores (4 B each), written by
  // QK^T, read and written back by softmax, read by PV.
  const std::uint64_t scores = 2 * 32 * 512 * 4;
  EXPECT_EQ(layer(r[0], "layer.attn_qk").dram_write_bytes, scores);
  EXPECT_EQ(layer(r[1], "layer.attn_qk").dram_write_bytes, 0u);
  EXPECT_EQ(layer(r[0], "layer.attn_softmax").dram_read_bytes, scores);
  EXPECT_EQ(layer(r[1], "layer.attn_softmax").dram_read_bytes +
                layer(r[1], "layer.attn_softmax").dram_write_bytes,
            0u);
  EXPECT_EQ(layer(r[0], "layer.attn_pv").dram_read_bytes -
                layer(r[1], "layer.attn_pv").dram_read_bytes,
            scores);
  EXPECT_EQ(r[0].total(&LayerStats::dram_read_bytes) + r[0].total(&LayerStats::dram_write_bytes) -
                r[1].total(&LayerStats::dram_read_bytes) -
                r[1].total(&LayerStats::dram_write_bytes),
            4 * scores);
  EXPECT_LT(r[1].cycles, r[0].cycles);
}

// int8 attention runs QK^T and PV on the MAC array: the int8 KV cache is the stationary operand
// (codes and a 2-byte scale per key), scores leave as fp32; four cores split the heads.
// int8 QK^T on the array reads int8 queries: the RoPE record that produces them quantizes its
// query rows (spec §7: per (token, head)), by hand for LLaMA-2-7B decode, batch 4: 4 tokens x
// (32 query + 32 key heads) = 256 rows of d = 128, of which 128 are queries. Added per row,
// averaged: 128 x 4 x 128 / 256 = 256 lane ops, 128 x 129 / 256 = 64.5 -> 65 SFU ops (rounded
// as the plan rounds), one more pass, and 128 x (256 - 132) / 256 = 62 bytes fewer written.
// Attention in fp32 charges nothing; a QK^T whose queries no vector record makes is warned.
TEST(Attention, Int8QueriesAreQuantizedByTheirProducer) {
  ArchSpec a = design();
  const trace::Trace t = trace::generate(decode_layer("llama-2-7b"));
  const auto rope_work = [&](const ArchSpec& d) {
    const mapping::PlannedTrace p = mapping::plan_trace(d, t);
    for (const LayerWork& w : p.cores[0])
      if (w.name == "layer.rope") return w.vector;
    ADD_FAILURE() << "no rope record";
    return VectorWork{};
  };
  const VectorWork fp32 = rope_work(a);
  a.attention.mode = AttentionMode::int8;
  a.attention.kv = KvFormat::int8;
  a.attention.tile = 0;
  const VectorWork int8 = rope_work(a);
  EXPECT_EQ(fp32.rows, 256u);
  EXPECT_EQ(int8.rows, fp32.rows);
  EXPECT_EQ(int8.lane_ops - fp32.lane_ops, 256u);
  EXPECT_EQ(int8.sfu_ops - fp32.sfu_ops, 65u);
  EXPECT_EQ(int8.passes - fp32.passes, 1u);
  EXPECT_EQ(fp32.write_bytes - int8.write_bytes, 62u);
  const mapping::PlannedTrace p = mapping::plan_trace(a, t);
  for (const auto& [name, what] : p.warnings)
    EXPECT_EQ(what.find("queries' quantization is not charged"), std::string::npos) << name;
  // OPT has no RoPE: its queries come from q_proj on the array, and the plan says so.
  const mapping::PlannedTrace opt = mapping::plan_trace(a, trace::generate(decode_layer("opt-6.7b")));
  bool warned = false;
  for (const auto& [name, what] : opt.warnings)
    warned = warned || (name == "layer.attn_qk" &&
                        what.find("queries' quantization is not charged") != std::string::npos);
  EXPECT_TRUE(warned);
}

TEST(Attention, Int8OnTheArraySplitsHeads) {
  ArchSpec a = design();
  a.attention.mode = AttentionMode::int8;
  a.attention.kv = KvFormat::int8;
  a.cores = 4;
  trace::Trace t;
  t.name = "attn";
  t.layers = {attention_record("qk", 8, 1, 128, 256)};
  const mapping::PlannedTrace p = mapping::plan_trace(a, t);
  ASSERT_EQ(p.cores.size(), 4u);
  std::uint64_t weight = 0, out = 0, inst = 0;
  for (const auto& core : p.cores) {
    ASSERT_EQ(core.size(), 1u);
    inst += core[0].instances;
    EXPECT_EQ(core[0].instances, 2u);  // 8 (batch, kv-head) instances over 4 cores
    for (const Tile& tl : core[0].tiles) weight += tl.weight_bytes * core[0].instances,
                                         out += tl.out_bytes * core[0].instances;
  }
  EXPECT_EQ(inst, 8u);
  EXPECT_EQ(weight, 8u * 256u * (128u + 2u));
  // PV: V is the stationary operand, keys along K: its int8 cache's 2-byte scales are one per
  // key (256 of them an instance), not one per output channel (128).
  trace::Trace pv;
  pv.name = "attn";
  pv.layers = {attention_record("pv", 8, 1, 128, 256)};
  std::uint64_t pv_weight = 0;
  for (const auto& core : mapping::plan_trace(a, pv).cores)
    for (const Tile& tl : core[0].tiles) pv_weight += tl.weight_bytes * core[0].instances;
  EXPECT_EQ(pv_weight, 8u * 256u * (128u + 2u));
  EXPECT_EQ(out, 8u * 256u * 4u);  // fp32 scores
  const std::vector<RunStats> r = simulate(a, p.cores, {Fidelity::fast, Fidelity::cycle});
  EXPECT_EQ(r[0].cycles, r[1].cycles);
  EXPECT_EQ(r[0].layers[0].macs, 8u * 128u * 256u);
  ASSERT_EQ(r[0].cores.size(), 4u);
  for (const LayerStats& c : r[0].cores) EXPECT_EQ(c.macs, 2u * 128u * 256u);
}

// The causal mask on the MAC array (sim/mapping/causal_mask.hpp): prefill of 100 tokens, 2
// (batch, kv-head) instances, d = 64, on the 32 x 32 array. Weight-stationary, a tile of keys
// from key_lo streams only the tokens that see them (100 - key_lo), so QK^T (keys along N) and
// PV (keys along K) each do sum over key tiles of (100 - key_lo) x keys x 64 MACs: the
// triangle at tile granularity (6,544 x 64 of the square's 10,000 x 64). Output-stationary,
// tiles whose keys all follow their 32 tokens are skipped, the rest run whole. Fast and cycle
// modes agree; masked scores are not written.
TEST(Attention, CausalInt8OnTheArrayCountsTheTriangle) {
  const std::uint64_t T = 100, d = 64, inst = 2;
  std::uint64_t ws_tri = 0;  // sum over key tiles of visible tokens x keys in the tile
  for (std::uint64_t k0 = 0; k0 < T; k0 += 32) ws_tri += (T - k0) * std::min<std::uint64_t>(32, T - k0);
  std::uint64_t os_qk = 0;  // output-stationary QK^T: 32-token x 32-key tiles not all masked
  for (std::uint64_t m0 = 0; m0 < T; m0 += 32)
    for (std::uint64_t n0 = 0; n0 < T; n0 += 32)
      if (n0 < m0 + std::min<std::uint64_t>(32, T - m0))
        os_qk += std::min<std::uint64_t>(32, T - m0) * std::min<std::uint64_t>(32, T - n0);
  ASSERT_EQ(ws_tri, 6544u);
  // Layers: qk full, qk causal, pv full, pv causal (one simulation: SystemC elaborates once).
  trace::Trace t;
  t.name = "attn";
  for (const char* which : {"qk", "pv"})
    for (const bool causal : {false, true}) {
      t.layers.push_back(attention_record(which, inst, T, d, T, causal));
      t.layers.back().name += causal ? "_causal" : "_full";
    }
  auto design_for = [](Dataflow df) {
    ArchSpec a = design();
    a.array.dataflow = df;
    a.array.double_buffer = false;
    a.attention.mode = AttentionMode::int8;
    a.attention.kv = KvFormat::int8;
    a.attention.tile = 0;
    return a;
  };
  // What the plan asks of the array and the DMA, per layer.
  auto planned = [&](const mapping::PlannedTrace& p, std::size_t layer) {
    std::uint64_t macs = 0, out = 0;
    for (const auto& core : p.cores)
      play_tiles(core[layer].tiles, core[layer].runs, [&](const Tile& tl, std::uint64_t) {
        macs += core[layer].instances * tl.m * tl.rows_used * tl.cols_used;
        out += core[layer].instances * tl.out_bytes;
      });
    return std::pair{macs, out};
  };
  // Output-stationary: by the plan (fully masked QK^T tiles skipped, the rest whole; PV's one
  // k-chunk per tile runs whole), and the plan says so.
  const mapping::PlannedTrace po = mapping::plan_trace(design_for(Dataflow::os), t);
  EXPECT_EQ(planned(po, 0).first, inst * T * T * d);
  EXPECT_EQ(planned(po, 1).first, inst * os_qk * d);
  EXPECT_EQ(planned(po, 1).second, inst * os_qk * 4);  // fp32 scores of the kept tiles
  EXPECT_EQ(planned(po, 3).first, inst * T * T * d);
  // qk and pv causal: partly masked tiles run whole (the QK^T records' queries come from no
  // record here, which the plan also says: Int8QueriesAreQuantizedByTheirProducer).
  const auto causal_warnings = [](const mapping::PlannedTrace& p) {
    std::size_t n = 0;
    for (const auto& [name, what] : p.warnings) n += what.find("causal mask") == 0 ? 1 : 0;
    return n;
  };
  EXPECT_EQ(causal_warnings(po), 2u);
  // Weight-stationary: simulated, fast and cycle modes.
  const ArchSpec a = design_for(Dataflow::ws);
  const mapping::PlannedTrace p = mapping::plan_trace(a, t);
  EXPECT_EQ(causal_warnings(p), 0u);
  const std::vector<RunStats> r = simulate(a, p.cores, {Fidelity::fast, Fidelity::cycle});
  EXPECT_EQ(r[0].cycles, r[1].cycles);
  ASSERT_EQ(r[0].layers.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string what = t.layers[i].name;
    EXPECT_TRUE(r[0].layers[i] == r[1].layers[i]) << what;
    const bool causal = i % 2 == 1;
    EXPECT_EQ(r[0].layers[i].macs, causal ? inst * ws_tri * d : inst * T * T * d) << what;
    if (causal) {
      EXPECT_LT(r[0].layers[i].cycles, r[0].layers[i - 1].cycles) << what;
    }
  }
  // QK^T writes the fp32 scores of the tokens each key tile streams; PV every token's outputs.
  EXPECT_EQ(r[0].layers[1].dram_write_bytes, inst * ws_tri * 4);
  EXPECT_EQ(r[0].layers[3].dram_write_bytes, r[0].layers[2].dram_write_bytes);
}

// The DRAM must hold the KV cache too: LLaMA-2-7B decode, batch 16, context 4096, fp16 KV is
// 2 x 32 layers x 16 x 32 kv-heads x 4096 x 256 B = 32 GiB, on top of 6.1 GiB of w8a8 weights.
TEST(Attention, TheKvCacheCountsAgainstCapacity) {
  ArchSpec a = design();
  a.dram.capacity_gib = 36;
  trace::GenSpec g;
  g.model = trace::embedded_model("llama-2-7b");
  g.phase = trace::Phase::decode;
  g.batch = 16;
  g.context = 4096;
  g.linear_scheme.scheme = Scheme::w8a8;
  const trace::Trace t = trace::generate(g);
  try {
    (void)mapping::plan_trace(a, t);
    FAIL() << "fp16 KV cache and weights do not fit 36 GiB";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("GiB of weights and 32.00 GiB of KV cache, more than "
                                         "dram.capacity_gib = 36"),
              std::string::npos)
        << e.what();
  }
  a.attention.kv = KvFormat::int4;  // 67 B per (token, head) instead of 256: 8.4 GiB
  EXPECT_NO_THROW((void)mapping::plan_trace(a, t));
}

}  // namespace
}  // namespace quasar::arch

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
