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
#include "mapping/gemm_tiling.hpp"
#include "mapping/vector_plan.hpp"
#include "mapping/workload.hpp"
#include "trace/generate.hpp"
#include "trace/model_config.hpp"

namespace quasar::arch {
namespace {

// The int8 baseline (64 B/cycle, 100-cycle latency, 64 B bursts, one channel) with a vector
// unit of 16 lanes, one SFU lane, 8 cycles a pass.
ArchSpec design() {
  ArchSpec a = config::read_arch_config(std::string(QUASAR_SOURCE_DIR) +
                                        "/configs/arch/int8-baseline.yaml");
  a.vector.lanes = 16;
  a.vector.sfu_lanes = 1;
  a.vector.latency_cycles = 8;
  a.vector.buffer_kib = 64;
  return a;
}

LayerWork vector_layer(const ArchSpec& a, trace::Op op, std::uint64_t m, std::uint64_t n) {
  trace::Layer l;
  l.name = trace::op_name(op);
  l.op = op;
  l.m = m, l.n = n;
  LayerWork w;
  w.name = l.name;
  w.vector = mapping::plan_vector(a, l);
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
  const VectorWork v = mapping::plan_vector(one, l);
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

// A LLaMA decoder layer on a design with a vector unit: every non-GEMM record is planned onto
// it; only the fp16 matmuls (attention, lm_head) are not run (the design's PEs run w8a8 only).
TEST(VectorUnit, ADecoderLayerRunsItsVectorRecords) {
  const ArchSpec a = design();
  trace::GenSpec g;
  g.model = trace::embedded_model("llama-2-7b");
  g.phase = trace::Phase::decode;
  g.batch = 4;
  g.context = 256;
  g.decoder_layers = 1;
  g.linear_scheme.scheme = Scheme::w8a8;
  const trace::Trace t = trace::generate(g);
  const mapping::PlannedTrace p = mapping::plan_trace(a, t);
  for (const auto& [name, why] : p.not_run)
    EXPECT_TRUE(name == "layer.attn_qk" || name == "layer.attn_pv" || name == "lm_head")
        << name << ": " << why;
  std::size_t vec = 0;
  for (const LayerWork& w : p.cores[0]) vec += w.vector.present() ? 1 : 0;
  // 2 norms, rope, kv_append, softmax, act, 2 residuals, the final norm, and 4 quantize_act (the
  // inputs of q/k/v, o_proj, gate/up and down_proj).
  EXPECT_EQ(vec, 13u);
  EXPECT_EQ(p.not_run.size(), 3u);
  const std::vector<RunStats> r = simulate(a, p.cores, {Fidelity::fast, Fidelity::cycle});
  EXPECT_EQ(r[0].cycles, r[1].cycles);
  std::uint64_t busy = 0;
  for (const LayerStats& l : r[0].layers) busy += l.vector_busy;
  EXPECT_GT(busy, 0u);
}

}  // namespace
}  // namespace quasar::arch

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
