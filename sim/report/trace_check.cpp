#include "trace_check.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "trace/layer_data.hpp"

namespace quasar {

bool TraceCheck::all_match() const {
  for (const LayerCheck& l : layers) {
    if (!l.has_expected || l.mismatches) return false;
  }
  return !layers.empty();
}

TraceCheck check_trace(const std::string& manifest_path, const GemmEngine& engine,
                       const std::string& engine_note) {
  const trace::Trace t = trace::read_manifest(manifest_path);
  if (t.payload.empty()) {
    throw Error(manifest_path + ": trace '" + t.name +
                "' is shape-only (no payload): nothing to check");
  }
  const std::string payload_file = trace::payload_path(manifest_path, t);
  const safetensors::File payload = safetensors::read(payload_file);
  TraceCheck c;
  c.trace = t.name;
  c.engine = engine_note;
  for (const trace::Layer& l : t.layers) {
    if (l.tensors.empty()) continue;
    const trace::LayerData d = trace::load_layer_data(l, payload, payload_file);
    LayerCheck lc;
    lc.layer = l.name;
    lc.scheme = l.scheme->scheme;
    GemmResult r;
    try {
      r = trace::run_layer(engine, l, d.operands);
    } catch (const Error& e) {
      // run_layer names the payload tensor; say which file and layer it came from.
      throw Error(payload_file + ": layer '" + l.name + "': " + e.what());
    }
    lc.counters = std::move(r.counters);
    lc.y = std::move(r.y);
    if (d.expected_y) {
      lc.has_expected = true;
      for (std::size_t i = 0; i < lc.y.size(); ++i) {
        if (lc.y.values()[i] != d.expected_y->values()[i] && lc.mismatches++ == 0) {
          lc.first = i;
          lc.got = f16_to_f32(lc.y.values()[i]);
          lc.want = f16_to_f32(d.expected_y->values()[i]);
        }
      }
    }
    c.layers.push_back(std::move(lc));
  }
  if (c.layers.empty())
    throw Error(manifest_path + ": no layer of trace '" + t.name + "' carries tensors");
  return c;
}

void print_trace_check(std::ostream& os, const TraceCheck& c) {
  os << "trace " << c.trace << ", " << c.engine << "\n\n";
  os << fmt::format("{:<32} {:<12} {:<8} {:>10} {:>10}  {}\n", "layer", "scheme", "match",
                    "overflows", "invalid", "first mismatch");
  for (const LayerCheck& l : c.layers) {
    const std::string match = !l.has_expected ? "no ref" : l.mismatches ? "NO" : "yes";
    std::string first;
    if (l.mismatches) {
      const std::size_t cols = l.y.cols() ? l.y.cols() : 1;
      first = fmt::format("[{}, {}]: got {} want {} ({} differ)", l.first / cols, l.first % cols,
                          l.got, l.want, l.mismatches);
    }
    os << fmt::format("{:<32} {:<12} {:<8} {:>10} {:>10}  {}\n", l.layer, scheme_name(l.scheme),
                      match, l.counters.overflow_events(), l.counters.invalid_codes, first);
  }
  os << (c.all_match() ? "\nall layers bit-exact\n" : "\nMISMATCH: see the table\n");
}

std::string counters_json(const TraceCheck& c) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const LayerCheck& l : c.layers) {
    j[l.layer] = {{"actions", l.counters.actions},
                  {"overflow", l.counters.overflow},
                  {"invalid_codes", l.counters.invalid_codes}};
  }
  return j.dump(2) + "\n";
}

}  // namespace quasar
