#include "quantize_activations.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.hpp"

namespace quasar {
namespace {

float amax_of(const float* v, std::size_t n) {
  float a = 0.0f;
  for (std::size_t i = 0; i < n; ++i) a = std::max(a, std::fabs(v[i]));
  return a;
}

std::uint64_t quantize_row(const float* x, std::size_t n, float s, std::int8_t* q) {
  std::uint64_t saturated = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const float r = std::nearbyint(x[k] / s);
    if (r > 127.0f || r < -128.0f) ++saturated;
    q[k] = static_cast<std::int8_t>(std::clamp(r, -128.0f, 127.0f));
  }
  return saturated;
}

}  // namespace

void require_finite(const MatrixF& m, const char* tensor) {
  for (std::size_t r = 0; r < m.rows(); ++r) {
    for (std::size_t c = 0; c < m.cols(); ++c) {
      if (!std::isfinite(m(r, c))) {
        throw Error(std::string("tensor '") + tensor + "': element [" + std::to_string(r) + ", " +
                    std::to_string(c) + "] is " + (std::isnan(m(r, c)) ? "NaN" : "infinite") +
                    "; only finite values can be quantized");
      }
    }
  }
}

QuantizedActivations quantize_per_token(const MatrixF& x, GemmCounters* counters) {
  require_finite(x, "x");
  QuantizedActivations out{MatrixI8(x.rows(), x.cols()), std::vector<float>(x.rows())};
  std::uint64_t saturated = 0;
  for (std::size_t m = 0; m < x.rows(); ++m) {
    float s = amax_of(x.row(m), x.cols()) / 127.0f;
    if (!(s > 0.0f)) s = 1.0f;
    out.scale[m] = s;
    saturated += quantize_row(x.row(m), x.cols(), s, out.q.row(m));
  }
  if (counters) counters->add_overflow(stage::kActSaturate, saturated);
  return out;
}

QuantizedActivations quantize_per_tensor(const MatrixF& x, float amax, GemmCounters* counters) {
  require_finite(x, "x");
  if (!(amax >= 0.0f) || !std::isfinite(amax)) {
    throw Error("per-tensor activation amax must be finite and >= 0, got " + std::to_string(amax));
  }
  float s = amax / 127.0f;
  if (!(s > 0.0f)) s = 1.0f;
  QuantizedActivations out{MatrixI8(x.rows(), x.cols()), std::vector<float>{s}};
  std::uint64_t saturated = 0;
  for (std::size_t m = 0; m < x.rows(); ++m) {
    saturated += quantize_row(x.row(m), x.cols(), s, out.q.row(m));
  }
  if (counters) counters->add_overflow(stage::kActSaturate, saturated);
  return out;
}

float calibrate_amax(const MatrixF& x) { return amax_of(x.values().data(), x.size()); }

QuantizedActivations quantize_activations(const MatrixF& x, ActQuantMode mode,
                                          GemmCounters* counters) {
  return mode == ActQuantMode::per_token ? quantize_per_token(x, counters)
                                         : quantize_per_tensor(x, calibrate_amax(x), counters);
}

}  // namespace quasar
