#include "gemm_study.hpp"

#include <fmt/format.h>
#include <cmath>
#include <nlohmann/json.hpp>

#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "trace/layer_data.hpp"
#include "trace/safetensors.hpp"
#include "trace/scheme_tensors.hpp"
#include "trace/trace.hpp"

#ifndef QUASAR_VERSION
#define QUASAR_VERSION "unknown"
#endif

namespace quasar {
namespace {

std::string act_mode_name(ActQuantMode m) {
  return m == ActQuantMode::per_token ? "per-token" : "per-tensor";
}

// Settings that decide the numbers, as flat strings (the safetensors metadata and the JSON).
std::vector<std::pair<std::string, std::string>> settings(const GemmStudy& s) {
  const SchemeConfig& c = s.spec.config;
  return {
      {"source", s.source},
      {"device", s.device},
      {"m", std::to_string(s.x.rows())},
      {"k", std::to_string(s.x.cols())},
      {"n", std::to_string(s.w.rows())},
      {"group_size", std::to_string(c.group_size)},
      {"act_quant", act_mode_name(c.act_mode)},
      {"acc_bits", std::to_string(c.gemm.acc_bits)},
      {"psum_bits", std::to_string(c.gemm.psum_bits)},
      {"k_tile", std::to_string(c.gemm.k_tile)},
      {"int_scale", c.int_scale.mode == IntScaleMode::fixed
                        ? "fixed 2^" + std::to_string(c.int_scale.bits)
                        : std::string("per-layer")},
      {"dint_set", std::string(dint_set_name(c.dint_set))},
      {"dint_aqas", c.dint_aqas ? "on" : "off"},
      {"dgq_dequant", c.dgq_dequant == DequantMode::fused ? "fused" : "materialized"},
      {"dgq_search", c.dgq_search ? "on" : "off"},
      {"dgq_smoothing", c.dgq_smoothing ? "on" : "off"},
      {"calib_rows", std::to_string(c.calib_rows)},
      {"weight_scale_dtype", std::string(scale_dtype_name(c.weight_scale_dtype))},
      // The MX schemes' block accumulation (NVFP4 always fp32).
      {"block_acc", c.gemm.block_acc == BlockAcc::fp32 ? "fp32" : "fixed"},
      {"block_acc_bits",
       std::to_string(s.spec.acc_bits_given ? c.gemm.acc_bits : kBlockAccBits)},
      {"block_frac_bits", std::to_string(c.gemm.frac_bits)},
  };
}

std::string sqnr_text(double db) { return std::isinf(db) ? "inf" : fmt::format("{:.2f}", db); }

}  // namespace

GemmStudy run_gemm_study(const GemmStudySpec& spec) {
  if (spec.schemes.empty()) throw Error("no scheme selected");
  GemmStudy s;
  s.spec = spec;
  if (spec.input_path.empty()) {
    const SyntheticSpec& syn = spec.synthetic;
    if (syn.m == 0 || syn.k == 0 || syn.n == 0) {
      throw Error("problem size M x K x N = " + std::to_string(syn.m) + " x " +
                  std::to_string(syn.k) + " x " + std::to_string(syn.n) +
                  " is empty; each dimension must be >= 1");
    }
    GemmData d = synthetic_llm_gemm(syn);
    s.x = std::move(d.x);
    s.w = std::move(d.w);
    s.source = "synthetic (seed " + std::to_string(syn.seed) + ")";
  } else {
    const safetensors::File f = safetensors::read(spec.input_path);
    s.x = safetensors::to_matrix_f32(f.get("x", spec.input_path), "x", spec.input_path);
    s.w = safetensors::to_matrix_f32(f.get("w", spec.input_path), "w", spec.input_path);
    s.source = spec.input_path;
    if (s.x.cols() != s.w.cols()) {
      throw Error(spec.input_path + ": 'x' is [" + std::to_string(s.x.rows()) + ", " +
                  std::to_string(s.x.cols()) + "] and 'w' is [" + std::to_string(s.w.rows()) +
                  ", " + std::to_string(s.w.cols()) + "]; expected x [M, K] and w [N, K]");
    }
    if (s.x.size() == 0 || s.w.size() == 0) throw Error(spec.input_path + ": 'x' or 'w' is empty");
  }
  return run_gemm_study_on(spec, std::move(s.x), std::move(s.w), s.source);
}

GemmStudy run_gemm_study_on(const GemmStudySpec& spec, MatrixF x, MatrixF w, std::string source) {
  if (spec.schemes.empty()) throw Error("no scheme selected");
  if (x.cols() != w.cols() || x.size() == 0 || w.size() == 0) {
    throw Error(source + ": x is [" + std::to_string(x.rows()) + ", " + std::to_string(x.cols()) +
                "] and w is [" + std::to_string(w.rows()) + ", " + std::to_string(w.cols()) +
                "]; expected x [M, K] and w [N, K], none empty");
  }
  GemmStudy s;
  s.spec = spec;
  s.x = std::move(x);
  s.w = std::move(w);
  s.source = std::move(source);
  const std::size_t K = s.x.cols();
  for (Scheme sc : spec.schemes) {
    const std::size_t G = scheme_config(spec, sc).group_size;
    if (block_scaled(traits(sc)) && K % G != 0) {
      throw Error("scheme " + std::string(scheme_name(sc)) + ": K = " + std::to_string(K) +
                  " is not a multiple of its block (" + std::to_string(G) +
                  "); a block may not straddle K's end");
    }
    if (traits(sc).grouped && (G == 0 || K % G != 0)) {
      throw Error("scheme " + std::string(scheme_name(sc)) + ": group size " + std::to_string(G) +
                  " does not divide K = " + std::to_string(K) +
                  "; pass --group with a divisor of K");
    }
  }
  const EngineChoice engine = choose_engine(spec.device);
  s.device = engine.note;
  s.reference = float_reference(s.x, s.w);
  for (Scheme sc : spec.schemes) {
    s.runs.push_back(
        run_scheme(sc, s.x, s.w, scheme_config(spec, sc), s.reference, *engine.engine));
  }
  return s;
}

SchemeConfig scheme_config(const GemmStudySpec& spec, Scheme s) {
  SchemeConfig c = spec.config;
  if (const SchemeInfo& t = traits(s); block_scaled(t)) {
    c.group_size = t.block;
    if (!spec.acc_bits_given) c.gemm.acc_bits = kBlockAccBits;
  }
  return c;
}

void print_gemm_table(std::ostream& os, const GemmStudy& s) {
  const SchemeConfig& c = s.spec.config;
  os << fmt::format(
      "quasar gemm: M={} K={} N={}, {}; group {}, activations {}, accumulator int{}\n", s.x.rows(),
      s.x.cols(), s.w.rows(), s.source, c.group_size, act_mode_name(c.act_mode), c.gemm.acc_bits);
  os << s.device << "; error vs the fp32 product of the unquantized operands\n\n";
  os << fmt::format("{:<12} {:>11} {:>11} {:>9} {:>10} {:>10} {:>8}\n", "scheme", "max|err|", "MSE",
                    "SQNR dB", "overflows", "int->fp32", "invalid");
  for (const SchemeRun& r : s.runs) {
    const GemmCounters& k = r.result.counters;
    os << fmt::format("{:<12} {:>11.4e} {:>11.4e} {:>9} {:>10} {:>10} {:>8}\n",
                      scheme_name(r.scheme), r.error.max_abs, r.error.mse,
                      sqnr_text(r.error.sqnr_db), k.overflow_events(), k.int_to_float_conversions(),
                      k.invalid_codes);
  }
  os << "\noverflows: wraps and saturations of every stage (accumulators, dequant range, "
        "activation and weight clamps, fp16 output); int->fp32: conversions in the datapath\n";
  // Counted events that are not overflows (block_align_round, invalid_scale), by scheme.
  for (const SchemeRun& r : s.runs) {
    const GemmCounters& k = r.result.counters;
    if (k.other_events() == 0) continue;
    os << scheme_name(r.scheme) << " events:";
    for (const auto& [stage_name, n] : k.overflow) {
      if (!stage::is_overflow_stage(stage_name) && n) os << " " << stage_name << " " << n;
    }
    os << "\n";
  }
}

void print_gemm_json(std::ostream& os, const GemmStudy& s) {
  nlohmann::ordered_json j;
  j["quasar_version"] = QUASAR_VERSION;
  j["command"] = "gemm";
  nlohmann::ordered_json set = nlohmann::ordered_json::object();
  for (const auto& [k, v] : settings(s)) set[k] = v;
  j["settings"] = set;
  nlohmann::ordered_json schemes = nlohmann::ordered_json::array();
  for (const SchemeRun& r : s.runs) {
    const GemmCounters& k = r.result.counters;
    nlohmann::ordered_json e;
    e["scheme"] = std::string(scheme_name(r.scheme));
    // JSON has no infinity: an exact result reports sqnr_db null and exact true.
    e["error"] = {
        {"max_abs", r.error.max_abs},
        {"mse", r.error.mse},
        {"sqnr_db", std::isinf(r.error.sqnr_db) ? nlohmann::ordered_json()
                                                : nlohmann::ordered_json(r.error.sqnr_db)},
        {"exact", r.error.mse == 0.0}};
    e["overflow_events"] = k.overflow_events();
    e["other_events"] = k.other_events();  // align_round, invalid_scale (in overflow_by_stage)
    e["overflow_by_stage"] = k.overflow;
    e["int_to_float_conversions"] = k.int_to_float_conversions();
    e["invalid_codes"] = k.invalid_codes;
    e["actions"] = k.actions;
    if (r.operands.int_scales) e["int_scale_bits"] = r.operands.int_scales->bits;
    schemes.push_back(e);
  }
  j["schemes"] = schemes;
  os << j.dump(2) << "\n";
}

void write_gemm_safetensors(const std::string& path, const GemmStudy& s) {
  safetensors::File f;
  f.tensors["x"] = safetensors::from_matrix(s.x);
  f.tensors["w"] = safetensors::from_matrix(s.w);
  f.tensors["reference"] = safetensors::from_matrix(s.reference);
  for (const SchemeRun& r : s.runs) add_scheme_tensors(f, std::string(scheme_name(r.scheme)), r);
  f.metadata["quasar_version"] = QUASAR_VERSION;
  f.metadata["command"] = "gemm";
  for (const auto& [k, v] : settings(s)) f.metadata[k] = v;
  safetensors::write(path, f);
}

void write_gemm_trace(const std::string& dir, const GemmStudy& s) {
  trace::Trace t;
  t.name = "gemm-" + std::to_string(s.x.rows()) + "x" + std::to_string(s.x.cols()) + "x" +
           std::to_string(s.w.rows());
  t.payload = "payload.safetensors";
  t.meta["generator"] = "quasar gemm --trace-out";
  t.meta["quasar_version"] = QUASAR_VERSION;
  for (const auto& [k, v] : settings(s)) {
    if (k != "device") t.meta[k] = v;  // the engine does not change the values
  }
  safetensors::File payload;
  for (const SchemeRun& r : s.runs) {
    t.layers.push_back(
        trace::layer_from_run(std::string(scheme_name(r.scheme)), r,
                              scheme_config(s.spec, r.scheme), payload));
  }
  safetensors::write(dir + "/" + t.payload, payload);
  trace::write_manifest(dir + "/trace.yaml", t);
}

}  // namespace quasar
