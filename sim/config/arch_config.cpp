#include "arch_config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "io/input_file.hpp"
#include "arch/dram/dram_timing.hpp"
#include "config/yaml_value.hpp"
#include "cost/node_scaling.hpp"
#include "embedded_arch.hpp"
#include "config/tech_config.hpp"
#include "cost/timing.hpp"
#include "numerics/error.hpp"

namespace quasar::config {
namespace {

std::uint32_t u32(const Value& v, std::uint32_t min, std::uint32_t max) {
  return static_cast<std::uint32_t>(v.as_uint(min, max));
}

// Optional key: keeps the default when absent.
template <class F>
void opt(const Value& parent, const char* key, F&& set) {
  if (auto v = parent.find(key)) set(*v);
}

arch::BufferSpec parse_buffer(const Value& b) {
  b.require_keys_in({"size_kib", "banks", "bytes_per_cycle", "double_buffered"});
  arch::BufferSpec s;
  s.size_bytes = b.at("size_kib").as_uint(1, 1u << 30) * 1024;
  opt(b, "banks", [&](const Value& v) { s.banks = u32(v, 1, 1024); });
  opt(b, "bytes_per_cycle", [&](const Value& v) { s.bytes_per_cycle = u32(v, 1, 1u << 20); });
  opt(b, "double_buffered", [&](const Value& v) { s.double_buffered = v.as_bool(); });
  return s;
}

// Any row name of the technology table's dram section (a table can add standards, e.g. from
// a datasheet); the timing model does not depend on it, the cost model names a missing row.
std::string standard_name(const Value& v) {
  std::string s = v.as_string();
  const bool ok = !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
  });
  if (!ok)
    v.fail("'" + s +
           "' is not a DRAM standard name: lower-case letters, digits and _ (up to 32), naming "
           "a row of the technology table's dram section, e.g. hbm2e, lpddr5, ddr5");
  return s;
}

double ns_value(const Value& v, double max) {
  const double x = v.as_double();
  if (!(x >= 0 && x <= max)) v.fail("must be in [0, " + std::to_string(static_cast<long>(max)) + "] ns");
  return x;
}

// Version 2: a preset (models/arch/dram/dram_timing.cpp lists them with their sources) and/or
// the figures themselves; a key given overrides the preset's.
arch::DramSpec parse_dram(const Value& dram) {
  dram.require_keys_in({"preset", "standard", "channels", "bandwidth_gbps", "burst_bytes",
                        "latency_ns", "turnaround_ns", "refresh", "capacity_gib"});
  arch::DramSpec d;
  const auto preset = dram.find("preset");
  if (preset) {
    std::vector<std::string> names;
    for (const arch::DramPreset& p : arch::dram_presets()) names.emplace_back(p.name);
    d = arch::find_dram_preset(preset->as_choice(names))->spec;
  } else {
    for (const char* k : {"standard", "bandwidth_gbps", "latency_ns"})
      if (!dram.find(k))
        dram.fail(std::string("without a preset (hbm2e, hbm3, lpddr5, ddr5) the DRAM needs '") +
                  k + "'");
  }
  opt(dram, "standard", [&](const Value& v) { d.standard = standard_name(v); });
  opt(dram, "channels", [&](const Value& v) { d.channels = u32(v, 1, 1024); });
  opt(dram, "bandwidth_gbps", [&](const Value& v) {
    d.bandwidth_gbps = v.as_double();
    if (!(d.bandwidth_gbps >= 0.01 && d.bandwidth_gbps <= 1e6)) v.fail("must be in [0.01, 1e6] GB/s");
  });
  opt(dram, "burst_bytes", [&](const Value& v) {
    d.burst_bytes = u32(v, 1, 1u << 16);
    if (d.burst_bytes & (d.burst_bytes - 1)) v.fail("must be a power of two");
  });
  opt(dram, "latency_ns", [&](const Value& v) { d.latency_ns = ns_value(v, 1e6); });
  opt(dram, "turnaround_ns", [&](const Value& v) { d.turnaround_ns = ns_value(v, 1e6); });
  opt(dram, "refresh", [&](const Value& v) {
    v.require_keys_in({"trefi_ns", "trfc_ns"});
    d.trefi_ns = ns_value(v.at("trefi_ns"), 1e7);
    d.trfc_ns = ns_value(v.at("trfc_ns"), 1e7);
    if ((d.trefi_ns > 0) != (d.trfc_ns > 0) || (d.trefi_ns > 0 && d.trfc_ns >= d.trefi_ns))
      v.fail("tREFI and tRFC are both 0 (no refresh), or 0 < tRFC < tREFI");
  });
  opt(dram, "capacity_gib", [&](const Value& v) {
    d.capacity_gib = v.as_double();
    if (!(d.capacity_gib >= 0 && d.capacity_gib <= 1e6)) v.fail("must be in [0, 1e6] GiB (0: not checked)");
  });
  return d;
}

// Version 1: bandwidth per accelerator cycle and latency in cycles, converted at `clock_mhz`
// to one channel without turnaround or refresh (what version 1 meant, less its separate read
// and write channels: reads and writes now share the bus).
arch::DramSpec parse_dram_v1(const Value& dram, double clock_mhz) {
  dram.require_keys_in({"standard", "bytes_per_cycle", "latency_cycles", "burst_bytes"});
  arch::DramSpec d;
  d.standard = standard_name(dram.at("standard"));
  const Value bw = dram.at("bytes_per_cycle");
  const double bpc = bw.as_double();
  // The lower bound keeps every cycle count far inside 64 bits (1 TB at 0.01 B/cycle is 1e14).
  if (!(bpc >= 0.01 && bpc <= 1e6)) bw.fail("must be in [0.01, 1e6] bytes per cycle");
  d.bandwidth_gbps = bpc * clock_mhz / 1000.0;
  d.latency_ns = u32(dram.at("latency_cycles"), 0, 1u << 20) * 1000.0 / clock_mhz;
  opt(dram, "burst_bytes", [&](const Value& v) {
    d.burst_bytes = u32(v, 1, 1u << 16);
    if (d.burst_bytes & (d.burst_bytes - 1)) v.fail("must be a power of two");
  });
  return d;
}

// Latencies come from static timing unless a design says `timing: {latencies: given}` (issue 18).
constexpr arch::LatencySource kDefaultLatencies = arch::LatencySource::derived;

// `timing: {latencies: derived | given}` (default kDefaultLatencies): the edge units' latencies and
// the PEs' stages (array.pe_stages, weight-stationary arrays) a design does not write are the
// stages static timing gives them at its node, supply and clock (cost/timing.hpp); a written one
// must be at least that, and PEs that cannot be pipelined must meet the clock in one cycle. The error names the key to change, at its line (clock_mhz's for a clock no stage count
// or no PE meets).
void apply_timing(const Value& root, arch::ArchSpec& a, bool check) {
  a.timing.latencies = kDefaultLatencies;
  if (auto t = root.find("timing")) {
    t->require_keys_in({"latencies"});
    opt(*t, "latencies", [&](const Value& v) {
      a.timing.latencies = v.as_choice({"derived", "given"}) == "given"
                               ? arch::LatencySource::given
                               : arch::LatencySource::derived;
    });
  }
  if (a.timing.latencies == arch::LatencySource::given) return;
  const arch::EdgeSpec written = a.edge;
  const std::uint32_t written_pe_stages = a.array.pe_stages;
  const std::uint32_t written_vector_latency = a.vector.latency_cycles;
  cost::TimingTable table;
  try {
    table = load_timing_table();
  } catch (const Error& e) {
    root.fail(std::string("timing: ") + e.what());
  }
  cost::derive_latencies(a, table);
  const std::optional<Value> edge = root.find("edge");
  auto keep = [&](const char* key, std::uint32_t arch::EdgeSpec::*m) {
    if (edge && edge->has(key)) a.edge.*m = written.*m;
  };
  keep("intscale_latency_cycles", &arch::EdgeSpec::intscale_latency_cycles);
  keep("floatscale_latency_cycles", &arch::EdgeSpec::floatscale_latency_cycles);
  keep("block_latency_cycles", &arch::EdgeSpec::block_latency_cycles);
  keep("epilogue_latency_cycles", &arch::EdgeSpec::epilogue_latency_cycles);
  const std::optional<Value> vec = root.find("vector");
  if (vec && vec->has("latency_cycles")) a.vector.latency_cycles = written_vector_latency;
  const Value arr = root.at("array");
  if (arr.has("pe_stages")) a.array.pe_stages = written_pe_stages;
  if (!check) return;
  const std::string p = cost::timing_problem(a, cost::design_timing(a, table));
  if (p.empty()) return;
  // "edge.<role>_latency_cycles: ..." or "array.pe_stages: ..." names a written key; anything
  // else is the clock's.
  const std::size_t colon = p.find(": ");
  const std::string key = p.substr(0, colon);
  if (key.rfind("edge.", 0) == 0 && edge && edge->has(key.substr(5)))
    edge->at(key.substr(5)).fail(p.substr(colon + 2));
  if (key == "array.pe_stages" && arr.has("pe_stages")) arr.at("pe_stages").fail(p.substr(colon + 2));
  if (key == "vector.latency_cycles" && vec && vec->has("latency_cycles"))
    vec->at("latency_cycles").fail(p.substr(colon + 2));
  root.at("clock_mhz").fail(p.substr(colon + 2) + " (timing: latencies given turns the check off)");
}

}  // namespace

arch::ArchSpec parse_arch_config(const std::string& text, const std::string& source,
                                 bool check_timing) {
  const Value root = Value::load_string(text, source);
  if (!root.is_map())
    root.fail("an accelerator config is a mapping (see docs/config-reference.md)");
  root.require_keys_in({"quasar_arch", "name", "clock_mhz", "process", "timing", "accounting", "cores",
                        "partition", "array", "schemes", "edge", "buffers", "dram", "interconnect", "vector", "attention"});
  const std::int64_t version = root.at("quasar_arch").as_int(0, 1000);
  if (version < kOldestArchFormatVersion || version > kArchFormatVersion) {
    root.at("quasar_arch")
        .fail("config format version " + std::to_string(version) +
              " is not supported; this quasar reads versions " +
              std::to_string(kOldestArchFormatVersion) + " to " +
              std::to_string(kArchFormatVersion));
  }
  arch::ArchSpec a;
  a.name = root.at("name").as_string();
  const Value clock = root.at("clock_mhz");
  a.clock_mhz = clock.as_double();
  if (!(a.clock_mhz >= 1.0 && a.clock_mhz <= 100000.0)) clock.fail("must be in [1, 100000] MHz");
  opt(root, "process", [&](const Value& v) {
    v.require_keys_in({"node_nm", "voltage_v"});
    opt(v, "node_nm", [&](const Value& n) {
      a.process.node_nm = u32(n, 1, 1000);
      const int nm = static_cast<int>(a.process.node_nm);
      try {
        cost::node_fit(nm);
      } catch (const Error& e) {
        n.fail(e.what());
      }
      // A node without an explicit supply runs at its nominal one (45 nm: the tables' 0.9 V).
      if (nm != cost::kPriceNodeNm) a.process.voltage_v = cost::node_fit(nm).v_nominal;
    });
    opt(v, "voltage_v", [&](const Value& x) {
      a.process.voltage_v = x.as_double();
      if (const std::string p = cost::voltage_problem(static_cast<int>(a.process.node_nm),
                                                      a.process.voltage_v);
          !p.empty())
        x.fail(p + " (process.voltage_v)");
    });
  });
  opt(root, "accounting", [&](const Value& v) {
    a.accounting = v.as_choice({"native", "scalesim"}) == "native" ? arch::Accounting::native
                                                                   : arch::Accounting::scalesim;
  });

  opt(root, "cores", [&](const Value& v) { a.cores = u32(v, 1, 1024); });
  opt(root, "partition", [&](const Value& v) {
    v.require_keys_in({"linear", "layers"});
    opt(v, "linear", [&](const Value& p) {
      a.linear_partition = p.as_choice({"split_n", "split_m"}) == "split_n"
                               ? arch::Partition::split_n
                               : arch::Partition::split_m;
    });
    opt(v, "layers", [&](const Value& p) {
      a.layer_partition = p.as_choice({"split", "whole"}) == "split" ? arch::LayerPartition::split
                                                                     : arch::LayerPartition::whole;
    });
  });

  const Value arr = root.at("array");
  arr.require_keys_in(
      {"rows", "cols", "dataflow", "pe", "acc_bits", "ws_order", "double_buffer", "pe_stages"});
  a.array.rows = u32(arr.at("rows"), 1, 4096);
  a.array.cols = u32(arr.at("cols"), 1, 4096);
  {
    const Value df = arr.at("dataflow");
    const std::string d = df.as_choice({"ws", "os", "is"});
    a.array.dataflow = d == "ws" ? arch::Dataflow::ws : d == "os" ? arch::Dataflow::os : arch::Dataflow::is;
    if (a.array.dataflow == arch::Dataflow::is && a.accounting != arch::Accounting::scalesim)
      df.fail("input-stationary is counted with SCALE-Sim's closed form only: add "
              "'accounting: scalesim' (the native model has no IS array yet)");
  }
  std::vector<std::string> pe_names;
  for (const PeKindInfo& p : all_pe_kinds()) pe_names.emplace_back(p.name);
  const std::string pe = arr.at("pe").as_choice(pe_names);
  for (const PeKindInfo& p : all_pe_kinds())
    if (pe == p.name) a.array.pe = p.kind;
  opt(arr, "acc_bits", [&](const Value& v) { a.array.acc_bits = u32(v, 8, 64); });
  opt(arr, "ws_order", [&](const Value& v) {
    if (a.array.dataflow != arch::Dataflow::ws)
      v.fail("the loop order is a weight-stationary choice; this array is output-stationary "
             "(its order is fixed: m-tile, n-tile, k-chunk)");
    const std::string o = v.as_choice({"n_outer", "m_blocked", "min_dram"});
    a.array.ws_order = o == "n_outer"     ? arch::WsOrder::n_outer
                       : o == "m_blocked" ? arch::WsOrder::m_blocked
                                          : arch::WsOrder::min_dram;
  });

  opt(arr, "double_buffer", [&](const Value& v) {
    a.array.double_buffer = v.as_bool();
    if (a.array.double_buffer && a.array.dataflow == arch::Dataflow::is)
      v.fail("an input-stationary array is counted by SCALE-Sim's closed form, which has no "
             "double buffering");
  });
  opt(arr, "pe_stages", [&](const Value& v) {
    a.array.pe_stages = u32(v, 1, 64);
    if (a.array.pe_stages > 1 && a.array.dataflow != arch::Dataflow::ws)
      v.fail("only a weight-stationary array pipelines its PEs (an output-stationary PE adds "
             "into its own accumulator every cycle); use 1, or dataflow: ws");
    if (a.array.pe_stages > 1 && a.accounting == arch::Accounting::scalesim)
      v.fail("SCALE-Sim's closed form has one-stage PEs; use 1, or accounting: native");
  });

  const Value schemes = root.at("schemes");
  if (!schemes.is_seq()) schemes.fail("expected a list of schemes, e.g. [w4a8-is, w8a8]");
  std::vector<std::string> names;
  for (const SchemeInfo& i : all_schemes()) names.emplace_back(i.name);
  for (std::size_t i = 0; i < schemes.size(); ++i) {
    a.schemes.push_back(*scheme_from_name(schemes[i].as_choice(names)));
  }

  if (auto e = root.find("edge")) {
    e->require_keys_in({"intscale_units", "intscale_latency_cycles", "intscale_acc_bits",
                        "floatscale_units", "floatscale_latency_cycles", "dequant_units",
                        "epilogue_units", "epilogue_latency_cycles", "block_units",
                        "block_latency_cycles", "block_acc", "block_acc_bits",
                        "block_frac_bits"});
    arch::EdgeSpec& s = a.edge;
    opt(*e, "intscale_units", [&](const Value& v) { s.intscale_units = u32(v, 0, 65536); });
    opt(*e, "intscale_latency_cycles",
        [&](const Value& v) { s.intscale_latency_cycles = u32(v, 1, 1024); });
    opt(*e, "intscale_acc_bits", [&](const Value& v) {
      s.intscale_acc_bits = u32(v, 32, 64);
      if (s.intscale_acc_bits % 8 != 0) v.fail("accepted: 32, 40, 48, 56 or 64 bits");
    });
    opt(*e, "floatscale_units", [&](const Value& v) { s.floatscale_units = u32(v, 0, 65536); });
    opt(*e, "floatscale_latency_cycles",
        [&](const Value& v) { s.floatscale_latency_cycles = u32(v, 1, 1024); });
    opt(*e, "dequant_units", [&](const Value& v) { s.dequant_units = u32(v, 0, 65536); });
    opt(*e, "block_units", [&](const Value& v) { s.block_units = u32(v, 0, 65536); });
    opt(*e, "block_latency_cycles",
        [&](const Value& v) { s.block_latency_cycles = u32(v, 1, 1024); });
    opt(*e, "block_acc", [&](const Value& v) {
      s.block_acc = v.as_choice({"fp32", "fixed"}) == "fp32" ? BlockAcc::fp32 : BlockAcc::fixed;
    });
    opt(*e, "block_acc_bits", [&](const Value& v) { s.block_acc_bits = u32(v, 16, 64); });
    opt(*e, "block_frac_bits", [&](const Value& v) { s.block_frac_bits = u32(v, 0, 62); });
    opt(*e, "epilogue_units", [&](const Value& v) { s.epilogue_units = u32(v, 1, 65536); });
    opt(*e, "epilogue_latency_cycles",
        [&](const Value& v) { s.epilogue_latency_cycles = u32(v, 1, 1024); });
  }

  const Value buf = root.at("buffers");
  buf.require_keys_in({"ifmap", "weight", "ofmap", "prefetch_depth"});
  a.buffers.ifmap = parse_buffer(buf.at("ifmap"));
  a.buffers.weight = parse_buffer(buf.at("weight"));
  a.buffers.ofmap = parse_buffer(buf.at("ofmap"));
  opt(buf, "prefetch_depth", [&](const Value& v) { a.buffers.prefetch_depth = u32(v, 1, 64); });

  a.dram = version == 1 ? parse_dram_v1(root.at("dram"), a.clock_mhz) : parse_dram(root.at("dram"));

  opt(root, "interconnect", [&](const Value& v) {
    v.require_keys_in({"latency_cycles", "bytes_per_cycle"});
    opt(v, "latency_cycles", [&](const Value& x) { a.interconnect.latency_cycles = u32(x, 0, 1u << 20); });
    opt(v, "bytes_per_cycle", [&](const Value& x) {
      a.interconnect.bytes_per_cycle = x.as_double();
      if (!(a.interconnect.bytes_per_cycle >= 0 && a.interconnect.bytes_per_cycle <= 1e6))
        x.fail("must be in [0, 1e6] bytes per cycle per core (0: not a limit)");
    });
  });
  opt(root, "vector", [&](const Value& v) {
    v.require_keys_in({"lanes", "sfu_lanes", "latency_cycles", "buffer_kib"});
    arch::VectorSpec& s = a.vector;
    s.lanes = u32(v.at("lanes"), 0, 65536);
    opt(v, "sfu_lanes", [&](const Value& x) { s.sfu_lanes = u32(x, 1, 65536); });
    opt(v, "latency_cycles", [&](const Value& x) { s.latency_cycles = u32(x, 0, 4096); });
    opt(v, "buffer_kib", [&](const Value& x) { s.buffer_kib = u32(x, 1, 1u << 20); });
  });
  opt(root, "attention", [&](const Value& v) {
    v.require_keys_in({"mode", "kv", "tile"});
    arch::AttentionSpec& s = a.attention;
    opt(v, "mode", [&](const Value& x) {
      s.mode = x.as_choice({"fp32", "int8"}) == "fp32" ? arch::AttentionMode::fp32
                                                       : arch::AttentionMode::int8;
    });
    opt(v, "kv", [&](const Value& x) { s.kv = parse_kv_format(x.as_choice({"fp16", "int8", "int4"})); });
    opt(v, "tile", [&](const Value& x) { s.tile = u32(x, 0, 1u << 24); });
    if (const std::string p = arch::attention_problem(a); !p.empty()) v.fail(p);
  });
  if (a.cores > 1 && a.accounting == arch::Accounting::scalesim)
    root.at("cores").fail("SCALE-Sim accounting counts one array; use cores: 1 or accounting: native");
  const std::string problem = arch::check_consistency(a);
  if (!problem.empty()) throw Error(source + ": " + problem);
  apply_timing(root, a, check_timing);
  return a;
}

arch::ArchSpec read_arch_config(const std::string& path) {
  return parse_arch_config(io::read_text_file(path, "design"), path);
}

std::vector<std::string> shipped_arch_names() {
  std::vector<std::string> names;
  for (const EmbeddedArch& e : kEmbeddedArch) names.emplace_back(e.name);
  return names;
}

arch::ArchSpec load_arch(const std::string& path_or_name) {
  if (path_or_name.find('/') == std::string::npos &&
      path_or_name.find(".yaml") == std::string::npos) {
    for (const EmbeddedArch& e : kEmbeddedArch) {
      if (path_or_name == e.name)
        return parse_arch_config(e.yaml, std::string("configs/arch/") + e.name + ".yaml");
    }
    std::string known;
    for (const auto& n : shipped_arch_names()) known += (known.empty() ? "" : ", ") + n;
    throw Error("--arch '" + path_or_name + "' is neither a YAML file nor a shipped design (" +
                known + "); a file is named by a path with a '/' or ending in .yaml");
  }
  return read_arch_config(path_or_name);
}

}  // namespace quasar::config
