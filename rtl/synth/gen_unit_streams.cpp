// quasar_unit_streams: operand streams for the switching-activity runs of the MAC netlists
// (scripts/gen-tech-units.sh). One line per MAC operation: "<weight port bits> <x> <first>",
// the weight as the unsigned bit pattern of the unit's port (int8: 8 bits, int4: 4 bits
// two's complement, dint4: the raw code), x the int8 activation, first = 1 on the first step
// of a dot product (the harness then starts from acc_in = 0 instead of the unit's register).
//
//   quasar_unit_streams FORMAT STREAM OPS SEED
//   FORMAT: int8 | int4 | dint4a | dint4b        STREAM: random | llm
//
// Both streams are output-stationary dot products of length K = 256 (each op is one step
// w[n][k] * x[m][k]), so the accumulator sees the same restart pattern in both.
//   random: weight codes uniform over the format's valid codes, x uniform over int8.
//   llm:    quasar::synthetic_llm_gemm (Gaussian weights, N(0,1) activations with outlier
//           channels), weights RTN-quantized to the format (int8 per channel, int4 and dint4
//           per group of 128, symmetric, fp16 scales), activations per token to int8; the
//           ops walk token m, output channel n, then k.
// Seeded (quasar::Rng, xoshiro): the same arguments give the same bytes on every host.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/dint4.hpp"
#include "numerics/int_formats.hpp"
#include "numerics/quantize_activations.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/synthetic.hpp"

namespace {

constexpr std::size_t kDotLength = 256;

struct Format {
  quasar::WeightFormat format;
  quasar::DintSet set;
  unsigned port_mask;  // the weight port's width as a mask
};

Format parse_format(const std::string& s) {
  if (s == "int8") return {quasar::WeightFormat::int8, quasar::DintSet::A, 0xffu};
  if (s == "int4") return {quasar::WeightFormat::int4, quasar::DintSet::A, 0xfu};
  if (s == "dint4a") return {quasar::WeightFormat::dint4, quasar::DintSet::A, 0xfu};
  if (s == "dint4b") return {quasar::WeightFormat::dint4, quasar::DintSet::B, 0xfu};
  throw std::runtime_error("unknown format '" + s + "' (int8, int4, dint4a, dint4b)");
}

// The codes a well-formed producer emits: every pattern of the port, less dint4's invalid ones.
std::vector<unsigned> valid_codes(const Format& f) {
  std::vector<unsigned> codes;
  for (unsigned c = 0; c <= f.port_mask; ++c) {
    if (f.format == quasar::WeightFormat::dint4 && !quasar::dint4_table(f.set).valid[c]) continue;
    codes.push_back(c);
  }
  return codes;
}

unsigned port_bits(std::int8_t code, const Format& f) {
  return static_cast<unsigned>(static_cast<std::uint8_t>(code)) & f.port_mask;
}

void emit(std::FILE* out, unsigned w, int x, bool first) {
  std::fprintf(out, "%u %d %d\n", w, x, first ? 1 : 0);
}

void random_stream(const Format& f, std::size_t ops, std::uint64_t seed, std::FILE* out) {
  quasar::Rng rng(seed);
  const std::vector<unsigned> codes = valid_codes(f);
  for (std::size_t i = 0; i < ops; ++i) {
    const unsigned w = codes[rng.next() % codes.size()];
    const int x = static_cast<int>(rng.next() % 256) - 128;
    emit(out, w, x, i % kDotLength == 0);
  }
}

void llm_stream(const Format& f, std::size_t ops, std::uint64_t seed, std::FILE* out) {
  quasar::SyntheticSpec spec;
  spec.k = kDotLength;
  spec.n = 16;
  spec.m = (ops + spec.n * spec.k - 1) / (spec.n * spec.k);
  spec.seed = seed;
  const quasar::GemmData data = quasar::synthetic_llm_gemm(spec);

  quasar::WeightQuantSpec wq;
  wq.format = f.format;
  wq.dint_set = f.set;
  wq.granularity = f.format == quasar::WeightFormat::int8 ? quasar::Granularity::per_channel
                                                          : quasar::Granularity::per_group;
  wq.group_size = 128;
  const quasar::QuantizedWeights w = quasar::quantize_weights_rtn(data.w, wq);
  const quasar::QuantizedActivations x = quasar::quantize_per_token(data.x);

  std::size_t i = 0;
  for (std::size_t m = 0; m < spec.m; ++m) {
    for (std::size_t n = 0; n < spec.n; ++n) {
      for (std::size_t k = 0; k < spec.k; ++k) {
        if (i++ == ops) return;
        emit(out, port_bits(w.codes(n, k), f), x.q(m, k), k == 0);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s int8|int4|dint4a|dint4b random|llm OPS SEED\n", argv[0]);
    return 2;
  }
  try {
    const Format f = parse_format(argv[1]);
    const std::string stream = argv[2];
    const auto ops = static_cast<std::size_t>(std::stoull(argv[3]));
    const auto seed = static_cast<std::uint64_t>(std::stoull(argv[4]));
    if (stream == "random") {
      random_stream(f, ops, seed, stdout);
    } else if (stream == "llm") {
      llm_stream(f, ops, seed, stdout);
    } else {
      throw std::runtime_error("unknown stream '" + stream + "' (random, llm)");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quasar_unit_streams: %s\n", e.what());
    return 1;
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
