// A systolic array model (units::SystolicWsArray or SystolicOsArray, two banks) that loses one
// result (y_valid hidden on its `lose`-th valid cycle; -1: none), or shows one before any token
// or tile went in (`extra`): the protocol drivers must throw rather than hang or misattribute
// results. Everything else is the model's own (the drivers are templates over the array).
#pragma once

namespace quasar::rtl {

template <class Array>
class FaultyArray : public Array {
 public:
  FaultyArray(int rows, int cols, int lose, bool extra)
      : Array(rows, cols, 2), lose_(lose), extra_(extra) {}
  auto outputs() {
    auto o = Array::outputs();
    if (o.y_valid && valid_++ == lose_) o.y_valid = false;
    if (extra_) {
      o.y_valid = true;
      extra_ = false;
    }
    return o;
  }

 private:
  int lose_, valid_ = 0;
  bool extra_;
};

}  // namespace quasar::rtl
