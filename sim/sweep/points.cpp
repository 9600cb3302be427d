#include "sweep/points.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "io/input_file.hpp"
#include "config/sweep_config.hpp"
#include "numerics/error.hpp"
#include "trace/model_config.hpp"

namespace quasar::sweep {

std::string fnv1a_hex(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

namespace {

void apply_workload(Workload& w, const std::string& key, const std::string& value) {
  const std::uint64_t v = std::stoull(value);
  const std::string f = key.substr(9);
  if (f == "seq") w.seq = v;
  if (f == "batch") w.batch = v;
  if (f == "context") w.context = v;
  if (f == "decoder_layers") w.decoder_layers = v;
  if (f == "group") w.group = v;
}

}  // namespace

std::vector<Point> enumerate_points(const SweepSpec& s, const std::string& version) {
  // An unknown model fails here, before any point runs, not once per point.
  for (const Workload& w : s.workloads) {
    if (w.model.empty()) continue;
    try {
      trace::embedded_model(w.model);
    } catch (const Error& e) {
      throw Error(s.source + ": workloads: " + e.what());
    }
  }
  // Mixed-radix counter over the axes' value lists.
  std::uint64_t combos = 1;
  for (const Axis& a : s.axes) {
    combos *= a.values.size();
    if (combos > 10'000'000) throw Error(s.source + ": more than 10 million axis combinations");
  }
  std::vector<Point> out;
  for (const std::string& d : s.designs) {
    for (const Workload& w : s.workloads) {
      for (std::uint64_t c = 0; c < combos; ++c) {
        Point p;
        p.index = out.size();
        p.design = d;
        p.workload = w;
        p.workload_label = w.label();
        // The last axis varies fastest; settings keep the axes' (and zip keys') file order.
        std::vector<std::size_t> digit(s.axes.size());
        std::uint64_t rest = c;
        for (std::size_t ai = s.axes.size(); ai-- > 0;) {
          digit[ai] = static_cast<std::size_t>(rest % s.axes[ai].values.size());
          rest /= s.axes[ai].values.size();
        }
        for (std::size_t ai = 0; ai < s.axes.size(); ++ai) {
          const Axis& a = s.axes[ai];
          for (std::size_t k = 0; k < a.keys.size(); ++k)
            p.settings.emplace_back(a.keys[k], a.values[digit[ai]][k]);
        }
        out.push_back(std::move(p));
      }
    }
  }
  if (s.sample_count && *s.sample_count < out.size()) {
    // Fisher-Yates with mt19937_64 (its output sequence is fixed by the standard; std::shuffle's
    // use of it is not), then back to enumeration order.
    std::mt19937_64 rng(s.sample_seed);
    std::vector<std::uint64_t> idx(out.size());
    for (std::uint64_t i = 0; i < idx.size(); ++i) idx[i] = i;
    for (std::uint64_t i = idx.size() - 1; i > 0; --i) std::swap(idx[i], idx[rng() % (i + 1)]);
    idx.resize(*s.sample_count);
    std::sort(idx.begin(), idx.end());
    std::vector<Point> sample;
    for (std::uint64_t i : idx) sample.push_back(out[i]);
    out = std::move(sample);
  }
  for (Point& p : out) {
    for (const auto& [k, v] : p.settings)
      if (k.rfind("workload.", 0) == 0) apply_workload(p.workload, k, v);
    // Identity only: whether the point meets its clock is its result (evaluate says why not).
    const config::ResolvedDesign r =
        config::resolve_design(p.design, p.settings, /*check_timing=*/false);
    // The identity is what the point computes, not where its files live: the design's resolved
    // YAML and a trace file's content, not their paths.
    std::string workload = p.workload.label();
    if (!p.workload.file.empty()) {
      workload =
          "trace manifest " + fnv1a_hex(io::read_text_file(p.workload.file, "trace manifest"));
    }
    p.canonical =
        "quasar " + version + "\nmode " + s.mode + "\nworkload " + workload + "\n" + r.yaml;
    p.id = fnv1a_hex(p.canonical);
  }
  return out;
}

std::vector<Point> shard_points(const std::vector<Point>& all, std::uint64_t i, std::uint64_t n) {
  std::vector<Point> out;
  for (const Point& p : all)
    if (p.index % n == i) out.push_back(p);
  return out;
}

}  // namespace quasar::sweep
