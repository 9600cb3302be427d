#include "arch/array/array_model.hpp"

#include <algorithm>
#include <string>

#include "arch/sram/buffer.hpp"
#include "numerics/error.hpp"
#include "units/systolic_os.hpp"
#include "units/systolic_ws.hpp"

namespace quasar::arch {

namespace {

// A tile's own command for the array, or an error naming both dataflows (a plan made for one
// design given to another).
template <class Command>
const Command& command(const Tile& t, const char* dataflow) {
  if (const auto* c = std::get_if<Command>(&t.array)) return *c;
  throw Error(std::string("a ") + dataflow + " array was given another dataflow's tile (n0 " +
              std::to_string(t.n0) + ", k0 " + std::to_string(t.k0) + ")");
}

// The load phase's length: `base` cycles of protocol unless the port or the fused dequantizers
// need longer; the extra is charged to whichever is slower.
LoadCycles stretch(std::uint64_t base, std::uint64_t port, std::uint64_t deq, bool keep_base) {
  LoadCycles l;
  const std::uint64_t need = std::max({base, port, deq});
  l.total = keep_base ? need : need - base;
  (deq >= port ? l.dequant_extra : l.port_extra) = need - base;
  return l;
}

std::uint64_t dequant_cycles(const ArchSpec& a, const Tile& t) {
  return t.dequant_ops ? ceil_div(t.dequant_ops, std::max<std::uint32_t>(a.edge.dequant_units, 1))
                       : 0;
}

class WsArrayModel final : public ArrayModel {
 public:
  explicit WsArrayModel(const ArchSpec& a)
      : a_(a),
        reg_(static_cast<int>(a.array.rows), static_cast<int>(a.array.cols),
             a.array.double_buffer ? 2 : 1, static_cast<int>(a.array.pe_stages)),
        sched_(static_cast<int>(a.array.rows), static_cast<int>(a.array.cols),
               static_cast<int>(a.array.pe_stages)) {
    in_.w_in.assign(a.array.cols, 0);
    in_.x_in.assign(a.array.rows, 0);
    in_.psum_in.assign(a.array.cols, 0);
  }

  // ROWS cycles to preload the weights, or as long as the weight port needs for the tile's
  // packed codes and scales, or the fused dequantizers for its weights.
  LoadCycles load_cycles(const Tile& t) const override {
    return stretch(a_.array.rows, port_cycles(a_.buffers.weight, t.weight_read_bytes),
                   dequant_cycles(a_, t), true);
  }
  // A token goes when the ifmap read port has its activations and the ofmap ports (separate
  // read and write ports) its chained partial sums in and its outputs out.
  std::uint64_t step_ready(const Tile& t, std::uint64_t i) const override {
    const WsArrayCommand& c = command<WsArrayCommand>(t, "weight-stationary");
    return std::max({port_step_ready(a_.buffers.ifmap, t.x_bytes_per_step, i),
                     port_step_ready(a_.buffers.ofmap, c.psum_in_bytes_per_step, i),
                     port_step_ready(a_.buffers.ofmap, c.psum_out_bytes_per_step, i)});
  }
  std::uint64_t drain_cycles() const override { return sched_.drain_cycles(); }  // L R + C - 2
  std::uint64_t results(const Tile& t) const override { return t.stream_steps; }
  ArrayTileTimes schedule(std::uint64_t earliest, std::uint64_t load,
                          std::uint64_t stream) override {
    const units::WsTileTimes w = sched_.next(earliest, load, stream);
    return {w.load_start, w.stream_start, w.stream_end, w.done};
  }
  void reset() override {
    reg_.reset();
    reg_.timing_only(true);  // no operand data flows here: control (valid bits) only
  }
  // Load cycles past ROWS are the array waiting for its weights.
  bool tick(const ArrayCycle& c) override {
    in_.w_load = c.loading && c.load_step < a_.array.rows;
    in_.w_bank = c.load_bank;
    in_.x_valid = c.valid;
    in_.x_bank = c.stream_bank;
    reg_.tick(in_);
    return reg_.y_valid();
  }
  bool load_overlaps_stream() const override { return true; }
  bool stream_may_start(std::uint64_t, std::uint64_t) const override { return true; }
  void stream_ended(std::uint64_t) override {}

 private:
  const ArchSpec& a_;
  units::SystolicWsArray reg_;
  units::WsDoubleBufferedSchedule sched_;
  units::SystolicWsInputs in_;
};

class OsArrayModel final : public ArrayModel {
 public:
  explicit OsArrayModel(const ArchSpec& a)
      : a_(a),
        reg_(static_cast<int>(a.array.rows), static_cast<int>(a.array.cols),
             a.array.double_buffer ? 2 : 1),
        sched_(static_cast<int>(a.array.rows), static_cast<int>(a.array.cols)) {
    in_.x_in.assign(a.array.rows, 0);
    in_.w_in.assign(a.array.cols, 0);
  }

  // No preload; the array takes no bubbles in its stream, so the tile waits until the ifmap
  // and weight ports (and the dequantizers) can sustain one step a cycle to its end.
  LoadCycles load_cycles(const Tile& t) const override {
    const OsArrayCommand& c = command<OsArrayCommand>(t, "output-stationary");
    const std::uint64_t port =
        std::max(port_cycles(a_.buffers.ifmap, t.stream_steps * t.x_bytes_per_step),
                 port_cycles(a_.buffers.weight, t.stream_steps * c.w_bytes_per_step));
    return stretch(t.stream_steps, port, dequant_cycles(a_, t), false);
  }
  // After the wait, one k-step a cycle.
  std::uint64_t step_ready(const Tile&, std::uint64_t i) const override { return i; }
  std::uint64_t drain_cycles() const override { return sched_.drain_cycles(); }  // 2R + C - 2
  std::uint64_t results(const Tile&) const override { return a_.array.rows; }
  ArrayTileTimes schedule(std::uint64_t earliest, std::uint64_t load,
                          std::uint64_t stream) override {
    const units::OsTileTimes o = sched_.next(earliest, load, stream);
    return {o.wait_start, o.stream_start, o.stream_end, o.done};
  }
  void reset() override {
    reg_.reset();
    reg_.timing_only(true);
    end_min_ = 0;
  }
  // The port wait idles the array (it is empty between tiles, or unloading: idle cycles change
  // nothing); `last` is read by the two-bank array only.
  bool tick(const ArrayCycle& c) override {
    in_.valid = c.valid;
    in_.last = c.last;
    reg_.tick(in_);
    return reg_.y_valid();
  }
  bool load_overlaps_stream() const override { return false; }
  bool stream_may_start(std::uint64_t t, std::uint64_t steps) const override {
    return t + steps >= end_min_;
  }
  void stream_ended(std::uint64_t t1) override { end_min_ = t1 + sched_.unload_cycles(); }

 private:
  const ArchSpec& a_;
  units::SystolicOsArray reg_;
  units::OsDoubleBufferedSchedule sched_;
  units::SystolicOsInputs in_;
  std::uint64_t end_min_ = 0;  // a stream may not end before this (the shadow registers' rule)
};

}  // namespace

std::unique_ptr<ArrayModel> make_array_model(const ArchSpec& a) {
  switch (a.array.dataflow) {
    case Dataflow::ws:
      return std::make_unique<WsArrayModel>(a);
    case Dataflow::os:
      if (a.array.pe_stages != 1)
        throw Error("an output-stationary array has one-stage PEs (each adds into its own "
                    "accumulator every cycle); array.pe_stages is " +
                    std::to_string(a.array.pe_stages));
      return std::make_unique<OsArrayModel>(a);
    case Dataflow::is:
      break;
  }
  throw Error(std::string("the native model has no ") + dataflow_name(a.array.dataflow) +
              " array (dataflow: is runs under accounting: scalesim only)");
}

}  // namespace quasar::arch
