#include "arch/core/core.hpp"

#include <algorithm>
#include <string>

#include "numerics/error.hpp"

namespace quasar::arch {

// ---- TileCursor -------------------------------------------------------------------------------

void TileCursor::seek() {
  for (; p_ < order_.size(); ++p_) {
    l_ = order_[p_];
    const LayerWork& lw = w_[l_];
    if (lw.instances > 0 && played_tiles(lw.tiles, lw.runs) > 0) {
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
  cur_ = lw.tiles[i_];
  if (!lw.runs.empty()) cur_.m0 += rep_ * lw.runs[run_].m_step;
}

bool TileCursor::last_in_layer() const {
  const LayerWork& lw = w_[l_];
  return inst_ + 1 == lw.instances && pos_ + 1 == played_tiles(lw.tiles, lw.runs);
}

void TileCursor::next() {
  const LayerWork& lw = w_[l_];
  ++pos_;
  if (pos_ == played_tiles(lw.tiles, lw.runs)) {  // the instance is over
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

// ---- Core -------------------------------------------------------------------------------------

Core::Core(sc_core::sc_module_name n, const ArchSpec& a, const std::vector<LayerWork>& work,
           Fidelity f, std::uint32_t id, LayerBarrier& barrier,
           TileMeter& meter)
    : sc_module(n),
      fetch_port("fetch_port"),
      write_port("write_port"),
      a_(a),
      work_(work),
      f_(f),
      id_(id),
      barrier_(barrier),
      meter_(meter),
      timing_(a),
      slots_(prefetch_depth(a.buffers)),
      ws_array_(static_cast<int>(a.array.rows), static_cast<int>(a.array.cols),
                a.array.double_buffer ? 2 : 1),
      os_array_(static_cast<int>(a.array.rows), static_cast<int>(a.array.cols),
                a.array.double_buffer && a.array.dataflow == Dataflow::os ? 2 : 1) {
  stats.fidelity = f;
  stats.pe_count = static_cast<std::uint64_t>(a.array.rows) * a.array.cols;
  stats.layers.resize(work.size());
  for (std::size_t i = 0; i < work.size(); ++i) stats.layers[i].name = work[i].name;
  for (std::uint64_t i = 0; i < slots_ + 2; ++i) {
    fetch_.push_back(std::make_unique<Fetch>());
  }
  slot_free_.assign(slots_ + 2, 0);
  // The prefetched tiles' weights must fit the weight buffer together.
  for (const LayerWork& lw : work) {
    std::uint64_t most = 0;
    for (const Tile& t : lw.tiles) most = std::max(most, t.weight_bytes);
    if (most * slots_ > a.buffers.weight.size_bytes)
      throw Error("layer '" + lw.name + "': " + std::to_string(slots_) + " prefetched tiles of " +
                  std::to_string(most) + " B of weights do not fit the " +
                  std::to_string(a.buffers.weight.size_bytes) +
                  " B weight buffer (buffers.prefetch_depth, buffers.weight.size_kib)");
  }
  if (a.vector.present())
    vector = std::make_unique<VectorUnit>("vector", a, work, barrier, stats);
  SC_THREAD(dma);
  SC_THREAD(array);
  SC_THREAD(writer);
}

std::uint64_t Core::now() const { return sim_cycle(); }

void Core::idle_until(std::uint64_t t) { wait_until_cycle(t); }

std::uint64_t Core::wait_producers(std::size_t layer) {
  return barrier_.wait_for(work_[layer].after);
}

bool Core::producers_closed(std::size_t layer) const {
  return barrier_.all_closed(work_[layer].after);
}

std::uint64_t Core::producers_end(std::size_t layer) const {
  return barrier_.latest_end(work_[layer].after);
}

// The fetch thread. A tile's fetch is issued once the previous one has been issued, its buffer
// slot is free and (first tile of a layer) the layers it reads from are written.
void Core::dma() {
  DramRequest pre;
  pre.dir = DramDir::read;
  std::uint64_t g = 0;
  for (TileCursor c(work_, barrier_.order()); !c.done(); c.next(), ++g) {
    const Tile& t = c.tile();
    const LayerWork& lw = work_[c.layer()];
    if (c.first_in_layer()) wait_producers(c.layer());
    if (g >= slots_) {
      while (slots_published_ <= g - slots_) wait(slot_event_);
      idle_until(slot_free_[(g - slots_) % slot_free_.size()]);
    }
    LayerStats& ls = stats.layers[c.layer()];
    const bool first = c.index_in_instance() == 0;
    // A dequantize-to-memory pass is timed as one stream on the bus before the layer's first
    // tile of each instance (its dequantizations are counted, not timed).
    if (first && lw.materialize_bytes > 0) {
      pre.bytes = lw.materialize_bytes;
      fetch_port.submit(pre);
      DramPort::wait_done(pre);
    }
    const std::uint64_t pre_read = first ? lw.materialize_bytes - lw.materialize_write_bytes : 0;
    const std::uint64_t pre_write = first ? lw.materialize_write_bytes : 0;
    ls.dram_read_bytes += t.weight_bytes + t.act_bytes + t.spill_read_bytes + pre_read;
    ls.dram_write_bytes += pre_write;
    if (first) ls.dequant_ops += lw.materialize_dequant_ops;
    Fetch& f = *fetch_[g % fetch_.size()];
    f.issued_at = now();
    f.req.bytes = t.weight_bytes + t.act_bytes + t.spill_read_bytes;
    f.req.resolved = false;
    if (f.req.bytes > 0) fetch_port.submit(f.req);
    issued_ = g + 1;
    issued_event_.notify(sc_core::SC_ZERO_TIME);
  }
}

std::uint64_t Core::operands_ready(std::uint64_t g) {
  while (issued_ <= g) wait(issued_event_);
  Fetch& f = *fetch_[g % fetch_.size()];
  if (f.req.bytes == 0) return f.issued_at;
  DramPort::wait_done(f.req);
  return f.req.done_cycle;
}

// The cycle loops decide a tile's start before they tick; the fetch engine may still issue that
// tile, or a writer close a layer it reads, later in the same cycle (they react to what the
// array and the DRAM did this cycle). Waiting for either or 1 ps, whichever is first, lets every
// process of the cycle run: true when one came within the cycle (decide again), else the caller
// ticks 1 ps late (`realign`) and returns to the cycle grid after the tick. The fast mode sees
// the same issue and close times.
bool Core::settle(bool& realign) {
  if (realign) return false;  // already past every process of this cycle
  const sc_core::sc_time before = sc_core::sc_time_stamp();
  wait(one_ps(), issued_event_ | barrier_.event());
  if (sc_core::sc_time_stamp() == before) return true;
  realign = true;
  return false;
}

void Core::publish_slot_free(std::uint64_t g, std::uint64_t t) {
  slot_free_[g % slot_free_.size()] = t;
  slots_published_ = g + 1;
  slot_event_.notify(sc_core::SC_ZERO_TIME);
}

void Core::hand_to_edge(std::size_t layer, bool last_in_layer, const Tile& t,
                        std::uint64_t drained, std::uint64_t* accept_out) {
  const EdgeQueue::Taken k = edge_.take(drained, timing_.edge_cycles(t));
  *accept_out = k.accept;
  // The writer needs a tile only to write its bytes or to close its layer: the edge finishes
  // tiles in order, so a layer's last tile also finishes last, and a tile with nothing to write
  // (a k-tile whose partial sums stay on chip) would only wake the writer.
  const std::uint64_t bytes = t.out_bytes + t.spill_write_bytes;
  if (bytes == 0 && !last_in_layer) return;
  jobs_.push_back({k.finish, bytes, layer, last_in_layer});
  job_event_.notify(sc_core::SC_ZERO_TIME);
}

// The tile's actions and on-chip traffic: the same in both fidelities (the cost model's input).
void Core::account(const Tile& t, LayerStats& ls) {
  ls.macs += t.m * t.rows_used * t.cols_used;
  ls.dequant_ops += t.dequant_ops;
  (t.rescale_unit == ScaleUnit::intscale ? ls.intscale_ops
   : t.rescale_unit == ScaleUnit::block  ? ls.block_ops
                                         : ls.floatscale_ops) += t.rescale_ops;
  ls.epilogue_ops += t.epilogue_ops;
  ls.scale_writes += t.scale_writes;
  ls.scale_reads += t.scale_reads;
  ls.ifmap_write_bytes += t.act_bytes;
  ls.ifmap_read_bytes += t.ifmap_read_bytes;
  ls.weight_write_bytes += t.weight_bytes;
  ls.weight_read_bytes += t.weight_read_bytes;
  ls.ofmap_read_bytes += t.ofmap_read_bytes;
  ls.ofmap_write_bytes += t.ofmap_write_bytes;
  ls.dram_write_bytes += t.out_bytes + t.spill_write_bytes;  // (reads: counted as fetched)
  ++ls.tiles;
}

void Core::array() {
  ws_array_.reset();
  ws_array_.timing_only(true);  // no operand data flows here: control (valid bits) only
  os_array_.reset();
  os_array_.timing_only(true);
  TileCursor c(work_, barrier_.order());
  const bool fast = f_ == Fidelity::fast;
  if (!a_.array.double_buffer) {
    array_single(c);
  } else if (fast) {
    array_double_fast(c);
  } else if (a_.array.dataflow == Dataflow::ws) {
    array_double_cycle(c);
  } else {
    array_os_double_cycle(c);
  }
  array_done_ = true;
  job_event_.notify(sc_core::SC_ZERO_TIME);
}

// One tile at a time: load, stream, drain; the next starts once the edge has taken this one.
void Core::array_single(TileCursor& c) {
  const bool ws = a_.array.dataflow == Dataflow::ws;
  const std::uint64_t R = a_.array.rows, C = a_.array.cols;
  std::uint64_t array_free = 0, accept_prev = 0;
  for (std::uint64_t g = 0; !c.done(); c.next(), ++g) {
    const Tile& t = c.tile();
    LayerStats& ls = stats.layers[c.layer()];
    if (c.first_in_layer()) array_free = std::max(array_free, wait_producers(c.layer()));
    const std::uint64_t ready = operands_ready(g);
    // The array starts once free, the previous tile is with the edge, and operands are in.
    const std::uint64_t after_edge = std::max(array_free, accept_prev);
    ls.stall_edge += after_edge - array_free;
    const std::uint64_t start = std::max(after_edge, ready);
    ls.stall_dram += start - after_edge;
    idle_until(start);
    const LoadCycles load = timing_.load_cycles(t);
    units::SystolicWsPhases ph;
    if (f_ == Fidelity::fast) {
      ph.load = load.total;
      ph.stream = ws ? timing_.ws_stream_cycles(t) : t.stream_steps;
      ph.drain = ws ? R + C - 2 : 2 * R + C - 2;  // units::systolic_ws/os_timing
      publish_slot_free(g, start + ph.load + ph.stream);
      idle_until(start + ph.total());
    } else {
      ph = ws ? compute_ws_cycles(t, load, g) : compute_os_cycles(t, load, g);
    }
    ls.load += ph.load, ls.stream += ph.stream, ls.drain += ph.drain;
    ls.stall_port += load.port_extra + (ph.stream - t.stream_steps);
    ls.stall_dequant += load.dequant_extra;
    ls.array_busy += ph.total();
    array_free = now();
    hand_to_edge(c.layer(), c.last_in_layer(), t, array_free, &accept_prev);
    account(t, ls);
    meter_.tile_done();
  }
}

// Cycle by cycle on the WS register model: load ROWS weight rows (longer if the weight port
// or the dequantizers are the bottleneck), stream M tokens (with bubbles where a buffer port
// is short of bytes), drain until the M-th result has left the array.
units::SystolicWsPhases Core::compute_ws_cycles(const Tile& t, const LoadCycles& load,
                                              std::uint64_t g) {
  const std::uint64_t R = a_.array.rows, C = a_.array.cols;
  const sc_core::sc_time cycle(1, sc_core::SC_NS);
  units::SystolicWsPhases ph;
  units::SystolicWsInputs in;
  in.w_in.assign(C, 0);
  in.x_in.assign(R, 0);
  in.psum_in.assign(C, 0);
  for (std::uint64_t i = 0; i < load.total; ++i) {
    in.w_load = i < R;  // extra cycles: the array waits for its weights
    ws_array_.tick(in);
    wait(cycle);
    ++ph.load;
  }
  in.w_load = false;
  std::uint64_t got = 0, sent = 0;
  while (sent < t.stream_steps) {
    in.x_valid = timing_.token_cycle(t, sent) <= ph.stream;
    sent += in.x_valid ? 1 : 0;
    ws_array_.tick(in);
    wait(cycle);
    ++ph.stream;
    got += ws_array_.y_valid() ? 1 : 0;
  }
  publish_slot_free(g, now());  // the tile's operands have all entered the array
  in.x_valid = false;
  while (got < t.stream_steps) {
    if (ph.drain > R + C + 64) throw Error("cycle model: the array lost results");
    ws_array_.tick(in);
    wait(cycle);
    ++ph.drain;
    got += ws_array_.y_valid() ? 1 : 0;
  }
  return ph;
}

// Cycle by cycle on the OS register model: idle while the ports fill (the array is empty
// between tiles, so idle cycles change nothing), stream the k-chunk with valid = 1, drain
// until all ROWS result rows have been unloaded.
units::SystolicWsPhases Core::compute_os_cycles(const Tile& t, const LoadCycles& load,
                                              std::uint64_t g) {
  const std::uint64_t R = a_.array.rows, C = a_.array.cols;
  const sc_core::sc_time cycle(1, sc_core::SC_NS);
  units::SystolicWsPhases ph;
  units::SystolicOsInputs in;
  in.x_in.assign(R, 0);
  in.w_in.assign(C, 0);
  std::uint64_t got = 0;
  auto tick = [&](bool valid) {
    in.valid = valid;
    os_array_.tick(in);
    wait(cycle);
    got += os_array_.y_valid() ? 1 : 0;
  };
  for (std::uint64_t i = 0; i < load.total; ++i, ++ph.load) tick(false);
  for (std::uint64_t i = 0; i < t.stream_steps; ++i, ++ph.stream) tick(true);
  publish_slot_free(g, now());
  while (got < R) {
    if (ph.drain > 2 * R + C + 64) throw Error("cycle model: the OS array lost results");
    tick(false);
    ++ph.drain;
  }
  return ph;
}

// Whether the next tile (number g, at the cursor) of a double-buffered cycle loop can start
// now: its layer's producers are written and past, its operands are in, and the edge has taken
// the tile two back (its bank's or shadow's previous user). With nothing in flight the loop
// skips ahead instead of ticking idle; `again` says time moved or the fetch engine issued the
// tile within this cycle (decide again), `later` to tick this cycle without it.
Core::Gate Core::gate(const TileCursor& c, std::uint64_t g, bool in_flight, StartGate& s) {
  const std::uint64_t t = now();
  if (c.first_in_layer() && s.checked_layer != c.layer() + 1) {
    if (producers_closed(c.layer())) {
      s.floor = producers_end(c.layer());
      s.checked_layer = c.layer() + 1;
    } else if (!in_flight) {
      wait_producers(c.layer());
      return Gate::again;
    } else {
      // Keep the tiles in flight moving until the producers are written (perhaps this cycle).
      return settle(s.realign) ? Gate::again : Gate::later;
    }
  }
  if (t < s.floor) {
    if (in_flight) return Gate::later;
    idle_until(s.floor);
    return Gate::again;
  }
  if (!in_flight) {
    idle_until(std::max({operands_ready(g), s.accept[g % 2], s.done_at[g % 2]}));
    if (now() != t) return Gate::again;
  }
  if (s.done_at[g % 2] > t || s.accept[g % 2] > t) return Gate::later;
  if (issued_ <= g) return settle(s.realign) ? Gate::again : Gate::later;
  const Fetch& f = *fetch_[g % fetch_.size()];
  const bool in_hand = f.req.bytes == 0 ? f.issued_at <= t : f.req.complete(t);
  return in_hand ? Gate::start : Gate::later;
}

// Statistics of one double-buffered tile: phases as if alone (they overlap, so they add up to
// more than the time), the array busy over the union of its tiles' [load start, done), and an
// idle gap before a tile charged to the edge while it still held the bank's previous tile,
// the rest to the operands.
void Core::DbAccount::tile(LayerStats& ls, const units::WsTileTimes& tt, std::uint64_t edge_took,
                           std::uint64_t floor) {
  const std::uint64_t from = std::max(busy_until, floor);
  if (tt.load_start > from) {
    const std::uint64_t gap = tt.load_start - from;
    const std::uint64_t edge = std::min(gap, edge_took > from ? edge_took - from : 0);
    ls.stall_edge += edge;
    ls.stall_dram += gap - edge;
  }
  ls.array_busy += tt.done - std::max(tt.load_start, busy_until);
  busy_until = std::max(busy_until, tt.done);
}

// A double-buffered tile (number g) is done at tt.done: its statistics, the edge takes it, the
// bank's (or shadow's) next user may go once the edge has.
void Core::finish_db_tile(DbAccount& acc, StartGate& gs, std::uint64_t g, std::size_t layer,
                          bool last_in_layer, const Tile& t, const LoadCycles& load,
                          std::uint64_t stream_cycles, std::uint64_t drain,
                          const units::WsTileTimes& tt, std::uint64_t edge_took,
                          std::uint64_t floor) {
  LayerStats& ls = stats.layers[layer];
  acc.tile(ls, tt, edge_took, floor);
  ls.load += load.total, ls.stream += stream_cycles, ls.drain += drain;
  ls.stall_port += load.port_extra + (stream_cycles - t.stream_steps);
  ls.stall_dequant += load.dequant_extra;
  hand_to_edge(layer, last_in_layer, t, tt.done, &gs.accept[g % 2]);
  gs.done_at[g % 2] = tt.done;
  account(t, ls);
  meter_.tile_done();
}

// The next tile enters the flight of a double-buffered cycle loop (its bank is busy until done).
Core::InFlight& Core::begin_flight(std::deque<InFlight>& q, const TileCursor& c, std::uint64_t g,
                                   StartGate& gs) {
  q.emplace_back();
  InFlight& fl = q.back();
  fl.t = c.tile();
  fl.layer = c.layer();
  fl.last_in_layer = c.last_in_layer();
  fl.g = g;
  fl.edge_took = gs.accept[g % 2];  // when the edge took this bank's previous tile
  // Its own layer's floor: by the time it finishes, the next layer (one that does not read
  // this one) may have started and moved gs.floor on.
  fl.floor = gs.floor;
  if (fl.t.stream_steps == 0) throw Error("double-buffered array: a tile with no stream steps");
  fl.load = timing_.load_cycles(fl.t);
  fl.stream_cycles =
      a_.array.dataflow == Dataflow::ws ? timing_.ws_stream_cycles(fl.t) : fl.t.stream_steps;
  fl.tt.load_start = now();
  gs.done_at[g % 2] = ~std::uint64_t{0};  // known once the tile is done
  return fl;
}

// The oldest tile in flight has shown its last result at t1.
void Core::end_flight(std::deque<InFlight>& q, std::uint64_t t1, std::uint64_t drain,
                      StartGate& gs, DbAccount& acc) {
  InFlight& fl = q.front();
  fl.tt.done = t1;
  if (fl.tt.done - fl.tt.stream_end != drain)
    throw Error("cycle model: a double-buffered tile's drain differs from the array's pipeline");
  finish_db_tile(acc, gs, fl.g, fl.layer, fl.last_in_layer, fl.t, fl.load, fl.stream_cycles, drain,
                 fl.tt, fl.edge_took, fl.floor);
  q.pop_front();
}

// Double buffering, fast: the controller rules in closed form, tile by tile
// (units::WsDoubleBufferedSchedule for WS, units::OsDoubleBufferedSchedule for OS).
void Core::array_double_fast(TileCursor& c) {
  const bool ws = a_.array.dataflow == Dataflow::ws;
  const int R = static_cast<int>(a_.array.rows), C = static_cast<int>(a_.array.cols);
  units::WsDoubleBufferedSchedule ws_sched(R, C);
  units::OsDoubleBufferedSchedule os_sched(R, C);
  const std::uint64_t drain = ws ? ws_sched.drain_cycles() : os_sched.drain_cycles();
  StartGate gs;
  DbAccount acc;
  for (std::uint64_t g = 0; !c.done(); c.next(), ++g) {
    const Tile& t = c.tile();
    if (c.first_in_layer()) gs.floor = wait_producers(c.layer());
    operands_ready(g);  // now() is at or past it
    if (t.stream_steps == 0) throw Error("double-buffered array: a tile with no stream steps");
    const LoadCycles load = timing_.load_cycles(t);
    const std::uint64_t stream = ws ? timing_.ws_stream_cycles(t) : t.stream_steps;
    // now() >= ready and the layer's floor, and never past this tile's earliest start (it was
    // at most the previous tile's start).
    const std::uint64_t earliest = std::max(now(), gs.accept[g % 2]);
    units::WsTileTimes tt;
    if (ws) {
      tt = ws_sched.next(earliest, load.total, stream);
    } else {
      const units::OsTileTimes o = os_sched.next(earliest, load.total, stream);
      tt = {o.wait_start, o.stream_start, o.stream_end, o.done};
    }
    publish_slot_free(g, tt.stream_end);
    finish_db_tile(acc, gs, g, c.layer(), c.last_in_layer(), t, load, stream, drain, tt,
                   gs.accept[g % 2], gs.floor);
  }
}

// Double-buffered weights, cycle by cycle: loads, streams and results of up to three tiles in
// flight on the 2-bank register model; every phase ends on the model's own count of results.
void Core::array_double_cycle(TileCursor& c) {
  const std::uint64_t R = a_.array.rows, C = a_.array.cols;
  const std::uint64_t drain = R + C - 2;
  const sc_core::sc_time cycle(1, sc_core::SC_NS);
  using Flight = InFlight;
  std::deque<Flight> q;  // in order: [draining...] [streaming] [loaded, waiting] [loading]
  StartGate gs;
  std::uint64_t load_free = 0, stream_free = 0;
  Flight* loading = nullptr;
  Flight* streaming = nullptr;
  std::deque<Flight*> waiting;  // loaded, waiting for the x port
  DbAccount acc;
  units::SystolicWsInputs in;
  in.w_in.assign(C, 0);
  in.x_in.assign(R, 0);
  in.psum_in.assign(C, 0);
  std::uint64_t g = 0;
  while (!c.done() || !q.empty()) {
    const std::uint64_t t = now();
    // Start the next tile's load when the w port is free, its bank's last user has all its
    // results out and has been taken by the edge, and its operands are in.
    if (!loading && !c.done() && t >= load_free) {
      const Gate gt = gate(c, g, !q.empty(), gs);
      if (gt == Gate::again) continue;
      if (gt == Gate::start) {
        loading = &begin_flight(q, c, g, gs);
        c.next();
        ++g;
      }
    }
    // Start the stream of the oldest loaded tile when the x port is free.
    if (!streaming && !waiting.empty() && t >= stream_free) {
      streaming = waiting.front();
      waiting.pop_front();
      streaming->tt.stream_start = t;
    }
    in.w_load = loading && loading->load_done < R;
    in.w_bank = loading ? static_cast<int>(loading->g % 2) : 0;
    in.x_valid = streaming && timing_.token_cycle(streaming->t, streaming->sent) <= streaming->streamed;
    in.x_bank = streaming ? static_cast<int>(streaming->g % 2) : 0;
    ws_array_.tick(in);
    wait(gs.realign ? cycle - one_ps() : cycle);
    gs.realign = false;
    const std::uint64_t t1 = t + 1;
    if (loading && ++loading->load_done == loading->load.total) {
      load_free = t1;
      waiting.push_back(loading);
      loading = nullptr;
    }
    if (streaming) {
      ++streaming->streamed;
      streaming->sent += in.x_valid ? 1 : 0;
      if (streaming->sent == streaming->t.stream_steps) {
        streaming->tt.stream_end = t1;
        stream_free = t1;
        publish_slot_free(streaming->g, t1);
        streaming = nullptr;
      }
    }
    if (ws_array_.y_valid()) {
      // Results leave in tile order: they are the oldest tile's with results outstanding.
      if (q.empty()) throw Error("cycle model: a result with no tile in flight");
      if (++q.front().results == q.front().t.stream_steps) end_flight(q, t1, drain, gs, acc);
    }
  }
}

bool Core::empty_layer(std::size_t l) const {
  return work_[l].instances == 0 || played_tiles(work_[l].tiles, work_[l].runs) == 0;
}

// Double-buffered accumulators (OS), cycle by cycle on the 2-bank register model: one tile at a
// time waits for its ports and streams (valid, with `last` on its final k-step), earlier tiles
// unload their shadow registers meanwhile; a tile is done when its ROWS-th result row shows.
void Core::array_os_double_cycle(TileCursor& c) {
  const std::uint64_t R = a_.array.rows, C = a_.array.cols;
  const std::uint64_t drain = 2 * R + C - 2;
  const sc_core::sc_time cycle(1, sc_core::SC_NS);
  using Flight = InFlight;  // tt.load_start: the port wait's start
  std::deque<Flight> q;  // in order: [unloading...] [waiting or streaming]
  Flight* front = nullptr;  // the tile waiting for its ports or streaming
  StartGate gs;
  std::uint64_t stream_free = 0, end_min = 0;
  DbAccount acc;
  units::SystolicOsInputs in;
  in.x_in.assign(R, 0);
  in.w_in.assign(C, 0);
  std::uint64_t g = 0;
  while (!c.done() || !q.empty()) {
    const std::uint64_t t = now();
    if (!front && !c.done() && t >= stream_free) {
      const Gate gt = gate(c, g, !q.empty(), gs);
      if (gt == Gate::again) continue;
      if (gt == Gate::start) {
        front = &begin_flight(q, c, g, gs);
        c.next();
        ++g;
      }
    }
    // The front tile streams once its wait is over and its stream would end ROWS or more
    // cycles after the previous stream (the shadow registers are free by then).
    const bool streaming = front && front->load_done == front->load.total &&
                           (front->streamed > 0 || t + front->t.stream_steps >= end_min);
    if (streaming && front->streamed == 0) front->tt.stream_start = t;
    in.valid = streaming;
    in.last = streaming && front->streamed + 1 == front->t.stream_steps;
    os_array_.tick(in);
    wait(gs.realign ? cycle - one_ps() : cycle);
    gs.realign = false;
    const std::uint64_t t1 = t + 1;
    if (front) {
      if (streaming) {
        if (++front->streamed == front->t.stream_steps) {
          front->tt.stream_end = t1;
          stream_free = t1;
          end_min = t1 + R;
          publish_slot_free(front->g, t1);
          front = nullptr;
        }
      } else if (front->load_done < front->load.total) {
        ++front->load_done;
      }
    }
    if (os_array_.y_valid()) {
      // Rows leave in tile order: they are the oldest tile's with rows outstanding.
      if (q.empty()) throw Error("cycle model: a result row with no tile in flight");
      if (++q.front().results == R) end_flight(q, t1, drain, gs, acc);
    }
  }
}

// The output writer. Each tile's outputs go out once the edge has finished them; a layer is
// closed when its last write is complete. A layer this core has nothing of (no instances:
// another core runs it whole, or split heads left this core none) closes at once, at cycle 0,
// so the layers reading it wait for the cores that run it only, not for this core to reach it
// in its list. Other layers without tiles close with the layer before them (at cycle 0 when
// first), so whoever waits for them is never stuck; the vector unit's layers are its to close.
void Core::writer() {
  std::deque<DramRequest> outstanding;  // the open layer's writes (stable addresses)
  std::uint64_t layer_max = 0, prev_end = 0;
  const std::vector<std::size_t>& order = barrier_.order();
  std::size_t next = 0;  // the layers before position `next` of the order are closed
  const auto nothing = [&](std::size_t l) {
    return work_[l].instances == 0 && !work_[l].vector.present();
  };
  for (std::size_t l = 0; l < work_.size(); ++l) {
    if (!nothing(l)) continue;
    stats.layers[l].cycles = 0;
    barrier_.close(l, 0);
  }
  auto close_empty = [&] {
    for (; next < order.size() && empty_layer(order[next]); ++next) {
      const std::size_t l = order[next];
      if (work_[l].vector.present() || nothing(l)) continue;
      stats.layers[l].cycles = 0;
      barrier_.close(l, prev_end);
    }
  };
  close_empty();
  for (;;) {
    while (jobs_.empty()) {
      if (array_done_) {
        stats.cycles = prev_end;
        done = true;
        return;
      }
      wait(job_event_);
    }
    const WriteJob j = jobs_.front();
    jobs_.pop_front();
    idle_until(j.at);
    layer_max = std::max(layer_max, j.at);
    // Writes the controller has answered only matter by when they complete: fold that in and
    // let them go, so the writer holds a few requests, not every write of a layer.
    while (!outstanding.empty() && outstanding.front().resolved) {
      layer_max = std::max(layer_max, outstanding.front().done_cycle);
      outstanding.pop_front();
    }
    if (j.bytes > 0) {
      outstanding.emplace_back();
      DramRequest& r = outstanding.back();
      r.bytes = j.bytes;
      r.dir = DramDir::write;
      write_port.submit(r);
    }
    if (j.last_in_layer) {
      for (DramRequest& r : outstanding) {
        DramPort::wait_done(r);
        layer_max = std::max(layer_max, r.done_cycle);
      }
      outstanding.clear();
      idle_until(layer_max);  // the folded writes may complete later than the waited ones
      if (next >= order.size() || j.layer != order[next])
        throw Error("core: layers closed out of order");
      const std::uint64_t end = std::max(layer_max, prev_end);
      stats.layers[j.layer].cycles = end - prev_end;
      prev_end = layer_max = end;
      barrier_.close(j.layer, end);
      ++next;
      close_empty();
    }
  }
}

}  // namespace quasar::arch
