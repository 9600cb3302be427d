#include "report/arch_json.hpp"

#include <cmath>
#include <functional>
#include <optional>
#include <type_traits>
#include <vector>

#include "numerics/error.hpp"
#include "numerics/scheme.hpp"

namespace quasar {
namespace {

using json = nlohmann::json;
using arch::ArchSpec;

struct Field {
  const char* path;  // dotted, below "arch"
  std::function<json(const ArchSpec&)> get;
  // Sets the field from its JSON value; `where` is "arch.<path>" for messages.
  std::function<void(ArchSpec&, const json&, const std::string& file, const std::string& where)>
      set;
};

// A JSON value as T, or an error naming the file and the key (no negative counts, no
// non-finite numbers from a hand-edited report).
template <class T>
T as(const json& v, const std::string& file, const std::string& where) {
  if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T> && !std::is_same_v<T, bool>) {
    if (!v.is_number_unsigned())
      throw Error(file + ": key '" + where + "' must be a non-negative integer");
    if (v.get<std::uint64_t>() > std::numeric_limits<T>::max())
      throw Error(file + ": key '" + where + "' is too large");
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw Error(file + ": key '" + where + "' must be a finite number");
  }
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) throw Error(file + ": key '" + where + "' must be true or false");
  }
  if constexpr (std::is_same_v<T, std::string>) {
    if (!v.is_string()) throw Error(file + ": key '" + where + "' must be a string");
  }
  return v.get<T>();
}

// An enum written by its name: `names` lists every value and its name.
template <class E>
Field named(const char* path, std::function<E&(ArchSpec&)> ref,
            std::vector<std::pair<E, std::string>> names) {
  auto get = [ref, names](const ArchSpec& a) {
    const E v = ref(const_cast<ArchSpec&>(a));
    for (const auto& [e, n] : names)
      if (e == v) return json(n);
    return json("?");
  };
  auto set = [ref, names](ArchSpec& a, const json& j, const std::string& file,
                          const std::string& where) {
    const std::string s = as<std::string>(j, file, where);
    std::string accepted;
    for (const auto& [e, n] : names) {
      if (n == s) {
        ref(a) = e;
        return;
      }
      accepted += (accepted.empty() ? "" : ", ") + n;
    }
    throw Error(file + ": " + where + " '" + s + "' (accepted: " + accepted + ")");
  };
  return {path, get, set};
}

#define QUASAR_ARCH_FIELD(T, path, member)                                                   \
  Field {                                                                                    \
    path, [](const ArchSpec& a) { return json(a.member); },                                 \
        [](ArchSpec& a, const json& j, const std::string& file, const std::string& where) { \
          a.member = as<T>(j, file, where);                                                  \
        }                                                                                    \
  }

template <class E>
std::vector<std::pair<E, std::string>> enum_names(std::initializer_list<E> all,
                                                  const char* (*name)(E)) {
  std::vector<std::pair<E, std::string>> out;
  for (E e : all) out.emplace_back(e, name(e));
  return out;
}

const std::vector<Field>& fields() {
  using namespace arch;
  static const std::vector<Field> f = [] {
    std::vector<std::pair<PeKind, std::string>> pes;
    for (const PeKindInfo& p : all_pe_kinds()) pes.emplace_back(p.kind, p.name);
    std::vector<std::pair<AttentionMode, std::string>> modes;
    for (AttentionMode m : {AttentionMode::fp32, AttentionMode::int8})
      modes.emplace_back(m, std::string(attention_mode_name(m)));
    std::vector<std::pair<KvFormat, std::string>> kvs;
    for (KvFormat k : {KvFormat::fp16, KvFormat::int8, KvFormat::int4})
      kvs.emplace_back(k, std::string(kv_format_name(k)));
    std::vector<Field> v = {
        QUASAR_ARCH_FIELD(std::string, "name", name),
        QUASAR_ARCH_FIELD(double, "clock_mhz", clock_mhz),
        QUASAR_ARCH_FIELD(std::uint32_t, "process.node_nm", process.node_nm),
        QUASAR_ARCH_FIELD(double, "process.voltage_v", process.voltage_v),
        named<LatencySource>(
            "timing.latencies", [](ArchSpec& a) -> LatencySource& { return a.timing.latencies; },
            enum_names({LatencySource::given, LatencySource::derived}, latency_source_name)),
        QUASAR_ARCH_FIELD(std::uint32_t, "cores", cores),
        named<Partition>("partition.linear",
                         [](ArchSpec& a) -> Partition& { return a.linear_partition; },
                         enum_names({Partition::split_n, Partition::split_m}, partition_name)),
        named<LayerPartition>(
            "partition.layers",
            [](ArchSpec& a) -> LayerPartition& { return a.layer_partition; },
            enum_names({LayerPartition::split, LayerPartition::whole}, layer_partition_name)),
        QUASAR_ARCH_FIELD(std::uint32_t, "array.rows", array.rows),
        QUASAR_ARCH_FIELD(std::uint32_t, "array.cols", array.cols),
        named<Dataflow>("array.dataflow",
                        [](ArchSpec& a) -> Dataflow& { return a.array.dataflow; },
                        enum_names({Dataflow::ws, Dataflow::os, Dataflow::is}, dataflow_name)),
        named<PeKind>("array.pe", [](ArchSpec& a) -> PeKind& { return a.array.pe; },
                      pes),
        QUASAR_ARCH_FIELD(std::uint32_t, "array.acc_bits", array.acc_bits),
        named<WsOrder>("array.ws_order",
                       [](ArchSpec& a) -> WsOrder& { return a.array.ws_order; },
                       enum_names({WsOrder::n_outer, WsOrder::m_blocked, WsOrder::min_dram},
                                  ws_order_name)),
        QUASAR_ARCH_FIELD(bool, "array.double_buffer", array.double_buffer),
        QUASAR_ARCH_FIELD(std::uint32_t, "array.pe_stages", array.pe_stages),
        // The design's schemes: the cost model sizes the units' scale register files from them.
        Field{"schemes",
              [](const ArchSpec& a) {
                json s = json::array();
                for (Scheme x : a.schemes) s.push_back(scheme_name(x));
                return s;
              },
              [](ArchSpec& a, const json& j, const std::string& file, const std::string& where) {
                if (!j.is_array()) throw Error(file + ": missing list '" + where + "'");
                a.schemes.clear();
                for (const json& x : j) {
                  const std::optional<Scheme> s =
                      x.is_string() ? scheme_from_name(x.get<std::string>()) : std::nullopt;
                  if (!s)
                    throw Error(file + ": " + where + " holds " + x.dump() + ", not a scheme name");
                  a.schemes.push_back(*s);
                }
              }},
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.intscale_units", edge.intscale_units),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.intscale_acc_bits", edge.intscale_acc_bits),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.floatscale_units", edge.floatscale_units),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.dequant_units", edge.dequant_units),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.epilogue_units", edge.epilogue_units),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.intscale_latency_cycles",
                          edge.intscale_latency_cycles),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.floatscale_latency_cycles",
                          edge.floatscale_latency_cycles),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.epilogue_latency_cycles",
                          edge.epilogue_latency_cycles),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.block_units", edge.block_units),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.block_latency_cycles", edge.block_latency_cycles),
        named<BlockAcc>("edge.block_acc", [](ArchSpec& a) -> BlockAcc& { return a.edge.block_acc; },
                        enum_names({BlockAcc::fp32, BlockAcc::fixed}, block_acc_name)),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.block_acc_bits", edge.block_acc_bits),
        QUASAR_ARCH_FIELD(std::uint32_t, "edge.block_frac_bits", edge.block_frac_bits),
    };
#define QUASAR_ARCH_BUFFER(b)                                                                 \
  QUASAR_ARCH_FIELD(std::uint64_t, "buffers." #b ".size_bytes", buffers.b.size_bytes),         \
      QUASAR_ARCH_FIELD(std::uint32_t, "buffers." #b ".banks", buffers.b.banks),               \
      QUASAR_ARCH_FIELD(std::uint32_t, "buffers." #b ".bytes_per_cycle", buffers.b.bytes_per_cycle), \
      QUASAR_ARCH_FIELD(bool, "buffers." #b ".double_buffered", buffers.b.double_buffered)
    const std::vector<Field> rest = {
        QUASAR_ARCH_BUFFER(ifmap),
        QUASAR_ARCH_BUFFER(weight),
        QUASAR_ARCH_BUFFER(ofmap),
        QUASAR_ARCH_FIELD(std::uint32_t, "buffers.prefetch_depth", buffers.prefetch_depth),
        QUASAR_ARCH_FIELD(std::uint32_t, "interconnect.latency_cycles", interconnect.latency_cycles),
        QUASAR_ARCH_FIELD(double, "interconnect.bytes_per_cycle", interconnect.bytes_per_cycle),
        QUASAR_ARCH_FIELD(std::string, "dram.standard", dram.standard),
        QUASAR_ARCH_FIELD(std::uint32_t, "dram.channels", dram.channels),
        QUASAR_ARCH_FIELD(double, "dram.bandwidth_gbps", dram.bandwidth_gbps),
        QUASAR_ARCH_FIELD(std::uint32_t, "dram.burst_bytes", dram.burst_bytes),
        QUASAR_ARCH_FIELD(double, "dram.latency_ns", dram.latency_ns),
        QUASAR_ARCH_FIELD(double, "dram.turnaround_ns", dram.turnaround_ns),
        QUASAR_ARCH_FIELD(double, "dram.trefi_ns", dram.trefi_ns),
        QUASAR_ARCH_FIELD(double, "dram.trfc_ns", dram.trfc_ns),
        QUASAR_ARCH_FIELD(double, "dram.capacity_gib", dram.capacity_gib),
        QUASAR_ARCH_FIELD(std::uint32_t, "vector.lanes", vector.lanes),
        QUASAR_ARCH_FIELD(std::uint32_t, "vector.sfu_lanes", vector.sfu_lanes),
        QUASAR_ARCH_FIELD(std::uint32_t, "vector.latency_cycles", vector.latency_cycles),
        QUASAR_ARCH_FIELD(std::uint32_t, "vector.buffer_kib", vector.buffer_kib),
        named<AttentionMode>("attention.mode",
                             [](ArchSpec& a) -> AttentionMode& { return a.attention.mode; },
                             modes),
        named<KvFormat>("attention.kv",
                        [](ArchSpec& a) -> KvFormat& { return a.attention.kv; }, kvs),
        QUASAR_ARCH_FIELD(std::uint32_t, "attention.tile", attention.tile),
    };
#undef QUASAR_ARCH_BUFFER
    v.insert(v.end(), rest.begin(), rest.end());
    return v;
  }();
  return f;
}
#undef QUASAR_ARCH_FIELD

std::vector<std::string> split(const char* path) {
  std::vector<std::string> parts;
  std::string cur;
  for (const char* p = path; *p; ++p) {
    if (*p == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += *p;
    }
  }
  parts.push_back(cur);
  return parts;
}

}  // namespace

nlohmann::ordered_json arch_to_json(const arch::ArchSpec& a) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const Field& f : fields()) {
    nlohmann::ordered_json* o = &j;
    const std::vector<std::string> parts = split(f.path);
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) o = &(*o)[parts[i]];
    (*o)[parts.back()] = f.get(a);
  }
  return j;
}

arch::ArchSpec arch_from_json(const nlohmann::json& j, const std::string& file) {
  arch::ArchSpec a;
  for (const Field& f : fields()) {
    const json* o = &j;
    std::string where = "arch";
    for (const std::string& part : split(f.path)) {
      where += "." + part;
      if (!o->is_object() || !o->contains(part))
        throw Error(file + ": missing key '" + where + "'");
      o = &o->at(part);
    }
    f.set(a, *o, file, where);
  }
  return a;
}

}  // namespace quasar
