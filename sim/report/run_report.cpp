#include "run_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <nlohmann/json.hpp>
#include <sstream>

#include <sys/mman.h>

#include "arch/accelerator.hpp"
#include "arch/segment/segment.hpp"
#include "config/arch_config.hpp"
#include "config/tech_config.hpp"
#include "io/child_process.hpp"
#include "io/output_file.hpp"
#include "io/output_set.hpp"
#include "mapping/workload.hpp"
#include "trace/generate.hpp"
#include "numerics/error.hpp"
#include "report/arch_json.hpp"
#include "report/cost_report.hpp"
#include "report/html_report.hpp"
#include "report/run_record.hpp"

#ifndef QUASAR_VERSION
#define QUASAR_VERSION "unknown"
#endif

namespace quasar {
namespace {

double util(const arch::LayerStats& l, std::uint64_t pes) {
  return l.cycles ? static_cast<double>(l.macs) /
                        (static_cast<double>(l.cycles) * static_cast<double>(pes))
                  : 0.0;
}

}  // namespace

namespace {

std::uint64_t meta_u64(const trace::Trace& t, const char* key) {
  const auto it = t.meta.find(key);
  if (it == t.meta.end()) return 0;
  try {
    return std::stoull(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

// Whether the shipped tables can price design `a`, asked before simulating: every table lookup
// of price_run happens before its first counter is read, so pricing an empty run finds any
// missing entry. [why before] An exception thrown after SystemC has switched coroutine stacks
// makes AddressSanitizer report false stack-use-after-scope errors; so nothing expected throws
// after the simulation.
std::string cost_problem(const arch::ArchSpec& a, cost::Tech& tech) {
  try {
    tech = config::load_tech();
    cost::price_run(a, arch::RunStats{}, tech);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

}  // namespace

namespace {

// A layer's statistics as report.json writes them (every field of layer_stat_fields), and back:
// also what a child process of simulate_in_children returns.
nlohmann::ordered_json layer_json(const arch::LayerStats& l) {
  nlohmann::ordered_json o;
  o["name"] = l.name;
  for (const arch::StatField& f : arch::layer_stat_fields()) o[f.name] = l.*f.member;
  return o;
}
arch::LayerStats layer_from_json(const nlohmann::ordered_json& j) {
  arch::LayerStats l;
  l.name = j.at("name").get<std::string>();
  for (const arch::StatField& f : arch::layer_stat_fields())
    l.*f.member = j.at(f.name).get<std::uint64_t>();
  return l;
}
std::string stats_text(const std::vector<arch::RunStats>& runs) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const arch::RunStats& r : runs) {
    nlohmann::ordered_json j;
    j["cycles"] = r.cycles;
    j["pe_count"] = r.pe_count;
    for (const arch::LayerStats& l : r.layers) j["layers"].push_back(layer_json(l));
    j["cores"] = nlohmann::ordered_json::array();
    for (const arch::LayerStats& l : r.cores) j["cores"].push_back(layer_json(l));
    all.push_back(j);
  }
  return all.dump();
}
std::vector<arch::RunStats> stats_from_text(const std::string& text, arch::Fidelity f) {
  std::vector<arch::RunStats> out;
  for (const nlohmann::ordered_json& j : nlohmann::ordered_json::parse(text)) {
    arch::RunStats r;
    r.fidelity = f;
    r.cycles = j.at("cycles").get<std::uint64_t>();
    r.pe_count = j.at("pe_count").get<std::uint64_t>();
    for (const nlohmann::ordered_json& l : j.at("layers")) r.layers.push_back(layer_from_json(l));
    for (const nlohmann::ordered_json& l : j.at("cores")) r.cores.push_back(layer_from_json(l));
    out.push_back(std::move(r));
  }
  return out;
}

std::string carry_text(const arch::DramCarry& c) {
  nlohmann::ordered_json j;
  j["last"] = c.last;
  j["next_channel"] = c.next_channel;
  j["rr_first"] = c.rr_first;
  return j.dump();
}
arch::DramCarry carry_from_text(const std::string& text) {
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(text);
  arch::DramCarry c;
  c.last = j.at("last").get<std::vector<std::uint8_t>>();
  c.next_channel = j.at("next_channel").get<std::uint64_t>();
  c.rr_first = j.at("rr_first").get<unsigned>();
  return c;
}

std::uint64_t plan_tiles(const mapping::PlannedTrace& p) {
  std::uint64_t n = 0;
  for (const auto& core : p.cores)
    for (const arch::LayerWork& l : core) n += l.instances * arch::played_tiles(l.tiles, l.runs);
  return n;
}

// The traces simulated in forked child processes, at most `workers` at once, each child a group
// of at most about `per_child` traces that it plans and simulates in one elaboration (so no
// process holds more than a group's plans: planning every step of a 128-token request at once
// took 5.6 GB); the groups balanced by tiles (the largest first, each to the least loaded).
// Results in the traces' order. The traces' accelerators share nothing, so a trace's statistics
// do not depend on which others share its simulation: the same as one simulation of them all
// (Request.ParallelStepsEqualOneSimulation).
std::vector<arch::RunStats> simulate_in_children(const arch::ArchSpec& a,
                                                 const std::vector<const trace::Trace*>& ts,
                                                 const std::vector<std::uint64_t>& tiles,
                                                 arch::Fidelity mode, unsigned workers,
                                                 unsigned per_child,
                                                 const arch::Progress& progress) {
  std::vector<std::size_t> by_size(ts.size());
  for (std::size_t i = 0; i < ts.size(); ++i) by_size[i] = i;
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](std::size_t x, std::size_t y) { return tiles[x] > tiles[y]; });
  const std::size_t per = std::max(1u, per_child);
  const std::size_t w = std::max<std::size_t>(std::min<std::size_t>(workers, ts.size()),
                                              (ts.size() + per - 1) / per);
  std::vector<std::vector<std::size_t>> groups(w);
  std::vector<std::uint64_t> load(w, 0);
  for (std::size_t i : by_size) {
    const std::size_t g = static_cast<std::size_t>(
        std::min_element(load.begin(), load.end()) - load.begin());
    groups[g].push_back(i);
    load[g] += std::max<std::uint64_t>(tiles[i], 1);
  }
  for (auto& g : groups) std::sort(g.begin(), g.end());
  // Each child's fraction done, in memory the children share with this process.
  void* shared = ::mmap(nullptr, w * sizeof(double), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) throw Error("simulation workers: mmap of their progress failed");
  auto* done = static_cast<double*>(shared);
  for (std::size_t g = 0; g < w; ++g) done[g] = 0;
  std::vector<std::function<std::string()>> works;
  for (std::size_t g = 0; g < w; ++g) {
    works.push_back([&a, &ts, &groups, mode, done, g]() {
      std::vector<mapping::PlannedTrace> plans;
      for (std::size_t i : groups[g]) plans.push_back(mapping::plan_trace(a, *ts[i]));
      std::vector<arch::SimJob> jobs;
      for (const mapping::PlannedTrace& p : plans) jobs.push_back({&a, nullptr, mode, &p.cores});
      return stats_text(arch::simulate_jobs(jobs, [done, g](double f) { done[g] = f; }));
    });
  }
  const std::uint64_t total = std::accumulate(load.begin(), load.end(), std::uint64_t{0});
  std::vector<std::string> texts;
  try {
    texts = io::run_in_children(works, workers, [&]() {
      if (!progress) return;
      double sum = 0;
      for (std::size_t g = 0; g < w; ++g) sum += done[g] * static_cast<double>(load[g]);
      if (sum > 0) progress(std::min(sum / static_cast<double>(total), 0.999));
    });
  } catch (...) {
    ::munmap(shared, w * sizeof(double));
    throw;
  }
  ::munmap(shared, w * sizeof(double));
  if (progress) progress(1.0);
  std::vector<arch::RunStats> out(ts.size());
  for (std::size_t g = 0; g < w; ++g) {
    std::vector<arch::RunStats> got = stats_from_text(texts[g], mode);
    if (got.size() != groups[g].size())
      throw Error("simulation workers: a child returned " + std::to_string(got.size()) +
                  " runs for " + std::to_string(groups[g].size()));
    for (std::size_t k = 0; k < got.size(); ++k) out[groups[g][k]] = std::move(got[k]);
  }
  return out;
}

}  // namespace

std::vector<arch::RunStats> simulate_in_child(const std::vector<arch::SimJob>& jobs) {
  const std::string text = io::run_in_child([&]() {
    std::vector<arch::DramCarry> carries(jobs.size());
    std::vector<arch::SimJob> js = jobs;
    for (std::size_t i = 0; i < js.size(); ++i)
      if (js[i].carry) js[i].carry = &carries[i];
    std::string out = stats_text(arch::simulate_jobs(js));
    for (std::size_t i = 0; i < js.size(); ++i) out += "\n" + carry_text(carries[i]);
    return out;
  });
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  if (lines.size() != jobs.size() + 1)
    throw Error("simulation child: " + std::to_string(lines.size()) + " lines for " +
                std::to_string(jobs.size()) + " jobs");
  for (std::size_t i = 0; i < jobs.size(); ++i)
    if (jobs[i].carry) *jobs[i].carry = carry_from_text(lines[i + 1]);
  std::vector<arch::RunStats> stats = stats_from_text(lines[0], jobs.empty() ? arch::Fidelity::fast : jobs[0].mode);
  for (std::size_t i = 0; i < jobs.size(); ++i) stats.at(i).fidelity = jobs[i].mode;
  return stats;
}

SegmentedRunner::SegmentedRunner(const arch::ArchSpec& a, arch::Fidelity mode)
    : a_(a), mode_(mode) {
  const std::string why = arch::why_not_segmented(a);
  if (!why.empty()) throw Error("design '" + a.name + "' cannot be run in segments: " + why);
}

arch::RunStats SegmentedRunner::run(const std::vector<std::vector<arch::LayerWork>>& core_work) {
  std::vector<std::size_t> bounds{0};
  for (std::size_t c : arch::segment_cuts(core_work)) bounds.push_back(c);
  bounds.push_back(core_work.empty() ? 0 : core_work.front().size());
  arch::DramCarry carry;  // an unused DRAM: what a run starts from
  carry.last.assign(std::max<std::uint32_t>(a_.dram.channels, 1), 0);
  arch::RunStats run;
  run.fidelity = mode_;
  for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
    const std::vector<std::vector<arch::LayerWork>> w =
        arch::segment_work(core_work, bounds[s], bounds[s + 1]);
    std::string bytes = arch::work_bytes(w);
    std::vector<Entry>& bucket = memo_[std::hash<std::string>{}(bytes)];
    const Entry* hit = nullptr;
    for (const Entry& e : bucket)
      if (e.in == carry && e.work == bytes) hit = &e;
    if (hit) {
      ++reused_;
    } else {
      Entry e{std::move(bytes), carry, {}, {}};
      arch::SimJob job{&a_, nullptr, mode_, &w};
      job.resume = &carry;
      job.carry = &e.out;
      e.stats = simulate_in_child({job}).at(0);
      bucket.push_back(std::move(e));
      hit = &bucket.back();
      ++simulated_;
    }
    arch::append_segment(run, hit->stats);
    carry = hit->out;
  }
  return run;
}

std::vector<RunReport> run_traces(const arch::ArchSpec& a, const std::vector<trace::Trace>& ts,
                                  arch::Fidelity mode, const arch::Progress& progress,
                                  const std::string& vcd, unsigned workers,
                                  unsigned traces_per_worker, SegmentedRunner* segments) {
  if (!vcd.empty() && mode != arch::Fidelity::cycle)
    throw Error("--vcd " + vcd + ": waveforms need --mode cycle (the fast mode jumps over the "
                "array's cycles)");
  // SCALE-Sim accounting fills only cycles and MACs: nothing to price.
  const bool priced = a.accounting == arch::Accounting::native;
  cost::Tech tech;
  const std::string problem = priced ? cost_problem(a, tech) : "";
  std::vector<RunReport> out;
  // Native accounting: the traces simulated in forked workers (each plans its own), or here in
  // one simulation (their plans alive until it ends).
  if (segments && (a.accounting != arch::Accounting::native || !vcd.empty()))
    throw Error("a segmented run needs native accounting and no waveform");
  const bool in_workers = !segments && a.accounting == arch::Accounting::native &&
                          vcd.empty() && ts.size() > 1 &&
                          (workers > 1 || ts.size() > traces_per_worker);
  std::vector<mapping::PlannedTrace> plans;
  std::vector<const trace::Trace*> native;
  std::vector<std::uint64_t> native_tiles;
  for (const trace::Trace& t : ts) {
    RunReport r;
    r.arch = a;
    r.trace_name = t.name;
    if (a.accounting == arch::Accounting::scalesim) {
      for (const trace::Layer& l : t.layers) {
        const std::string why = mapping::why_not_run(a, l);
        if (!why.empty()) r.not_run.emplace_back(l.name, why);
      }
      r.stats = mapping::scalesim_run(a, t);
      r.stats.fidelity = mode;
      if (r.stats.layers.empty())
        throw Error("design '" + a.name + "' runs none of the layers of trace '" + t.name + "'");
    } else {
      plans.push_back(mapping::plan_trace(a, t));
      const mapping::PlannedTrace& p = plans.back();
      if (p.empty()) {
        throw Error("design '" + a.name + "' runs none of the layers of trace '" + t.name +
                    "' (its schemes do not match); first: " +
                    (p.not_run.empty() ? std::string("no layers")
                                       : p.not_run.front().first + ": " +
                                             p.not_run.front().second));
      }
      r.not_run = p.not_run;
      r.warnings = p.warnings;
      native.push_back(&t);
      native_tiles.push_back(plan_tiles(p));
      if (segments) {
        r.stats = segments->run(p.cores);
        if (progress) progress(static_cast<double>(out.size() + 1) / static_cast<double>(ts.size()));
      }
      if (in_workers || segments) plans.pop_back();  // the worker plans it again; or done
    }
    const auto phase = t.meta.find("phase");
    if (phase != t.meta.end()) {
      r.tokens = trace_tokens(phase->second, meta_u64(t, "batch"),
                              meta_u64(t, phase->second == "prefill" ? "seq" : "context"));
    }
    r.decoder_layers = meta_u64(t, "decoder_layers");
    r.model_layers = meta_u64(t, "model_layers");
    out.push_back(std::move(r));
  }
  if (!native.empty() && !segments) {
    // Every trace its own accelerator, elaborated side by side in one simulation (SystemC
    // elaborates once per process); they share nothing.
    std::vector<arch::RunStats> stats;
    if (in_workers) {
      stats = simulate_in_children(a, native, native_tiles, mode, workers, traces_per_worker,
                                   progress);
    } else {
      std::vector<arch::SimJob> jobs;
      for (const mapping::PlannedTrace& p : plans) jobs.push_back({&a, nullptr, mode, &p.cores});
      stats = arch::simulate_jobs(jobs, progress, vcd);
    }
    for (std::size_t i = 0; i < out.size(); ++i) out[i].stats = stats[i];
  }
  std::optional<cost::DesignTiming> timing;
  try {
    timing = cost::design_timing(a, config::load_timing_table());
  } catch (const Error&) {
    // A process outside the scaling table cannot be timed; the design loader refuses it anyway.
  }
  for (RunReport& r : out) {
    r.timing = timing;
    if (priced && problem.empty()) {
      cost::CostOptions o;
      o.tokens = r.tokens;
      r.tech = tech;
      r.cost = cost::price_run(r.arch, r.stats, r.tech, o);
    } else {
      r.cost_error = problem;
    }
  }
  return out;
}

trace::Trace default_run_trace(const arch::ArchSpec& a) {
  trace::GenSpec g;
  g.model = trace::embedded_model("llama-2-7b");
  g.seq = 2048;
  g.decoder_layers = 1;
  g.linear_scheme = mapping::design_layer_scheme(a, a.schemes.front());
  return trace::generate(g);
}

RunReport run_trace(const arch::ArchSpec& a, const trace::Trace& t, arch::Fidelity mode,
                    const arch::Progress& progress, const std::string& vcd) {
  return run_traces(a, {t}, mode, progress, vcd).at(0);
}


std::string coverage_line(const RunReport& r) {
  std::string line = fmt::format("covers: {} records simulated, {} not (listed below)",
                                 r.stats.layers.size(), r.not_run.size());
  if (r.decoder_layers && r.model_layers)
    line += fmt::format("; {} of the model's {} decoder layers", r.decoder_layers,
                        r.model_layers);
  if (r.tokens) line += fmt::format("; {} tokens (per token = the run's figure / {})", r.tokens,
                                    r.tokens);
  return line + "\n";
}

namespace {

std::string timing_line(const arch::ArchSpec& a, const cost::DesignTiming& d) {
  const bool derived = a.timing.latencies == arch::LatencySource::derived;
  std::string line = fmt::format("timing at {} nm, {} V, {} MHz ({}):", a.process.node_nm,
                                 a.process.voltage_v, a.clock_mhz,
                                 derived ? "latencies derived, clock checked"
                                         : "latencies given, not checked");
  for (const cost::DesignUnitTiming& u : d.units) {
    line += fmt::format(" {} {} {} stage{} (one-stage fmax {:.0f} MHz)", u.role, u.need.unit,
                        u.need.stages, u.need.stages == 1 ? "" : "s", u.need.fmax_one_stage_mhz);
    if (u.role == "pe" && u.latency_cycles > 1)
      line += fmt::format(", pipelined: array.pe_stages {}", u.latency_cycles);
    else if (u.role == "vector_lane" || u.role == "vector_sfu")
      line += fmt::format(", within a fill of {}", u.latency_cycles);
    else if (u.role != "pe" && u.role != "dequant")
      line += fmt::format(", latency {}", u.latency_cycles);
    line += ";";
  }
  if (!d.not_timed.empty()) {
    line += " not timed (no synthesized row):";
    for (std::size_t i = 0; i < d.not_timed.size(); ++i)
      line += (i ? ", " : " ") + d.not_timed[i];
  }
  return line + "\n";
}

nlohmann::ordered_json timing_json(const arch::ArchSpec& a, const cost::DesignTiming& d) {
  nlohmann::ordered_json j;
  j["latencies"] = arch::latency_source_name(a.timing.latencies);
  nlohmann::ordered_json units = nlohmann::ordered_json::array();
  for (const cost::DesignUnitTiming& u : d.units) {
    units.push_back({{"role", u.role},
                     {"unit", u.need.unit},
                     {"logic_ps", u.need.logic_ps},
                     {"flip_flop_ps", u.need.overhead_ps},
                     {"stages", u.need.stages},
                     {"latency_cycles", u.latency_cycles},
                     {"fmax_one_stage_mhz", u.need.fmax_one_stage_mhz}});
  }
  j["units"] = units;
  j["not_timed"] = d.not_timed;
  return j;
}

}  // namespace

void print_run_table(std::ostream& os, const RunReport& r) {
  const arch::RunStats& s = r.stats;
  const double us = static_cast<double>(s.cycles) / r.arch.clock_mhz;
  os << fmt::format("quasar run: trace {} on design {} ({}{}x{} {}, {} PEs, {} MHz), {}\n\n",
                    r.trace_name, r.arch.name,
                    r.arch.cores > 1 ? std::to_string(r.arch.cores) + " cores of " : "",
                    r.arch.array.rows, r.arch.array.cols,
                    arch::dataflow_name(r.arch.array.dataflow), arch::pe_kind_name(r.arch.array.pe),
                    r.arch.clock_mhz,
                    r.arch.accounting == arch::Accounting::native
                        ? std::string(arch::fidelity_name(s.fidelity)) + " mode"
                        : "SCALE-Sim v2 accounting (stall-free closed form)");
  // cycles: the layer's share of the timeline (how far it moved the run's end; a layer that
  // overlaps a longer one gets less than its own time); util: MAC array; vector busy: cycles
  // the vector unit computed for it.
  os << fmt::format("{:<28} {:>8} {:>13} {:>7} {:>12} {:>11} {:>11} {:>11} {:>9}\n", "layer",
                    "tiles", "cycles", "util", "vector busy", "stall dram", "stall edge",
                    "stall port", "DRAM MB");
  const auto row = [&](const arch::LayerStats& l, std::uint64_t pes) {
    os << fmt::format("{:<28} {:>8} {:>13} {:>6.1f}% {:>12} {:>11} {:>11} {:>11} {:>9.2f}\n",
                      l.name, l.tiles, l.cycles, 100.0 * util(l, pes), l.vector_busy,
                      l.stall_dram, l.stall_edge, l.stall_port + l.stall_dequant,
                      static_cast<double>(l.dram_read_bytes + l.dram_write_bytes) / 1e6);
  };
  for (const arch::LayerStats& l : s.layers) row(l, s.pe_count);
  for (const arch::LayerStats& c : s.cores) row(c, s.pe_count / s.cores.size());
  auto tot = [&](std::uint64_t arch::LayerStats::*f) { return s.total(f); };
  auto mb = [&](std::uint64_t arch::LayerStats::*f) { return static_cast<double>(tot(f)) / 1e6; };
  os << fmt::format(
      "\ntotal: {} cycles = {:.3f} ms at {} MHz; utilization {:.1f}%; DRAM {:.2f} MB read, {:.2f} "
      "MB written\n",
      s.cycles, us / 1000.0, r.arch.clock_mhz, 100.0 * s.utilization(),
      mb(&arch::LayerStats::dram_read_bytes), mb(&arch::LayerStats::dram_write_bytes));
  os << fmt::format(
      "actions: {} {} MACs, {} dequant, {} integer-scale, {} float-scale, {} epilogue ops\n",
      tot(&arch::LayerStats::macs), arch::pe_kind_name(r.arch.array.pe),
      tot(&arch::LayerStats::dequant_ops), tot(&arch::LayerStats::intscale_ops),
      tot(&arch::LayerStats::floatscale_ops), tot(&arch::LayerStats::epilogue_ops));
  os << fmt::format(
      "buffers (MB read/written): ifmap {:.2f}/{:.2f}, weight {:.2f}/{:.2f}, ofmap {:.2f}/{:.2f}\n",
      mb(&arch::LayerStats::ifmap_read_bytes), mb(&arch::LayerStats::ifmap_write_bytes),
      mb(&arch::LayerStats::weight_read_bytes), mb(&arch::LayerStats::weight_write_bytes),
      mb(&arch::LayerStats::ofmap_read_bytes), mb(&arch::LayerStats::ofmap_write_bytes));
  if (r.arch.vector.present()) {
    os << fmt::format("vector unit: {} lane ops, {} SFU ops, {} cycles busy; attention {} on {} "
                      "KV cache, {}\n",
                      tot(&arch::LayerStats::vector_lane_ops),
                      tot(&arch::LayerStats::vector_sfu_ops),
                      tot(&arch::LayerStats::vector_busy),
                      r.arch.attention.mode == arch::AttentionMode::fp32 ? "fp32 on the vector unit"
                                                                         : "int8 on the MAC array",
                      kv_format_name(r.arch.attention.kv),
                      r.arch.attention.tile ? fmt::format("tiled by {} keys (flash-style)",
                                                          r.arch.attention.tile)
                                            : std::string("unfused"));
  }
  if (r.timing) os << timing_line(r.arch, *r.timing);
  os << coverage_line(r);
  if (r.cost) {
    os << "\n";
    print_cost_summary(os, *r.cost);
  } else if (!r.cost_error.empty()) {
    os << "\narea and energy not priced: " << r.cost_error << "\n";
  }
  if (!r.not_run.empty()) {
    os << "\nnot simulated (" << r.not_run.size() << " records):\n";
    for (const auto& [name, why] : r.not_run) os << "  " << name << ": " << why << "\n";
  }
  if (!r.warnings.empty()) {
    os << "\nwarnings (" << r.warnings.size() << " layers):\n";
    for (const auto& [name, what] : r.warnings) os << "  " << name << ": " << what << "\n";
  }
}

void print_run_json(std::ostream& os, const RunReport& r) {
  nlohmann::ordered_json j;
  j["quasar_version"] = QUASAR_VERSION;
  j["report_schema"] = kReportSchema;
  j["trace"] = r.trace_name;
  j["design"] = r.arch.name;
  j["mode"] = arch::fidelity_name(r.stats.fidelity);
  j["accounting"] = r.arch.accounting == arch::Accounting::native ? "native" : "scalesim";
  j["clock_mhz"] = r.arch.clock_mhz;
  // The design as simulated, every key (report/arch_json.cpp): enough to price the report
  // without its YAML, or to run it again.
  j["arch"] = arch_to_json(r.arch);
  j["tokens"] = r.tokens;
  // What the run covers (the text report's "covers:" line): "per token" figures divide by
  // `tokens`; the model's full depth is model_layers decoder layers.
  j["covers"] = {{"records_simulated", r.stats.layers.size()},
                 {"records_not_simulated", r.not_run.size()},
                 {"decoder_layers", r.decoder_layers},
                 {"model_layers", r.model_layers}};
  j["pes"] = r.stats.pe_count;
  j["cycles"] = r.stats.cycles;
  j["utilization"] = r.stats.utilization();
  nlohmann::ordered_json totals;
  for (const arch::StatField& f : arch::layer_stat_fields())
    totals[f.name] = r.stats.total(f.member);
  j["totals"] = totals;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const arch::LayerStats& l : r.stats.layers) layers.push_back(layer_json(l));
  j["layers"] = layers;
  // Per core, when there are several: counters summed over layers, cycles to its last write.
  nlohmann::ordered_json cores = nlohmann::ordered_json::array();
  for (const arch::LayerStats& c : r.stats.cores) cores.push_back(layer_json(c));
  j["cores"] = cores;
  nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
  for (const auto& [name, why] : r.not_run) skipped.push_back({{"name", name}, {"reason", why}});
  j["not_simulated"] = skipped;
  nlohmann::ordered_json warned = nlohmann::ordered_json::array();
  for (const auto& [name, what] : r.warnings) warned.push_back({{"name", name}, {"warning", what}});
  j["warnings"] = warned;
  j["timing"] = r.timing ? timing_json(r.arch, *r.timing) : nlohmann::ordered_json();
  if (r.cost) {
    j["cost"] = cost_json(*r.cost, r.tech);
  } else {
    j["cost"] = nullptr;
    if (!r.cost_error.empty()) j["cost_error"] = r.cost_error;  // absent for SCALE-Sim runs
  }
  os << j.dump(2) << "\n";
}

void write_run_outputs(const std::string& dir, const RunReport& r) {
  io::OutputSet out(dir, run_output_files());
  io::write_file_with(out.path("report.json"), [&](std::ostream& j) { print_run_json(j, r); });
  io::write_file_with(out.path("layers.csv"), [&](std::ostream& c) {
    c << "layer";
    for (const arch::StatField& f : arch::layer_stat_fields()) c << "," << f.name;
    c << "\n";
    for (const arch::LayerStats& l : r.stats.layers) {
      c << l.name;
      for (const arch::StatField& f : arch::layer_stat_fields()) c << "," << l.*f.member;
      c << "\n";
    }
  });
  // The HTML page is drawn from report.json as read back, the same input as `quasar cost`.
  if (r.cost) {
    RunRecord rec = read_run_report(out.path("report.json"));
    rec.file = dir + "/report.json";  // where it will be read, not the staging folder
    write_run_html_file(out.path("report.html"), rec, *r.cost);
  }
  out.publish();
}

const std::vector<std::string>& run_output_files() {
  static const std::vector<std::string> files{"report.json", "layers.csv", "report.html"};
  return files;
}

std::vector<GoldenTiming> golden_timing(const std::vector<trace::Trace>& traces) {
  struct Entry {
    std::size_t trace;
    arch::ArchSpec spec;
    mapping::PlannedTrace plan;
  };
  std::vector<Entry> entries;
  // Designs that cannot plan a case (a multi-core partition that leaves a core without work on
  // its small layers): listed in the golden file with the reason, not dropped silently.
  std::vector<nlohmann::ordered_json> cannot(traces.size(), nlohmann::ordered_json::array());
  for (std::size_t i = 0; i < traces.size(); ++i) {
    for (const std::string& name : config::shipped_arch_names()) {
      Entry e{i, config::load_arch(name), {}};
      try {
        e.plan = mapping::plan_trace(e.spec, traces[i]);
      } catch (const Error& err) {
        cannot[i].push_back({{"design", name}, {"cannot_plan", err.what()}});
        continue;
      }
      if (!e.plan.empty()) entries.push_back(std::move(e));
    }
  }
  std::vector<arch::SimJob> jobs;
  for (const Entry& e : entries) {
    jobs.push_back({&e.spec, nullptr, arch::Fidelity::fast, &e.plan.cores});
    jobs.push_back({&e.spec, nullptr, arch::Fidelity::cycle, &e.plan.cores});
  }
  const std::vector<arch::RunStats> runs = arch::simulate_jobs(jobs);
  std::vector<nlohmann::ordered_json> designs(traces.size(), nlohmann::ordered_json::array());
  std::vector<GoldenTiming> out(traces.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const arch::RunStats& fast = runs[2 * i];
    const arch::RunStats& cycle = runs[2 * i + 1];
    GoldenTiming& g = out[entries[i].trace];
    if (g.cycle_vs_fast.empty() && fast.cycles != cycle.cycles) {
      g.cycle_vs_fast = "design " + entries[i].spec.name + ": cycle mode " +
                        std::to_string(cycle.cycles) + " cycles, fast " +
                        std::to_string(fast.cycles);
    }
    for (std::size_t l = 0; l < fast.layers.size() && g.cycle_vs_fast.empty(); ++l) {
      if (!(fast.layers[l] == cycle.layers[l]))
        g.cycle_vs_fast = "design " + entries[i].spec.name + ", layer " + fast.layers[l].name +
                          ": cycle-mode statistics differ from fast mode";
    }
    nlohmann::ordered_json d;
    d["design"] = entries[i].spec.name;
    d["cycles"] = fast.cycles;
    nlohmann::ordered_json layers = nlohmann::ordered_json::array();
    for (const arch::LayerStats& l : fast.layers) layers.push_back(layer_json(l));
    d["layers"] = layers;
    designs[entries[i].trace].push_back(d);
  }
  for (std::size_t i = 0; i < traces.size(); ++i) {
    nlohmann::ordered_json j;
    j["timing_schema"] = 1;
    j["designs"] = designs[i];
    if (!cannot[i].empty()) j["designs_that_cannot_plan_it"] = cannot[i];
    out[i].json = j.dump(1) + "\n";
  }
  return out;
}

}  // namespace quasar
