#include "arch/event_loop/event_loop.hpp"

#include <algorithm>
#include <deque>
#include <string>

#include "arch/array/array_model.hpp"
#include "arch/core/core.hpp"
#include "arch/core/tile_timing.hpp"
#include "arch/dma/dma.hpp"
#include "arch/interconnect/interconnect.hpp"
#include "arch/sram/buffer_slots.hpp"
#include "arch/vector/vector_unit.hpp"
#include "numerics/error.hpp"

// A process's resumable body: QS_BEGIN ... QS_END around it, QS_YIELD where it waits (after it
// has arranged to be woken). Every value that lives across a wait is a member. The case labels
// sit inside the loops (Duff's device): resuming jumps straight back into them.
#define QS_BEGIN    \
  switch (pc_) {    \
    case 0:
#define QS_YIELD_AT(n) \
  do {                 \
    pc_ = n;           \
    return;            \
    case n:;           \
  } while (false)
#define QS_YIELD QS_YIELD_AT(__COUNTER__ + 1)
#define QS_END      \
  }                 \
  pc_ = kFinished;
// Waits until cycle t (no wait when it has come).
#define QS_UNTIL(t)                    \
  do {                                 \
    if (loop_.later((t), this)) QS_YIELD; \
  } while (false)
// Waits until DRAM request r is complete (DramPort::wait_done).
#define QS_DONE(r)                           \
  do {                                       \
    if (!(r).resolved) {                     \
      (r).waiter = this;                     \
      QS_YIELD;                              \
    }                                        \
    QS_UNTIL((r).done_cycle);                \
  } while (false)
// Waits until every layer of `after` is closed and the latest of their ends has come
// (LayerBarrier::wait_for).
#define QS_LAYERS(after)                     \
  do {                                       \
    while (!barrier_.all_closed(after)) {    \
      barrier_.wait(this);                   \
      QS_YIELD;                              \
    }                                        \
    QS_UNTIL(barrier_.latest_end(after));    \
  } while (false)

namespace quasar::arch {
namespace {

constexpr int kFinished = -1;

class Loop;

// A process: resume() runs it from where it last waited until it waits again or ends.
class Proc {
 public:
  explicit Proc(Loop& l) : loop_(l) {}
  virtual ~Proc() = default;
  virtual void resume() = 0;

 protected:
  Loop& loop_;
  int pc_ = 0;
};

// Simulated time and who runs when. Each process waits for one thing at a time, so it is in
// at most one place: the timed heap, the list of this cycle's runnable processes, or one
// waiter slot (a request, the barrier, a slot, a queue).
class Loop {
 public:
  std::uint64_t now() const { return now_; }
  // Arranges for p to run at cycle t > now (true), or says t has come (false: no wait).
  bool later(std::uint64_t t, Proc* p) {
    if (t <= now_) return false;
    heap_.push_back({t, seq_++, p});
    std::push_heap(heap_.begin(), heap_.end(), After{});
    return true;
  }
  // p runs again in this cycle (or at t, when later).
  void at(std::uint64_t t, Proc* p) {
    if (!later(t, p)) wake(p);
  }
  void wake(Proc* p) { runnable_.push_back(p); }

  // Runs every process due this cycle, including those they wake.
  void run_cycle() {
    for (std::size_t i = 0; i < runnable_.size(); ++i) runnable_[i]->resume();
    runnable_.clear();
  }
  // Moves to the next cycle with anything due, no later than `bound` (the DRAM's next
  // arrival; ~0: none); false when nothing is left.
  bool advance(std::uint64_t bound) {
    const std::uint64_t next = heap_.empty() ? bound : std::min(bound, heap_.front().t);
    if (next == ~std::uint64_t{0}) return false;
    now_ = next;
    while (!heap_.empty() && heap_.front().t == now_) {
      std::pop_heap(heap_.begin(), heap_.end(), After{});
      runnable_.push_back(heap_.back().p);
      heap_.pop_back();
    }
    return true;
  }
  void start(Proc* p) { runnable_.push_back(p); }

 private:
  struct Entry {
    std::uint64_t t, seq;
    Proc* p;
  };
  // The heap's order (std heaps are max-heaps): the earliest time, then the earliest wait. A
  // function object, so the heap's code inlines it.
  struct After {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.t != b.t ? a.t > b.t : a.seq > b.seq;
    }
  };
  std::uint64_t now_ = 0, seq_ = 0;
  std::vector<Entry> heap_;
  std::vector<Proc*> runnable_;
};

// A DRAM transaction in flight and what its requester learns of it (DramRequest's counterpart).
struct Req {
  std::uint64_t bytes = 0;
  DramDir dir = DramDir::read;
  bool resolved = false;  // the controller has said when it completes
  std::uint64_t done_cycle = 0;
  Proc* waiter = nullptr;  // runs at done_cycle once the controller answers ...
  bool wake_now = false;   // ... or at once, keeping time of its own (the array: see Array)
};

// The DRAM controller (and the interconnect in front of it, when the design has one): a cycle's
// arrivals served after every process of the cycle has run, in round_robin_order, each timed
// by DramTiming and, through the interconnect, by its core's link (LinkTimes).
class Dram {
 public:
  Dram(const ArchSpec& a, unsigned requesters, std::vector<std::uint32_t> link_of, Loop& loop,
       const DramCarry* resume)
      : timing_(a.dram), clock_(a.clock_mhz), n_(std::max(1u, requesters)), loop_(loop) {
    if (a.interconnect.present()) {
      links_ = std::make_unique<LinkTimes>(a.interconnect, std::move(link_of));
      latency_ = a.interconnect.latency_cycles;
    }
    if (resume) {
      timing_.resume(*resume);
      rr_first_ = resume->rr_first;
    }
  }
  void submit(unsigned requester, Req& r) {
    if (r.bytes == 0) throw Error("dram port: a transaction of 0 bytes");
    r.resolved = false;
    r.waiter = nullptr;
    r.wake_now = false;
    arrivals_.push_back({requester, &r, loop_.now() + latency_});
  }
  // The next cycle a request reaches the controller (~0: none in flight).
  std::uint64_t next_arrival() const {
    return arrivals_.empty() ? ~std::uint64_t{0} : arrivals_.front().cycle;
  }
  // Serves the requests that reached the controller in cycle t (every process of t has run).
  void serve(std::uint64_t t) {
    if (arrivals_.empty() || arrivals_.front().cycle != t) return;
    const std::uint64_t at = clock_.cycle_to_ps(t);
    // Most cycles serve one request: no batch to order.
    if (arrivals_.size() == 1 || arrivals_[1].cycle != t) {
      const Arrival b = arrivals_.front();
      arrivals_.pop_front();
      if (++rr_first_ == n_) rr_first_ = 0;
      answer(b, t, at);
      return;
    }
    batch_.clear();
    while (!arrivals_.empty() && arrivals_.front().cycle == t) {
      batch_.push_back(arrivals_.front());
      arrivals_.pop_front();
    }
    round_robin_order(batch_, rr_first_, n_);
    if (++rr_first_ == n_) rr_first_ = 0;
    for (const Arrival& b : batch_) answer(b, t, at);
  }
  DramCarry carry() const {
    DramCarry c;
    timing_.carry_into(c);
    c.rr_first = rr_first_;
    return c;
  }

 private:
  struct Arrival {
    unsigned requester;
    Req* req;
    std::uint64_t cycle;  // it reaches the controller
  };
  // Serves one request that reached the controller in cycle t (at: t in ps).
  void answer(const Arrival& b, std::uint64_t t, std::uint64_t at) {
    Req& r = *b.req;
    std::uint64_t done = clock_.done_cycle(t, timing_.serve(at, r.bytes, r.dir));
    if (links_) done = links_->done(b.requester, b.cycle, done, r.bytes);
    r.done_cycle = done;
    r.resolved = true;
    if (r.waiter) {
      if (r.wake_now) {
        loop_.wake(r.waiter);
      } else {
        loop_.at(done, r.waiter);
      }
      r.waiter = nullptr;
    }
  }
  DramTiming timing_;
  CycleClock clock_;
  std::unique_ptr<LinkTimes> links_;
  std::uint64_t latency_ = 0;
  unsigned n_, rr_first_ = 0;
  Loop& loop_;
  std::deque<Arrival> arrivals_;  // in cycle order (one latency for every requester)
  std::vector<Arrival> batch_;
};

// Layer ends, with the processes waiting for layers to close.
class Barrier : public LayerEnds {
 public:
  Barrier(std::size_t layers, std::uint32_t cores, std::vector<std::size_t> order, Loop& loop)
      : LayerEnds(layers, cores, std::move(order)), loop_(loop) {}
  void close(std::size_t layer, std::uint64_t end) {
    if (!close_share(layer, end)) return;
    for (Proc* p : waiters_) loop_.wake(p);
    waiters_.clear();
  }
  void wait(Proc* p) { waiters_.push_back(p); }

 private:
  Loop& loop_;
  std::vector<Proc*> waiters_;
};

struct CoreState;

// The write engine (WriteDma::run).
class Writer : public Proc {
 public:
  Writer(Loop& l, CoreState& k);
  void push(const WriteDma::Job& j) {
    jobs_.push_back(j);
    wake();
  }
  void finish() {
    finished_jobs_ = true;
    wake();
  }
  void resume() override;
  bool done = false;

 private:
  void wake() {
    if (!waiting_) return;
    waiting_ = false;
    loop_.wake(this);
  }
  CoreState& k_;
  Barrier& barrier_;
  std::deque<WriteDma::Job> jobs_;
  bool finished_jobs_ = false, waiting_ = false;
  WriteDma::Job j_;
  std::deque<Req> outstanding_;
  std::size_t next_ = 0, i_ = 0;
  std::uint64_t layer_max_ = 0, prev_end_ = 0;
};

// The fetch engine (FetchDma::run).
class Fetch : public Proc {
 public:
  Fetch(Loop& l, CoreState& k);
  void resume() override;
  struct Entry {
    Req req;
    std::uint64_t issued_at = 0;
  };
  std::vector<Entry> ring;  // by tile number (SlotTimes::ring entries: index by a mask)
  Entry& at(std::uint64_t g) { return ring[g & (ring.size() - 1)]; }
  std::uint64_t issued = 0;
  Proc* issue_waiter = nullptr;  // the array, waiting for tile `issued` to be issued

 private:
  CoreState& k_;
  Barrier& barrier_;
  TileCursor c_;
  std::uint64_t g_ = 0;
  const Tile* t_ = nullptr;
  const LayerWork* lw_ = nullptr;
  bool first_ = false;
  Req pre_;
};

// The array and the edge queue (Core::array, fast fidelity). It keeps time of its own (local_):
// in the fast fidelity it never waits for a cycle, only for a tile's operands (their issue and
// the DRAM's answer) and for the layers a layer reads, and everything it hands on carries its
// time (slot free times, the edge's finish times), so it runs as soon as what it waits for is
// known, at the time the SystemC array would have resumed: the latest of its own time and the
// times of the events it waited for. That saves the timed wake-up at each tile's DRAM answer
// (a third of the loop's work); the DRAM wakes it at once, after serving the cycle (run()).
class Array : public Proc {
 public:
  Array(Loop& l, CoreState& k);
  void resume() override;

 private:
  void hand_to_edge(std::size_t layer, bool last_in_layer, const Tile& t, std::uint64_t g,
                    std::uint64_t drained, std::uint64_t* accept_out);
  Fetch::Entry& fetched();  // tile g_'s fetch
  CoreState& k_;
  Barrier& barrier_;
  TileCursor c_;
  std::uint64_t g_ = 0;
  const Tile* t_ = nullptr;
  std::uint64_t local_ = 0;  // the array's time: the cycle the SystemC array would be at
  std::uint64_t ready_ = 0;
  // single-buffered
  std::uint64_t array_free_ = 0, accept_prev_ = 0, start_ = 0;
  LoadCycles load_;
  ArrayPhases ph_;
  // double-buffered
  std::uint64_t floor_ = 0, accept_[2] = {0, 0};
  DbAccount acc_;
};

// The vector unit (VectorUnit::run).
class Vector : public Proc {
 public:
  Vector(Loop& l, CoreState& k);
  void resume() override;
  bool done = false;
  std::uint64_t last_end = 0;

 private:
  void issue_read(std::uint64_t b);
  CoreState& k_;
  Barrier& barrier_;
  std::size_t oi_ = 0, l_ = 0;
  const LayerWork* lw_ = nullptr;
  std::unique_ptr<VectorBlocks> bl_;
  std::uint64_t end_ = 0, b_ = 0;
  std::size_t wi_ = 0;
  std::deque<Req> reads_, writes_;
};

// One core: its statistics, slots, edge, array model and processes.
struct CoreState {
  CoreState(const ArchSpec& a, const std::vector<LayerWork>& w, unsigned first_requester,
            Loop& l, Dram& d, Barrier& b, TileMeter& m)
      : spec(a),
        work(w),
        requester(first_requester),
        loop(l),
        dram(d),
        barrier(b),
        meter(m),
        timing(a),
        model(make_array_model(a)),
        slots(a, w),
        writer(l, *this),
        fetch(l, *this),
        array(l, *this) {
    stats.fidelity = Fidelity::fast;
    stats.pe_count = static_cast<std::uint64_t>(a.array.rows) * a.array.cols;
    stats.layers.resize(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) stats.layers[i].name = w[i].name;
    if (a.vector.present()) vector = std::make_unique<Vector>(l, *this);
  }
  bool finished() const { return writer.done && (!vector || vector->done); }
  std::uint64_t end_cycle() const {
    return std::max(stats.cycles, vector ? vector->last_end : std::uint64_t{0});
  }
  // The array published tile g's slot time: the fetch engine may be waiting for it.
  void release(std::uint64_t g, std::uint64_t t) {
    slots.publish(g, t);
    if (slot_waiter) {
      loop.wake(slot_waiter);
      slot_waiter = nullptr;
    }
  }

  const ArchSpec& spec;
  const std::vector<LayerWork>& work;
  unsigned requester;  // its fetches'; then its writes', its vector unit's reads' and writes'
  Loop& loop;
  Dram& dram;
  Barrier& barrier;
  TileMeter& meter;
  RunStats stats;
  TileTiming timing;
  EdgeQueue edge;
  std::unique_ptr<ArrayModel> model;
  SlotTimes slots;
  Proc* slot_waiter = nullptr;
  Writer writer;
  Fetch fetch;
  Array array;
  std::unique_ptr<Vector> vector;
};

// ---- Writer -----------------------------------------------------------------------------------

Writer::Writer(Loop& l, CoreState& k) : Proc(l), k_(k), barrier_(k.barrier) {}

void Writer::resume() {
  QS_BEGIN
  close_nothing_layers(k_.work, k_.stats, barrier_);
  next_ = close_tileless_layers(k_.work, barrier_.order(), next_, prev_end_, k_.stats, barrier_);
  for (;;) {
    while (jobs_.empty()) {
      if (finished_jobs_) {
        k_.stats.cycles = prev_end_;
        done = true;
        pc_ = kFinished;
        return;
      }
      waiting_ = true;
      QS_YIELD;
    }
    j_ = jobs_.front();
    jobs_.pop_front();
    QS_UNTIL(j_.at);
    layer_max_ = std::max(layer_max_, j_.at);
    fold_answered(outstanding_, layer_max_);
    if (j_.bytes > 0) {
      outstanding_.emplace_back();
      outstanding_.back().bytes = j_.bytes;
      outstanding_.back().dir = DramDir::write;
      k_.dram.submit(k_.requester + 1, outstanding_.back());
    }
    if (j_.last_in_layer) {
      for (i_ = 0; i_ < outstanding_.size(); ++i_) {
        QS_DONE(outstanding_[i_]);
        layer_max_ = std::max(layer_max_, outstanding_[i_].done_cycle);
      }
      outstanding_.clear();
      QS_UNTIL(layer_max_);
      if (next_ >= barrier_.order().size() || j_.layer != barrier_.order()[next_])
        throw Error("core: layers closed out of order");
      {
        const std::uint64_t end = std::max(layer_max_, prev_end_);
        k_.stats.layers[j_.layer].cycles = end - prev_end_;
        prev_end_ = layer_max_ = end;
        barrier_.close(j_.layer, end);
      }
      ++next_;
      next_ = close_tileless_layers(k_.work, barrier_.order(), next_, prev_end_, k_.stats,
                                    barrier_);
    }
  }
  QS_END
}

// ---- Fetch ------------------------------------------------------------------------------------

Fetch::Fetch(Loop& l, CoreState& k)
    : Proc(l), ring(k.slots.ring()), k_(k), barrier_(k.barrier), c_(k.work, k.barrier.order()) {
  pre_.dir = DramDir::read;
}

void Fetch::resume() {
  QS_BEGIN
  for (; !c_.done(); c_.next(), ++g_) {
    t_ = &c_.tile();
    lw_ = &k_.work[c_.layer()];
    if (c_.first_in_layer()) QS_LAYERS(lw_->after);
    while (!k_.slots.known(g_)) {
      k_.slot_waiter = this;
      QS_YIELD;
    }
    QS_UNTIL(k_.slots.free_at(g_));
    first_ = c_.index_in_instance() == 0;
    // A dequantize-to-memory pass: one stream on the bus before the instance's first tile.
    if (first_ && lw_->materialize_bytes > 0) {
      pre_.bytes = lw_->materialize_bytes;
      k_.dram.submit(k_.requester, pre_);
      QS_DONE(pre_);
    }
    {
      const std::uint64_t bytes = account_fetch(k_.stats.layers[c_.layer()], *t_, *lw_, first_);
      Entry& f = at(g_);
      f.issued_at = loop_.now();
      f.req.bytes = bytes;
      f.req.resolved = false;
      if (bytes > 0) k_.dram.submit(k_.requester, f.req);
    }
    issued = g_ + 1;
    if (issue_waiter) {
      loop_.wake(issue_waiter);
      issue_waiter = nullptr;
    }
  }
  QS_END
}

// ---- Array ------------------------------------------------------------------------------------

Array::Array(Loop& l, CoreState& k)
    : Proc(l), k_(k), barrier_(k.barrier), c_(k.work, k.barrier.order()) {}

Fetch::Entry& Array::fetched() { return k_.fetch.at(g_); }

void Array::hand_to_edge(std::size_t layer, bool last_in_layer, const Tile& t, std::uint64_t g,
                         std::uint64_t drained, std::uint64_t* accept_out) {
  const EdgeQueue::Taken tk = k_.edge.take(drained, k_.timing.edge_cycles(t));
  *accept_out = tk.accept;
  const std::uint64_t bytes = t.out_bytes + t.spill_write_bytes;
  if (bytes == 0 && !last_in_layer) return;  // (Core::hand_to_edge says why)
  k_.writer.push({tk.finish, bytes, layer, last_in_layer, g});
}

// The array waits for tile g_'s operands (FetchDma::ready): ready_ is when they were in. Woken
// by the fetch engine's issue (in the cycle of the issue) or by the DRAM's answer (done_cycle).
#define QS_READY()                                    \
  do {                                                \
    while (k_.fetch.issued <= g_) {                   \
      k_.fetch.issue_waiter = this;                   \
      QS_YIELD;                                       \
      local_ = std::max(local_, loop_.now());         \
    }                                                 \
    if (fetched().req.bytes == 0) {                   \
      ready_ = fetched().issued_at;                   \
    } else {                                          \
      if (!fetched().req.resolved) {                  \
        fetched().req.waiter = this;                  \
        fetched().req.wake_now = true;                \
        QS_YIELD;                                     \
      }                                               \
      ready_ = fetched().req.done_cycle;              \
      local_ = std::max(local_, ready_);              \
    }                                                 \
  } while (false)
// The layers a layer reads (QS_LAYERS, on the array's own time).
#define QS_ARRAY_LAYERS(after)                        \
  do {                                                \
    while (!barrier_.all_closed(after)) {             \
      barrier_.wait(this);                            \
      QS_YIELD;                                       \
      local_ = std::max(local_, loop_.now());         \
    }                                                 \
    local_ = std::max(local_, barrier_.latest_end(after)); \
  } while (false)

void Array::resume() {
  QS_BEGIN
  k_.model->reset();
  if (!k_.spec.array.double_buffer) {
    // One tile at a time (Core::array_single, fast).
    for (g_ = 0; !c_.done(); c_.next(), ++g_) {
      t_ = &c_.tile();
      if (c_.first_in_layer()) {
        QS_ARRAY_LAYERS(k_.work[c_.layer()].after);
        array_free_ = std::max(array_free_, barrier_.latest_end(k_.work[c_.layer()].after));
      }
      QS_READY();
      start_ = single_start(k_.stats.layers[c_.layer()], array_free_, accept_prev_, ready_);
      local_ = std::max(local_, start_);
      load_ = k_.model->load_cycles(*t_);
      ph_.load = load_.total;
      ph_.stream = k_.model->stream_cycles(*t_);
      ph_.drain = k_.model->drain_cycles();
      k_.release(g_, start_ + ph_.load + ph_.stream);
      local_ = start_ + ph_.total();
      {
        LayerStats& ls = k_.stats.layers[c_.layer()];
        account_phases(ls, *t_, load_, ph_.stream, ph_.drain);
        ls.array_busy += ph_.total();
        array_free_ = local_;
        hand_to_edge(c_.layer(), c_.last_in_layer(), *t_, g_, array_free_, &accept_prev_);
        account_tile(*t_, ls);
      }
      k_.meter.tile_done();
    }
  } else {
    // Double-buffered (Core::array_double_fast): the controller rules in closed form.
    for (g_ = 0; !c_.done(); c_.next(), ++g_) {
      t_ = &c_.tile();
      if (c_.first_in_layer()) {
        QS_ARRAY_LAYERS(k_.work[c_.layer()].after);
        floor_ = barrier_.latest_end(k_.work[c_.layer()].after);
      }
      QS_READY();
      if (t_->stream_steps == 0)
        throw Error("double-buffered array: a tile with no stream steps");
      {
        const LoadCycles load = k_.model->load_cycles(*t_);
        const std::uint64_t stream = k_.model->stream_cycles(*t_);
        const std::uint64_t earliest = std::max(local_, accept_[g_ % 2]);
        const ArrayTileTimes tt = k_.model->schedule(earliest, load.total, stream);
        k_.release(g_, tt.stream_end);
        LayerStats& ls = k_.stats.layers[c_.layer()];
        acc_.tile(ls, tt, accept_[g_ % 2], floor_);
        account_phases(ls, *t_, load, stream, k_.model->drain_cycles());
        hand_to_edge(c_.layer(), c_.last_in_layer(), *t_, g_, tt.done, &accept_[g_ % 2]);
        account_tile(*t_, ls);
      }
      k_.meter.tile_done();
    }
  }
  k_.writer.finish();
  QS_END
}

// ---- Vector -----------------------------------------------------------------------------------

Vector::Vector(Loop& l, CoreState& k) : Proc(l), k_(k), barrier_(k.barrier) {}

void Vector::issue_read(std::uint64_t b) {
  issue_block_read(reads_, k_.stats.layers[l_], bl_->read_bytes(b),
                   [&](Req& r) { k_.dram.submit(k_.requester + 2, r); });
}

void Vector::resume() {
  QS_BEGIN
  for (oi_ = 0; oi_ < barrier_.order().size(); ++oi_) {
    l_ = barrier_.order()[oi_];
    lw_ = &k_.work[l_];
    if (!lw_->vector.present()) continue;
    QS_LAYERS(lw_->after);
    end_ = barrier_.latest_end(lw_->after);
    bl_ = std::make_unique<VectorBlocks>(lw_->vector, lw_->instances);
    if (bl_->count > 0) issue_read(0);
    if (bl_->count > 1) issue_read(1);
    for (b_ = 0; b_ < bl_->count; ++b_) {
      if (reads_.front().bytes > 0) QS_DONE(reads_.front());
      reads_.pop_front();
      QS_UNTIL(loop_.now() + vector_block_cycles(k_.spec.vector, lw_->vector, bl_->rows(b_),
                                                 bl_->first(b_)));
      {
        const VectorWork& v = lw_->vector;
        const std::uint64_t rows = bl_->rows(b_);
        LayerStats& ls = k_.stats.layers[l_];
        account_vector_block(ls, v, rows, bl_->first(b_),
                             vector_block_cycles(k_.spec.vector, v, rows, bl_->first(b_)));
        end_ = std::max(end_, loop_.now());
        // The block's half of the scratchpad is free: the block after next loads into it.
        if (b_ + 2 < bl_->count) issue_read(b_ + 2);
        fold_answered(writes_, end_);
        issue_block_write(writes_, ls, rows * v.write_bytes,
                          [&](Req& w) { k_.dram.submit(k_.requester + 3, w); });
      }
    }
    for (wi_ = 0; wi_ < writes_.size(); ++wi_) {
      QS_DONE(writes_[wi_]);
      end_ = std::max(end_, writes_[wi_].done_cycle);
    }
    writes_.clear();
    QS_UNTIL(end_);
    barrier_.close(l_, end_);
    last_end = std::max(last_end, end_);
  }
  done = true;
  QS_END
}

}  // namespace

// ---- EventLoopRun -----------------------------------------------------------------------------

struct EventLoopRun::Impl {
  Loop loop;
  std::unique_ptr<Barrier> barrier;
  std::unique_ptr<Dram> dram;
  std::vector<std::unique_ptr<CoreState>> cores;
};

EventLoopRun::EventLoopRun(const ArchSpec& a,
                           const std::vector<const std::vector<LayerWork>*>& lists,
                           std::vector<std::size_t> order, TileMeter& meter,
                           const DramCarry* resume)
    : impl_(std::make_unique<Impl>()) {
  const auto ncores = static_cast<std::uint32_t>(lists.size());
  const std::size_t layers = lists.front()->size();
  impl_->barrier = std::make_unique<Barrier>(layers, ncores, std::move(order), impl_->loop);
  // Requester order on the controller, as simulate_jobs binds the SystemC ports: core 0's
  // fetches, its writes (its vector unit's reads and writes), core 1's fetches, ...
  const unsigned per_core = a.vector.present() ? 4 : 2;
  std::vector<std::uint32_t> link_of;
  for (std::uint32_t c = 0; c < ncores; ++c)
    for (unsigned k = 0; k < per_core; ++k) link_of.push_back(c);
  impl_->dram = std::make_unique<Dram>(a, ncores * per_core, std::move(link_of), impl_->loop,
                                       resume);
  for (std::uint32_t c = 0; c < ncores; ++c)
    impl_->cores.push_back(std::make_unique<CoreState>(a, *lists[c], c * per_core, impl_->loop,
                                                       *impl_->dram, *impl_->barrier, meter));
}

EventLoopRun::~EventLoopRun() = default;

void EventLoopRun::run() {
  Loop& loop = impl_->loop;
  // Every process starts at cycle 0, in the order the SystemC modules are built (the order
  // within a cycle does not change what they compute; it is fixed so runs are repeatable).
  for (const auto& k : impl_->cores) {
    loop.start(&k->fetch);
    loop.start(&k->writer);
    if (k->vector) loop.start(k->vector.get());
    loop.start(&k->array);
  }
  do {
    loop.run_cycle();
    impl_->dram->serve(loop.now());
    // The arrays the answers woke run now, on their own time (later than this cycle: nothing
    // they hand on can reach the DRAM in a cycle it has served).
    loop.run_cycle();
    if (impl_->dram->next_arrival() <= loop.now())
      throw Error("event loop: a DRAM request arrived in a cycle already served");
  } while (loop.advance(impl_->dram->next_arrival()));
  for (const auto& k : impl_->cores)
    if (!k->finished()) throw Error("accelerator model did not finish (a process is stuck)");
}

std::size_t EventLoopRun::cores() const { return impl_->cores.size(); }
const RunStats& EventLoopRun::core_stats(std::size_t c) const { return impl_->cores[c]->stats; }
std::uint64_t EventLoopRun::core_end(std::size_t c) const { return impl_->cores[c]->end_cycle(); }
const LayerEnds& EventLoopRun::ends() const { return *impl_->barrier; }
DramCarry EventLoopRun::carry() const { return impl_->dram->carry(); }

}  // namespace quasar::arch
