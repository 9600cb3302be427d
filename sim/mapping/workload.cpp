#include "workload.hpp"

#include <algorithm>
#include <cstdio>

#include "mapping/gemm_tiling.hpp"
#include "mapping/scalesim_timing.hpp"
#include "mapping/vector_plan.hpp"
#include "numerics/error.hpp"

namespace quasar::mapping {

trace::LayerScheme design_layer_scheme(const arch::ArchSpec& a, Scheme s,
                                       trace::LayerScheme base) {
  trace::LayerScheme ls = trace::for_scheme(s, base);
  if (block_scaled(traits(s)) && !traits(s).e4m3_scales) {
    ls.block_acc = a.edge.block_acc;
    if (ls.block_acc == BlockAcc::fixed) {
      ls.acc_bits = static_cast<int>(a.edge.block_acc_bits);
      ls.frac_bits = static_cast<int>(a.edge.block_frac_bits);
    }
  }
  return ls;
}

std::string why_not_run(const arch::ArchSpec& a, const trace::Layer& l) {
  const bool attention = runs_as_attention(a, l);
  if (is_vector_op(l.op) || attention) {
    if (a.accounting == arch::Accounting::scalesim)
      return std::string(trace::op_name(l.op)) +
             ": SCALE-Sim accounting counts the GEMMs of linear layers only";
    if (!a.vector.present())
      return std::string(trace::op_name(l.op)) + ": design '" + a.name +
             "' has no vector unit (vector.lanes = 0)";
    return "";
  }
  if (!trace::is_gemm(l.op)) return std::string(trace::op_name(l.op)) + ": not modelled";
  const Scheme s = l.scheme->scheme;
  if (std::find(a.schemes.begin(), a.schemes.end(), s) == a.schemes.end())
    return "scheme " + std::string(scheme_name(s)) + " is not run by design '" + a.name + "'";
  // MX blocks accumulate the way the design's block units do (NVFP4 always in fp32).
  const SchemeInfo& t = traits(s);
  if (block_scaled(t) && !t.e4m3_scales) {
    const arch::EdgeSpec& e = a.edge;
    const trace::LayerScheme& ls = *l.scheme;
    const auto acc_text = [](BlockAcc b, std::uint32_t bits, std::uint32_t frac) {
      return b == BlockAcc::fp32 ? std::string("block_acc fp32")
                                 : "block_acc fixed (" + std::to_string(bits) + " bits, " +
                                       std::to_string(frac) + " fraction bits)";
    };
    const std::string asked = acc_text(ls.block_acc, static_cast<std::uint32_t>(ls.acc_bits),
                                       static_cast<std::uint32_t>(ls.frac_bits));
    const std::string has = acc_text(e.block_acc, e.block_acc_bits, e.block_frac_bits);
    if (asked != has)
      return "the layer asks for " + asked + "; design '" + a.name +
             "''s block units accumulate with " + has + " (edge.block_acc)";
  }
  return "";
}

namespace {

// One copy of a GEMM layer's stored weights: codes, group and channel metadata.
double layer_weight_bytes(const trace::Layer& l) {
  const SchemeInfo& i = traits(l.scheme->scheme);
  const double nk = static_cast<double>(l.n) * static_cast<double>(l.k);
  double b = nk * i.weight_bytes + static_cast<double>(l.n) * i.channel_meta_bytes;
  if (i.grouped && l.scheme->group_size > 0)
    b += static_cast<double>(l.k / l.scheme->group_size) * static_cast<double>(l.n) *
         i.group_meta_bytes;
  return b;
}

// An attention matmul as the MAC array runs it (attention: int8): an int8 GEMM whose stationary
// operand is the int8 KV cache (its codes and a 2-byte scale per key: w8a8's weight layout), one
// instance per (batch, head), core `c`'s share of them (split heads).
trace::Layer attention_gemm(const trace::Layer& l, std::uint32_t cores, std::uint32_t c) {
  trace::Layer g = l;
  trace::LayerScheme s;
  s.scheme = Scheme::w8a8;
  g.scheme = s;
  g.batch = even_share(l.batch, cores, c);
  return g;
}

// What differs from a weight GEMM's traffic: QK^T's scores are fp32, twice the fp16 outputs
// the tiles write. (int8 attention is unfused: arch_spec.hpp.)
void adjust_attention_tiles(const trace::Layer& l, arch::LayerWork& w) {
  if (l.attention != "qk") return;
  for (arch::Tile& t : w.tiles) t.out_bytes *= 2;
}

}  // namespace

trace::Layer core_share(const arch::ArchSpec& a, const trace::Layer& l, std::uint32_t c) {
  const std::uint64_t cores = a.cores;
  if (cores <= 1) return l;
  trace::Layer s = l;
  if (a.linear_partition == arch::Partition::split_n) {
    const std::uint64_t cols = a.array.cols, tiles = (l.n + cols - 1) / cols;
    if (tiles < cores)
      throw Error("layer '" + l.name + "': split_n cannot give " + std::to_string(cores) +
                  " cores work: n = " + std::to_string(l.n) + " is " + std::to_string(tiles) +
                  " n-tiles of " + std::to_string(cols) +
                  " columns (partition: {linear: split_m}, or fewer cores)");
    // Even shares of whole n-tiles, the first cores one more; the last core ends at n (its
    // last tile may be ragged).
    const std::uint64_t base = tiles / cores, extra = tiles % cores;
    const std::uint64_t first = c * base + std::min<std::uint64_t>(c, extra);
    const std::uint64_t count = base + (c < extra ? 1 : 0);
    s.n = std::min(l.n, (first + count) * cols) - first * cols;
  } else {
    if (l.m < cores)
      throw Error("layer '" + l.name + "': split_m cannot give " + std::to_string(cores) +
                  " cores work: m = " + std::to_string(l.m) +
                  " tokens (partition: {linear: split_n}, or fewer cores)");
    s.m = l.m / cores + (c < l.m % cores ? 1 : 0);
  }
  return s;
}

PlannedTrace plan_trace(const arch::ArchSpec& a, const trace::Trace& t) {
  PlannedTrace p;
  p.cores.resize(std::max<std::uint32_t>(a.cores, 1));
  // Every layer's plan is held until the run ends: the limits apply to their sum, checked
  // before each layer is built.
  PlanSize held;
  double weights = 0;  // bytes of weights the run's layers keep in DRAM
  double kv = 0;       // bytes of KV cache its attention reads
  // For every record, the simulated layers (indices into the run's list) its outputs depend
  // on: its own index when simulated, else what its producers depend on (a record the design
  // does not run passes its inputs' dependencies on).
  std::vector<std::vector<std::size_t>> deps(t.layers.size());
  for (std::size_t i = 0; i < t.layers.size(); ++i) {
    const trace::Layer& l = t.layers[i];
    std::vector<std::size_t> after;
    for (std::size_t pr : trace::producers(t, i))
      after.insert(after.end(), deps[pr].begin(), deps[pr].end());
    std::sort(after.begin(), after.end());
    after.erase(std::unique(after.begin(), after.end()), after.end());
    const std::string why = why_not_run(a, l);
    if (!why.empty()) {
      p.not_run.emplace_back(l.name, why);
      deps[i] = std::move(after);
      continue;
    }
    deps[i] = {p.cores.front().size()};
    const auto ncores = static_cast<std::uint32_t>(p.cores.size());
    const bool attention = runs_as_attention(a, l);
    if (attention && l.op == trace::Op::bmm && l.attention == "qk") {
      // The KV cache the step reads: K and V of every (instance, key) in the cache's format.
      kv += 2.0 * static_cast<double>(l.repeat) * static_cast<double>(l.batch) *
            static_cast<double>(l.n) *
            static_cast<double>(kv_bytes_per_token_head(a.attention.kv, l.k));
    }
    if (on_vector_unit(a, l)) {
      const VectorPlan v = plan_vector(a, l);
      for (std::uint32_t c = 0; c < ncores; ++c) {
        arch::LayerWork w;
        w.name = l.name;
        w.after = after;
        if (attention) {  // split heads: each core a share of the (batch, head) instances
          w.instances = even_share(v.instances, ncores, c);
          w.vector = v.work;
        } else {
          w.instances = v.instances;
          w.vector = vector_share(v.work, ncores, c);
        }
        p.cores[c].push_back(std::move(w));
      }
      continue;
    }
    if (attention && l.causal)
      p.warnings.emplace_back(l.name, "causal mask not applied on the MAC array: the masked "
                                      "half of the scores is computed (counted in full)");
    std::string warning;
    for (std::uint32_t c = 0; c < ncores; ++c) {
      trace::Layer share = attention ? attention_gemm(l, ncores, c) : core_share(a, l, c);
      if (share.batch == 0) {  // split heads left this core none
        arch::LayerWork w;
        w.name = l.name;
        w.instances = 0;
        w.after = after;
        p.cores[c].push_back(std::move(w));
        continue;
      }
      const PlanSize size = plan_size(a, share);
      check_plan_size(share, size, held);
      held.stored_tiles += size.stored_tiles;  // each <= the limit, so no wrap
      held.played_tiles += size.played_tiles;
      GemmPlan g = plan_gemm(a, share);
      arch::LayerWork w;
      w.name = l.name;
      w.tiles = std::move(g.tiles);
      w.runs = std::move(g.runs);
      w.instances = g.instances;
      if (warning.empty()) warning = g.capacity_warning;
      w.materialize_bytes = g.materialize_bytes;
      w.materialize_write_bytes = g.materialize_write_bytes;
      w.materialize_dequant_ops = g.materialize_dequant_ops;
      w.after = after;
      if (attention) adjust_attention_tiles(l, w);
      p.cores[c].push_back(std::move(w));
    }
    if (!warning.empty()) p.warnings.emplace_back(l.name, warning);
    if (!attention) weights += static_cast<double>(l.repeat) * layer_weight_bytes(l);
  }
  // The DRAM must hold the model's weights (codes and scales of every layer the design runs)
  // and the KV cache its attention reads (activations come on top and are not counted).
  const double capacity = a.dram.capacity_gib * 1073741824.0;
  if (capacity > 0 && weights + kv > capacity) {
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "%.2f GiB of weights and %.2f GiB of KV cache, more than dram.capacity_gib = %g",
                  weights / 1073741824.0, kv / 1073741824.0, a.dram.capacity_gib);
    throw Error("trace '" + t.name + "' on design '" + a.name + "': its layers hold " + buf +
                " (give a larger capacity, 0 to skip the check, or more memory)");
  }
  return p;
}

arch::RunStats scalesim_run(const arch::ArchSpec& a, const trace::Trace& t) {
  const std::uint64_t R = a.array.rows, C = a.array.cols;
  const ScalesimDataflow d =
      a.array.dataflow == arch::Dataflow::ws   ? ScalesimDataflow::ws
      : a.array.dataflow == arch::Dataflow::os ? ScalesimDataflow::os
                                               : ScalesimDataflow::is;
  arch::RunStats r;
  r.pe_count = R * C;
  for (const trace::Layer& l : t.layers) {
    if (!why_not_run(a, l).empty()) continue;
    arch::LayerStats s;
    s.name = l.name;
    const std::uint64_t inst = l.batch * l.repeat;
    s.cycles = inst * scalesim_gemm_cycles(d, R, C, l.m, l.k, l.n);
    s.array_busy = s.cycles;
    s.macs = inst * l.m * l.k * l.n;
    const auto cd = [](std::uint64_t x, std::uint64_t y) { return (x + y - 1) / y; };
    // Folds, as scalesim_timing.hpp counts them per dataflow.
    s.tiles = inst * (d == ScalesimDataflow::ws   ? cd(l.k, R) * cd(l.n, C)
                      : d == ScalesimDataflow::os ? cd(l.m, R) * cd(l.n, C)
                                                  : cd(l.k, R) * cd(l.m, C));
    r.cycles += s.cycles;
    r.layers.push_back(s);
  }
  return r;
}

}  // namespace quasar::mapping
