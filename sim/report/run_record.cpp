#include "report/run_record.hpp"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>
#include <vector>

#include "io/input_file.hpp"
#include "numerics/error.hpp"
#include "numerics/scheme.hpp"
#include "report/arch_json.hpp"
#include "report/run_report.hpp"

namespace quasar {
namespace {

using json = nlohmann::json;

// Reads key `k` of object `o` (at `where` in `file`) as T, or fails naming both.
template <class T>
T get(const json& o, const char* k, const std::string& file, const std::string& where) {
  const std::string path = where.empty() ? k : where + "." + k;
  if (!o.is_object() || !o.contains(k)) throw Error(file + ": missing key '" + path + "'");
  const json& v = o.at(k);
  // nlohmann converts -5 to a huge unsigned and accepts inf/NaN-free doubles only as numbers:
  // a hand-edited report must not pass a negative count or a non-finite value on.
  if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T> && !std::is_same_v<T, bool>) {
    if (!v.is_number_unsigned())
      throw Error(file + ": key '" + path + "' must be a non-negative integer");
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw Error(file + ": key '" + path + "' must be a finite number");
  }
  try {
    return v.get<T>();
  } catch (const json::exception&) {
    throw Error(file + ": key '" + path + "' has the wrong type");
  }
}

const json& sub(const json& o, const char* k, const std::string& file, const std::string& where) {
  const std::string path = where.empty() ? k : where + "." + k;
  if (!o.is_object() || !o.contains(k) || !o.at(k).is_structured())
    throw Error(file + ": missing object '" + path + "'");
  return o.at(k);
}





}  // namespace

RunRecord read_run_report(const std::string& path) {
  const std::string text = io::read_text_file(path, "run report");
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(path + ": not JSON (" + std::string(e.what()) + ")");
  }
  const int schema = get<int>(j, "report_schema", path, "");
  if (schema != kReportSchema)
    throw Error(path + ": report_schema " + std::to_string(schema) +
                " (this quasar reads " + std::to_string(kReportSchema) + "; run the design again)");
  RunRecord r;
  r.file = path;
  r.trace = get<std::string>(j, "trace", path, "");
  r.design = get<std::string>(j, "design", path, "");
  r.mode = get<std::string>(j, "mode", path, "");
  r.accounting = get<std::string>(j, "accounting", path, "");
  r.tokens = get<std::uint64_t>(j, "tokens", path, "");

  arch::ArchSpec& s = r.arch;
  s = arch_from_json(sub(j, "arch", path, ""), path);
  if (r.accounting != "native" && r.accounting != "scalesim")
    throw Error(path + ": accounting '" + r.accounting + "' (accepted: native, scalesim)");
  s.accounting = r.accounting == "native" ? arch::Accounting::native : arch::Accounting::scalesim;

  r.stats.cycles = get<std::uint64_t>(j, "cycles", path, "");
  r.stats.pe_count = get<std::uint64_t>(j, "pes", path, "");
  if (!j.contains("layers") || !j.at("layers").is_array())
    throw Error(path + ": key 'layers' must be a list");
  const json& layers = j.at("layers");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::string where = "layers[" + std::to_string(i) + "]";
    arch::LayerStats l;
    l.name = get<std::string>(layers[i], "name", path, where);
    for (const arch::StatField& f : arch::layer_stat_fields())
      l.*f.member = get<std::uint64_t>(layers[i], f.name, path, where);
    r.stats.layers.push_back(l);
  }
  {
    const json& cov = sub(j, "covers", path, "");
    r.decoder_layers = get<std::uint64_t>(cov, "decoder_layers", path, "covers");
    r.model_layers = get<std::uint64_t>(cov, "model_layers", path, "covers");
    if (!j.contains("not_simulated") || !j.at("not_simulated").is_array())
      throw Error(path + ": key 'not_simulated' must be a list");
    const json& ns = j.at("not_simulated");
    for (std::size_t i = 0; i < ns.size(); ++i) {
      const std::string where = "not_simulated[" + std::to_string(i) + "]";
      r.not_simulated.emplace_back(get<std::string>(ns[i], "name", path, where),
                                   get<std::string>(ns[i], "reason", path, where));
    }
  }
  if (!j.contains("cores") || !j.at("cores").is_array())
    throw Error(path + ": key 'cores' must be a list");
  const json& cores = j.at("cores");
  for (std::size_t i = 0; i < cores.size(); ++i) {
    const std::string where = "cores[" + std::to_string(i) + "]";
    arch::LayerStats c;
    c.name = get<std::string>(cores[i], "name", path, where);
    for (const arch::StatField& f : arch::layer_stat_fields())
      c.*f.member = get<std::uint64_t>(cores[i], f.name, path, where);
    r.stats.cores.push_back(c);
  }
  if (!r.stats.cores.empty() && r.stats.cores.size() != s.cores)
    throw Error(path + ": " + std::to_string(r.stats.cores.size()) + " cores' statistics for a "
                "design of " + std::to_string(s.cores) + " cores (was the report edited?)");
  std::string why = arch::check_ranges(s);
  if (why.empty()) why = arch::check_consistency(s);
  if (!why.empty()) throw Error(path + ": arch." + why + " (was the report edited?)");
  std::uint64_t layer_cycles = 0;
  for (const arch::LayerStats& l : r.stats.layers) layer_cycles += l.cycles;
  if (layer_cycles != r.stats.cycles) {
    throw Error(path + ": the layers' cycles sum to " + std::to_string(layer_cycles) +
                ", the run's to " + std::to_string(r.stats.cycles) + " (was the report edited?)");
  }
  return r;
}

}  // namespace quasar
