// The one exception type quasar libraries throw for bad input. The message says what was
// wrong, where (file, tensor, key) and what is accepted; front ends print it and exit non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace quasar {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A GEMM operand that fails the engine's checks (gemm_checks.hpp). The engine knows an operand
// only by its role in the GEMM (operand(): "w.codes", "x.scale"); a caller that knows where it
// was read from, such as a trace payload tensor, names that instead and keeps problem(), the
// rest of the message (": element [0, 0] = 100 is not a int4 code; accepted: -8..7").
class OperandError : public Error {
 public:
  OperandError(const std::string& operand, const std::string& problem)
      : Error("tensor '" + operand + "'" + problem), operand_(operand), problem_(problem) {}
  const std::string& operand() const { return operand_; }
  const std::string& problem() const { return problem_; }

 private:
  std::string operand_;
  std::string problem_;
};

}  // namespace quasar
