#include "arch/core/core.hpp"

#include <algorithm>
#include <string>

#include "numerics/error.hpp"

namespace quasar::arch {

Core::Core(sc_core::sc_module_name n, const ArchSpec& a, const std::vector<LayerWork>& work,
           Fidelity f, std::uint32_t id, LayerBarrier& barrier, TileMeter& meter)
    : sc_module(n),
      a_(a),
      work_(work),
      f_(f),
      id_(id),
      barrier_(barrier),
      meter_(meter),
      timing_(a),
      model_(make_array_model(a)),
      slots_(a, work),
      fetch("fetch", work, slots_, barrier, stats),
      writer("writer", work, barrier, stats) {
  stats.fidelity = f;
  stats.pe_count = static_cast<std::uint64_t>(a.array.rows) * a.array.cols;
  stats.layers.resize(work.size());
  for (std::size_t i = 0; i < work.size(); ++i) stats.layers[i].name = work[i].name;
  if (a.vector.present())
    vector = std::make_unique<VectorUnit>("vector", a, work, barrier, stats);
  SC_THREAD(array);
}

std::uint64_t Core::now() const { return sim_cycle(); }

void Core::idle_until(std::uint64_t t) { wait_until_cycle(t); }

// The cycle loop decides a tile's start before it ticks; the fetch engine may still issue that
// tile, or a writer close a layer it reads, later in the same cycle (they react to what the
// array and the DRAM did this cycle). Waiting for either or 1 ps, whichever is first, lets every
// process of the cycle run: true when one came within the cycle (decide again), else the caller
// ticks 1 ps late (`realign`) and returns to the cycle grid after the tick. The fast mode sees
// the same issue and close times.
bool Core::settle(bool& realign) {
  if (realign) return false;  // already past every process of this cycle
  const sc_core::sc_time before = sc_core::sc_time_stamp();
  wait(one_ps(), fetch.issued_event() | barrier_.event());
  if (sc_core::sc_time_stamp() == before) return true;
  realign = true;
  return false;
}

void Core::log_tile(std::uint64_t g, std::size_t layer, std::uint64_t start,
                    std::uint64_t load_end, std::uint64_t stream_start, std::uint64_t stream_end,
                    std::uint64_t done) {
  if (!tile_log_) return;
  if (tile_log_->size() != g) throw Error("core: tiles logged out of order");
  TileEvents e;
  e.layer = layer;
  e.fetch_issue = fetch.issued_at(g);
  e.fetch_ready = fetch.ready_at(g);
  e.start = start, e.load_end = load_end, e.stream_start = stream_start;
  e.stream_end = stream_end, e.done = done;
  tile_log_->push_back(e);
}

void Core::hand_to_edge(std::size_t layer, bool last_in_layer, const Tile& t, std::uint64_t g,
                        std::uint64_t drained, std::uint64_t* accept_out) {
  const EdgeQueue::Taken k = edge_.take(drained, timing_.edge_cycles(t));
  *accept_out = k.accept;
  if (tile_log_) {
    (*tile_log_)[g].edge_accept = k.accept;
    (*tile_log_)[g].edge_finish = k.finish;
  }
  // The writer needs a tile only to write its bytes or to close its layer: the edge finishes
  // tiles in order, so a layer's last tile also finishes last, and a tile with nothing to write
  // (a k-tile whose partial sums stay on chip) would only wake the writer.
  const std::uint64_t bytes = t.out_bytes + t.spill_write_bytes;
  if (bytes == 0 && !last_in_layer) return;
  writer.push({k.finish, bytes, layer, last_in_layer, g});
}

void Core::array() {
  model_->reset();
  TileCursor c(work_, barrier_.order());
  if (!a_.array.double_buffer) {
    array_single(c);
  } else if (f_ == Fidelity::fast) {
    array_double_fast(c);
  } else {
    array_double_cycle(c);
  }
  writer.finish();
}

// One tile at a time: load, stream, drain; the next starts once the edge has taken this one.
void Core::array_single(TileCursor& c) {
  std::uint64_t array_free = 0, accept_prev = 0;
  for (std::uint64_t g = 0; !c.done(); c.next(), ++g) {
    const Tile& t = c.tile();
    LayerStats& ls = stats.layers[c.layer()];
    if (c.first_in_layer())
      array_free = std::max(array_free, barrier_.wait_for(work_[c.layer()].after));
    const std::uint64_t ready = fetch.ready(g);
    const std::uint64_t start = single_start(ls, array_free, accept_prev, ready);
    idle_until(start);
    const LoadCycles load = model_->load_cycles(t);
    ArrayPhases ph;
    if (f_ == Fidelity::fast) {
      ph.load = load.total;
      ph.stream = model_->stream_cycles(t);
      ph.drain = model_->drain_cycles();
      slots_.release(g, start + ph.load + ph.stream);
      idle_until(start + ph.total());
    } else {
      ph = run_alone_cycles(t, load, g);
    }
    account_phases(ls, t, load, ph.stream, ph.drain);
    ls.array_busy += ph.total();
    array_free = now();
    log_tile(g, c.layer(), start, start + ph.load, start + ph.load,
             start + ph.load + ph.stream, array_free);
    hand_to_edge(c.layer(), c.last_in_layer(), t, g, array_free, &accept_prev);
    account_tile(t, ls);
    meter_.tile_done();
  }
}

// One tile alone, cycle by cycle on the register model: the load (WS: ROWS weight rows, longer
// when the weight port or the dequantizers are short; OS: idle while the ports fill), the
// stream (a step enters when its ports have its bytes), the drain until the tile's last result
// has left the array.
ArrayPhases Core::run_alone_cycles(const Tile& t, const LoadCycles& load, std::uint64_t g) {
  ArrayPhases ph;
  ArrayCycle in;
  std::uint64_t got = 0, sent = 0;
  auto tick = [&] {
    const bool result = model_->tick(in);
    got += result ? 1 : 0;
    waves = {in.loading, in.valid, result, in.loading ? g + 1 : 0, in.valid ? g + 1 : 0};
    wait(cycle_time());
  };
  in.loading = true;
  for (; ph.load < load.total; ++ph.load) {
    in.load_step = ph.load;
    tick();
  }
  in.loading = false;
  while (sent < t.stream_steps) {
    in.valid = model_->step_ready(t, sent) <= ph.stream;
    in.last = in.valid && sent + 1 == t.stream_steps;
    sent += in.valid ? 1 : 0;
    tick();
    ++ph.stream;
  }
  slots_.release(g, now());  // the tile's operands have all entered the array
  in.valid = in.last = false;
  const std::uint64_t want = model_->results(t);
  while (got < want) {
    if (ph.drain > model_->drain_cycles() + 64) throw Error("cycle model: the array lost results");
    tick();
    ++ph.drain;
  }
  return ph;
}

// Whether the next tile (number g, at the cursor) of the double-buffered cycle loop can start
// now: its layer's producers are written and past, its operands are in, and the edge has taken
// the tile two back (its bank's or shadow's previous user). With nothing in flight the loop
// skips ahead instead of ticking idle; `again` says time moved or the fetch engine issued the
// tile within this cycle (decide again), `later` to tick this cycle without it.
Core::Gate Core::gate(const TileCursor& c, std::uint64_t g, bool in_flight, StartGate& s) {
  const std::uint64_t t = now();
  const std::vector<std::size_t>& after = work_[c.layer()].after;
  if (c.first_in_layer() && s.checked_layer != c.layer() + 1) {
    if (barrier_.all_closed(after)) {
      s.floor = barrier_.latest_end(after);
      s.checked_layer = c.layer() + 1;
    } else if (!in_flight) {
      barrier_.wait_for(after);
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
    idle_until(std::max({fetch.ready(g), s.accept[g % 2], s.done_at[g % 2]}));
    if (now() != t) return Gate::again;
  }
  if (s.done_at[g % 2] > t || s.accept[g % 2] > t) return Gate::later;
  if (!fetch.issued(g)) return settle(s.realign) ? Gate::again : Gate::later;
  return fetch.in_hand(g, t) ? Gate::start : Gate::later;
}

// A double-buffered tile (number g) is done at tt.done: its statistics, the edge takes it, the
// bank's (or shadow's) next user may go once the edge has.
void Core::finish_db_tile(DbAccount& acc, StartGate& gs, std::uint64_t g, std::size_t layer,
                          bool last_in_layer, const Tile& t, const LoadCycles& load,
                          std::uint64_t stream_cycles, const ArrayTileTimes& tt,
                          std::uint64_t edge_took, std::uint64_t floor) {
  LayerStats& ls = stats.layers[layer];
  acc.tile(ls, tt, edge_took, floor);
  account_phases(ls, t, load, stream_cycles, model_->drain_cycles());
  log_tile(g, layer, tt.load_start, tt.load_start + load.total, tt.stream_start, tt.stream_end,
           tt.done);
  hand_to_edge(layer, last_in_layer, t, g, tt.done, &gs.accept[g % 2]);
  gs.done_at[g % 2] = tt.done;
  account_tile(t, ls);
  meter_.tile_done();
}

// The next tile enters the flight of the double-buffered cycle loop (its bank is busy until
// done).
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
  fl.load = model_->load_cycles(fl.t);
  fl.stream_cycles = model_->stream_cycles(fl.t);
  fl.tt.load_start = now();
  gs.done_at[g % 2] = ~std::uint64_t{0};  // known once the tile is done
  return fl;
}

// The oldest tile in flight has shown its last result at t1.
void Core::end_flight(std::deque<InFlight>& q, std::uint64_t t1, StartGate& gs,
                      DbAccount& acc) {
  InFlight& fl = q.front();
  fl.tt.done = t1;
  if (fl.tt.done - fl.tt.stream_end != model_->drain_cycles())
    throw Error("cycle model: a double-buffered tile's drain differs from the array's pipeline");
  finish_db_tile(acc, gs, fl.g, fl.layer, fl.last_in_layer, fl.t, fl.load, fl.stream_cycles,
                 fl.tt, fl.edge_took, fl.floor);
  q.pop_front();
}

// Double buffering, fast: the controller rules in closed form, tile by tile (the array model's
// schedule: units::WsDoubleBufferedSchedule or units::OsDoubleBufferedSchedule).
void Core::array_double_fast(TileCursor& c) {
  StartGate gs;
  DbAccount acc;
  for (std::uint64_t g = 0; !c.done(); c.next(), ++g) {
    const Tile& t = c.tile();
    if (c.first_in_layer()) gs.floor = barrier_.wait_for(work_[c.layer()].after);
    fetch.ready(g);  // now() is at or past it
    if (t.stream_steps == 0) throw Error("double-buffered array: a tile with no stream steps");
    const LoadCycles load = model_->load_cycles(t);
    const std::uint64_t stream = model_->stream_cycles(t);
    // now() >= ready and the layer's floor, and never past this tile's earliest start (it was
    // at most the previous tile's start).
    const std::uint64_t earliest = std::max(now(), gs.accept[g % 2]);
    const ArrayTileTimes tt = model_->schedule(earliest, load.total, stream);
    slots_.release(g, tt.stream_end);
    finish_db_tile(acc, gs, g, c.layer(), c.last_in_layer(), t, load, stream, tt,
                   gs.accept[g % 2], gs.floor);
  }
}

// Double buffering, cycle by cycle on the two-bank register model, for either dataflow: up to
// three tiles in flight (WS: one loading its weights into the free bank while one streams and
// earlier ones drain; OS: one waiting for its ports or streaming while earlier ones unload
// their shadow registers); every phase ends on the model's own count of results.
void Core::array_double_cycle(TileCursor& c) {
  std::deque<InFlight> q;  // in order: [draining...] [streaming] [loaded, waiting] [loading]
  StartGate gs;
  std::uint64_t load_free = 0, stream_free = 0;
  InFlight* loading = nullptr;
  InFlight* streaming = nullptr;
  std::deque<InFlight*> waiting;  // loaded, waiting to stream
  DbAccount acc;
  ArrayCycle in;
  const bool overlap = model_->load_overlaps_stream();
  std::uint64_t g = 0;
  while (!c.done() || !q.empty()) {
    const std::uint64_t t = now();
    // Start the next tile's load when the load is free (WS: the weight port; OS: the ports
    // the stream reads, so after the previous stream), its bank's last user has all its
    // results out and has been taken by the edge, and its operands are in.
    const bool may_load =
        !loading && t >= load_free && (overlap || (waiting.empty() && !streaming));
    if (may_load && !c.done()) {
      const Gate gt = gate(c, g, !q.empty(), gs);
      if (gt == Gate::again) continue;
      if (gt == Gate::start) {
        InFlight& fl = begin_flight(q, c, g, gs);
        c.next();
        ++g;
        if (fl.load.total == 0) {
          waiting.push_back(&fl);  // nothing to wait for: it may stream this cycle
        } else {
          loading = &fl;
        }
      }
    }
    // Start the stream of the oldest loaded tile when the stream inputs are free.
    if (!streaming && !waiting.empty() && t >= stream_free &&
        model_->stream_may_start(t, waiting.front()->t.stream_steps)) {
      streaming = waiting.front();
      waiting.pop_front();
      streaming->tt.stream_start = t;
    }
    in.loading = loading != nullptr;
    in.load_step = loading ? loading->load_done : 0;
    in.load_bank = loading ? static_cast<int>(loading->g % 2) : 0;
    in.valid = streaming && model_->step_ready(streaming->t, streaming->sent) <= streaming->streamed;
    in.last = in.valid && streaming->sent + 1 == streaming->t.stream_steps;
    in.stream_bank = streaming ? static_cast<int>(streaming->g % 2) : 0;
    const bool result = model_->tick(in);
    waves = {in.loading, in.valid, result, loading ? loading->g + 1 : 0,
             streaming ? streaming->g + 1 : 0};
    wait(gs.realign ? cycle_time() - one_ps() : cycle_time());
    gs.realign = false;
    const std::uint64_t t1 = t + 1;
    if (loading && ++loading->load_done == loading->load.total) {
      load_free = t1;
      waiting.push_back(loading);
      loading = nullptr;
    }
    if (streaming) {
      ++streaming->streamed;
      streaming->sent += in.valid ? 1 : 0;
      if (streaming->sent == streaming->t.stream_steps) {
        streaming->tt.stream_end = t1;
        stream_free = t1;
        model_->stream_ended(t1);
        slots_.release(streaming->g, t1);
        streaming = nullptr;
      }
    }
    if (result) {
      // Results leave in tile order: they are the oldest tile's with results outstanding.
      if (q.empty()) throw Error("cycle model: a result with no tile in flight");
      if (++q.front().results == model_->results(q.front().t)) end_flight(q, t1, gs, acc);
    }
  }
}

}  // namespace quasar::arch
