#include "functional/accelerator_engine.hpp"

#include <functional>
#include <utility>

#include "mapping/workload.hpp"
#include "numerics/action_counts.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm_checks.hpp"
#include "units/block_units.hpp"
#include "units/dequant_dgq.hpp"
#include "units/intscale_acc.hpp"

namespace quasar::functional {
namespace {

using arch::Tile;
using IntLoad = std::function<void(const Tile&, WeightTile<std::int8_t>&)>;
using IntEdge = std::function<void(const Tile&, const std::vector<std::int64_t>&)>;
using F16Load = std::function<void(const Tile&, WeightTile<std::uint16_t>&)>;

std::string shape_text(std::size_t m, std::size_t k, std::size_t n) {
  return std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
}

// The plan streams psum_in into this tile (the previous k-tile's partial sums), or starts the
// chain from 0 (every output-stationary tile: each PE sums its k-chunk from 0).
bool chains(const Tile& t) { return arch::psum_chained(t); }

// The tokens whose outputs a tile computes: its m-block (WS: all M in the n_outer order), its
// m-tile (OS).
std::size_t first_token(const Tile& t) { return static_cast<std::size_t>(t.m0); }
std::size_t end_token(const Tile& t) { return static_cast<std::size_t>(t.m0 + t.m); }

// The tile that starts a pass of all of W through the array (one per WS m-block, one per OS
// m-tile: the weights are read, decoded and dequantized again). Per-weight events (invalid
// codes, dequantization range) are counted on the first pass only, once per weight element as
// the reference counts them; the work of every pass is tallied.
bool starts_weight_pass(const Tile& t) { return t.n0 == 0 && t.k0 == 0; }
bool first_weight_pass(const Tile& t) { return t.m0 == 0; }

// The group a tile completes (the plan asks for rescales only on such tiles).
std::size_t completed_group(const Tile& t, std::size_t group) {
  return static_cast<std::size_t>((t.k0 + t.rows_used) / group - 1);
}

// One output through the epilogue's fp16 converter; an infinite result is an overflow event.
void write_output(MatrixH& y, std::size_t m, std::size_t n, float v, DatapathTally& tally) {
  const std::uint16_t h = f32_to_f16(v);
  if (f16_is_inf(h)) ++tally.output_inf;
  y(m, n) = h;
  ++tally.epilogues;
}

class Runner {
 public:
  Runner(const arch::ArchSpec& a, Scheme s, std::size_t m, std::size_t k, std::size_t n)
      : a_(a), s_(s), m_(m), k_(k), n_(n) {}

  // The hardware's widths must be the ones the GEMM asks for.
  void require_width(const char* unit, std::uint32_t design_bits, int asked,
                     const char* option) const {
    if (static_cast<int>(design_bits) != asked) {
      throw Error("design '" + a_.name + "' has " + std::to_string(design_bits) + "-bit " + unit +
                  "; the " + std::string(scheme_name(s_)) + " GEMM " + shape_text(m_, k_, n_) +
                  " asks for " + option + " = " + std::to_string(asked) +
                  " (set the design's width or the trace's)");
    }
  }

  mapping::GemmPlan plan(std::size_t group, const GemmOptions& opt, DequantMode dequant,
                         DintSet dint) const {
    return mapping::plan_gemm(a_, gemm_layer(s_, m_, k_, n_, group, opt, dequant, dint));
  }

  bool os() const { return a_.array.dataflow == arch::Dataflow::os; }

  // Integer PEs: load, stream, edge, in the plan's order.
  std::vector<std::int64_t> run_int(const mapping::GemmPlan& p, const MatrixI8& x,
                                    const PeConfig& pe, const IntLoad& load,
                                    const IntEdge& group_done, const IntEdge& last_k,
                                    DatapathTally& tally) const {
    std::vector<std::int64_t> psum(m_ * n_, 0);
    WeightTile<std::int8_t> wt;
    arch::play_tiles(p.tiles, p.runs, [&](const Tile& t, std::uint64_t) {
      if (starts_weight_pass(t)) ++tally.weight_passes;
      wt.resize(t.rows_used, t.cols_used);
      load(t, wt);
      stream_int_tile(t, wt, x, chains(t), pe, psum, n_, tally);
      if (t.rescale_ops) {
        if (!group_done) throw Error("accelerator datapath: a rescale on a scheme without groups");
        group_done(t, psum);
      }
      if (t.last_k) last_k(t, psum);
    });
    return psum;
  }

  // fp16 PEs. With an accumulation tile T (GemmOptions::k_tile, 0 < T < K) the chain restarts
  // at every multiple of T and the edge adds the finished chains in fp32, in k order (WS). An
  // output-stationary PE sums all of K in one chunk and nothing merges chains: it follows only
  // T >= K (or 0), one pass over K.
  MatrixH run_fp16(const mapping::GemmPlan& p, const MatrixH& x, const GemmOptions& opt,
                   const F16Load& load, DatapathTally& tally) const {
    const std::size_t T = (opt.k_tile == 0 || opt.k_tile >= k_) ? k_ : opt.k_tile;
    const bool restarts = T < k_;
    if (restarts && os()) {
      throw Error("design '" + a_.name + "' cannot follow fp16 accumulation tile k_tile = " +
                  std::to_string(opt.k_tile) + ": its output-stationary PEs sum each output " +
                  "over all of K (" + std::to_string(k_) + ") in one pass, with no chain " +
                  "restarts or edge merges (k_tile 0 or >= K runs)");
    }
    if (restarts && T % p.k_tile != 0) {
      throw Error("design '" + a_.name + "' cannot follow fp16 accumulation tile k_tile = " +
                  std::to_string(opt.k_tile) + ": its partial-sum chains can restart only at " +
                  "multiples of its k-tile (" + std::to_string(p.k_tile) + " rows)");
    }
    std::vector<float> psum(m_ * n_, 0.0f), merged(m_ * n_, 0.0f);
    MatrixH y(m_, n_);
    WeightTile<std::uint16_t> wt;
    arch::play_tiles(p.tiles, p.runs, [&](const Tile& t, std::uint64_t) {
      if (starts_weight_pass(t)) ++tally.weight_passes;
      wt.resize(t.rows_used, t.cols_used);
      load(t, wt);
      const bool chain = chains(t) && !(restarts && t.k0 % T == 0);
      stream_fp16_tile(t, wt, x, chain, psum, n_, tally);
      const bool chain_ends = t.last_k || (t.k0 + t.rows_used) % T == 0;
      for (std::size_t m = first_token(t); m < end_token(t); ++m) {
        for (std::size_t j = 0; j < t.cols_used; ++j) {
          const std::size_t n = static_cast<std::size_t>(t.n0 + j);
          if (restarts && chain_ends) {
            merged[m * n_ + n] = merged[m * n_ + n] + psum[m * n_ + n];
            ++tally.merges;
          }
          if (t.last_k)
            write_output(y, m, n, restarts ? merged[m * n_ + n] : psum[m * n_ + n], tally);
        }
      }
    });
    return y;
  }

  // Counters: the datapath's own events, and the formula's actions once the datapath is shown
  // to have done exactly the work the formula counts. Weight decodes and fused dequantizations
  // happen once per pass of W through the array: the formula's count times the passes (OS: one
  // pass per m-tile, as the plan's dequant_ops count them).
  GemmCounters counters(const ActionShape& shape, const DatapathTally& t,
                        const char* pe_stage) const {
    GemmCounters c;
    detail::finish_output(c, s_, shape, t.output_inf);
    c.add_overflow(pe_stage, t.pe_wraps);
    c.add_overflow(stage::kIntScaleAcc, t.edge_wraps);
    c.add_overflow(stage::kDequantRange, t.dequant_range);
    c.invalid_codes = t.invalid_codes;
    const SchemeInfo& st = traits(s_);
    expect(t.macs, c.action(st.mac_action), "MACs");
    expect(t.epilogues, c.action(act::kCvtFp32ToFp16), "output conversions");
    const std::uint64_t passes = t.weight_passes;
    const bool fused = shape.dequant == DequantMode::fused;
    expect(t.decodes, c.action(act::kDecodeDint4) * passes, "dint4 decodes");
    expect(t.dequants,
           st.dequant_action ? c.action(st.dequant_action) * (fused ? passes : 1) : 0,
           "weight dequantizations");
    if (rescales(st)) {
      expect(t.rescales,
             c.action(rescale_int(st) ? act::intscale_add(shape.opt.acc_bits) : act::kCvtIntToFp32),
             "rescales");
    }
    if (float_accumulation(st)) {
      expect(t.macs + t.merges, c.action(act::kAddFp32), "fp32 adds");
    }
    return c;
  }

 private:
  void expect(std::uint64_t did, std::uint64_t formula, const char* what) const {
    if (did != formula) {
      throw Error("accelerator datapath of design '" + a_.name + "' did " + std::to_string(did) +
                  " " + what + " for " + std::string(scheme_name(s_)) + " " +
                  shape_text(m_, k_, n_) + ", the action formula counts " +
                  std::to_string(formula));
    }
  }

  const arch::ArchSpec& a_;
  Scheme s_;
  std::size_t m_, k_, n_;
};

ActionShape action_shape(std::size_t m, std::size_t k, std::size_t n, const GemmOptions& opt) {
  ActionShape shape;
  shape.m = m, shape.n = n, shape.k = k, shape.opt = opt;
  return shape;
}

PeConfig pe_of(const arch::ArchSpec& a, DintSet set = DintSet::A) {
  return PeConfig{a.array.pe, static_cast<int>(a.array.acc_bits), set};
}

// Weight codes straight onto the weight ports (int8, int4 or raw dint4 codes).
IntLoad load_codes(const MatrixI8& codes) {
  return [&codes](const Tile& t, WeightTile<std::int8_t>& wt) {
    for (std::size_t i = 0; i < wt.rows; ++i) {
      for (std::size_t j = 0; j < wt.cols; ++j) {
        wt.at(i, j) = codes(static_cast<std::size_t>(t.n0 + j), static_cast<std::size_t>(t.k0 + i));
      }
    }
  };
}

}  // namespace

trace::Layer gemm_layer(Scheme s, std::size_t m, std::size_t k, std::size_t n,
                        std::size_t group_size, const GemmOptions& opt, DequantMode dequant,
                        DintSet dint) {
  trace::Layer l;
  l.name = std::string(scheme_name(s)) + " " + shape_text(m, k, n);
  l.op = trace::Op::linear;
  l.m = m, l.k = k, l.n = n;
  trace::LayerScheme ls;
  ls.scheme = s;
  ls.group_size = group_size;
  ls.acc_bits = opt.acc_bits;
  ls.psum_bits = opt.psum_bits;
  ls.k_tile = opt.k_tile;
  ls.dequant = dequant;
  ls.dint_set = dint;
  ls.block_acc = opt.block_acc;
  ls.frac_bits = opt.frac_bits;
  l.scheme = ls;
  return l;
}

AcceleratorEngine::AcceleratorEngine(arch::ArchSpec spec) : spec_(std::move(spec)) {
  const std::string why = arch::check_consistency(spec_);
  if (!why.empty()) throw Error("design '" + spec_.name + "': " + why);
  name_ = "accel:" + spec_.name;
}

std::string AcceleratorEngine::describe() const {
  return "accelerator datapath of design '" + spec_.name + "' (" +
         std::to_string(spec_.array.rows) + " x " + std::to_string(spec_.array.cols) + " " +
         arch::pe_kind_name(spec_.array.pe) + " PEs, " +
         (spec_.array.dataflow == arch::Dataflow::ws ? "weight-stationary" : "output-stationary") +
         ")";
}

GemmResult AcceleratorEngine::fp16(const MatrixH& x, const MatrixH& w,
                                   const GemmOptions& opt) const {
  detail::validate_fp16(x, w);
  const std::size_t M = x.rows(), K = x.cols(), N = w.rows();
  const Runner run(spec_, Scheme::fp16, M, K, N);
  const mapping::GemmPlan p = run.plan(K, opt, DequantMode::fused, DintSet::A);
  DatapathTally tally;
  const F16Load load = [&w](const Tile& t, WeightTile<std::uint16_t>& wt) {
    for (std::size_t i = 0; i < wt.rows; ++i) {
      for (std::size_t j = 0; j < wt.cols; ++j) {
        wt.at(i, j) = w(static_cast<std::size_t>(t.n0 + j), static_cast<std::size_t>(t.k0 + i));
      }
    }
  };
  GemmResult r{run.run_fp16(p, x, opt, load, tally), {}};
  r.counters = run.counters(action_shape(M, K, N, opt), tally, stage::kAccumulator);
  return r;
}

GemmResult AcceleratorEngine::w4a16(const MatrixH& x, const QuantizedWeights& w,
                                    const GemmOptions& opt) const {
  detail::validate_w4a16(x, w);
  const std::size_t M = x.rows(), K = x.cols(), N = w.rows();
  const Runner run(spec_, Scheme::w4a16, M, K, N);
  const mapping::GemmPlan p = run.plan(w.group_size, opt, DequantMode::fused, DintSet::A);
  DatapathTally tally;
  // Fused dequantization on load: each weight element passes the dequantizer once.
  const F16Load load = [&w, &tally](const Tile& t, WeightTile<std::uint16_t>& wt) {
    for (std::size_t i = 0; i < wt.rows; ++i) {
      const auto k = static_cast<std::size_t>(t.k0 + i);
      const std::size_t g = k / w.group_size;
      for (std::size_t j = 0; j < wt.cols; ++j) {
        const auto n = static_cast<std::size_t>(t.n0 + j);
        const DequantF16Result d = dequant_w4_fp16(w.codes(n, k), w.zero(n, g), w.scale(n, g));
        wt.at(i, j) = d.w;
        tally.dequant_range += d.inf && first_weight_pass(t) ? 1 : 0;
        ++tally.dequants;
      }
    }
  };
  GemmResult r{run.run_fp16(p, x, opt, load, tally), {}};
  r.counters = run.counters(action_shape(M, K, N, opt), tally, stage::kAccumulator);
  return r;
}

GemmResult AcceleratorEngine::w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                                   const GemmOptions& opt) const {
  detail::validate_w8a8(x, w, opt);
  const std::size_t M = x.q.rows(), K = w.cols(), N = w.rows();
  const Runner run(spec_, Scheme::w8a8, M, K, N);
  run.require_width("PE accumulators", spec_.array.acc_bits, opt.acc_bits, "acc_bits");
  const mapping::GemmPlan p = run.plan(K, opt, DequantMode::fused, DintSet::A);
  DatapathTally tally;
  GemmResult r{MatrixH(M, N), {}};
  const IntEdge epilogue = [&](const Tile& t, const std::vector<std::int64_t>& acc) {
    for (std::size_t m = first_token(t); m < end_token(t); ++m) {
      for (std::size_t j = 0; j < t.cols_used; ++j) {
        const auto n = static_cast<std::size_t>(t.n0 + j);
        const float scale = x.scale_of(m) * w.scale(n, 0);
        write_output(r.y, m, n, static_cast<float>(acc[m * N + n]) * scale, tally);
      }
    }
  };
  run.run_int(p, x.q, pe_of(spec_), load_codes(w.codes), nullptr, epilogue, tally);
  r.counters = run.counters(action_shape(M, K, N, opt), tally, stage::kAccumulator);
  return r;
}

GemmResult AcceleratorEngine::w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                                        const GemmOptions& opt) const {
  detail::validate_w4a8_dint(x, w, opt);
  const std::size_t M = x.q.rows(), K = w.cols(), N = w.rows();
  const Runner run(spec_, Scheme::w4a8_dint, M, K, N);
  run.require_width("PE accumulators", spec_.array.acc_bits, opt.acc_bits, "acc_bits");
  const mapping::GemmPlan p = run.plan(K, opt, DequantMode::fused, w.dint_set);
  DatapathTally tally;
  // The PE's decoder reads numerics' table (the only copy); a code it marks invalid
  // contributes 0 and is counted once per weight element, as it is loaded.
  const Dint4Table& table = dint4_table(w.dint_set);
  const IntLoad codes = load_codes(w.codes);
  const IntLoad load = [&](const Tile& t, WeightTile<std::int8_t>& wt) {
    codes(t, wt);
    for (std::int8_t c : wt.v) {
      ++tally.decodes;
      const bool invalid = !table.valid[static_cast<std::size_t>(c & 0xF)];
      tally.invalid_codes += invalid && first_weight_pass(t) ? 1 : 0;
    }
  };
  GemmResult r{MatrixH(M, N), {}};
  const IntEdge epilogue = [&](const Tile& t, const std::vector<std::int64_t>& acc) {
    for (std::size_t m = first_token(t); m < end_token(t); ++m) {
      for (std::size_t j = 0; j < t.cols_used; ++j) {
        const auto n = static_cast<std::size_t>(t.n0 + j);
        const float scale = x.scale_of(m) * w.scale(n, 0) * 0.5f;
        write_output(r.y, m, n, static_cast<float>(acc[m * N + n]) * scale, tally);
      }
    }
  };
  run.run_int(p, x.q, pe_of(spec_, w.dint_set), load, nullptr, epilogue, tally);
  r.counters = run.counters(action_shape(M, K, N, opt), tally, stage::kAccumulator);
  return r;
}

GemmResult AcceleratorEngine::w4a8_fs(const QuantizedActivations& x, const QuantizedWeights& w,
                                      const GemmOptions& opt) const {
  detail::validate_w4a8_group(x, w, opt, "w4a8-fs");
  const std::size_t M = x.q.rows(), K = w.cols(), N = w.rows(), G = w.group_size;
  const Runner run(spec_, Scheme::w4a8_fs, M, K, N);
  run.require_width("PE accumulators", spec_.array.acc_bits, opt.psum_bits, "psum_bits");
  const mapping::GemmPlan p = run.plan(G, opt, DequantMode::fused, DintSet::A);
  DatapathTally tally;
  std::vector<float> acc_f(M * N, 0.0f);  // the float-scale units' fp32 accumulators
  const IntEdge rescale = [&](const Tile& t, const std::vector<std::int64_t>& psum) {
    const std::size_t g = completed_group(t, G);
    for (std::size_t m = first_token(t); m < end_token(t); ++m) {
      for (std::size_t j = 0; j < t.cols_used; ++j) {
        const auto n = static_cast<std::size_t>(t.n0 + j);
        acc_f[m * N + n] = floatscale_step(acc_f[m * N + n], psum[m * N + n], w.scale(n, g));
        ++tally.rescales;
      }
    }
  };
  GemmResult r{MatrixH(M, N), {}};
  const IntEdge epilogue = [&](const Tile& t, const std::vector<std::int64_t>&) {
    for (std::size_t m = first_token(t); m < end_token(t); ++m) {
      for (std::size_t j = 0; j < t.cols_used; ++j) {
        const auto n = static_cast<std::size_t>(t.n0 + j);
        write_output(r.y, m, n, acc_f[m * N + n] * x.scale_of(m), tally);
      }
    }
  };
  run.run_int(p, x.q, pe_of(spec_), load_codes(w.codes), rescale, epilogue, tally);
  ActionShape shape = action_shape(M, K, N, opt);
  shape.groups = w.groups();
  r.counters = run.counters(shape, tally, stage::kGroupPartialSum);
  return r;
}

GemmResult AcceleratorEngine::w4a8_is(const QuantizedActivations& x, const QuantizedWeights& w,
                                      const IntegerScales& s, const GemmOptions& opt) const {
  detail::validate_w4a8_group(x, w, opt, "w4a8-is");
  const std::size_t M = x.q.rows(), K = w.cols(), N = w.rows(), G = w.group_size;
  const std::int64_t s_max = detail::validate_int_scales(w, s);
  const Runner run(spec_, Scheme::w4a8_is, M, K, N);
  run.require_width("PE accumulators", spec_.array.acc_bits, opt.psum_bits, "psum_bits");
  run.require_width("integer-scale accumulators", spec_.edge.intscale_acc_bits, opt.acc_bits,
                    "acc_bits");
  const mapping::GemmPlan p = run.plan(G, opt, DequantMode::fused, DintSet::A);
  DatapathTally tally;
  const units::IntScaleAcc unit(static_cast<int>(spec_.edge.intscale_acc_bits));
  std::vector<std::int64_t> acc_i(M * N, 0);  // the integer-scale units' accumulators
  const IntEdge rescale = [&](const Tile& t, const std::vector<std::int64_t>& psum) {
    const std::size_t g = completed_group(t, G);
    for (std::size_t m = first_token(t); m < end_token(t); ++m) {
      for (std::size_t j = 0; j < t.cols_used; ++j) {
        const auto n = static_cast<std::size_t>(t.n0 + j);
        const units::AccStep st = unit.step(acc_i[m * N + n], psum[m * N + n], s.S(n, g));
        acc_i[m * N + n] = st.acc;
        tally.edge_wraps += st.overflow ? 1 : 0;
        ++tally.rescales;
      }
    }
  };
  const float amp_inv = exp2_exact(-s.bits);
  GemmResult r{MatrixH(M, N), {}};
  const IntEdge epilogue = [&](const Tile& t, const std::vector<std::int64_t>&) {
    for (std::size_t m = first_token(t); m < end_token(t); ++m) {
      const float scale = x.scale_of(m) * amp_inv;
      for (std::size_t j = 0; j < t.cols_used; ++j) {
        const auto n = static_cast<std::size_t>(t.n0 + j);
        write_output(r.y, m, n, static_cast<float>(acc_i[m * N + n]) * scale, tally);
      }
    }
  };
  run.run_int(p, x.q, pe_of(spec_), load_codes(w.codes), rescale, epilogue, tally);
  ActionShape shape = action_shape(M, K, N, opt);
  shape.groups = w.groups();
  shape.int_scale_max = s_max;
  r.counters = run.counters(shape, tally, stage::kGroupPartialSum);
  return r;
}

namespace {

// DGQ and QServe: int8 weights from a two-level dequantizer, an int8 GEMM over the whole K,
// then y = F16(F32(acc) * (F32(s_ch[n]) * F32(s_x)) [+ bias]).
GemmResult two_level(const arch::ArchSpec& a, Scheme s, const QuantizedActivations& x,
                     const TwoLevelWeights& w, DequantMode mode, const GemmOptions& opt) {
  const std::size_t M = x.q.rows(), K = w.cols(), N = w.rows(), G = w.group_size;
  const Runner run(a, s, M, K, N);
  run.require_width("PE accumulators", a.array.acc_bits, opt.acc_bits, "acc_bits");
  const mapping::GemmPlan p = run.plan(G, opt, mode, DintSet::A);
  DatapathTally tally;
  const bool dgq = s == Scheme::w4a8_dgq;
  auto dequant = [&](std::size_t n, std::size_t k, bool count_events) {
    const std::size_t g = k / G;
    const units::DequantDgqResult d =
        dgq ? units::dequant_dgq(w.q(n, k), w.zeros(n, g),
                                 static_cast<std::int8_t>(w.group_scale(n, g)))
            : dequant_qserve(w.q(n, k), w.zeros(n, g),
                             static_cast<std::uint8_t>(w.group_scale(n, g)));
    tally.dequant_range += d.out_of_range && count_events ? 1 : 0;
    ++tally.dequants;
    return d.w8;
  };
  IntLoad load;
  MatrixI8 w8;
  if (mode == DequantMode::materialized) {
    // The released code's path: one pass writes the whole N x K int8 copy, the array reads it.
    w8 = MatrixI8(N, K);
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t k = 0; k < K; ++k) w8(n, k) = dequant(n, k, true);
    }
    load = load_codes(w8);
  } else {
    load = [&](const Tile& t, WeightTile<std::int8_t>& wt) {
      for (std::size_t i = 0; i < wt.rows; ++i) {
        for (std::size_t j = 0; j < wt.cols; ++j) {
          wt.at(i, j) = dequant(static_cast<std::size_t>(t.n0 + j),
                                static_cast<std::size_t>(t.k0 + i), first_weight_pass(t));
        }
      }
    };
  }
  GemmResult r{MatrixH(M, N), {}};
  const IntEdge epilogue = [&](const Tile& t, const std::vector<std::int64_t>& acc) {
    for (std::size_t m = first_token(t); m < end_token(t); ++m) {
      for (std::size_t j = 0; j < t.cols_used; ++j) {
        const auto n = static_cast<std::size_t>(t.n0 + j);
        const float scale = w.channel_scale[n] * x.scale_of(m);
        float v = static_cast<float>(acc[m * N + n]) * scale;
        if (!w.bias.empty()) v = v + w.bias[n];
        write_output(r.y, m, n, v, tally);
      }
    }
  };
  run.run_int(p, x.q, pe_of(a), load, nullptr, epilogue, tally);
  ActionShape shape = action_shape(M, K, N, opt);
  shape.bias = !w.bias.empty();
  shape.dequant = mode;
  r.counters = run.counters(shape, tally, stage::kAccumulator);
  return r;
}

}  // namespace

GemmResult AcceleratorEngine::w4a8_dgq(const QuantizedActivations& x, const TwoLevelWeights& w,
                                       DequantMode mode, const GemmOptions& opt) const {
  detail::validate_two_level_gemm(x, w, opt, Scheme::w4a8_dgq);
  return two_level(spec_, Scheme::w4a8_dgq, x, w, mode, opt);
}

GemmResult AcceleratorEngine::w4a8_qserve(const QuantizedActivations& x, const TwoLevelWeights& w,
                                          const GemmOptions& opt) const {
  detail::validate_two_level_gemm(x, w, opt, Scheme::w4a8_qserve);
  return two_level(spec_, Scheme::w4a8_qserve, x, w, DequantMode::fused, opt);
}

ArrayIntResult array_int8_gemm(const arch::ArchSpec& spec, const MatrixI8& x, const MatrixI8& w,
                               int acc_bits) {
  arch::ArchSpec a = spec;
  a.array.pe = arch::PeKind::int8;
  a.array.acc_bits = static_cast<std::uint32_t>(acc_bits);
  a.schemes = {Scheme::w8a8};
  detail::check_same_k(x.cols(), w.cols(), "x", "w");
  const std::size_t M = x.rows(), K = x.cols(), N = w.rows();
  GemmOptions opt;
  opt.acc_bits = acc_bits;
  const Runner run(a, Scheme::w8a8, M, K, N);
  ArrayIntResult r;
  r.acc = run.run_int(
      run.plan(K, opt, DequantMode::fused, DintSet::A), x, pe_of(a), load_codes(w), nullptr,
      [](const Tile&, const std::vector<std::int64_t>&) {}, r.tally);
  return r;
}

GemmResult AcceleratorEngine::block_scaled(Scheme s, const BlockTensor& x, const BlockTensor& w,
                                           const GemmOptions& opt) const {
  check_block_operands(s, x, w, opt);
  const BlockAccOptions bopt = block_acc_options(opt);
  detail::validate_block_gemm(x, w, bopt);
  const SchemeInfo& st = traits(s);
  const std::size_t M = x.rows(), K = x.cols(), N = w.rows(), B = st.block, blocks = K / B;
  const Runner run(spec_, s, M, K, N);
  const bool nv = st.e4m3_scales, fixed = !nv && opt.block_acc == BlockAcc::fixed;
  // The hardware computes what it has: its block units' accumulation and widths, and PE sums
  // wide enough for a block's exact integer.
  if (!nv && spec_.edge.block_acc != opt.block_acc) {
    throw Error("design '" + spec_.name + "' has " + arch::block_acc_name(spec_.edge.block_acc) +
                " block-scale accumulators; the " + std::string(st.name) + " GEMM " +
                shape_text(M, K, N) + " asks for block_acc " + arch::block_acc_name(opt.block_acc));
  }
  if (fixed) {
    run.require_width("block-scale accumulators", spec_.edge.block_acc_bits, opt.acc_bits,
                      "acc_bits");
    run.require_width("block-scale accumulators' fraction", spec_.edge.block_frac_bits,
                      opt.frac_bits, "frac_bits");
  }
  const int sum_bits = block_sum_bits(st.x_elem, st.w_elem, st.block);
  if (static_cast<int>(spec_.array.acc_bits) < sum_bits) {
    throw Error("design '" + spec_.name + "' has " + std::to_string(spec_.array.acc_bits) +
                "-bit PE partial sums; a " + std::string(st.name) + " block sum needs " +
                std::to_string(sum_bits) + " bits");
  }
  const mapping::GemmPlan p = run.plan(B, opt, DequantMode::fused, DintSet::A);
  DatapathTally tally;
  // The PEs' element decoders: once per element (an invalid code decodes to 0 and counts, as
  // the reference counts it once per element); the scale register files: an E8M0 255 counts
  // once per code as it is loaded.
  std::vector<std::int32_t> xi(M * K), wi(N * K);
  for (std::size_t i = 0; i < M * K; ++i) {
    const std::uint8_t c = x.codes.values()[i];
    tally.invalid_codes += elem_valid(x.elem, c) ? 0 : 1;
    xi[i] = elem_int(x.elem, c);
  }
  for (std::size_t i = 0; i < N * K; ++i) {
    const std::uint8_t c = w.codes.values()[i];
    tally.invalid_codes += elem_valid(w.elem, c) ? 0 : 1;
    wi[i] = elem_int(w.elem, c);
  }
  std::uint64_t invalid_scales = 0;
  if (!nv) {
    for (std::uint8_t c : x.scales.values()) invalid_scales += e8m0_valid(c) ? 0 : 1;
    for (std::uint8_t c : w.scales.values()) invalid_scales += e8m0_valid(c) ? 0 : 1;
  }
  const int unit = block_unit(st.x_elem, st.w_elem);
  std::vector<std::int64_t> psum(M * N, 0);
  std::vector<std::uint32_t> acc_f(M * N, 0u);  // fp32 accumulators (+0)
  std::vector<std::int64_t> acc_i(M * N, 0);    // fixed accumulators
  std::uint64_t align_round = 0, acc_events = 0;
  GemmResult r{MatrixH(M, N), {}};
  std::uint64_t nonfinite = 0;
  arch::play_tiles(p.tiles, p.runs, [&](const Tile& t, std::uint64_t) {
    if (starts_weight_pass(t)) ++tally.weight_passes;
    const auto k0 = static_cast<std::size_t>(t.k0);
    // Stream: each (token, column) sums its tile's k range in increasing k, exactly (the block
    // sum is < 2^sum_bits, within the PE width checked above).
    for (std::size_t m = first_token(t); m < end_token(t); ++m) {
      for (std::size_t j = 0; j < t.cols_used; ++j) {
        const auto n = static_cast<std::size_t>(t.n0 + j);
        std::int64_t a = chains(t) ? psum[m * N + n] : 0;
        for (std::size_t i = 0; i < t.rows_used; ++i)
          a += static_cast<std::int64_t>(xi[m * K + k0 + i]) * wi[n * K + k0 + i];
        psum[m * N + n] = a;
      }
    }
    tally.macs += t.m * t.rows_used * t.cols_used;
    ++tally.tiles;
    // Edge: a completed block's sum through the block-scale unit of every output.
    if (t.rescale_ops) {
      const std::size_t b = completed_group(t, B);
      for (std::size_t m = first_token(t); m < end_token(t); ++m) {
        for (std::size_t j = 0; j < t.cols_used; ++j) {
          const auto n = static_cast<std::size_t>(t.n0 + j);
          const std::size_t o = m * N + n;
          const auto I = static_cast<std::int32_t>(psum[o]);
          const std::uint8_t sx = x.scales(m, b), sw = w.scales(n, b);
          if (nv) {
            acc_f[o] = units::Nvfp4Fp32Acc::step(acc_f[o], I, sx, sw).acc;
          } else if (!fixed) {
            acc_f[o] = units::MxFp32Acc::step(acc_f[o], I, sx, sw, unit).acc;
          } else {
            const units::MxFixedStep u = units::MxFixedAcc::step(acc_i[o], I, sx, sw, unit,
                                                                opt.acc_bits, opt.frac_bits);
            // The unit raises one overflow flag; the spec counts a term that did not fit and a
            // wrapping add apart (numerics row 35), so the two are told apart here.
            if (!u.invalid_scale) {
              const FixedTerm term = block_term_fixed(
                  I, mx_block_shift(sx, sw, unit) + opt.frac_bits, opt.acc_bits);
              const bool wrapped = !fits_signed(int128_t{acc_i[o]} + term.value, opt.acc_bits);
              acc_events += (term.overflow ? 1 : 0) + (wrapped ? 1 : 0);
            }
            align_round += u.align_round ? 1 : 0;
            acc_i[o] = u.acc;
          }
          ++tally.rescales;
        }
      }
    }
    if (t.last_k) {
      for (std::size_t m = first_token(t); m < end_token(t); ++m) {
        for (std::size_t j = 0; j < t.cols_used; ++j) {
          const auto n = static_cast<std::size_t>(t.n0 + j);
          const std::size_t o = m * N + n;
          const float v = nv      ? nvfp4_result(detail::float_of(acc_f[o]), unit,
                                                 x.tensor_scale, w.tensor_scale)
                          : fixed ? fixed_acc_to_f32(acc_i[o], opt.frac_bits)
                                  : detail::float_of(acc_f[o]);
          const std::uint16_t h = f32_to_f16(v);
          // (fp32 terms of opposite infinities give a NaN: counted with the infinities.)
          if ((h & 0x7c00u) == 0x7c00u) ++nonfinite;
          r.y(m, n) = h;
          ++tally.epilogues;
        }
      }
    }
  });
  // Counters: the datapath's events, and the one action formula once the datapath is shown to
  // have done its MACs, block steps and output conversions.
  ActionShape shape = action_shape(M, K, N, opt);
  shape.groups = blocks;
  add_scheme_actions(r.counters, s, shape);
  r.counters.invalid_codes = tally.invalid_codes;
  r.counters.add_overflow(stage::kInvalidScale, invalid_scales);
  r.counters.add_overflow(stage::kBlockAlignRound, align_round);
  r.counters.add_overflow(stage::kBlockAcc, acc_events);
  r.counters.add_overflow(stage::kOutputFp16Inf, nonfinite);
  const auto expect = [&](std::uint64_t did, std::uint64_t formula, const char* what) {
    if (did != formula) {
      throw Error("accelerator datapath of design '" + spec_.name + "' did " +
                  std::to_string(did) + " " + what + " for " + std::string(st.name) + " " +
                  shape_text(M, K, N) + ", the action formula counts " + std::to_string(formula));
    }
  };
  expect(tally.macs, r.counters.action(st.mac_action), "MACs");
  expect(tally.epilogues, r.counters.action(act::kCvtFp32ToFp16), "output conversions");
  expect(tally.rescales, M * N * blocks, "block steps");
  return r;
}

}  // namespace quasar::functional
