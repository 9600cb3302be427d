#include "request/request.hpp"

#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>

#include "arch/segment/segment.hpp"
#include "numerics/error.hpp"
#include "trace/generate.hpp"

namespace quasar::request {

const char* op_class_name(OpClass c) {
  switch (c) {
    case OpClass::linear:
      return "linear";
    case OpClass::attention:
      return "attention";
    case OpClass::vector:
      return "vector";
    case OpClass::data_movement:
      return "data movement";
    case OpClass::leakage:
      return "leakage";
  }
  return "?";
}

OpClass op_class(const trace::Layer& l) {
  switch (l.op) {
    case trace::Op::linear:
      return OpClass::linear;
    case trace::Op::bmm:
      return l.attention.empty() ? OpClass::linear : OpClass::attention;
    case trace::Op::softmax:
    case trace::Op::kv_append:
      return OpClass::attention;
    default:
      return OpClass::vector;
  }
}

namespace {

// The trace's records without its name and metadata: two steps with equal records are one run.
std::string records_key(const trace::Trace& t) {
  trace::Trace r = t;
  r.name.clear();
  r.meta.clear();
  return trace::to_yaml(r);
}

// A run's time and energy by op class: each layer's share of the timeline to its class; its
// energy to its class, but DRAM traffic to data movement and leakage to leakage.
PhaseTotals classify(const RunReport& r, const trace::Trace& t) {
  std::map<std::string, OpClass> cls;
  for (const trace::Layer& l : t.layers) cls[l.name] = op_class(l);
  PhaseTotals p;
  const double hz = r.arch.clock_mhz * 1e6;
  for (const arch::LayerStats& l : r.stats.layers)
    p.seconds[static_cast<int>(cls.at(l.name))] += static_cast<double>(l.cycles) / hz;
  if (!r.cost) return p;
  for (const cost::LayerCost& lc : r.cost->layers) {
    for (const auto& [component, pj] : lc.pj_by_component) {
      const OpClass c = component == "dram"      ? OpClass::data_movement
                        : component == "leakage" ? OpClass::leakage
                                                 : cls.at(lc.name);
      p.joules[static_cast<int>(c)] += pj * 1e-12;
    }
  }
  return p;
}

void add(PhaseTotals& to, const PhaseTotals& p) {
  for (int c = 0; c < kOpClasses; ++c) {
    to.seconds[c] += p.seconds[c];
    to.joules[c] += p.joules[c];
  }
}

}  // namespace

RequestReport run_request(const arch::ArchSpec& a, const RequestSpec& spec, arch::Fidelity mode,
                          const arch::Progress& progress) {
  const trace::ModelConfig& m = spec.model;
  if (spec.prompt == 0 || spec.generate == 0 || spec.batch == 0)
    throw Error("a request needs --prompt, --generate and --batch of at least 1");
  const std::uint64_t last = spec.prompt + spec.generate - 1;  // keys of the last decode step
  if (m.max_positions > 0 && last > m.max_positions)
    throw Error("--prompt " + std::to_string(spec.prompt) + " + --generate " +
                std::to_string(spec.generate) + " needs " + std::to_string(last) +
                " positions; " + m.name + " has " + std::to_string(m.max_positions) +
                " (max_position_embeddings)");
  if (a.accounting != arch::Accounting::native)
    throw Error("design '" + a.name + "': a request runs the SystemC model (accounting: native)");
  RequestReport r;
  r.spec = spec;
  r.arch = a;
  trace::GenSpec g;
  g.model = m;
  g.batch = spec.batch;
  g.linear_scheme = spec.linear_scheme;
  g.decoder_layers = spec.decoder_layers;
  // Prefill: every prompt token, logits for the last token only (they give the first token).
  g.phase = trace::Phase::prefill;
  g.seq = spec.prompt;
  g.lm_head_last_token = true;
  std::vector<trace::Trace> traces{trace::generate(g)};
  r.steps.push_back({"prefill", spec.prompt, 0, false});
  std::map<std::string, std::size_t> seen;
  // Decode step j (1 .. G - 1) processes the j-th generated token: P + j keys, its own included.
  g.phase = trace::Phase::decode;
  for (std::uint64_t j = 1; j < spec.generate; ++j) {
    g.context = spec.prompt + j;
    trace::Trace t = trace::generate(g);
    const auto [it, fresh] = seen.emplace(records_key(t), traces.size());
    if (fresh) traces.push_back(std::move(t));
    r.steps.push_back({"decode", g.context, it->second, !fresh});
  }
  r.whole_steps_why = spec.reuse_segments ? arch::why_not_segmented(a) : "not asked";
  if (r.whole_steps_why.empty()) {
    SegmentedRunner segments(a, mode);
    r.runs = run_traces(a, traces, mode, progress, "", spec.workers, spec.traces_per_worker,
                        &segments);
    r.segmented = true;
    r.segments_simulated = segments.simulated();
    r.segments_reused = segments.reused();
  } else {
    r.runs = run_traces(a, traces, mode, progress, "", spec.workers, spec.traces_per_worker);
  }
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    if (!r.runs[i].cost)
      throw Error("design '" + a.name + "' cannot be priced, so a request has no energy: " +
                  r.runs[i].cost_error);
    r.run_classes.push_back(classify(r.runs[i], traces[i]));
  }
  r.not_run = r.runs[0].not_run;
  for (const Step& s : r.steps) {
    const RunReport& run = r.runs[s.run];
    const double sec = run.cost->seconds, j = run.cost->energy_pj * 1e-12;
    r.total_s += sec;
    r.joules += j;
    if (s.phase == "prefill") {
      r.ttft_s = sec;
      add(r.prefill, r.run_classes[s.run]);
    } else {
      r.tpot_s += sec;
      add(r.decode, r.run_classes[s.run]);
    }
  }
  if (spec.generate > 1) r.tpot_s /= static_cast<double>(spec.generate - 1);
  const double tokens = static_cast<double>(spec.batch * spec.generate);
  r.tokens_per_s = tokens / r.total_s;
  r.j_per_token = r.joules / tokens;
  return r;
}

void print_request_table(std::ostream& os, const RequestReport& r) {
  const RequestSpec& s = r.spec;
  std::size_t simulated = r.runs.size(), reused = 0;
  for (const Step& st : r.steps) reused += st.reused ? 1 : 0;
  os << fmt::format(
      "quasar run: request on {}: batch {}, prompt {} tokens, {} generated ({} decode steps), "
      "{} of {} decoder layers, on design {} ({}x{} {}, {} cores), {} mode\n",
      s.model.name, s.batch, s.prompt, s.generate, s.generate - 1, r.runs[0].decoder_layers,
      s.model.layers, r.arch.name, r.arch.array.rows, r.arch.array.cols,
      arch::pe_kind_name(r.arch.array.pe), r.arch.cores,
      arch::fidelity_name(r.runs[0].stats.fidelity));
  os << fmt::format("simulated {} distinct runs; {} decode steps reused an equal step's run "
                    "(same records, idle start: the same result by determinism)\n",
                    simulated, reused);
  if (r.segmented) {
    os << fmt::format("runs cut where the accelerator is idle: {} segments simulated, {} found "
                      "again (same work from the same DRAM state: the same statistics; "
                      "docs/decisions/0004)\n\n",
                      r.segments_simulated, r.segments_reused);
  } else {
    os << "every run simulated whole (not cut into segments: " << r.whole_steps_why << ")\n\n";
  }
  os << fmt::format("TTFT {:.3f} ms (the prefill)   TPOT {:.3f} ms (mean decode step)   "
                    "{:.1f} tokens/s (batch x generated / total time)\n",
                    r.ttft_s * 1e3, r.tpot_s * 1e3, r.tokens_per_s);
  os << fmt::format("total {:.3f} s, {:.3f} J; {:.3f} mJ per generated token (energy / {} "
                    "tokens)\n\n",
                    r.total_s, r.joules, r.j_per_token * 1e3, s.batch * s.generate);
  os << fmt::format("{:<16} {:>12} {:>12} {:>12} {:>12}\n", "by op class", "prefill ms",
                    "prefill mJ", "decode ms", "decode mJ");
  for (int c = 0; c < kOpClasses; ++c) {
    os << fmt::format("{:<16} {:>12.3f} {:>12.3f} {:>12.3f} {:>12.3f}\n",
                      op_class_name(static_cast<OpClass>(c)), r.prefill.seconds[c] * 1e3,
                      r.prefill.joules[c] * 1e3, r.decode.seconds[c] * 1e3,
                      r.decode.joules[c] * 1e3);
  }
  os << "(time: each layer's share of its step's timeline; energy: a layer's DRAM traffic is "
        "data movement, static power is leakage)\n\n";
  os << fmt::format("{:<8} {:>8} {:>14} {:>12} {:>12}\n", "step", "keys", "cycles", "ms", "mJ");
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const Step& st = r.steps[i];
    const RunReport& run = r.runs[st.run];
    os << fmt::format("{:<8} {:>8} {:>14} {:>12.3f} {:>12.3f}{}\n",
                      i == 0 ? std::string("prefill") : std::to_string(i), st.context,
                      run.stats.cycles, run.cost->seconds * 1e3, run.cost->energy_pj * 1e-9,
                      st.reused ? "  (reused)" : "");
  }
  if (!r.not_run.empty()) {
    os << "\nnot simulated in any step (" << r.not_run.size() << " records):\n";
    for (const auto& [name, why] : r.not_run) os << "  " << name << ": " << why << "\n";
  }
}

void print_request_json(std::ostream& os, const RequestReport& r) {
  nlohmann::ordered_json j;
  j["model"] = r.spec.model.name;
  j["design"] = r.arch.name;
  j["batch"] = r.spec.batch;
  j["prompt"] = r.spec.prompt;
  j["generate"] = r.spec.generate;
  j["decoder_layers"] = r.runs[0].decoder_layers;
  j["model_layers"] = r.spec.model.layers;
  j["definitions"] = {
      {"ttft_s", "the prefill's time"},
      {"tpot_s", "the mean decode step time"},
      {"tokens_per_s", "batch x generate / total_s"},
      {"j_per_token", "joules / (batch x generate)"}};
  j["ttft_s"] = r.ttft_s;
  j["tpot_s"] = r.tpot_s;
  j["total_s"] = r.total_s;
  j["tokens_per_s"] = r.tokens_per_s;
  j["joules"] = r.joules;
  j["j_per_token"] = r.j_per_token;
  auto classes = [](const PhaseTotals& p) {
    nlohmann::ordered_json o;
    for (int c = 0; c < kOpClasses; ++c)
      o[op_class_name(static_cast<OpClass>(c))] = {{"seconds", p.seconds[c]},
                                                   {"joules", p.joules[c]}};
    return o;
  };
  j["prefill"] = classes(r.prefill);
  j["decode"] = classes(r.decode);
  nlohmann::ordered_json steps = nlohmann::ordered_json::array();
  for (const Step& st : r.steps) {
    const RunReport& run = r.runs[st.run];
    steps.push_back({{"phase", st.phase},
                     {"keys", st.context},
                     {"cycles", run.stats.cycles},
                     {"seconds", run.cost->seconds},
                     {"joules", run.cost->energy_pj * 1e-12},
                     {"reused", st.reused}});
  }
  j["steps"] = steps;
  if (r.segmented) {
    j["segments"] = {{"simulated", r.segments_simulated}, {"reused", r.segments_reused}};
  } else {
    j["segments"] = {{"not_cut", r.whole_steps_why}};
  }
  nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
  for (const auto& [name, why] : r.not_run) skipped.push_back({{"name", name}, {"reason", why}});
  j["not_simulated"] = skipped;
  os << j.dump(2) << "\n";
}

}  // namespace quasar::request
