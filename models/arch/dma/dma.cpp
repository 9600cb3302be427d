#include "arch/dma/dma.hpp"

#include <algorithm>

#include "arch/core/tile_timing.hpp"
#include "arch/sim_clock.hpp"
#include "numerics/error.hpp"

namespace quasar::arch {

// ---- FetchDma ---------------------------------------------------------------------------------

FetchDma::FetchDma(sc_core::sc_module_name n, const std::vector<LayerWork>& work,
                   BufferSlots& slots, LayerBarrier& barrier, RunStats& stats)
    : sc_module(n), port("port"), work_(work), slots_(slots), barrier_(barrier), stats_(stats) {
  for (std::uint64_t i = 0; i < slots.depth() + 2; ++i) fetch_.push_back(std::make_unique<Fetch>());
  SC_THREAD(run);
}

void FetchDma::run() {
  DramRequest pre;
  pre.dir = DramDir::read;
  std::uint64_t g = 0;
  for (TileCursor c(work_, barrier_.order()); !c.done(); c.next(), ++g) {
    const Tile& t = c.tile();
    const LayerWork& lw = work_[c.layer()];
    if (c.first_in_layer()) barrier_.wait_for(lw.after);
    slots_.acquire(g);
    LayerStats& ls = stats_.layers[c.layer()];
    const bool first = c.index_in_instance() == 0;
    // A dequantize-to-memory pass is timed as one stream on the bus before the layer's first
    // tile of each instance (its dequantizations are counted, not timed).
    if (first && lw.materialize_bytes > 0) {
      pre.bytes = lw.materialize_bytes;
      port.submit(pre);
      DramPort::wait_done(pre);
    }
    const std::uint64_t bytes = account_fetch(ls, t, lw, first);
    Fetch& f = *fetch_[g % fetch_.size()];
    f.issued_at = sim_cycle();
    f.req.bytes = bytes;
    f.req.resolved = false;
    if (f.req.bytes > 0) port.submit(f.req);
    issued_ = g + 1;
    issued_event_.notify(sc_core::SC_ZERO_TIME);
  }
}

std::uint64_t FetchDma::ready(std::uint64_t g) {
  while (issued_ <= g) sc_core::wait(issued_event_);
  Fetch& f = *fetch_[g % fetch_.size()];
  if (f.req.bytes == 0) return f.issued_at;
  DramPort::wait_done(f.req);
  return f.req.done_cycle;
}

bool FetchDma::in_hand(std::uint64_t g, std::uint64_t t) const {
  const Fetch& f = *fetch_[g % fetch_.size()];
  return f.req.bytes == 0 ? f.issued_at <= t : f.req.complete(t);
}

// ---- WriteDma ---------------------------------------------------------------------------------

WriteDma::WriteDma(sc_core::sc_module_name n, const std::vector<LayerWork>& work,
                   LayerBarrier& barrier, RunStats& stats)
    : sc_module(n), port("port"), work_(work), barrier_(barrier), stats_(stats) {
  SC_THREAD(run);
}

void WriteDma::push(const Job& j) {
  jobs_.push_back(j);
  pending = jobs_.size();
  job_event_.notify(sc_core::SC_ZERO_TIME);
}

void WriteDma::finish() {
  finished_ = true;
  job_event_.notify(sc_core::SC_ZERO_TIME);
}


void WriteDma::run() {
  std::deque<DramRequest> outstanding;  // the open layer's writes (stable addresses)
  std::deque<std::uint64_t> outstanding_tiles;  // their tiles, when logging
  const auto logged_done = [&](const DramRequest& r) {
    if (!log) return;
    (*log)[outstanding_tiles.front()].write_done = r.done_cycle;
    outstanding_tiles.pop_front();
  };
  std::uint64_t layer_max = 0, prev_end = 0;
  const std::vector<std::size_t>& order = barrier_.order();
  std::size_t next = 0;  // the layers before position `next` of the order are closed
  close_nothing_layers(work_, stats_, barrier_);
  auto close_empty = [&] {
    next = close_tileless_layers(work_, order, next, prev_end, stats_, barrier_);
  };
  close_empty();
  for (;;) {
    while (jobs_.empty()) {
      if (finished_) {
        stats_.cycles = prev_end;
        done = true;
        return;
      }
      sc_core::wait(job_event_);
    }
    const Job j = jobs_.front();
    jobs_.pop_front();
    pending = jobs_.size();
    wait_until_cycle(j.at);
    layer_max = std::max(layer_max, j.at);
    fold_answered(outstanding, layer_max, logged_done);
    if (j.bytes > 0) {
      outstanding.emplace_back();
      DramRequest& r = outstanding.back();
      r.bytes = j.bytes;
      r.dir = DramDir::write;
      port.submit(r);
      if (log) {
        TileEvents& e = (*log)[j.tile];
        e.written = true;
        e.write_issue = sim_cycle();
        outstanding_tiles.push_back(j.tile);
      }
    }
    if (j.last_in_layer) {
      for (DramRequest& r : outstanding) {
        DramPort::wait_done(r);
        layer_max = std::max(layer_max, r.done_cycle);
        logged_done(r);
      }
      outstanding.clear();
      wait_until_cycle(layer_max);  // the folded writes may complete later than the waited ones
      if (next >= order.size() || j.layer != order[next])
        throw Error("core: layers closed out of order");
      const std::uint64_t end = std::max(layer_max, prev_end);
      stats_.layers[j.layer].cycles = end - prev_end;
      prev_end = layer_max = end;
      barrier_.close(j.layer, end);
      ++next;
      close_empty();
    }
  }
}

}  // namespace quasar::arch
