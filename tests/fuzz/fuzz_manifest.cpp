// libFuzzer harness: the trace-manifest reader (YAML) must accept a text or reject it with
// quasar::Error naming where, never crash; what it accepts must re-emit and parse again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "numerics/error.hpp"
#include "trace/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  quasar::trace::Trace t;
  try {
    t = quasar::trace::parse_manifest(text, "fuzz.yaml");
  } catch (const quasar::Error&) {
    return 0;
  }
  const std::string yaml = quasar::trace::to_yaml(t);
  const quasar::trace::Trace back = quasar::trace::parse_manifest(yaml, "again.yaml");
  if (quasar::trace::to_yaml(back) != yaml) std::abort();
  return 0;
}
