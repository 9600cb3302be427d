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

}  // namespace quasar
