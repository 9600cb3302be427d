// Layer ends across the cores of one accelerator, and the cycle clock of the model's threads.
// A layer is over when every core has finished its share (its array's writes, or its vector
// unit's); a layer that reads it waits for that. Layers that do not depend on each other (q, k
// and v; a norm and an unrelated matmul) overlap, on one core's array and vector unit alike.
#pragma once

#include <systemc>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "arch/sim_clock.hpp"

namespace quasar::arch {

// The layers' ends and who is left to finish each (plain C++: the SystemC model's LayerBarrier
// and the event-loop kernel's barrier are this plus how each wakes its waiters).
class LayerEnds {
 public:
  // `order`: the layers in the order every core and vector unit works through them
  // (LayerWork::wave); empty: 0, 1, 2, ...
  LayerEnds(std::size_t layers, std::uint32_t cores, std::vector<std::size_t> order = {})
      : left_(layers, cores), end_(layers, 0), cores_(cores), order_(std::move(order)) {
    if (order_.empty())
      for (std::size_t l = 0; l < layers; ++l) order_.push_back(l);
  }
  // One core's share of `layer` was complete at cycle `end`; true when that closed the layer.
  bool close_share(std::size_t layer, std::uint64_t end) {
    end_[layer] = std::max(end_[layer], end);
    return --left_[layer] == 0;
  }
  bool closed(std::size_t layer) const { return left_[layer] == 0; }
  // When the last core's share of `layer` was complete (once closed).
  std::uint64_t end(std::size_t layer) const { return end_[layer]; }
  std::uint32_t cores() const { return cores_; }
  std::size_t layers() const { return end_.size(); }
  const std::vector<std::size_t>& order() const { return order_; }

  bool all_closed(const std::vector<std::size_t>& layers) const {
    for (std::size_t p : layers)
      if (!closed(p)) return false;
    return true;
  }
  std::uint64_t latest_end(const std::vector<std::size_t>& layers) const {
    std::uint64_t e = 0;
    for (std::size_t p : layers) e = std::max(e, end_[p]);
    return e;
  }

 private:
  std::vector<std::uint32_t> left_;
  std::vector<std::uint64_t> end_;
  std::uint32_t cores_;
  std::vector<std::size_t> order_;
};

class LayerBarrier : public LayerEnds {
 public:
  using LayerEnds::LayerEnds;
  // One core's share of `layer` was complete at cycle `end`.
  void close(std::size_t layer, std::uint64_t end) {
    if (close_share(layer, end)) event_.notify(sc_core::SC_ZERO_TIME);
  }
  const sc_core::sc_event& event() const { return event_; }
  // Called from a thread process: waits until every layer of `layers` is closed and the latest
  // of their ends has come; returns that end.
  std::uint64_t wait_for(const std::vector<std::size_t>& layers) {
    while (!all_closed(layers)) sc_core::wait(event_);
    const std::uint64_t e = latest_end(layers);
    wait_until_cycle(e);
    return e;
  }

 private:
  sc_core::sc_event event_;
};

}  // namespace quasar::arch
