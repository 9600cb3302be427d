#include "workload.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "mapping/causal_mask.hpp"
#include "mapping/gemm_tiling.hpp"
#include "mapping/scalesim_timing.hpp"
#include "mapping/vector_plan.hpp"
#include "numerics/error.hpp"
#include "numerics/kv_cache.hpp"

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

// What differs from a weight GEMM's traffic (int8 attention runs as a w8a8 plan; it is unfused:
// arch_spec.hpp): QK^T's scores are fp32, twice the fp16 outputs the tiles write; PV's
// stationary operand is V, keys along K, so its int8 cache's scales are one per key, not the
// per-channel scales a weight's first k-tile reads: each tile reads its rows' scales from the
// weight buffer, and [choice] the DMA brings them with the first n-tile's tile of those keys
// (later n-tiles find them on chip, as later k-tiles find a weight's channel scales).
void adjust_attention_tiles(const trace::Layer& l, arch::LayerWork& w) {
  if (l.attention == "qk") {
    for (arch::Tile& t : w.tiles) t.out_bytes *= 2;
    return;
  }
  const std::uint64_t per_key =
      kv_bytes_per_token_head(KvFormat::int8, static_cast<std::size_t>(l.n)) - l.n;
  const std::uint64_t per_channel = static_cast<std::uint64_t>(traits(Scheme::w8a8).channel_meta_bytes);
  for (arch::Tile& t : w.tiles) {
    const std::uint64_t planned = t.k0 == 0 ? t.cols_used * per_channel : 0;
    const std::uint64_t wanted = t.rows_used * per_key;
    t.weight_read_bytes = t.weight_read_bytes - planned + wanted;
    if (t.weight_bytes) t.weight_bytes = t.weight_bytes - planned + (t.n0 == 0 ? wanted : 0);
  }
}

// Rows of each instance of `l` that an int8 QK^T on the MAC array reads as its queries
// (plan_vector quantizes them): the query rows of every such QK^T record that lists `l` as an
// input, per instance of `l`.
std::uint64_t int8_query_rows(const arch::ArchSpec& a, const trace::Trace& t,
                              const trace::Layer& l) {
  // (The cache a QK^T also reads comes from kv_append records: not its queries.)
  if (a.attention.mode != arch::AttentionMode::int8 || !is_vector_op(l.op) ||
      l.op == trace::Op::kv_append)
    return 0;
  std::uint64_t rows = 0;
  for (const trace::Layer& q : t.layers) {
    if (q.op != trace::Op::bmm || q.attention != "qk" || !runs_as_attention(a, q) || !q.inputs)
      continue;
    if (std::find(q.inputs->begin(), q.inputs->end(), l.name) == q.inputs->end()) continue;
    rows += q.batch * q.m * q.repeat / std::max<std::uint64_t>(l.repeat, 1);
  }
  return rows;
}

// A record the design runs: its index in the trace and the simulated layers it reads (indices
// into the run's layer list, which is the order of `sims`).
struct Sim {
  std::size_t record = 0;
  std::vector<std::size_t> after;
};

// The layers core_share divides between the cores: GEMMs that are not attention.
bool splits_by_partition(const arch::ArchSpec& a, const trace::Layer& l) {
  return trace::is_gemm(l.op) && !runs_as_attention(a, l);
}

// Under partition.layers: whole (arch_spec.hpp) on several cores; else the plan is today's.
bool by_waves(const arch::ArchSpec& a) {
  return a.cores > 1 && a.layer_partition == arch::LayerPartition::whole;
}

// Each simulated layer's wave: one more than the latest wave of the simulated layers it reads
// (0: it reads none). Counted over every simulated layer, vector ones too, so a linear layer
// after a norm is a wave later than the norm's producer.
std::vector<std::size_t> waves_of(const std::vector<Sim>& sims) {
  std::vector<std::size_t> wave(sims.size(), 0);
  for (std::size_t s = 0; s < sims.size(); ++s)
    for (std::size_t pr : sims[s].after) wave[s] = std::max(wave[s], wave[pr] + 1);
  return wave;
}

// Under partition.layers: whole, the core that runs each simulated layer whole; none for the
// layers split as before (all of them under split). Only linear layers are placed, wave by
// wave. Deterministic: it depends on the trace and the design only.
std::vector<std::optional<std::uint32_t>> whole_layer_cores(const arch::ArchSpec& a,
                                                            const trace::Trace& t,
                                                            const std::vector<Sim>& sims,
                                                            const std::vector<std::size_t>& wave) {
  std::vector<std::optional<std::uint32_t>> on(sims.size());
  if (!by_waves(a)) return on;
  std::map<std::size_t, std::vector<std::size_t>> linear;  // wave -> its linear layers
  for (std::size_t s = 0; s < sims.size(); ++s)
    if (splits_by_partition(a, t.layers[sims[s].record])) linear[wave[s]].push_back(s);
  for (auto& [w, layers] : linear) {
    if (layers.size() < 2) continue;  // one layer: split over the cores as `linear` says
    // Largest first (trace order on a tie), each onto the core with the fewest of the wave's
    // MACs so far (the lowest id on a tie): the longest layer of the wave sets its end.
    const auto macs = [&](std::size_t s) {
      return static_cast<double>(t.layers[sims[s].record].macs());
    };
    std::stable_sort(layers.begin(), layers.end(),
                     [&](std::size_t x, std::size_t y) { return macs(x) > macs(y); });
    std::vector<double> load(a.cores, 0.0);
    for (std::size_t s : layers) {
      const auto c = static_cast<std::uint32_t>(
          std::min_element(load.begin(), load.end()) - load.begin());
      on[s] = c;
      load[c] += macs(s);
    }
  }
  return on;
}

// The DRAM bytes one core's share of a layer writes as the layer's outputs, over its
// instances: the tiles' fp16 outputs (QK^T's fp32 scores), the vector unit's rows. Partial-sum
// spills and a materialized weight copy are not outputs.
double output_bytes(const arch::LayerWork& w) {
  std::uint64_t per = 0;
  if (w.vector.present()) {
    per = w.vector.rows * w.vector.write_bytes;
  } else if (w.runs.empty()) {
    for (const arch::Tile& x : w.tiles) per += x.out_bytes;
  } else {
    for (const arch::TileRun& r : w.runs) {
      std::uint64_t run = 0;
      for (std::size_t i = r.first; i < r.first + r.count; ++i) run += w.tiles[i].out_bytes;
      per += r.repeat * run;
    }
  }
  return static_cast<double>(w.instances) * static_cast<double>(per);
}

// The most activation bytes the DRAM holds at once, and the layer (index into the run's list)
// at which it does. Each simulated layer's outputs are live from that layer to the last layer
// that reads them, in the order the cores run the layers (arch::run_order: the list's, or wave
// by wave under partition.layers: whole), and to the end when none does (they are the step's
// outputs). One copy of each record: a record's `repeat` copies run one after another, so
// their activations do not add up. Not counted: the run's own input, outputs of records the
// design does not run, KV appends (their rows are the KV cache, counted as such), and layers
// that overlap in time beyond that order (independent layers may).
std::pair<double, std::size_t> peak_activations(const trace::Trace& t,
                                                const std::vector<Sim>& sims,
                                                const PlannedTrace& p) {
  const std::size_t n = sims.size();
  const std::vector<std::size_t> order = arch::run_order(p.cores.front());
  std::vector<std::size_t> pos(n);  // each layer's place in the order
  for (std::size_t i = 0; i < n; ++i) pos[order[i]] = i;
  std::vector<std::optional<std::size_t>> last(n);  // the last place reading each layer
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t pr : sims[s].after) last[pr] = std::max(last[pr].value_or(0), pos[s]);
  std::vector<double> freed(n, 0.0);  // bytes no longer live after each place
  double live = 0, peak = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t s = order[i];
    const trace::Layer& l = t.layers[sims[s].record];
    double out = 0;
    if (l.op != trace::Op::kv_append) {
      for (const std::vector<arch::LayerWork>& core : p.cores) out += output_bytes(core[s]);
      out /= static_cast<double>(std::max<std::uint64_t>(l.repeat, 1));
    }
    live += out;
    if (last[s]) freed[*last[s]] += out;
    if (live > peak) {
      peak = live;
      at = s;
    }
    live -= freed[i];
  }
  return {peak, at};
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
  // The records the design runs, and for each the simulated layers its outputs depend on:
  // for every record, its own index when simulated, else what its producers depend on (a
  // record the design does not run passes its inputs' dependencies on).
  std::vector<Sim> sims;
  std::vector<std::vector<std::size_t>> deps(t.layers.size());
  for (std::size_t i = 0; i < t.layers.size(); ++i) {
    std::vector<std::size_t> after;
    for (std::size_t pr : trace::producers(t, i))
      after.insert(after.end(), deps[pr].begin(), deps[pr].end());
    std::sort(after.begin(), after.end());
    after.erase(std::unique(after.begin(), after.end()), after.end());
    const std::string why = why_not_run(a, t.layers[i]);
    if (!why.empty()) {
      p.not_run.emplace_back(t.layers[i].name, why);
      deps[i] = std::move(after);
      continue;
    }
    deps[i] = {sims.size()};
    sims.push_back({i, std::move(after)});
  }
  const std::vector<std::size_t> wave = waves_of(sims);
  const std::vector<std::optional<std::uint32_t>> whole = whole_layer_cores(a, t, sims, wave);
  // Every layer's plan is held until the run ends: the limits apply to their sum, checked
  // before each layer is built.
  PlanSize held;
  double weights = 0;  // bytes of weights the run's layers keep in DRAM
  double kv = 0;       // bytes of KV cache its attention reads
  const auto ncores = static_cast<std::uint32_t>(p.cores.size());
  for (std::size_t s = 0; s < sims.size(); ++s) {
    const trace::Layer& l = t.layers[sims[s].record];
    const std::vector<std::size_t>& after = sims[s].after;
    // A core with nothing of the layer: its barrier share closes at once.
    const auto none = [&](std::uint32_t c) {
      arch::LayerWork w;
      w.name = l.name;
      w.instances = 0;
      w.after = after;
      p.cores[c].push_back(std::move(w));
    };
    const bool attention = runs_as_attention(a, l);
    if (attention && l.op == trace::Op::bmm && l.attention == "qk") {
      // The KV cache the step reads: K and V of every (instance, key) in the cache's format.
      kv += 2.0 * static_cast<double>(l.repeat) * static_cast<double>(l.batch) *
            static_cast<double>(l.n) *
            static_cast<double>(kv_bytes_per_token_head(a.attention.kv, l.k));
    }
    if (on_vector_unit(a, l)) {
      const VectorPlan v = plan_vector(a, l, int8_query_rows(a, t, l));
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
    std::string warning;
    CausalMaskResult masked;
    for (std::uint32_t c = 0; c < ncores; ++c) {
      if (whole[s] && *whole[s] != c) {  // the layer runs whole on another core
        none(c);
        continue;
      }
      trace::Layer share = attention  ? attention_gemm(l, ncores, c)
                           : whole[s] ? l
                                      : core_share(a, l, c);
      if (share.batch == 0) {  // split heads left this core none
        none(c);
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
      if (attention && l.causal) {
        const CausalMaskResult m =
            apply_causal_mask(l.attention, a.array.dataflow == arch::Dataflow::ws, w);
        masked.whole = std::max(masked.whole, m.whole);
      }
      p.cores[c].push_back(std::move(w));
    }
    if (!warning.empty()) p.warnings.emplace_back(l.name, warning);
    if (attention && l.attention == "qk" && a.attention.mode == arch::AttentionMode::int8) {
      // Its queries are quantized by the vector record that produces them (int8_query_rows);
      // one from elsewhere (OPT's q comes straight from its projection) is not charged.
      bool charged = false;
      for (const trace::Layer& in : t.layers)
        if (l.inputs && std::find(l.inputs->begin(), l.inputs->end(), in.name) != l.inputs->end())
          charged = charged || int8_query_rows(a, t, in) > 0;
      if (!charged)
        p.warnings.emplace_back(l.name, "int8 QK^T: its queries' quantization is not charged "
                                        "(no vector record produces them)");
    }
    if (masked.whole)
      p.warnings.emplace_back(
          l.name, "causal mask on an output-stationary array: " + std::to_string(masked.whole) +
                      " partly masked tiles a head run whole (fully masked ones are skipped)");
    if (!attention) weights += static_cast<double>(l.repeat) * layer_weight_bytes(l);
  }
  // Whole layers: every core works through the layers wave by wave (LayerWork::wave), so a
  // core does not hold a later wave's layer, waiting for its inputs, ahead of an earlier wave's
  // layer of its own.
  if (by_waves(a))
    for (std::vector<arch::LayerWork>& core : p.cores)
      for (std::size_t s = 0; s < sims.size(); ++s) core[s].wave = wave[s];
  // The DRAM must hold at once the model's weights (codes and scales of every layer the design
  // runs), the KV cache its attention reads and the activations live at the busiest point of
  // one copy of the block (peak_activations).
  const double capacity = a.dram.capacity_gib * 1073741824.0;
  if (capacity > 0 && !sims.empty()) {
    const auto [acts, at] = peak_activations(t, sims, p);
    if (weights + kv + acts > capacity) {
      char buf[240];
      std::snprintf(buf, sizeof buf,
                    "%.2f GiB of weights and %.2f GiB of KV cache, more than dram.capacity_gib = "
                    "%g can hold with %.2f GiB of activations",
                    weights / 1073741824.0, kv / 1073741824.0, a.dram.capacity_gib,
                    acts / 1073741824.0);
      throw Error("trace '" + t.name + "' on design '" + a.name + "': its layers hold " + buf +
                  " (the layers' outputs live at once at layer '" + t.layers[sims[at].record].name +
                  "', the run's peak; give a larger capacity, 0 to skip the check, or more memory)");
    }
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
