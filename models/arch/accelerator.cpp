#include "accelerator.hpp"

#include <systemc>

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#endif

#include <algorithm>
#include <chrono>
#include <memory>

#include "arch/dram_channel.hpp"
#include "numerics/error.hpp"
#include "units/systolic_os.hpp"
#include "units/systolic_ws.hpp"

namespace quasar::arch {

namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return b ? (a + b - 1) / b : 0; }

// Tiles done across every model of one simulation, reported to the caller's callback at most
// every 0.25 s of wall time (wall time decides only when to report, never what is simulated).
class ProgressMeter {
 public:
  ProgressMeter(const Progress& cb, std::uint64_t total) : cb_(cb), total_(total) {}
  void tile_done() {
    ++done_;
    if (!cb_ || (done_ & 255) != 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    if (done_ < total_) cb_(static_cast<double>(done_) / static_cast<double>(total_));
  }
  void finish() const {
    if (cb_) cb_(1.0);
  }

 private:
  const Progress& cb_;
  std::uint64_t total_, done_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

struct LoadCycles {
  std::uint64_t total = 0, port_extra = 0, dequant_extra = 0;
};

// Everything that happens around the array, in cycles: operand prefetch into the buffer slots,
// DRAM channels, and the edge units. Plain C++ so both fidelities schedule identically.
class TilePolicy {
 public:
  explicit TilePolicy(const ArchSpec& a)
      : a_(a),
        rd_(a.dram.bytes_per_cycle, a.dram.latency_cycles, a.dram.burst_bytes),
        wr_(a.dram.bytes_per_cycle, a.dram.latency_cycles, a.dram.burst_bytes),
        slots_(a.buffers.weight.double_buffered && a.buffers.ifmap.double_buffered ? 2 : 1) {}

  // When tile number `index` has its operands on chip. Its prefetch starts once the DMA
  // has issued the previous tile's and a buffer slot is free (the tile `slots_` earlier has
  // finished computing).
  std::uint64_t operands_ready(std::uint64_t index, std::uint64_t bytes, std::uint64_t pre_bytes) {
    std::uint64_t issue = last_issue_;
    if (index >= slots_) issue = std::max(issue, array_end_[(index - slots_) % slots_]);
    last_issue_ = issue;
    if (pre_bytes) issue = rd_.request(issue, pre_bytes);  // materialize pass first
    return rd_.request(issue, bytes);
  }

  void array_finished(std::uint64_t index, std::uint64_t end) { array_end_[index % slots_] = end; }

  // No DMA request is issued before cycle `t` (a layer waits for the previous layer's outputs).
  void hold_until(std::uint64_t t) { last_issue_ = std::max(last_issue_, t); }

  // Cycles the edge needs for a drained tile: group rescales, then the epilogue.
  std::uint64_t edge_cycles(const Tile& t) const {
    std::uint64_t c = 0;
    if (t.rescale_ops) {
      const std::uint64_t units = t.rescale_int ? a_.edge.intscale_units : a_.edge.floatscale_units;
      const std::uint64_t lat =
          t.rescale_int ? a_.edge.intscale_latency_cycles : a_.edge.floatscale_latency_cycles;
      c += ceil_div(t.rescale_ops, std::max<std::uint64_t>(units, 1)) + lat;
    }
    if (t.epilogue_ops)
      c += ceil_div(t.epilogue_ops, a_.edge.epilogue_units) + a_.edge.epilogue_latency_cycles;
    return c;
  }

  // The edge takes a tile drained at `drained` once it is free; returns when it took it.
  std::uint64_t edge_accept(std::uint64_t drained, const Tile& t, std::uint64_t& done_out) {
    const std::uint64_t accept = std::max(drained, edge_free_);
    edge_free_ = accept + edge_cycles(t);
    done_out = wr_.request(edge_free_, t.out_bytes + t.spill_write_bytes);
    done_out = std::max(done_out, edge_free_);
    return accept;
  }

  // Load phase. Weight-stationary: the protocol takes `rows` cycles; the weight buffer's read
  // port (the tile's packed codes and scales) or the fused dequantizers in front of the array
  // may take longer. Output-stationary: no weight preload, but the array cannot take bubbles
  // in its stream, so a tile waits here until the ifmap and weight ports (and the
  // dequantizers) can sustain one step per cycle to its end. The extra cycles are charged to
  // whichever is slower.
  LoadCycles load_cycles(const Tile& t) const {
    const bool ws = a_.array.dataflow == Dataflow::ws;
    const std::uint64_t base = ws ? a_.array.rows : t.stream_steps;
    const std::uint64_t deq =
        t.dequant_ops ? ceil_div(t.dequant_ops, std::max<std::uint32_t>(a_.edge.dequant_units, 1))
                      : 0;
    std::uint64_t port = 0;
    if (ws) {
      port = ceil_div(t.weight_read_bytes, a_.buffers.weight.bytes_per_cycle);
    } else {
      port = std::max(
          ceil_div(t.stream_steps * t.x_bytes_per_step, a_.buffers.ifmap.bytes_per_cycle),
          ceil_div(t.stream_steps * t.w_bytes_per_step, a_.buffers.weight.bytes_per_cycle));
    }
    LoadCycles l;
    const std::uint64_t need = std::max({base, port, deq});
    l.total = ws ? need : need - base;
    if (deq >= port) {
      l.dequant_extra = need - base;
    } else {
      l.port_extra = need - base;
    }
    return l;
  }

  // The stream cycle (0-based) at which token `i` enters the array: one token per cycle unless
  // the ifmap read port (activations) or the ofmap ports (chained partial sums in, results out;
  // separate read and write ports) cannot deliver a token's bytes every cycle. Each port
  // accumulates bytes_per_cycle of credit per cycle; a token goes when every port has its bytes.
  std::uint64_t token_cycle(const Tile& t, std::uint64_t i) const {
    std::uint64_t c = i;
    auto port = [&](std::uint64_t need, std::uint32_t bpc) {
      if (need > bpc) c = std::max(c, ceil_div((i + 1) * need, bpc) - 1);
    };
    port(t.x_bytes_per_step, a_.buffers.ifmap.bytes_per_cycle);
    port(t.psum_in_bytes_per_step, a_.buffers.ofmap.bytes_per_cycle);
    port(t.psum_out_bytes_per_step, a_.buffers.ofmap.bytes_per_cycle);
    return c;
  }

 private:
  const ArchSpec& a_;
  DramChannel rd_, wr_;
  std::uint64_t slots_;
  std::uint64_t array_end_[2] = {0, 0};
  std::uint64_t last_issue_ = 0;
  std::uint64_t edge_free_ = 0;
};

SC_MODULE(Accelerator) {
  SC_HAS_PROCESS(Accelerator);
  sc_core::sc_in<bool> clk;

  Accelerator(sc_core::sc_module_name n, const ArchSpec& a, const std::vector<LayerWork>& work,
              Fidelity f, ProgressMeter& meter)
      : sc_module(n),
        meter_(meter),
        a_(a),
        work_(work),
        f_(f),
        policy_(a),
        array_(static_cast<int>(a.array.rows), static_cast<int>(a.array.cols)),
        os_array_(static_cast<int>(a.array.rows), static_cast<int>(a.array.cols)) {
    stats.fidelity = f;
    stats.pe_count = static_cast<std::uint64_t>(a.array.rows) * a.array.cols;
    if (f == Fidelity::fast) {
      SC_THREAD(run);
    } else {
      SC_CTHREAD(run, clk.pos());
    }
  }

  RunStats stats;
  bool done = false;

 private:
  std::uint64_t now() const {
    return static_cast<std::uint64_t>(sc_core::sc_time_stamp() /
                                      sc_core::sc_time(1, sc_core::SC_NS));
  }

  // Advance to cycle `t` (no work happens meanwhile).
  void idle_until(std::uint64_t t) {
    const std::uint64_t n = now();
    if (t <= n) return;
    if (f_ == Fidelity::fast) {
      wait(sc_core::sc_time(static_cast<double>(t - n), sc_core::SC_NS));
    } else {
      wait(static_cast<int>(t - n));
    }
  }

  // One tile on the array; returns the cycles of each phase.
  units::SystolicWsPhases compute(const Tile& t, const LoadCycles& load) {
    const std::uint64_t R = a_.array.rows, C = a_.array.cols;
    const bool ws = a_.array.dataflow == Dataflow::ws;
    if (f_ == Fidelity::fast) {
      units::SystolicWsPhases ph;
      ph.load = load.total;
      if (ws) {
        ph.stream = t.stream_steps ? policy_.token_cycle(t, t.stream_steps - 1) + 1 : 0;
        ph.drain = R + C - 2;
      } else {
        ph.stream = t.stream_steps;
        ph.drain = 2 * R + C - 2;  // units::systolic_os_timing
      }
      wait(sc_core::sc_time(static_cast<double>(ph.total()), sc_core::SC_NS));
      return ph;
    }
    return ws ? compute_ws_cycles(t, load) : compute_os_cycles(t, load);
  }

  // Cycle by cycle on the WS register model: load ROWS weight rows (longer if the weight port
  // or the dequantizers are the bottleneck), stream M tokens (with bubbles where a buffer port
  // is short of bytes), drain until the M-th result has left the array.
  units::SystolicWsPhases compute_ws_cycles(const Tile& t, const LoadCycles& load) {
    const std::uint64_t R = a_.array.rows, C = a_.array.cols;
    units::SystolicWsPhases ph;
    units::SystolicWsInputs in;
    in.w_in.assign(C, 0);
    in.x_in.assign(R, 0);
    in.psum_in.assign(C, 0);
    for (std::uint64_t i = 0; i < load.total; ++i) {
      in.w_load = i < R;  // extra cycles: the array waits for its weights
      array_.tick(in);
      wait();
      ++ph.load;
    }
    in.w_load = false;
    std::uint64_t got = 0, sent = 0;
    while (sent < t.stream_steps) {
      in.x_valid = policy_.token_cycle(t, sent) <= ph.stream;
      sent += in.x_valid ? 1 : 0;
      array_.tick(in);
      wait();
      ++ph.stream;
      got += array_.y_valid() ? 1 : 0;
    }
    in.x_valid = false;
    while (got < t.stream_steps) {
      if (ph.drain > R + C + 64) throw Error("cycle model: the array lost results");
      array_.tick(in);
      wait();
      ++ph.drain;
      got += array_.y_valid() ? 1 : 0;
    }
    return ph;
  }

  // Cycle by cycle on the OS register model: idle while the ports fill (the array is empty
  // between tiles, so idle cycles change nothing), stream the k-chunk with valid = 1, drain
  // until all ROWS result rows have been unloaded.
  units::SystolicWsPhases compute_os_cycles(const Tile& t, const LoadCycles& load) {
    const std::uint64_t R = a_.array.rows, C = a_.array.cols;
    units::SystolicWsPhases ph;
    units::SystolicOsInputs in;
    in.x_in.assign(R, 0);
    in.w_in.assign(C, 0);
    std::uint64_t got = 0;
    auto tick = [&](bool valid) {
      in.valid = valid;
      os_array_.tick(in);
      wait();
      got += os_array_.y_valid() ? 1 : 0;
    };
    for (std::uint64_t i = 0; i < load.total; ++i, ++ph.load) tick(false);
    for (std::uint64_t i = 0; i < t.stream_steps; ++i, ++ph.stream) tick(true);
    while (got < R) {
      if (ph.drain > 2 * R + C + 64) throw Error("cycle model: the OS array lost results");
      tick(false);
      ++ph.drain;
    }
    return ph;
  }

  // The tile's actions and on-chip traffic: the same in both fidelities (the cost model's input).
  static void account(const Tile& t, LayerStats& ls) {
    ls.macs += t.m * t.rows_used * t.cols_used;
    ls.dequant_ops += t.dequant_ops;
    (t.rescale_int ? ls.intscale_ops : ls.floatscale_ops) += t.rescale_ops;
    ls.epilogue_ops += t.epilogue_ops;
    ls.scale_writes += t.scale_writes;
    ls.scale_reads += t.scale_reads;
    ls.ifmap_write_bytes += t.act_bytes;
    ls.ifmap_read_bytes += t.ifmap_read_bytes;
    ls.weight_write_bytes += t.weight_bytes;
    ls.weight_read_bytes += t.weight_read_bytes;
    ls.ofmap_read_bytes += t.ofmap_read_bytes;
    ls.ofmap_write_bytes += t.ofmap_write_bytes;
    ++ls.tiles;
  }

  void run() {
    if (f_ == Fidelity::cycle) {
      array_.reset();
      array_.timing_only(true);  // no operand data flows here: control (valid bits) only
      os_array_.reset();
      os_array_.timing_only(true);
    }
    std::uint64_t index = 0, layer_end_prev = 0, array_free = 0, accept_prev = 0, end = 0;
    for (const LayerWork& lw : work_) {
      // Layers run in trace order: a layer's inputs are the previous layer's outputs, so its
      // first DMA request and its first tile wait until that layer's last write has landed.
      // (Independent layers, e.g. q/k/v, could overlap; the trace does not say which are.)
      policy_.hold_until(layer_end_prev);
      array_free = std::max(array_free, layer_end_prev);
      LayerStats ls;
      ls.name = lw.name;
      std::uint64_t layer_end = layer_end_prev;
      for (std::uint64_t inst = 0; inst < lw.instances; ++inst) {
        play_tiles(lw.tiles, lw.runs, [&](const Tile& t, std::uint64_t ti) {
          const std::uint64_t pre = ti == 0 ? lw.materialize_bytes : 0;
          const std::uint64_t ready =
              policy_.operands_ready(index, t.weight_bytes + t.act_bytes + t.spill_read_bytes, pre);
          // The pass's bytes are timed as one stream on the read channel before the first
          // tile (DRAM-bound; its dequantizations are counted, not timed).
          const std::uint64_t pre_write = ti == 0 ? lw.materialize_write_bytes : 0;
          ls.dram_read_bytes += t.weight_bytes + t.act_bytes + t.spill_read_bytes + pre - pre_write;
          ls.dram_write_bytes += t.out_bytes + t.spill_write_bytes + pre_write;
          if (ti == 0) ls.dequant_ops += lw.materialize_dequant_ops;
          // The array starts once free, the previous tile is with the edge, and operands are in.
          const std::uint64_t after_edge = std::max(array_free, accept_prev);
          ls.stall_edge += after_edge - array_free;
          const std::uint64_t start = std::max(after_edge, ready);
          ls.stall_dram += start - after_edge;
          idle_until(start);
          const LoadCycles load = policy_.load_cycles(t);
          const units::SystolicWsPhases ph = compute(t, load);
          ls.load += ph.load, ls.stream += ph.stream, ls.drain += ph.drain;
          ls.stall_port += load.port_extra + (ph.stream - t.stream_steps);
          ls.stall_dequant += load.dequant_extra;
          ls.array_busy += ph.total();
          array_free = now();
          policy_.array_finished(index, array_free);
          std::uint64_t out_done = 0;
          accept_prev = policy_.edge_accept(array_free, t, out_done);
          layer_end = std::max(layer_end, out_done);
          account(t, ls);
          meter_.tile_done();
          ++index;
        });
      }
      ls.cycles = layer_end - layer_end_prev;
      layer_end_prev = layer_end;
      end = std::max(end, layer_end);
      stats.layers.push_back(ls);
    }
    stats.cycles = end;
    done = true;
  }

  ProgressMeter& meter_;
  const ArchSpec& a_;
  const std::vector<LayerWork>& work_;
  Fidelity f_;
  TilePolicy policy_;
  units::SystolicWsArray array_;
  units::SystolicOsArray os_array_;
};

// Under AddressSanitizer: tells it again that this thread runs on its own stack once the
// simulation has returned to it. SystemC 2.3.4 announces its coroutine switches to ASan
// (__sanitizer_start/finish_switch_fiber), but after a run ASan still takes the last coroutine's
// stack for the main thread's. That stack is unmapped when SystemC frees the coroutine, and
// LeakSanitizer scans a thread's whole recorded stack when the stack pointer is outside it: at
// exit it read those freed pages and crashed ("Tracer caught signal 11") whenever a later
// mapping had reused part of them, in about half the processes on some hosts. Measured on an
// Intel Xeon host: LSAN_OPTIONS=verbosity=1:log_threads=1 showed "Stack at <the 256 KiB
// coroutine stack> (SP = <the main stack>)", and use_stacks=0 removed every crash; see
// docs/limits.md, "Sanitizers". A no-op in other builds.
void restore_sanitizer_stack() {
#if defined(__SANITIZE_ADDRESS__)
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* bottom = nullptr;
  std::size_t size = 0;
  const int got = pthread_attr_getstack(&attr, &bottom, &size);
  pthread_attr_destroy(&attr);
  if (got != 0 || bottom == nullptr || size == 0) return;
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, bottom, size);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

}  // namespace

std::vector<RunStats> simulate(const ArchSpec& spec, const std::vector<LayerWork>& work,
                               const std::vector<Fidelity>& modes, const Progress& progress) {
  std::vector<SimJob> jobs;
  for (Fidelity f : modes) jobs.push_back({&spec, &work, f});
  return simulate_jobs(jobs, progress);
}

std::vector<RunStats> simulate_jobs(const std::vector<SimJob>& jobs, const Progress& progress) {
  std::uint64_t total_tiles = 0;
  for (const SimJob& j : jobs)
    for (const LayerWork& l : *j.work) total_tiles += l.instances * played_tiles(l.tiles, l.runs);
  ProgressMeter meter(progress, total_tiles);
  // A clock only when a cycle-mode model needs one: a 1 GHz clock is two kernel events per
  // simulated cycle, which would make the fast mode as slow as the cycle mode.
  bool clocked = false;
  for (const SimJob& j : jobs) clocked = clocked || j.mode == Fidelity::cycle;
  std::unique_ptr<sc_core::sc_clock> clk;
  sc_core::sc_signal<bool> no_clock("no_clock");
  if (clocked)
    clk = std::make_unique<sc_core::sc_clock>("clk", sc_core::sc_time(1, sc_core::SC_NS));
  std::vector<std::unique_ptr<Accelerator>> accs;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    accs.push_back(std::make_unique<Accelerator>(
        ("acc_" + std::to_string(i)).c_str(), *jobs[i].spec, *jobs[i].work, jobs[i].mode, meter));
    if (clocked) {
      accs.back()->clk(*clk);
    } else {
      accs.back()->clk(no_clock);
    }
  }
  if (!clocked) {
    sc_core::sc_start();  // ends when every thread has finished
  } else {
    // A running clock keeps time going forever: run in slices until every model is done.
    for (;;) {
      sc_core::sc_start(sc_core::sc_time(1e6, sc_core::SC_NS));
      bool all = true;
      for (const auto& a : accs) all = all && a->done;
      if (all) break;
    }
  }
  restore_sanitizer_stack();
  meter.finish();
  std::vector<RunStats> out;
  for (const auto& a : accs) {
    if (!a->done) throw Error("accelerator model did not finish");
    out.push_back(a->stats);
  }
  return out;
}

}  // namespace quasar::arch
