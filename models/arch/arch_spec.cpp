#include "arch_spec.hpp"

namespace quasar::arch {

const char* dataflow_name(Dataflow d) {
  return d == Dataflow::ws ? "ws" : d == Dataflow::os ? "os" : "is";
}

const char* block_acc_name(BlockAcc b) { return b == BlockAcc::fp32 ? "fp32" : "fixed"; }
const char* latency_source_name(LatencySource s) {
  return s == LatencySource::derived ? "derived" : "given";
}

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

const char* partition_name(Partition p) { return p == Partition::split_n ? "split_n" : "split_m"; }

const char* layer_partition_name(LayerPartition p) {
  return p == LayerPartition::split ? "split" : "whole";
}

std::uint32_t prefetch_depth(const BufferSet& b) {
  if (b.prefetch_depth > 0) return b.prefetch_depth;
  return b.ifmap.double_buffered && b.weight.double_buffered ? 2 : 1;
}

std::string check_ranges(const ArchSpec& a) {
  if (a.buffers.prefetch_depth > 64) return "buffers.prefetch_depth: must be in 1..64";
  if (a.cores < 1 || a.cores > 1024) return "cores: must be in 1..1024";
  if (a.interconnect.latency_cycles > (1u << 20) ||
      !(a.interconnect.bytes_per_cycle >= 0 && a.interconnect.bytes_per_cycle <= 1e6))
    return "interconnect: latency_cycles 0..2^20, bytes_per_cycle [0, 1e6]";
  if (!(a.clock_mhz >= 1.0 && a.clock_mhz <= 100000.0)) return "clock_mhz: must be in [1, 100000]";
  if (a.array.rows < 1 || a.array.cols < 1 || a.array.rows > 4096 || a.array.cols > 4096)
    return "array.rows/cols: must be in 1..4096";
  if (a.array.acc_bits < 8 || a.array.acc_bits > 64) return "array.acc_bits: must be in 8..64";
  for (const BufferSpec* b : {&a.buffers.ifmap, &a.buffers.weight, &a.buffers.ofmap}) {
    if (b->size_bytes < 1024 || b->banks < 1 || b->bytes_per_cycle < 1)
      return "buffers: size >= 1 KiB, banks >= 1 and bytes_per_cycle >= 1 are needed";
  }
  const DramSpec& d = a.dram;
  if (d.channels < 1 || d.channels > 1024) return "dram.channels: must be in 1..1024";
  if (!(d.bandwidth_gbps >= 0.01 && d.bandwidth_gbps <= 1e6))
    return "dram.bandwidth_gbps: must be in [0.01, 1e6]";
  if (d.burst_bytes < 1 || d.burst_bytes > 65536) return "dram.burst_bytes: must be in 1..65536";
  for (double ns : {d.latency_ns, d.turnaround_ns, d.trefi_ns, d.trfc_ns})
    if (!(ns >= 0 && ns <= 1e7)) return "dram: latency, turnaround, tREFI, tRFC in [0, 1e7] ns";
  if ((d.trefi_ns > 0) != (d.trfc_ns > 0) || (d.trefi_ns > 0 && d.trfc_ns >= d.trefi_ns))
    return "dram.refresh: tREFI and tRFC are both 0 (no refresh) or 0 < tRFC < tREFI";
  if (!(d.capacity_gib >= 0 && d.capacity_gib <= 1e6)) return "dram.capacity_gib: in [0, 1e6]";
  const VectorSpec& v = a.vector;
  if (v.lanes > 65536 || (v.present() && (v.sfu_lanes < 1 || v.sfu_lanes > 65536 ||
                                          v.latency_cycles > 4096 || v.buffer_kib < 1 ||
                                          v.buffer_kib > (1u << 20))))
    return "vector: lanes 0..65536; with lanes > 0, sfu_lanes 1..65536, latency_cycles 0..4096, "
           "buffer_kib 1..2^20";
  if (a.attention.tile > (1u << 24)) return "attention.tile: must be in 0..2^24 keys";
  if (a.array.dataflow == Dataflow::is && a.accounting != Accounting::scalesim)
    return "array.dataflow: is is counted under accounting: scalesim only";
  if (a.array.double_buffer && a.array.dataflow == Dataflow::is)
    return "array.double_buffer: not with an input-stationary (SCALE-Sim counted) array";
  return "";
}

std::string attention_problem(const ArchSpec& a) {
  if (a.attention.mode == AttentionMode::int8) {
    if (a.attention.kv != KvFormat::int8)
      return "mode int8 runs QK^T and PV on int8 KV codes: it needs kv: int8 (not " +
             std::string(kv_format_name(a.attention.kv)) + ")";
    if (a.attention.tile > 0)
      return "mode int8 quantizes each row of probabilities as a whole, so it is "
             "unfused: tile: 0 (docs/numerics.md, choice 20)";
    if (!pe_runs(a.array.pe, Scheme::w8a8))
      return "mode int8 runs int8 x int8 GEMMs on the array; " +
             std::string(pe_kind_name(a.array.pe)) + " PEs cannot (use mode: fp32)";
  }
  return "";
}

std::string check_consistency(const ArchSpec& a) {
  if (a.schemes.empty()) return "schemes: list at least one scheme the design runs";
  if (std::string p = attention_problem(a); !p.empty()) return "attention: " + p;
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
  if (a.cores > 1 && a.accounting == Accounting::scalesim)
    return "cores: SCALE-Sim accounting counts one array; use cores: 1 or accounting: native";
  return "";
}

}  // namespace quasar::arch
