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

arch::Dataflow dataflow_of(const std::string& s, const std::string& file) {
  if (s == "ws") return arch::Dataflow::ws;
  if (s == "os") return arch::Dataflow::os;
  if (s == "is") return arch::Dataflow::is;
  throw Error(file + ": arch.array.dataflow '" + s + "' (accepted: ws, os, is)");
}

arch::WsOrder ws_order_of(const std::string& s, const std::string& file) {
  for (arch::WsOrder o : {arch::WsOrder::n_outer, arch::WsOrder::m_blocked, arch::WsOrder::min_dram})
    if (s == arch::ws_order_name(o)) return o;
  throw Error(file + ": arch.array.ws_order '" + s + "' (accepted: n_outer, m_blocked, min_dram)");
}

// The design's schemes: the cost model sizes the units' scale register files from them.
std::vector<Scheme> schemes_of(const json& a, const std::string& file) {
  if (!a.contains("schemes") || !a.at("schemes").is_array())
    throw Error(file + ": missing list 'arch.schemes'");
  std::vector<Scheme> out;
  for (const json& v : a.at("schemes")) {
    const std::optional<Scheme> s = v.is_string() ? scheme_from_name(v.get<std::string>())
                                                  : std::nullopt;
    if (!s) throw Error(file + ": arch.schemes holds " + v.dump() + ", not a scheme name");
    out.push_back(*s);
  }
  return out;
}

arch::PeKind pe_of(const std::string& s, const std::string& file) {
  for (const PeKindInfo& p : all_pe_kinds()) {
    if (s == p.name) return p.kind;
  }
  throw Error(file + ": arch.array.pe '" + s + "' (accepted: " + pe_kind_names_joined() + ")");
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

  const json& a = sub(j, "arch", path, "");
  arch::ArchSpec& s = r.arch;
  s.name = get<std::string>(a, "name", path, "arch");
  s.clock_mhz = get<double>(a, "clock_mhz", path, "arch");
  s.cores = get<std::uint32_t>(a, "cores", path, "arch");
  {
    const std::string p = get<std::string>(sub(a, "partition", path, "arch"), "linear", path,
                                           "arch.partition");
    if (p != "split_n" && p != "split_m")
      throw Error(path + ": arch.partition.linear '" + p + "' (accepted: split_n, split_m)");
    s.linear_partition = p == "split_n" ? arch::Partition::split_n : arch::Partition::split_m;
  }
  const json& arr = sub(a, "array", path, "arch");
  s.array.rows = get<std::uint32_t>(arr, "rows", path, "arch.array");
  s.array.cols = get<std::uint32_t>(arr, "cols", path, "arch.array");
  s.array.dataflow = dataflow_of(get<std::string>(arr, "dataflow", path, "arch.array"), path);
  s.array.pe = pe_of(get<std::string>(arr, "pe", path, "arch.array"), path);
  s.array.acc_bits = get<std::uint32_t>(arr, "acc_bits", path, "arch.array");
  s.array.ws_order = ws_order_of(get<std::string>(arr, "ws_order", path, "arch.array"), path);
  s.array.double_buffer = get<bool>(arr, "double_buffer", path, "arch.array");
  s.schemes = schemes_of(a, path);
  const json& e = sub(a, "edge", path, "arch");
  s.edge.intscale_units = get<std::uint32_t>(e, "intscale_units", path, "arch.edge");
  s.edge.intscale_acc_bits = get<std::uint32_t>(e, "intscale_acc_bits", path, "arch.edge");
  s.edge.floatscale_units = get<std::uint32_t>(e, "floatscale_units", path, "arch.edge");
  s.edge.dequant_units = get<std::uint32_t>(e, "dequant_units", path, "arch.edge");
  s.edge.epilogue_units = get<std::uint32_t>(e, "epilogue_units", path, "arch.edge");
  s.edge.intscale_latency_cycles =
      get<std::uint32_t>(e, "intscale_latency_cycles", path, "arch.edge");
  s.edge.floatscale_latency_cycles =
      get<std::uint32_t>(e, "floatscale_latency_cycles", path, "arch.edge");
  s.edge.epilogue_latency_cycles =
      get<std::uint32_t>(e, "epilogue_latency_cycles", path, "arch.edge");
  const json& b = sub(a, "buffers", path, "arch");
  for (const char* name : {"ifmap", "weight", "ofmap"}) {
    const std::string where = std::string("arch.buffers.") + name;
    const json& x = sub(b, name, path, "arch.buffers");
    arch::BufferSpec bs;
    bs.size_bytes = get<std::uint64_t>(x, "size_bytes", path, where);
    bs.banks = get<std::uint32_t>(x, "banks", path, where);
    bs.bytes_per_cycle = get<std::uint32_t>(x, "bytes_per_cycle", path, where);
    bs.double_buffered = get<bool>(x, "double_buffered", path, where);
    (std::string(name) == "ifmap"    ? s.buffers.ifmap
     : std::string(name) == "weight" ? s.buffers.weight
                                     : s.buffers.ofmap) = bs;
  }
  s.buffers.prefetch_depth = get<std::uint32_t>(b, "prefetch_depth", path, "arch.buffers");
  {
    const json& ic = sub(a, "interconnect", path, "arch");
    s.interconnect.latency_cycles = get<std::uint32_t>(ic, "latency_cycles", path, "arch.interconnect");
    s.interconnect.bytes_per_cycle = get<double>(ic, "bytes_per_cycle", path, "arch.interconnect");
  }
  const json& d = sub(a, "dram", path, "arch");
  s.dram.standard = get<std::string>(d, "standard", path, "arch.dram");
  s.dram.channels = get<std::uint32_t>(d, "channels", path, "arch.dram");
  s.dram.bandwidth_gbps = get<double>(d, "bandwidth_gbps", path, "arch.dram");
  s.dram.burst_bytes = get<std::uint32_t>(d, "burst_bytes", path, "arch.dram");
  s.dram.latency_ns = get<double>(d, "latency_ns", path, "arch.dram");
  s.dram.turnaround_ns = get<double>(d, "turnaround_ns", path, "arch.dram");
  s.dram.trefi_ns = get<double>(d, "trefi_ns", path, "arch.dram");
  s.dram.trfc_ns = get<double>(d, "trfc_ns", path, "arch.dram");
  s.dram.capacity_gib = get<double>(d, "capacity_gib", path, "arch.dram");
  {
    const json& v = sub(a, "vector", path, "arch");
    s.vector.lanes = get<std::uint32_t>(v, "lanes", path, "arch.vector");
    s.vector.sfu_lanes = get<std::uint32_t>(v, "sfu_lanes", path, "arch.vector");
    s.vector.latency_cycles = get<std::uint32_t>(v, "latency_cycles", path, "arch.vector");
    s.vector.buffer_kib = get<std::uint32_t>(v, "buffer_kib", path, "arch.vector");
  }
  {
    const json& at = sub(a, "attention", path, "arch");
    const std::string m = get<std::string>(at, "mode", path, "arch.attention");
    if (m != "fp32" && m != "int8")
      throw Error(path + ": arch.attention.mode '" + m + "' (accepted: fp32, int8)");
    s.attention.mode = m == "fp32" ? arch::AttentionMode::fp32 : arch::AttentionMode::int8;
    try {
      s.attention.kv = parse_kv_format(get<std::string>(at, "kv", path, "arch.attention"));
    } catch (const Error& bad) {
      throw Error(path + ": arch.attention.kv: " + bad.what());
    }
    s.attention.tile = get<std::uint32_t>(at, "tile", path, "arch.attention");
  }
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
