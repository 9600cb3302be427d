// A plain C++ harness around one Verilated unit (no SystemC): the harness owns the
// VerilatedContext (no Verilator globals), drives ports with clean values and reads them back
// sign-extended.
#pragma once

#include <verilated.h>

#include <cstdint>
#include <memory>

#include "units/acc_step.hpp"

namespace quasar::rtl {

inline std::uint64_t low_mask(int bits) {
  return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
}

// Verilator requires input bits above a port's width to be zero ("clean").
template <class Port>
void put(Port& port, std::int64_t value, int bits) {
  port = static_cast<Port>(static_cast<std::uint64_t>(value) & low_mask(bits));
}

template <class Port>
std::int64_t get_signed(const Port& port, int bits) {
  return units::sign_extend(static_cast<std::uint64_t>(port), bits);
}

template <class Top>
class VerilatedUnit {
 public:
  VerilatedUnit()
      : ctx_(std::make_unique<VerilatedContext>()),
        top_(std::make_unique<Top>(ctx_.get(), "top")) {}
  ~VerilatedUnit() { top_->final(); }
  VerilatedUnit(const VerilatedUnit&) = delete;
  VerilatedUnit& operator=(const VerilatedUnit&) = delete;

  Top& io() { return *top_; }
  // Settles the combinational outputs for the inputs set so far.
  void eval() { top_->eval(); }
  // One rising clock edge: registers take what the combinational logic shows now.
  void tick() {
    top_->clk = 0;
    top_->eval();
    top_->clk = 1;
    top_->eval();
    ctx_->timeInc(1);
  }

 private:
  // Declared first, destroyed last: the model refers to its context.
  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Top> top_;
};

}  // namespace quasar::rtl
