#include "sweep_config.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "config/arch_config.hpp"
#include "config/yaml_value.hpp"
#include "embedded_arch.hpp"
#include "numerics/error.hpp"

namespace quasar::config {
namespace {

std::string design_text(const std::string& design, std::string& source) {
  if (design.find('/') == std::string::npos && design.find(".yaml") == std::string::npos) {
    for (const EmbeddedArch& e : kEmbeddedArch) {
      if (design == e.name) {
        source = std::string("configs/arch/") + e.name + ".yaml";
        return e.yaml;
      }
    }
    load_arch(design);  // throws the "neither a file nor a shipped design" error
  }
  std::ifstream in(design);
  if (!in) throw Error(design + ": cannot open for reading");
  std::stringstream ss;
  ss << in.rdbuf();
  source = design;
  return ss.str();
}

// Numbers in a range axis keep the YAML form users expect (integers without ".0").
std::string number_text(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  std::ostringstream os;
  os.precision(15);
  os << v;
  return os.str();
}

constexpr double kMaxAxisValues = 100000;
const char* const kTooMany = "more than 100000 values on one axis";

std::vector<std::string> axis_values(const Value& a) {
  std::vector<std::string> out;
  const int forms = a.has("values") + a.has("range") + a.has("log_range");
  if (forms != 1) a.fail("give exactly one of values, range, log_range");
  if (auto v = a.find("values")) {
    if (!v->is_seq() || v->size() == 0) v->fail("expected a non-empty list");
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_scalar()) (*v)[i].fail("axis values are scalars");
      out.push_back((*v)[i].as_string());
    }
  } else if (auto r = a.find("range")) {
    r->require_keys_in({"start", "stop", "step"});
    const double start = r->at("start").as_double(), stop = r->at("stop").as_double();
    const double step = r->at("step").as_double();
    if (!(step > 0) || stop < start) r->fail("needs start <= stop and step > 0");
    // Counted before anything is built: a huge range must not fill memory first.
    if ((stop - start) / step > kMaxAxisValues) a.fail(kTooMany);
    for (double x = start; x <= stop + 1e-9 * std::fabs(stop); x += step)
      out.push_back(number_text(x));
  } else {
    const Value lr = a.at("log_range");
    lr.require_keys_in({"start", "stop", "factor"});
    const double start = lr.at("start").as_double(), stop = lr.at("stop").as_double();
    const double f = lr.at("factor").as_double();
    if (!(start > 0) || !(f > 1) || stop < start) lr.fail("needs 0 < start <= stop and factor > 1");
    if (std::log(stop / start) / std::log(f) > kMaxAxisValues) a.fail(kTooMany);
    for (double x = start; x <= stop * (1 + 1e-9); x *= f) out.push_back(number_text(x));
  }
  if (static_cast<double>(out.size()) > kMaxAxisValues) a.fail(kTooMany);
  // A value twice would simulate one point twice and store it once: surely a typo.
  std::set<std::string> seen;
  for (const std::string& v : out)
    if (!seen.insert(v).second) a.fail("value '" + v + "' appears twice on this axis");
  return out;
}

bool workload_key(const std::string& k) { return k.rfind("workload.", 0) == 0; }

}  // namespace

namespace {

// A design or trace path relative to the spec's folder; shipped design names stay names.
std::string relative_to(const std::string& base, const std::string& p, bool design) {
  if (design && p.find('/') == std::string::npos && p.find(".yaml") == std::string::npos) return p;
  const std::filesystem::path path(p);
  if (path.is_absolute() || base.empty() || base == ".") return p;
  return (std::filesystem::path(base) / path).lexically_normal().string();
}

}  // namespace

sweep::SweepSpec parse_sweep_spec(const std::string& text, const std::string& source,
                                  const std::string& base_dir) {
  const Value root = Value::load_string(text, source);
  if (!root.is_map()) root.fail("a sweep is a mapping (docs/sweeps.md)");
  root.require_keys_in({"quasar_sweep", "name", "designs", "workloads", "axes", "mode", "sample",
                        "constraints", "objectives"});
  if (root.at("quasar_sweep").as_int(0, 1000) != 1)
    root.at("quasar_sweep").fail("this quasar reads sweep format version 1");
  sweep::SweepSpec s;
  s.source = source;
  s.text = text;
  s.name = root.at("name").as_string();
  if (s.name.empty() || s.name.find_first_of("/ \t") != std::string::npos)
    root.at("name").fail("a name without spaces or slashes (it names the result store)");

  const Value designs = root.at("designs");
  if (!designs.is_seq() || designs.size() == 0) designs.fail("expected a list of designs");
  for (std::size_t i = 0; i < designs.size(); ++i) {
    const std::string d = relative_to(base_dir, designs[i].as_string(), true);
    try {
      resolve_design(d, {});
    } catch (const Error& e) {
      designs[i].fail(e.what());
    }
    s.designs.push_back(d);
  }

  const Value wl = root.at("workloads");
  if (!wl.is_seq() || wl.size() == 0) wl.fail("expected a list of workloads");
  for (std::size_t i = 0; i < wl.size(); ++i) {
    const Value w = wl[i];
    w.require_keys_in(
        {"file", "model", "phase", "seq", "batch", "context", "decoder_layers", "group"});
    sweep::Workload x;
    if (auto f = w.find("file")) {
      if (w.has("model")) w.fail("give a file or a model, not both");
      x.file = relative_to(base_dir, f->as_string(), false);
      if (!std::ifstream(x.file)) f->fail("cannot open trace manifest '" + x.file + "'");
    } else {
      x.model = w.at("model").as_string();
      x.phase = w.find("phase") ? w.at("phase").as_choice({"prefill", "decode"}) : "prefill";
      if (auto v = w.find("seq")) x.seq = v->as_uint(1, 1u << 24);
      if (auto v = w.find("batch")) x.batch = v->as_uint(1, 1u << 24);
      if (auto v = w.find("context")) x.context = v->as_uint(1, 1u << 24);
      if (auto v = w.find("decoder_layers")) x.decoder_layers = v->as_uint(0, 1024);
      if (auto v = w.find("group")) x.group = v->as_uint(1, 1u << 20);
    }
    s.workloads.push_back(x);
  }

  if (auto axes = root.find("axes")) {
    if (!axes->is_seq()) axes->fail("expected a list of axes");
    for (std::size_t i = 0; i < axes->size(); ++i) {
      const Value a = (*axes)[i];
      sweep::Axis ax;
      ax.line = a.line();
      if (auto z = a.find("zip")) {
        a.require_keys_in({"zip"});
        if (!z->is_seq() || z->size() < 2) z->fail("a zip moves two or more keys together");
        std::vector<std::vector<std::string>> cols;
        for (std::size_t j = 0; j < z->size(); ++j) {
          const Value k = (*z)[j];
          k.require_keys_in({"key", "values", "range", "log_range"});
          ax.keys.push_back(k.at("key").as_string());
          cols.push_back(axis_values(k));
          if (cols.back().size() != cols.front().size())
            k.fail("zip axes need equally many values (" + std::to_string(cols.front().size()) +
                   " before, " + std::to_string(cols.back().size()) + " here)");
        }
        for (std::size_t v = 0; v < cols.front().size(); ++v) {
          std::vector<std::string> tuple;
          for (const auto& c : cols) tuple.push_back(c[v]);
          ax.values.push_back(tuple);
        }
      } else {
        a.require_keys_in({"key", "values", "range", "log_range"});
        ax.keys.push_back(a.at("key").as_string());
        for (const std::string& v : axis_values(a)) ax.values.push_back({v});
      }
      // Every value must be one every design accepts: check now, naming this line.
      for (std::size_t k = 0; k < ax.keys.size(); ++k) {
        const std::string& key = ax.keys[k];
        if (workload_key(key)) {
          const std::string f = key.substr(9);
          if (f != "seq" && f != "batch" && f != "context" && f != "decoder_layers" && f != "group")
            a.fail("workload keys: workload.seq, .batch, .context, .decoder_layers, .group");
          // A trace file has its own shapes and group size: the axis would change nothing there
          // while the results recorded its values.
          for (std::size_t w = 0; w < s.workloads.size(); ++w) {
            if (!s.workloads[w].file.empty()) {
              a.fail(key + " applies to model workloads; workloads[" + std::to_string(w) +
                     "] is the trace file '" + s.workloads[w].file + "'");
            }
          }
          for (const auto& t : ax.values) {
            try {
              if (std::stoull(t[k]) == 0 && f != "decoder_layers") throw std::invalid_argument("0");
            } catch (const std::exception&) {
              a.fail("'" + t[k] + "' is not a positive integer for " + key);
            }
          }
          continue;
        }
        for (const std::string& d : s.designs) {
          for (const auto& t : ax.values) {
            try {
              resolve_design(d, {{key, t[k]}});
            } catch (const Error& e) {
              a.fail("key " + key + " = " + t[k] + " on design " + d + ": " + e.what());
            }
          }
        }
      }
      s.axes.push_back(ax);
    }
  }

  if (auto m = root.find("mode")) s.mode = m->as_choice({"fast", "cycle"});
  if (auto smp = root.find("sample")) {
    smp->require_keys_in({"count", "seed"});
    s.sample_count = smp->at("count").as_uint(1, 1u << 30);
    if (auto sd = smp->find("seed")) s.sample_seed = sd->as_uint();
  }
  if (auto cs = root.find("constraints")) {
    if (!cs->is_seq()) cs->fail("expected a list like ['area_mm2 <= 20']");
    for (std::size_t i = 0; i < cs->size(); ++i) {
      std::istringstream in((*cs)[i].as_string());
      sweep::Constraint c;
      std::string value;
      in >> c.metric >> c.op >> value;
      bool known = false;
      for (const auto& m : sweep::presim_metric_names()) known = known || m == c.metric;
      if (!known)
        (*cs)[i].fail("constraints use metrics known before simulating: area_mm2, pes, sram_kib");
      if (c.op != "<=" && c.op != "<" && c.op != ">=" && c.op != ">" && c.op != "==")
        (*cs)[i].fail("operator must be one of <=, <, >=, >, ==");
      try {
        c.value = std::stod(value);
      } catch (const std::exception&) {
        (*cs)[i].fail("expected 'METRIC OP NUMBER', e.g. 'area_mm2 <= 20'");
      }
      s.constraints.push_back(c);
    }
  }
  if (auto os = root.find("objectives")) {
    if (!os->is_seq()) os->fail("expected a list like [{minimize: latency_ms}]");
    for (std::size_t i = 0; i < os->size(); ++i) {
      const Value o = (*os)[i];
      o.require_keys_in({"minimize", "maximize"});
      sweep::Objective ob;
      ob.minimize = o.has("minimize");
      if (o.has("minimize") == o.has("maximize")) o.fail("give minimize or maximize");
      ob.metric = o.at(ob.minimize ? "minimize" : "maximize").as_choice(sweep::metric_names());
      s.objectives.push_back(ob);
    }
  }
  return s;
}

sweep::SweepSpec read_sweep_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open for reading");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_sweep_spec(ss.str(), path,
                          std::filesystem::absolute(path).parent_path().lexically_normal().string());
}

ResolvedDesign resolve_design(const std::string& design,
                              const std::vector<std::pair<std::string, std::string>>& overrides) {
  std::string source;
  const std::string text = design_text(design, source);
  YAML::Node root = YAML::Load(text);
  std::string label = source;
  for (const auto& [key, value] : overrides) {
    if (workload_key(key)) continue;
    // Walk the path, creating maps where a key is optional and absent.
    std::vector<std::string> parts;
    std::stringstream ks(key);
    for (std::string p; std::getline(ks, p, '.');) parts.push_back(p);
    if (parts.empty()) throw Error("empty key path");
    YAML::Node cur = root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      if (!cur[parts[i]] || !cur[parts[i]].IsMap()) {
        if (cur[parts[i]] && !cur[parts[i]].IsMap())
          throw Error("'" + key + "': '" + parts[i] + "' is not a mapping in the design");
        cur[parts[i]] = YAML::Node(YAML::NodeType::Map);
      }
      cur.reset(cur[parts[i]]);
    }
    cur[parts.back()] = YAML::Load(value);
    label += " " + key + "=" + value;
  }
  YAML::Emitter out;
  out << root;
  ResolvedDesign r;
  r.yaml = out.c_str();
  r.spec = parse_arch_config(r.yaml, label);
  return r;
}

}  // namespace quasar::config
