#include "synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace quasar {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

void Rng::discard(std::uint64_t n) {
  for (; n > 0; --n) next();
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

void fill_normal(MatrixF& m, double std, Rng& rng, const ForEachIndex& for_each) {
  std::vector<float>& v = m.values();
  if (!for_each) {
    for (float& x : v) x = static_cast<float>(rng.normal() * std);
    return;
  }
  // Advancing the raw stream is a few ns a draw; the transform's log and cos are most of a
  // value's cost, and they are what runs in parallel.
  constexpr std::size_t kChunk = std::size_t{1} << 16;
  const std::size_t chunks = (v.size() + kChunk - 1) / kChunk;
  std::vector<Rng> start;
  start.reserve(chunks);
  for (std::size_t c = 0; c < chunks; ++c) {
    start.push_back(rng);
    rng.discard(2 * std::min(kChunk, v.size() - c * kChunk));
  }
  for_each(chunks, [&](std::size_t c) {
    Rng r = start[c];
    const std::size_t end = std::min(v.size(), (c + 1) * kChunk);
    for (std::size_t i = c * kChunk; i < end; ++i) v[i] = static_cast<float>(r.normal() * std);
  });
}

GemmData synthetic_llm_gemm(const SyntheticSpec& spec) {
  Rng rng(spec.seed);
  GemmData d{MatrixF(spec.m, spec.k), MatrixF(spec.n, spec.k)};
  std::vector<double> gain(spec.k, 1.0);
  if (spec.k > 0) {
    const auto outliers = std::max<std::size_t>(
        1,
        static_cast<std::size_t>(std::lround(spec.outlier_fraction * static_cast<double>(spec.k))));
    for (std::size_t i = 0; i < std::min(outliers, spec.k); ++i) {
      const std::size_t ch = static_cast<std::size_t>(rng.next() % spec.k);
      gain[ch] =
          spec.outlier_min_gain + (spec.outlier_max_gain - spec.outlier_min_gain) * rng.uniform();
    }
  }
  for (std::size_t m = 0; m < spec.m; ++m) {
    for (std::size_t k = 0; k < spec.k; ++k) d.x(m, k) = static_cast<float>(rng.normal() * gain[k]);
  }
  for (std::size_t n = 0; n < spec.n; ++n) {
    for (std::size_t k = 0; k < spec.k; ++k) {
      d.w(n, k) = static_cast<float>(rng.normal() * spec.weight_std);
    }
  }
  return d;
}

}  // namespace quasar
