// libFuzzer harness: the safetensors reader must either accept a byte string or reject it with
// quasar::Error, never crash, hang or read out of bounds; what it accepts must re-serialize and
// parse again to the same tensors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "numerics/error.hpp"
#include "trace/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> image(data, data + size);
  quasar::safetensors::File f;
  try {
    f = quasar::safetensors::parse(image, "fuzz");
  } catch (const quasar::Error&) {
    return 0;
  }
  const quasar::safetensors::File g = quasar::safetensors::parse(quasar::safetensors::serialize(f), "again");
  if (g.tensors.size() != f.tensors.size() || g.metadata != f.metadata) std::abort();
  for (const auto& [name, t] : f.tensors) {
    if (g.tensors.at(name).bytes != t.bytes || g.tensors.at(name).shape != t.shape) std::abort();
  }
  return 0;
}
