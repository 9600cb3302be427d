#include "sweep_config.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "io/input_file.hpp"
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
  source = design;
  return io::read_text_file(design, "design");
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

// One value of an axis as written, and how an error names it.
struct AxisValue {
  std::string text;
  std::string name;           // "values[2]" or "value 3 of the range"
  std::optional<Value> node;  // the scalar it was written as (values lists)
};

// A number as YAML reads it (.nan, .inf, 1e3, 016), or nothing for a word.
std::optional<double> yaml_number(const std::string& v) {
  try {
    return YAML::Node(v).as<double>();
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

// What an axis value sets, as the design (or workload) reads it: integer keys read decimal
// digits and float keys read numbers, so 16, 016, +16, 16.0 and 1.6e1 are one setting and one
// point. Integers compare digit for digit (exact beyond 2^53); words compare as written.
std::string value_identity(const std::string& v) {
  std::size_t d = (!v.empty() && (v[0] == '+' || v[0] == '-')) ? 1 : 0;
  if (v.size() > d && v.find_first_not_of("0123456789", d) == std::string::npos) {
    const std::size_t nz = std::min(v.find_first_not_of('0', d), v.size() - 1);
    const std::string digits = v.substr(nz);
    return "int " + std::string(v[0] == '-' && digits != "0" ? "-" : "") + digits;
  }
  if (const std::optional<double> x = yaml_number(v)) {
    if (std::floor(*x) == *x && std::fabs(*x) < 9007199254740992.0)
      return value_identity(std::to_string(static_cast<long long>(*x)));
    std::ostringstream os;
    os.precision(17);
    os << *x;
    return "number " + os.str();
  }
  return "word " + v;
}

// A finite number for a range bound (as_double refuses .nan and .inf).
double bound(const Value& r, const char* key) { return r.at(key).as_double(); }

std::vector<AxisValue> axis_values(const Value& a) {
  std::vector<AxisValue> out;
  const int forms = a.has("values") + a.has("range") + a.has("log_range");
  if (forms != 1) a.fail("give exactly one of values, range, log_range");
  if (auto v = a.find("values")) {
    if (!v->is_seq() || v->size() == 0) v->fail("expected a non-empty list");
    if (static_cast<double>(v->size()) > kMaxAxisValues) a.fail(kTooMany);
    for (std::size_t i = 0; i < v->size(); ++i) {
      const Value e = (*v)[i];
      if (!e.is_scalar()) e.fail("axis values are scalars");
      const std::optional<double> x = yaml_number(e.as_string());
      // No design key takes NaN or an infinity, and a NaN compares false with every bound.
      if (x && !std::isfinite(*x))
        e.fail("'" + e.as_string() + "' is not a finite number; axis values are finite " +
               "numbers or words");
      out.push_back({e.as_string(), "values[" + std::to_string(i) + "]", e});
    }
    return out;
  }
  // Ranges are counted before they are built, and each value is computed from its index (not
  // by adding the step again and again), so a step below the numbers' precision cannot loop.
  std::vector<double> xs;
  if (auto r = a.find("range")) {
    r->require_keys_in({"start", "stop", "step"});
    const double start = bound(*r, "start"), stop = bound(*r, "stop"), step = bound(*r, "step");
    if (!(step > 0) || stop < start) r->fail("needs start <= stop and step > 0");
    const double n = (stop - start) / step;
    if (!(n < kMaxAxisValues)) a.fail(kTooMany);
    const auto count = static_cast<std::size_t>(std::floor(n + 1e-9)) + 1;
    if (static_cast<double>(count) > kMaxAxisValues) a.fail(kTooMany);
    for (std::size_t i = 0; i < count; ++i) xs.push_back(start + static_cast<double>(i) * step);
  } else {
    const Value lr = a.at("log_range");
    lr.require_keys_in({"start", "stop", "factor"});
    const double start = bound(lr, "start"), stop = bound(lr, "stop"), f = bound(lr, "factor");
    if (!(start > 0) || !(f > 1) || stop < start) lr.fail("needs 0 < start <= stop and factor > 1");
    const double n = std::log(stop / start) / std::log(f);
    if (!(n < kMaxAxisValues)) a.fail(kTooMany);
    const auto count = static_cast<std::size_t>(std::floor(n + 1e-9)) + 1;
    if (static_cast<double>(count) > kMaxAxisValues) a.fail(kTooMany);
    for (std::size_t i = 0; i < count; ++i)
      xs.push_back(start * std::pow(f, static_cast<double>(i)));
  }
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i])) a.fail("the range's values overflow to infinity");
    out.push_back(
        {number_text(xs[i]), "value " + std::to_string(i) + " of the range", std::nullopt});
  }
  return out;
}

// A value twice on an axis would simulate one point twice and store it once: surely a typo.
// Values compare as the design reads them (value_identity), a zip's as whole tuples.
void reject_repeated_values(const Value& a, const std::vector<std::string>& keys,
                            const std::vector<std::vector<AxisValue>>& cols) {
  std::map<std::string, std::size_t> first;
  for (std::size_t v = 0; v < cols.front().size(); ++v) {
    std::string id;
    for (const auto& c : cols) id += value_identity(c[v].text) + "\n";
    const auto [it, fresh] = first.emplace(id, v);
    if (fresh) continue;
    const std::size_t u = it->second;
    if (cols.size() == 1) {
      const AxisValue& was = cols[0][u];
      const AxisValue& now = cols[0][v];
      const std::string msg = "'" + now.text + "' is the same value as " + was.name + " ('" +
                              was.text + "'): an axis may not repeat a value (it would run " +
                              "one point twice)";
      if (now.node) now.node->fail(msg);
      a.fail(was.name + " ('" + was.text + "') and " + now.name + " ('" + now.text +
             "') are the same value: the step is below the numbers' precision");
    }
    std::string set;
    for (std::size_t k = 0; k < keys.size(); ++k)
      set += (k ? ", " : "") + keys[k] + " = " + cols[k][v].text;
    a.fail("zip entries " + std::to_string(u) + " and " + std::to_string(v) +
           " set the same values (" + set + "): a zip may not repeat a tuple (it would run " +
           "one point twice)");
  }
}

// workload.* keys and the largest value each takes (as in the workloads list).
std::uint64_t workload_max(const std::string& f) {
  if (f == "seq" || f == "batch" || f == "context") return 1u << 24;
  if (f == "decoder_layers") return 1024;
  if (f == "group") return 1u << 20;
  return 0;
}

// decoder_layers 0 once meant "the model's own count" without saying so; now it is refused.
const char* const kDecoderLayers =
    "accepted: 1..1024 decoder layers (for the whole model give its layer count, e.g. 32 for "
    "llama-2-7b)";

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
      try {
        io::InputFile check(x.file, "trace manifest");
      } catch (const Error& e) {
        f->fail(e.what());
      }
      // Its YAML is checked now (syntax, one document), not once per point as each one fails.
      try {
        Value::load_file(x.file);
      } catch (const Error& e) {
        f->fail(e.what());
      }
    } else {
      x.model = w.at("model").as_string();
      x.phase = w.find("phase") ? w.at("phase").as_choice({"prefill", "decode"}) : "prefill";
      if (auto v = w.find("seq")) x.seq = v->as_uint(1, 1u << 24);
      if (auto v = w.find("batch")) x.batch = v->as_uint(1, 1u << 24);
      if (auto v = w.find("context")) x.context = v->as_uint(1, 1u << 24);
      if (auto v = w.find("decoder_layers")) {
        x.decoder_layers = v->as_uint();
        if (x.decoder_layers < 1 || x.decoder_layers > 1024)
          v->fail(std::to_string(x.decoder_layers) + " is not accepted; " + kDecoderLayers);
      }
      if (auto v = w.find("group")) x.group = v->as_uint(1, 1u << 20);
    }
    s.workloads.push_back(x);
  }

  if (auto axes = root.find("axes")) {
    if (!axes->is_seq()) axes->fail("expected a list of axes");
    // A key on two axes would be set twice per point, the later axis winning: the product
    // would count points that are one design. Each key is on one axis, naming the first.
    std::map<std::string, std::string> key_axis;  // key -> "axes[i] (line L)"
    const auto claim = [&](const Value& key_node, const std::string& key, std::size_t i) {
      const std::string here =
          "axes[" + std::to_string(i) + "] (line " + std::to_string(key_node.line()) + ")";
      const auto [it, fresh] = key_axis.emplace(key, here);
      if (!fresh)
        key_node.fail("key " + key + " is already swept by " + it->second +
                      "; a key may be on one axis only (list all its values there, or use a zip "
                      "to move keys together)");
    };
    for (std::size_t i = 0; i < axes->size(); ++i) {
      const Value a = (*axes)[i];
      sweep::Axis ax;
      ax.line = a.line();
      std::vector<std::vector<AxisValue>> cols;
      if (auto z = a.find("zip")) {
        a.require_keys_in({"zip"});
        if (!z->is_seq() || z->size() < 2) z->fail("a zip moves two or more keys together");
        for (std::size_t j = 0; j < z->size(); ++j) {
          const Value k = (*z)[j];
          k.require_keys_in({"key", "values", "range", "log_range"});
          ax.keys.push_back(k.at("key").as_string());
          claim(k.at("key"), ax.keys.back(), i);
          cols.push_back(axis_values(k));
          if (cols.back().size() != cols.front().size())
            k.fail("zip axes need equally many values (" + std::to_string(cols.front().size()) +
                   " before, " + std::to_string(cols.back().size()) + " here)");
        }
      } else {
        a.require_keys_in({"key", "values", "range", "log_range"});
        ax.keys.push_back(a.at("key").as_string());
        claim(a.at("key"), ax.keys.back(), i);
        cols.push_back(axis_values(a));
      }
      reject_repeated_values(a, ax.keys, cols);
      for (std::size_t v = 0; v < cols.front().size(); ++v) {
        std::vector<std::string> tuple;
        for (const auto& c : cols) tuple.push_back(c[v].text);
        ax.values.push_back(tuple);
      }
      // Every value must be one every design accepts: check now, naming this line.
      for (std::size_t k = 0; k < ax.keys.size(); ++k) {
        const std::string& key = ax.keys[k];
        if (workload_key(key)) {
          const std::string f = key.substr(9);
          const std::uint64_t max = workload_max(f);
          if (max == 0)
            a.fail("workload keys: workload.seq, .batch, .context, .decoder_layers, .group");
          // A trace file has its own shapes and group size: the axis would change nothing there
          // while the results recorded its values.
          for (std::size_t w = 0; w < s.workloads.size(); ++w) {
            if (!s.workloads[w].file.empty()) {
              a.fail(key + " applies to model workloads; workloads[" + std::to_string(w) +
                     "] is the trace file '" + s.workloads[w].file + "'");
            }
          }
          // Decimal digits only (std::stoull would read '-1' as 2^64 - 1 and '16.5' as 16).
          for (const auto& t : ax.values) {
            const std::string& x = t[k];
            std::uint64_t n = 0;
            bool ok = !x.empty() && x.size() <= 9 &&
                      x.find_first_not_of("0123456789") == std::string::npos;
            if (ok) n = std::stoull(x);
            if (!ok || n < 1 || n > max) {
              a.fail("'" + x + "' is not accepted for " + key + "; " +
                     (f == "decoder_layers" ? std::string(kDecoderLayers)
                                            : "accepted: integers 1.." + std::to_string(max)));
            }
          }
          continue;
        }
        for (const std::string& d : s.designs) {
          for (const auto& t : ax.values) {
            try {
              resolve_design(d, {{key, t[k]}}, /*check_timing=*/false);
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
      std::string value, extra;
      in >> c.metric >> c.op >> value;
      bool known = false;
      for (const auto& m : sweep::presim_metric_names()) known = known || m == c.metric;
      if (!known)
        (*cs)[i].fail("constraints use metrics known before simulating: area_mm2, pes, sram_kib");
      if (c.op != "<=" && c.op != "<" && c.op != ">=" && c.op != ">" && c.op != "==")
        (*cs)[i].fail("operator must be one of <=, <, >=, >, ==");
      std::size_t used = 0;
      try {
        c.value = std::stod(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != value.size() || (in >> extra))
        (*cs)[i].fail("expected 'METRIC OP NUMBER', e.g. 'area_mm2 <= 20'");
      // A NaN bound fails every comparison, so every point would be skipped without an error.
      if (!std::isfinite(c.value))
        (*cs)[i].fail("the bound '" + value + "' is not a finite number; a constraint compares " +
                      "with a finite number, e.g. 'area_mm2 <= 20'");
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
  return parse_sweep_spec(io::read_text_file(path, "sweep spec"), path,
                          std::filesystem::absolute(path).parent_path().lexically_normal().string());
}

std::pair<std::string, std::string> parse_set(const std::string& kv) {
  const std::size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
    throw Error("--set '" + kv + "': expected KEY.PATH=VALUE, e.g. --set array.rows=64");
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

sweep::SweepSpec read_sweep_spec(const std::string& path, const std::vector<std::string>& sets) {
  if (sets.empty()) return read_sweep_spec(path);
  // Each --set is a one-value axis appended to the spec: checked like the spec's own axes (the
  // key applies to every design, units no scheme uses refused), recorded with every point.
  const std::string text = io::read_text_file(path, "sweep spec");
  YAML::Node root = load_one_document(text, path);
  if (!root.IsMap()) return read_sweep_spec(path);  // the parser says what is wrong
  if (!root["axes"]) root["axes"] = YAML::Node(YAML::NodeType::Sequence);
  std::string label = path;
  for (const std::string& kv : sets) {
    const auto [key, value] = parse_set(kv);
    YAML::Node axis(YAML::NodeType::Map);
    axis["key"] = key;
    YAML::Node values(YAML::NodeType::Sequence);
    values.push_back(load_one_document(value, path + " --set " + key));
    axis["values"] = values;
    root["axes"].push_back(axis);
    label += " --set " + kv;
  }
  YAML::Emitter out;
  out << root;
  return parse_sweep_spec(out.c_str(), label,
                          std::filesystem::absolute(path).parent_path().lexically_normal().string());
}

ResolvedDesign resolve_design(const std::string& design,
                              const std::vector<std::pair<std::string, std::string>>& overrides,
                              bool check_timing) {
  std::string source;
  const std::string text = design_text(design, source);
  YAML::Node root = load_one_document(text, source);
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
    cur[parts.back()] = load_one_document(value, label + " " + key);
    label += " " + key + "=" + value;
  }
  YAML::Emitter out;
  out << root;
  ResolvedDesign r;
  r.yaml = out.c_str();
  r.spec = parse_arch_config(r.yaml, label, check_timing);
  // An override must not give a design units that none of its schemes use: the units would
  // only add area and leakage (a sweep axis over intscale_units once grew the int8 baseline's
  // area by 3% without a word).
  for (const auto& [key, value] : overrides) {
    for (const ScaleUnitInfo& u : all_scale_units()) {
      if (key != std::string("edge.") + scale_unit_name(u.unit) + "_units") continue;
      if (arch::scale_units(r.spec.edge, u.unit) == 0) continue;
      bool used = false;
      std::string schemes;
      for (Scheme s : r.spec.schemes) {
        used = used || consumes_scales(u.unit, s);
        schemes += (schemes.empty() ? "" : ", ") + std::string(scheme_name(s));
      }
      if (!used)
        throw Error("'" + key + "=" + value + "' gives design '" + r.spec.name + "' " +
                    scale_unit_name(u.unit) + " units that none of its schemes (" + schemes +
                    ") use: they would only add area and leakage (leave the key out for this "
                    "design, or add a scheme that uses them)");
    }
  }
  return r;
}

arch::ArchSpec load_arch_with(const std::string& design, const std::vector<std::string>& sets) {
  if (sets.empty()) return load_arch(design);
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const std::string& kv : sets) {
    auto [key, value] = parse_set(kv);
    if (workload_key(key))
      throw Error("--set '" + kv + "': workload keys belong to a sweep spec, not a design");
    overrides.emplace_back(std::move(key), std::move(value));
  }
  return resolve_design(design, overrides).spec;
}

}  // namespace quasar::config
