#include "arch/segment/segment.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "numerics/error.hpp"

namespace quasar::arch {

std::string why_not_segmented(const ArchSpec& a) {
  if (a.dram.trefi_ns > 0 && a.dram.trfc_ns > 0)
    return "its DRAM refreshes at fixed times (dram.refresh)";
  const double ppc = 1e6 / a.clock_mhz;
  if (!(ppc >= 1 && ppc == std::floor(ppc) &&
        static_cast<double>(static_cast<std::uint64_t>(ppc)) * a.clock_mhz == 1e6))
    return "its cycle (clock_mhz " + std::to_string(a.clock_mhz) +
           ") is not a whole number of picoseconds";
  return "";
}

std::vector<std::size_t> segment_cuts(const std::vector<std::vector<LayerWork>>& core_work) {
  if (core_work.empty()) return {};
  const std::vector<LayerWork>& w = core_work.front();
  const std::size_t n = w.size();
  const std::vector<std::size_t> order = run_order(w);
  for (std::size_t i = 0; i < n; ++i)
    if (order[i] != i) return {};
  // anc[k][i]: layer i is read by layer k, directly or through others. `after` names earlier
  // layers only (the planner's graph follows the trace's order); a later one makes no cut.
  std::vector<std::vector<bool>> anc(n, std::vector<bool>(n, false));
  for (std::size_t k = 0; k < n; ++k) {
    for (std::size_t p : w[k].after) {
      if (p >= k) return {};
      anc[k][p] = true;
      for (std::size_t i = 0; i < p; ++i)
        if (anc[p][i]) anc[k][i] = true;
    }
  }
  // full[k]: the layers 0 .. full[k] - 1 are all ancestors of k.
  std::vector<std::size_t> full(n, 0);
  for (std::size_t k = 0; k < n; ++k)
    while (full[k] < k && anc[k][full[k]]) ++full[k];
  std::vector<std::size_t> cuts;
  std::size_t low = n;  // min over k >= j of full[k]
  std::vector<std::size_t> min_from(n + 1, n);
  for (std::size_t k = n; k-- > 0;) min_from[k] = low = std::min(low, full[k]);
  for (std::size_t j = 1; j < n; ++j)
    if (min_from[j] >= j) cuts.push_back(j);
  return cuts;
}

std::vector<std::vector<LayerWork>> segment_work(
    const std::vector<std::vector<LayerWork>>& core_work, std::size_t from, std::size_t to) {
  std::vector<std::vector<LayerWork>> out;
  for (const std::vector<LayerWork>& w : core_work) {
    if (from > to || to > w.size()) throw Error("segment: layers out of range");
    std::vector<LayerWork> s(w.begin() + static_cast<std::ptrdiff_t>(from),
                             w.begin() + static_cast<std::ptrdiff_t>(to));
    for (LayerWork& l : s) {
      std::vector<std::size_t> after;
      for (std::size_t p : l.after)
        if (p >= from) after.push_back(p - from);
      l.after = std::move(after);
    }
    out.push_back(std::move(s));
  }
  return out;
}

void append_segment(RunStats& run, const RunStats& seg) {
  if (run.layers.empty() && run.cycles == 0) {
    run = seg;
    return;
  }
  if (run.cores.size() != seg.cores.size() || run.pe_count != seg.pe_count ||
      run.fidelity != seg.fidelity)
    throw Error("segment: statistics of another design or mode");
  const std::uint64_t start = run.cycles;
  run.layers.insert(run.layers.end(), seg.layers.begin(), seg.layers.end());
  run.cycles += seg.cycles;
  for (std::size_t c = 0; c < run.cores.size(); ++c) {
    LayerStats& to = run.cores[c];
    const LayerStats& s = seg.cores[c];
    const std::uint64_t end = to.cycles;
    for (const StatField& f : layer_stat_fields()) to.*f.member += s.*f.member;
    // A core's line: when its last work was complete (0 in the segment: it had none there).
    to.cycles = s.cycles > 0 ? start + s.cycles : end;
  }
}

namespace {

template <class T>
void put(std::string& out, const T& v) {
  static_assert(std::is_trivially_copyable<T>::value, "bytes of a plain value");
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Field by field, not the structs' bytes: padding is not part of the work. A field added to
// Tile changes its size and fails this assertion until it is listed here.
void put_tile(std::string& out, const Tile& t) {
  static_assert(sizeof(Tile) == 224, "Tile changed: list its new field in put_tile");
  for (std::uint64_t v : {t.n0, t.cols_used, t.k0, t.rows_used, t.m, t.m0})
    put(out, v);
  put(out, t.first_k);
  put(out, t.last_k);
  for (std::uint64_t v : {t.weight_bytes, t.act_bytes, t.out_bytes, t.spill_read_bytes,
                          t.spill_write_bytes, t.dequant_ops, t.rescale_ops, t.epilogue_ops,
                          t.scale_writes, t.scale_reads})
    put(out, v);
  put(out, t.rescale_unit);
  put(out, t.stream_steps);
  put(out, t.x_bytes_per_step);
  put(out, static_cast<std::uint8_t>(t.array.index()));
  if (const auto* ws = std::get_if<WsArrayCommand>(&t.array)) {
    put(out, ws->psum_chained);
    put(out, ws->psum_in_bytes_per_step);
    put(out, ws->psum_out_bytes_per_step);
  } else {
    put(out, std::get<OsArrayCommand>(t.array).w_bytes_per_step);
  }
  for (std::uint64_t v : {t.ifmap_read_bytes, t.weight_read_bytes, t.ofmap_read_bytes,
                          t.ofmap_write_bytes})
    put(out, v);
}

}  // namespace

std::string work_bytes(const std::vector<std::vector<LayerWork>>& core_work) {
  static_assert(sizeof(VectorWork) == 9 * sizeof(std::uint64_t),
                "VectorWork changed: list its new field in work_bytes");
  static_assert(sizeof(TileRun) == 4 * sizeof(std::uint64_t),
                "TileRun changed: list its new field in work_bytes");
  static_assert(sizeof(LayerWork) == sizeof(std::string) + 3 * sizeof(std::vector<int>) +
                                         sizeof(VectorWork) + 5 * sizeof(std::uint64_t),
                "LayerWork changed: list its new field in work_bytes");
  std::string out;
  put(out, core_work.size());
  for (const std::vector<LayerWork>& w : core_work) {
    put(out, w.size());
    for (const LayerWork& l : w) {
      put(out, l.name.size());
      out += l.name;
      put(out, l.tiles.size());
      for (const Tile& t : l.tiles) put_tile(out, t);
      put(out, l.runs.size());
      for (const TileRun& r : l.runs) {
        put(out, r.first);
        put(out, r.count);
        put(out, r.repeat);
        put(out, r.m_step);
      }
      for (std::uint64_t v : {l.instances, l.materialize_bytes, l.materialize_write_bytes,
                              l.materialize_dequant_ops})
        put(out, v);
      put(out, l.after.size());
      for (std::size_t p : l.after) put(out, p);
      const VectorWork& v = l.vector;
      for (std::uint64_t x : {v.rows, v.rows_per_block, v.lane_ops, v.sfu_ops, v.passes,
                              v.read_bytes, v.write_bytes, v.fixed_read_bytes, v.fixed_lane_ops})
        put(out, x);
      put(out, l.wave);
    }
  }
  return out;
}

}  // namespace quasar::arch
