// What the SystemC model's tests build their runs from: the shipped designs by name, and a
// small LLaMA-shaped model's trace (every record of a decoder layer: norms, RoPE, attention with
// GQA, the vector unit's work, the linears in the design's first scheme), made small enough that
// a case runs in well under a second in either fidelity; and the comparison of two runs'
// statistics, counter by counter.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "arch/arch_spec.hpp"
#include "config/arch_config.hpp"
#include "mapping/workload.hpp"
#include "trace/generate.hpp"

namespace quasar::test {

inline arch::ArchSpec shipped(const std::string& name) {
  return config::read_arch_config(std::string(QUASAR_SOURCE_DIR) + "/configs/arch/" + name +
                                  ".yaml");
}

// The int8 baseline made output-stationary (one bank) with int8 attention on the array, unfused:
// the attention matmuls as tiles, their scores through DRAM.
inline arch::ArchSpec int8_os_int8_attention() {
  arch::ArchSpec os = shipped("int8-baseline");
  os.array.dataflow = arch::Dataflow::os;
  os.array.double_buffer = false;
  os.attention.mode = arch::AttentionMode::int8;
  os.attention.kv = KvFormat::int8;
  os.attention.tile = 0;
  return os;
}

// The model's shape and the run's (defaults: LLaMA-2-7B's layer made small, GQA kept: 8 query
// heads on 4 KV heads of 64 dimensions, 2 decoder layers, batch 2, 48 tokens, context 100).
struct SmallModel {
  std::uint64_t hidden = 512, intermediate = 1408, heads = 8, kv_heads = 4, batch = 2, seq = 48;
  std::uint64_t context = 100, layers = 2;
  trace::Phase phase = trace::Phase::prefill;
};

inline trace::Trace small_model_trace(const arch::ArchSpec& a, const SmallModel& s) {
  trace::GenSpec g;
  g.model = trace::embedded_model("llama-2-7b");
  g.model.hidden = s.hidden;
  g.model.intermediate = s.intermediate;
  g.model.heads = s.heads;
  g.model.kv_heads = s.kv_heads;
  g.model.head_dim = s.hidden / s.heads;
  g.model.vocab = 1000;
  g.decoder_layers = s.layers;
  g.batch = s.batch;
  g.phase = s.phase;
  g.seq = s.seq;
  g.context = s.context;
  g.linear_scheme = mapping::design_layer_scheme(a, a.schemes.front());
  return trace::generate(g);
}

// Every counter of two layers' (or cores') statistics equal, each difference named.
inline void expect_same(const arch::LayerStats& x, const arch::LayerStats& y,
                        const std::string& where) {
  EXPECT_EQ(x.name, y.name) << where;
  for (const arch::StatField& f : arch::layer_stat_fields())
    EXPECT_EQ(x.*f.member, y.*f.member) << where << " " << x.name << "." << f.name;
}

// Two runs' statistics equal: cycles, PEs, every layer's and every core's counters.
inline void expect_same(const arch::RunStats& a, const arch::RunStats& b,
                        const std::string& where) {
  EXPECT_EQ(a.cycles, b.cycles) << where;
  EXPECT_EQ(a.pe_count, b.pe_count) << where;
  ASSERT_EQ(a.layers.size(), b.layers.size()) << where;
  for (std::size_t l = 0; l < a.layers.size(); ++l) expect_same(a.layers[l], b.layers[l], where);
  ASSERT_EQ(a.cores.size(), b.cores.size()) << where;
  for (std::size_t c = 0; c < a.cores.size(); ++c) expect_same(a.cores[c], b.cores[c], where);
}

}  // namespace quasar::test
