#include "arch_spec.hpp"

namespace quasar::arch {

const char* dataflow_name(Dataflow d) { return d == Dataflow::ws ? "ws" : "os"; }

const char* ws_order_name(WsOrder o) {
  switch (o) {
    case WsOrder::n_outer:
      return "n_outer";
    case WsOrder::m_blocked:
      return "m_blocked";
    case WsOrder::min_dram:
      return "min_dram";
  }
  return "?";
}

std::string check_ranges(const ArchSpec& a) {
  if (!(a.clock_mhz >= 1.0 && a.clock_mhz <= 100000.0)) return "clock_mhz: must be in [1, 100000]";
  if (a.array.rows < 1 || a.array.cols < 1 || a.array.rows > 4096 || a.array.cols > 4096)
    return "array.rows/cols: must be in 1..4096";
  if (a.array.acc_bits < 8 || a.array.acc_bits > 64) return "array.acc_bits: must be in 8..64";
  for (const BufferSpec* b : {&a.buffers.ifmap, &a.buffers.weight, &a.buffers.ofmap}) {
    if (b->size_bytes < 1024 || b->banks < 1 || b->bytes_per_cycle < 1)
      return "buffers: size >= 1 KiB, banks >= 1 and bytes_per_cycle >= 1 are needed";
  }
  if (!(a.dram.bytes_per_cycle >= 0.01 && a.dram.bytes_per_cycle <= 1e6))
    return "dram.bytes_per_cycle: must be in [0.01, 1e6]";
  if (a.dram.burst_bytes < 1) return "dram.burst_bytes: must be >= 1";
  return "";
}

std::string check_consistency(const ArchSpec& a) {
  if (a.schemes.empty()) return "schemes: list at least one scheme the design runs";
  for (Scheme s : a.schemes) {
    const std::string name(scheme_name(s));
    if (!pe_runs(a.array.pe, s)) {
      return "schemes: " + name + " cannot run on " + pe_kind_name(a.array.pe) + " PEs";
    }
    if (const std::optional<ScaleUnit> u = traits(s).scale_unit; u && scale_units(a.edge, *u) == 0) {
      const ScaleUnitInfo& i = all_scale_units()[static_cast<std::size_t>(*u)];
      return "edge." + std::string(i.edge_key) + ": " + name + " needs " + std::string(i.needs) +
             " (> 0)";
    }
  }
  if (a.edge.epilogue_units == 0) return "edge.epilogue_units: must be > 0";
  return "";
}

}  // namespace quasar::arch
