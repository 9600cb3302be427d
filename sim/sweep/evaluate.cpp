#include "sweep/evaluate.hpp"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/sweep_config.hpp"
#include "config/tech_config.hpp"
#include "cost/cost_model.hpp"
#include "numerics/error.hpp"
#include "numerics/error_metrics.hpp"
#include "numerics/scheme_runner.hpp"
#include "numerics/synthetic.hpp"
#include "report/run_report.hpp"
#include "mapping/workload.hpp"
#include "trace/generate.hpp"
#include "trace/model_config.hpp"

namespace quasar::sweep {
namespace {

trace::Trace workload_trace(const Workload& w, const arch::ArchSpec& a) {
  if (!w.file.empty()) return trace::read_manifest(w.file);
  trace::GenSpec g;
  g.model = trace::embedded_model(w.model);
  g.phase = w.phase == "prefill" ? trace::Phase::prefill : trace::Phase::decode;
  g.seq = w.seq;
  g.batch = w.batch;
  g.context = w.context;
  g.decoder_layers = w.decoder_layers;
  trace::LayerScheme base;
  base.group_size = w.group;
  g.linear_scheme = mapping::design_layer_scheme(a, a.schemes.front(), base);
  // The lm_head in the design's scheme too, so every design runs the same records (attention
  // runs as each design's `attention` block says): the points compare equal workloads.
  g.overrides["lm_head"] = g.linear_scheme;
  return trace::generate(g);
}

double sram_kib(const arch::ArchSpec& a) {
  return static_cast<double>(a.buffers.ifmap.size_bytes + a.buffers.weight.size_bytes +
                             a.buffers.ofmap.size_bytes) /
         1024.0;
}

double area_mm2(const arch::ArchSpec& a) {
  static const cost::Tech tech = config::load_tech();
  return cost::price_run(a, arch::RunStats{}, tech).area_um2 * 1e-6;
}

// Accuracy proxy for the design's scheme: its quantizers and reference GEMM on a seeded
// LLM-like problem (32 tokens x the trace's first linear K x 64 channels, the trace's group
// size), SQNR in dB against the fp32 product. Without it nothing in a sweep charges a format
// for its error.
double scheme_sqnr_db(const arch::ArchSpec& a, const trace::Trace& t) {
  const Scheme s = a.schemes.front();
  for (const trace::Layer& l : t.layers) {
    if (!trace::is_gemm(l.op) || !l.scheme || l.scheme->scheme != s) continue;
    SyntheticSpec syn;
    syn.m = 32;
    syn.k = static_cast<std::size_t>(l.k);
    syn.n = 64;
    syn.seed = 1;
    const GemmData d = synthetic_llm_gemm(syn);
    SchemeConfig cfg;
    cfg.group_size = static_cast<std::size_t>(l.scheme->group_size);
    cfg.dgq_dequant = l.scheme->dequant;
    const MatrixF ref = float_reference(d.x, d.w);
    return run_scheme(s, d.x, d.w, cfg, ref).error.sqnr_db;
  }
  return std::nan("");
}

nlohmann::ordered_json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

StoredPoint stored_header(const Point& p) {
  StoredPoint s;
  s.id = p.id;
  s.index = p.index;
  s.design = p.design;
  s.workload = p.workload_label;
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : p.settings) j[k] = v;
  s.settings_json = j.dump();
  return s;
}

std::string constraint_violation(const SweepSpec& s, const Point& p) {
  if (s.constraints.empty()) return "";
  // Area, PEs and SRAM do not depend on the clock: a point that misses its clock still has them.
  const arch::ArchSpec a =
      config::resolve_design(p.design, p.settings, /*check_timing=*/false).spec;
  for (const Constraint& c : s.constraints) {
    const double x = c.metric == "area_mm2" ? area_mm2(a)
                     : c.metric == "pes"    ? static_cast<double>(a.array.rows) * a.array.cols
                                            : sram_kib(a);
    if (!c.holds(x)) {
      std::ostringstream os;
      os << "constraint " << c.text() << " fails (" << c.metric << " = " << x << ")";
      return os.str();
    }
  }
  return "";
}

std::string model_fingerprint() {
  return "report schema " + std::to_string(kReportSchema) + ", tables " +
         fnv1a_hex(config::tech_table_text(config::kDefaultUnitsTable) +
                   config::tech_table_text(config::kDefaultLiteratureTable));
}

StoredPoint evaluate_point(const SweepSpec& s, const Point& p) {
  StoredPoint out = stored_header(p);
  try {
    const arch::ArchSpec a = config::resolve_design(p.design, p.settings).spec;
    const trace::Trace t = workload_trace(p.workload, a);
    const RunReport r =
        run_trace(a, t, s.mode == "cycle" ? arch::Fidelity::cycle : arch::Fidelity::fast);
    std::ostringstream rep;
    print_run_json(rep, r);
    out.report_json = nlohmann::json::parse(rep.str()).dump();
    const double nan = std::nan("");
    const double ms = static_cast<double>(r.stats.cycles) / a.clock_mhz / 1e3;
    nlohmann::ordered_json m;
    m["cycles"] = r.stats.cycles;
    m["latency_ms"] = ms;
    m["energy_mj"] = number_or_null(r.cost ? r.cost->energy_pj * 1e-9 : nan);
    m["uj_per_token"] =
        number_or_null(r.cost && r.cost->tokens ? r.cost->pj_per_token() * 1e-6 : nan);
    m["area_mm2"] = number_or_null(r.cost ? r.cost->area_um2 * 1e-6 : nan);
    m["tops_per_w"] = number_or_null(r.cost ? r.cost->tops_per_w() : nan);
    m["tops_per_mm2"] = number_or_null(r.cost ? r.cost->tops_per_mm2() : nan);
    m["utilization"] = r.stats.utilization();
    m["dram_mb"] = static_cast<double>(r.stats.total(&arch::LayerStats::dram_read_bytes) +
                                       r.stats.total(&arch::LayerStats::dram_write_bytes)) /
                   1e6;
    m["avg_power_w"] = number_or_null(r.cost ? r.cost->avg_power_w() : nan);
    m["pes"] = static_cast<std::uint64_t>(a.array.rows) * a.array.cols;
    m["sram_kib"] = sram_kib(a);
    m["sqnr_db"] = number_or_null(scheme_sqnr_db(a, t));
    out.metrics_json = m.dump();
    out.status = "ok";
  } catch (const std::exception& e) {
    out.status = "error";
    out.error = e.what();
  }
  return out;
}

}  // namespace quasar::sweep
