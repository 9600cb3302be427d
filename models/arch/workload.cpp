#include "arch/workload.hpp"

#include <algorithm>

namespace quasar::arch {

const char* fidelity_name(Fidelity f) { return f == Fidelity::fast ? "fast" : "cycle"; }

std::vector<std::size_t> run_order(const std::vector<LayerWork>& work) {
  std::vector<std::size_t> order(work.size());
  for (std::size_t l = 0; l < work.size(); ++l) order[l] = l;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return work[x].wave < work[y].wave; });
  return order;
}

const std::vector<StatField>& layer_stat_fields() {
  static const std::vector<StatField> f = {
      {"cycles", &LayerStats::cycles, "cycles"},
      {"array_busy_cycles", &LayerStats::array_busy, "cycles"},
      {"load_cycles", &LayerStats::load, "cycles"},
      {"stream_cycles", &LayerStats::stream, "cycles"},
      {"drain_cycles", &LayerStats::drain, "cycles"},
      {"stall_dram_cycles", &LayerStats::stall_dram, "cycles"},
      {"stall_edge_cycles", &LayerStats::stall_edge, "cycles"},
      {"stall_port_cycles", &LayerStats::stall_port, "cycles"},
      {"stall_dequant_cycles", &LayerStats::stall_dequant, "cycles"},
      {"dram_read_bytes", &LayerStats::dram_read_bytes, "bytes"},
      {"dram_write_bytes", &LayerStats::dram_write_bytes, "bytes"},
      {"ifmap_read_bytes", &LayerStats::ifmap_read_bytes, "bytes"},
      {"ifmap_write_bytes", &LayerStats::ifmap_write_bytes, "bytes"},
      {"weight_read_bytes", &LayerStats::weight_read_bytes, "bytes"},
      {"weight_write_bytes", &LayerStats::weight_write_bytes, "bytes"},
      {"ofmap_read_bytes", &LayerStats::ofmap_read_bytes, "bytes"},
      {"ofmap_write_bytes", &LayerStats::ofmap_write_bytes, "bytes"},
      {"macs", &LayerStats::macs, "ops"},
      {"dequant_ops", &LayerStats::dequant_ops, "ops"},
      {"intscale_ops", &LayerStats::intscale_ops, "ops"},
      {"floatscale_ops", &LayerStats::floatscale_ops, "ops"},
      {"block_ops", &LayerStats::block_ops, "ops"},
      {"epilogue_ops", &LayerStats::epilogue_ops, "ops"},
      {"scale_writes", &LayerStats::scale_writes, "ops"},
      {"scale_reads", &LayerStats::scale_reads, "ops"},
      {"tiles", &LayerStats::tiles, "tiles"},
      {"vector_busy_cycles", &LayerStats::vector_busy, "cycles"},
      {"vector_lane_ops", &LayerStats::vector_lane_ops, "ops"},
      {"vector_sfu_ops", &LayerStats::vector_sfu_ops, "ops"},
      {"vector_blocks", &LayerStats::vector_blocks, "blocks"},
  };
  return f;
}

bool LayerStats::operator==(const LayerStats& o) const {
  if (name != o.name) return false;
  for (const StatField& f : layer_stat_fields())
    if (this->*f.member != o.*f.member) return false;
  return true;
}

double RunStats::utilization() const {
  const double denom = static_cast<double>(cycles) * static_cast<double>(pe_count);
  return denom > 0 ? static_cast<double>(total(&LayerStats::macs)) / denom : 0.0;
}

std::uint64_t RunStats::total(std::uint64_t LayerStats::*field) const {
  std::uint64_t t = 0;
  for (const LayerStats& l : layers) t += l.*field;
  return t;
}

// ---- TileCursor -------------------------------------------------------------------------------

void TileCursor::seek() {
  for (; p_ < order_.size(); ++p_) {
    l_ = order_[p_];
    const LayerWork& lw = w_[l_];
    played_ = played_tiles(lw.tiles, lw.runs);
    if (lw.instances > 0 && played_ > 0) {
      run_ = 0, i_ = 0, rep_ = 0;
      if (!lw.runs.empty()) {
        while (run_ < lw.runs.size() && (lw.runs[run_].count == 0 || lw.runs[run_].repeat == 0))
          ++run_;
        i_ = lw.runs[run_].first;
      }
      load();
      return;
    }
    inst_ = 0, pos_ = 0;
  }
}

void TileCursor::load() {
  const LayerWork& lw = w_[l_];
  const std::uint64_t shift = lw.runs.empty() ? 0 : rep_ * lw.runs[run_].m_step;
  // The leading cursor (the fetch engine's) walks megabytes of tiles per layer; fetching the
  // tiles a few ahead hides their cache misses (sequential, but 224-byte strides).
  if (i_ + 8 < lw.tiles.size()) {
    const char* ahead = reinterpret_cast<const char*>(&lw.tiles[i_ + 8]);
    for (std::size_t b = 0; b < sizeof(Tile); b += 64) __builtin_prefetch(ahead + b);
  }
  if (shift == 0) {
    tp_ = &lw.tiles[i_];
    return;
  }
  cur_ = lw.tiles[i_];
  cur_.m0 += shift;
  tp_ = &cur_;
}

bool TileCursor::last_in_layer() const {
  const LayerWork& lw = w_[l_];
  return inst_ + 1 == lw.instances && pos_ + 1 == played_;
}

void TileCursor::next() {
  const LayerWork& lw = w_[l_];
  ++pos_;
  if (pos_ == played_) {  // the instance is over
    pos_ = 0;
    if (++inst_ == lw.instances) {
      ++p_;
      inst_ = 0;
      seek();
      return;
    }
    run_ = 0, i_ = 0, rep_ = 0;
    if (!lw.runs.empty()) {
      while (lw.runs[run_].count == 0 || lw.runs[run_].repeat == 0) ++run_;
      i_ = lw.runs[run_].first;
    }
    load();
    return;
  }
  if (lw.runs.empty()) {
    ++i_;
  } else {
    const TileRun* r = &lw.runs[run_];
    if (++i_ == r->first + r->count) {
      if (++rep_ == r->repeat) {
        do {
          ++run_;
        } while (lw.runs[run_].count == 0 || lw.runs[run_].repeat == 0);
        rep_ = 0;
      }
      i_ = lw.runs[run_].first;
    }
  }
  load();
}

}  // namespace quasar::arch
