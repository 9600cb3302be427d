// Seeded synthetic GEMM operands with LLM-like statistics: activations ~ N(0, 1) with a few
// outlier input channels tens of times larger (the feature that makes W8A8/W4A8 hard), and
// weights ~ N(0, 0.02^2) (LLaMA's initializer scale).
#pragma once

#include <cstddef>
#include <cstdint>

#include "error_metrics.hpp"
#include "matrix.hpp"

namespace quasar {

// xoshiro256** seeded through splitmix64: fixed, portable integer streams, so the same seed
// gives the same bytes everywhere (std::normal_distribution is not specified bit-exactly).
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  double uniform();  // [0, 1), 53 random bits
  double normal();   // Box-Muller: always exactly two next() draws (fill_normal relies on it)
  // Advances the stream by n draws, as n calls of next() would.
  void discard(std::uint64_t n);
 private:
  std::uint64_t s_[4];
};

// Fills m, in row-major order, with rng.normal() * std, leaving rng where that loop would: the
// same values whatever `for_each` is (the stream is cut into chunks whose starting states are
// found by discard, then each chunk's Box-Muller transforms run on their own).
void fill_normal(MatrixF& m, double std, Rng& rng, const ForEachIndex& for_each = {});

struct SyntheticSpec {
  std::size_t m = 64;
  std::size_t k = 512;
  std::size_t n = 256;
  std::uint64_t seed = 1;
  double outlier_fraction = 0.01;  // of input channels; at least one when k > 0
  double outlier_min_gain = 20.0;
  double outlier_max_gain = 60.0;
  double weight_std = 0.02;
};

struct GemmData {
  MatrixF x;  // M x K
  MatrixF w;  // N x K
};

GemmData synthetic_llm_gemm(const SyntheticSpec& spec);

}  // namespace quasar
