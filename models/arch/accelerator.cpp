#include "accelerator.hpp"

#include <systemc>

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>

#include "arch/core/core.hpp"
#include "arch/dram/dram_controller.hpp"
#include "arch/event_loop/event_loop.hpp"
#include "arch/interconnect/interconnect.hpp"
#include "numerics/error.hpp"

namespace quasar::arch {

namespace {

// Tiles done across every model of one simulation, reported to the caller's callback at most
// every 0.25 s of wall time (wall time decides only when to report, never what is simulated).
class ProgressMeter : public TileMeter {
 public:
  ProgressMeter(const Progress& cb, std::uint64_t total) : cb_(cb), total_(total) {}
  void tile_done() override {
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

}  // namespace

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

FastKernel resolve(FastKernel k) {
  if (k != FastKernel::from_env) return k;
  const char* e = std::getenv("QUASAR_FAST_KERNEL");
  if (!e || !*e) return FastKernel::event_loop;
  const std::string v(e);
  if (v == "event-loop") return FastKernel::event_loop;
  if (v == "systemc") return FastKernel::systemc;
  throw Error("QUASAR_FAST_KERNEL: '" + v + "' is not a kernel (accepted: event-loop, systemc)");
}

std::vector<RunStats> simulate(const ArchSpec& spec, const std::vector<LayerWork>& work,
                               const std::vector<Fidelity>& modes, const Progress& progress) {
  std::vector<SimJob> jobs;
  for (Fidelity f : modes) jobs.push_back({&spec, &work, f});
  return simulate_jobs(jobs, progress);
}

std::vector<RunStats> simulate(const ArchSpec& spec,
                               const std::vector<std::vector<LayerWork>>& core_work,
                               const std::vector<Fidelity>& modes, const Progress& progress) {
  std::vector<SimJob> jobs;
  for (Fidelity f : modes) jobs.push_back({&spec, nullptr, f, &core_work});
  return simulate_jobs(jobs, progress);
}

namespace {

// The order every core and vector unit of a run works through its layers (run_order). Throws
// when the cores' lists disagree on a layer's wave.
std::vector<std::size_t> cores_order(const std::vector<const std::vector<LayerWork>*>& cores) {
  const std::vector<LayerWork>& w = *cores.front();
  for (const auto* c : cores)
    for (std::size_t l = 0; l < w.size(); ++l)
      if ((*c)[l].wave != w[l].wave)
        throw Error("accelerator model: the cores' work lists differ in layer " +
                    std::to_string(l) + "'s wave");
  return run_order(w);
}

// Whether a job runs on the event loop (arch/event_loop) rather than on SystemC: the fast
// fidelity without a tile log or a waveform, unless its kernel says SystemC.
bool on_event_loop(const SimJob& j, const std::string& vcd) {
  if (j.mode != Fidelity::fast || j.tile_log || !vcd.empty()) return false;
  return resolve(j.kernel) == FastKernel::event_loop;
}

// The run's statistics from its cores': counters summed per layer, each layer's cycles its
// share of the timeline (the barrier's ends, taken in the order the layers ran), and one line
// per core when there are several.
RunStats merge(const std::vector<const RunStats*>& cores, const std::vector<std::uint64_t>& ends,
               const LayerEnds& barrier, std::size_t layers, const ArchSpec& a, Fidelity f) {
  RunStats r;
  r.fidelity = f;
  r.pe_count = static_cast<std::uint64_t>(a.array.rows) * a.array.cols * cores.size();
  r.layers = cores[0]->layers;
  // A layer's share of the timeline: how far it moved the latest end so far (layers that
  // overlap an earlier, longer one get 0), so the shares sum to the run's cycles.
  std::uint64_t reached = 0;
  for (std::size_t l = 0; l < layers; ++l)
    for (std::size_t c = 1; c < cores.size(); ++c)
      for (const StatField& fl : layer_stat_fields())
        r.layers[l].*fl.member += cores[c]->layers[l].*fl.member;
  for (const std::size_t l : barrier.order()) {
    const std::uint64_t e = std::max(reached, barrier.end(l));
    r.layers[l].cycles = e - reached;
    reached = e;
  }
  r.cycles = reached;
  if (cores.size() == 1) return r;
  for (std::size_t c = 0; c < cores.size(); ++c) {
    LayerStats t;
    t.name = "core" + std::to_string(c);
    for (const LayerStats& l : cores[c]->layers)
      for (const StatField& fl : layer_stat_fields()) t.*fl.member += l.*fl.member;
    t.cycles = ends[c];
    r.cores.push_back(t);
  }
  return r;
}

}  // namespace

std::vector<RunStats> simulate_jobs(const std::vector<SimJob>& jobs, const Progress& progress,
                                    const std::string& vcd) {
  std::uint64_t total_tiles = 0;
  for (const SimJob& j : jobs) {
    if (j.core_work) {
      if (j.core_work->size() != j.spec->cores)
        throw Error("accelerator model: " + std::to_string(j.core_work->size()) +
                    " cores' work for a design of " + std::to_string(j.spec->cores) + " cores");
      for (const auto& cw : *j.core_work) {
        if (cw.size() != j.core_work->front().size())
          throw Error("accelerator model: the cores' work lists differ in layers");
        for (const LayerWork& l : cw) total_tiles += l.instances * played_tiles(l.tiles, l.runs);
      }
    } else {
      if (j.spec->cores != 1)
        throw Error("accelerator model: one work list for a design of " +
                    std::to_string(j.spec->cores) + " cores (plan one per core)");
      for (const LayerWork& l : *j.work) total_tiles += l.instances * played_tiles(l.tiles, l.runs);
    }
  }
  ProgressMeter meter(progress, total_tiles);
  // Each job is its own accelerator: its cores share its DRAM; jobs share nothing.
  struct Acc {
    using Own = EventLoopRun;
    std::unique_ptr<Own> own;  // a fast job on the event loop (then nothing below)
    std::unique_ptr<DramController> dram;
    std::unique_ptr<Interconnect> net;
    std::unique_ptr<LayerBarrier> barrier;
    std::vector<std::unique_ptr<Core>> cores;
    std::size_t layers = 0;
  };
  std::vector<Acc> accs(jobs.size());
  bool systemc = false;  // a job runs on SystemC
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const ArchSpec& a = *jobs[i].spec;
    const std::string n = "acc_" + std::to_string(i);
    const std::uint32_t ncores = jobs[i].core_work ? a.cores : 1;
    Acc& acc = accs[i];
    acc.layers = jobs[i].core_work ? jobs[i].core_work->front().size() : jobs[i].work->size();
    std::vector<const std::vector<LayerWork>*> lists;
    for (std::uint32_t c = 0; c < ncores; ++c)
      lists.push_back(jobs[i].core_work ? &(*jobs[i].core_work)[c] : jobs[i].work);
    if (on_event_loop(jobs[i], vcd)) {
      acc.own = std::make_unique<EventLoopRun>(a, lists, cores_order(lists), meter, jobs[i].resume);
      continue;
    }
    systemc = true;
    acc.dram = std::make_unique<DramController>((n + "_dram").c_str(), a.dram, a.clock_mhz);
    if (jobs[i].resume) acc.dram->resume(*jobs[i].resume);
    acc.barrier = std::make_unique<LayerBarrier>(acc.layers, ncores, cores_order(lists));
    for (std::uint32_t c = 0; c < ncores; ++c) {
      const std::vector<LayerWork>& w = jobs[i].core_work ? (*jobs[i].core_work)[c] : *jobs[i].work;
      acc.cores.push_back(std::make_unique<Core>((n + "_core" + std::to_string(c)).c_str(), a, w,
                                                 jobs[i].mode, c, *acc.barrier, meter));
    }
    if (std::vector<std::vector<TileEvents>>* log = jobs[i].tile_log) {
      log->assign(ncores, {});
      for (std::uint32_t c = 0; c < ncores; ++c) acc.cores[c]->log_tiles(&(*log)[c]);
    }
    // Requester order on the controller: core 0's fetches, its writes (then its vector unit's
    // reads and writes, when the design has one), core 1's fetches, ...
    // With an interconnect, each requester reaches the controller through it, on the socket
    // of the same index, over its core's link.
    if (a.interconnect.present()) {
      std::vector<std::uint32_t> link_of;
      const std::uint32_t per_core = a.vector.present() ? 4 : 2;
      for (std::uint32_t c = 0; c < ncores; ++c)
        for (std::uint32_t k = 0; k < per_core; ++k) link_of.push_back(c);
      acc.net = std::make_unique<Interconnect>((n + "_net").c_str(), a.interconnect, link_of);
      for (const auto& core : acc.cores) {
        core->fetch.port.socket.bind(acc.net->in);
        core->writer.port.socket.bind(acc.net->in);
        if (core->vector) {
          core->vector->read_port.socket.bind(acc.net->in);
          core->vector->write_port.socket.bind(acc.net->in);
        }
      }
      for (std::size_t r = 0; r < link_of.size(); ++r) acc.net->out.bind(acc.dram->socket);
    } else {
      for (const auto& core : acc.cores) {
        core->fetch.port.socket.bind(acc.dram->socket);
        core->writer.port.socket.bind(acc.dram->socket);
        if (core->vector) {
          core->vector->read_port.socket.bind(acc.dram->socket);
          core->vector->write_port.socket.bind(acc.dram->socket);
        }
      }
    }
  }
  sc_core::sc_trace_file* tf = nullptr;
  if (!vcd.empty()) {
    // sc_create_vcd_trace_file appends ".vcd".
    const std::string base =
        vcd.size() > 4 && vcd.compare(vcd.size() - 4, 4, ".vcd") == 0 ? vcd.substr(0, vcd.size() - 4) : vcd;
    tf = sc_core::sc_create_vcd_trace_file(base.c_str());
    if (!tf) throw Error(vcd + ": cannot create the waveform file");
    tf->set_time_unit(1, sc_core::SC_NS);
    for (std::size_t i = 0; i < accs.size(); ++i) {
      for (std::size_t c = 0; c < accs[i].cores.size(); ++c) {
        Core& core = *accs[i].cores[c];
        const std::string p = (accs.size() > 1 ? "acc" + std::to_string(i) + "." : std::string()) +
                              "core" + std::to_string(c) + ".";
        sc_core::sc_trace(tf, core.waves.load, p + "array.load");
        sc_core::sc_trace(tf, core.waves.stream, p + "array.stream");
        sc_core::sc_trace(tf, core.waves.result, p + "array.result");
        sc_core::sc_trace(tf, core.waves.loading_tile, p + "array.loading_tile");
        sc_core::sc_trace(tf, core.waves.streaming_tile, p + "array.streaming_tile");
        sc_core::sc_trace(tf, core.fetch.issued_count(), p + "fetch.tiles_issued");
        sc_core::sc_trace(tf, core.writer.pending, p + "write.jobs_pending");
      }
    }
  }
  for (Acc& acc : accs)
    if (acc.own) acc.own->run();
  if (systemc) {
    sc_core::sc_start();  // ends when no process has anything left to do
    if (tf) sc_core::sc_close_vcd_trace_file(tf);
    restore_sanitizer_stack();
  }
  meter.finish();
  std::vector<RunStats> out;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (Acc::Own* own = accs[i].own.get()) {
      std::vector<const RunStats*> cs;
      std::vector<std::uint64_t> ends;
      for (std::size_t c = 0; c < own->cores(); ++c) {
        cs.push_back(&own->core_stats(c));
        ends.push_back(own->core_end(c));
      }
      out.push_back(merge(cs, ends, own->ends(), accs[i].layers, *jobs[i].spec, jobs[i].mode));
      if (jobs[i].carry) *jobs[i].carry = own->carry();
      continue;
    }
    std::vector<const RunStats*> cs;
    std::vector<std::uint64_t> ends;
    for (const auto& c : accs[i].cores) {
      if (!c->finished()) throw Error("accelerator model did not finish (a process is stuck)");
      cs.push_back(&c->stats);
      ends.push_back(c->end_cycle());
    }
    out.push_back(merge(cs, ends, *accs[i].barrier, accs[i].layers, *jobs[i].spec, jobs[i].mode));
    if (jobs[i].carry) *jobs[i].carry = accs[i].dram->carry();
  }
  return out;
}

}  // namespace quasar::arch
