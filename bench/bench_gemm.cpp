// GMAC/s of the w8a8 and w4a8-is reference GEMMs on 512 x 4096 x 4096 (a LLaMA-2-7B projection
// at 512 tokens), each against straightforward baselines measured in the same run (the
// textbook m-n-k triple loop, and for w8a8 the same loop with auto-vectorization off); the
// ratios are printed after the table.
//
//   ./build/release/bench/bench_gemm [--m 512 --k 4096 --n 4096] [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "numerics/float_formats.hpp"
#include "numerics/gemm.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {
namespace {

std::size_t M = 512, K = 4096, N = 4096;
constexpr std::size_t kGroup = 128;

struct Operands {
  QuantizedActivations x;
  QuantizedWeights w8, w4;
  IntegerScales s;
};

const Operands& operands() {
  static const Operands ops = [] {
    Rng rng(1);
    Operands o;
    o.x = {MatrixI8(M, K), std::vector<float>(M, 0.02f)};
    for (auto& v : o.x.q.values())
      v = static_cast<std::int8_t>(static_cast<int>(rng.next() % 255) - 127);
    o.w8.format = WeightFormat::int8;
    o.w8.group_size = K;
    o.w8.codes = MatrixI8(N, K);
    for (auto& v : o.w8.codes.values())
      v = static_cast<std::int8_t>(static_cast<int>(rng.next() % 255) - 127);
    o.w8.scales = MatrixF(N, 1, 0.001f);
    o.w4.format = WeightFormat::int4;
    o.w4.group_size = kGroup;
    o.w4.codes = MatrixI8(N, K);
    for (auto& v : o.w4.codes.values())
      v = static_cast<std::int8_t>(static_cast<int>(rng.next() % 16) - 8);
    o.w4.scales = MatrixF(N, K / kGroup, 0.01f);
    o.s = {10, MatrixI32(N, K / kGroup, 10)};
    return o;
  }();
  return ops;
}

// The straightforward baselines: what one writes first, with the same int32 accumulator and
// the same epilogue, so outputs are identical (checked below) and only the loops differ.
MatrixH naive_w8a8(const Operands& o) {
  MatrixH y(M, N);
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      std::int32_t acc = 0;
      for (std::size_t k = 0; k < K; ++k) acc += o.x.q(m, k) * o.w8.codes(n, k);
      y(m, n) = f32_to_f16(static_cast<float>(acc) * (o.x.scale[m] * o.w8.scales(n, 0)));
    }
  }
  return y;
}

MatrixH naive_w4a8_is(const Operands& o) {
  MatrixH y(M, N);
  const float amp_inv = exp2_exact(-o.s.bits);
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      std::int32_t acc = 0;
      for (std::size_t g = 0; g < K / kGroup; ++g) {
        std::int32_t p = 0;
        for (std::size_t k = g * kGroup; k < (g + 1) * kGroup; ++k)
          p += o.x.q(m, k) * o.w4.codes(n, k);
        acc += p * o.s.S(n, g);
      }
      y(m, n) = f32_to_f16(static_cast<float>(acc) * (o.x.scale[m] * amp_inv));
    }
  }
  return y;
}

// The same textbook loop with GCC's auto-vectorizer switched off: what vectorization buys.
__attribute__((optimize("no-tree-vectorize"))) MatrixH scalar_w8a8(const Operands& o) {
  MatrixH y(M, N);
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      std::int32_t acc = 0;
      for (std::size_t k = 0; k < K; ++k) acc += o.x.q(m, k) * o.w8.codes(n, k);
      y(m, n) = f32_to_f16(static_cast<float>(acc) * (o.x.scale[m] * o.w8.scales(n, 0)));
    }
  }
  return y;
}

void set_rate(benchmark::State& state) {
  state.counters["GMAC/s"] = benchmark::Counter(
      static_cast<double>(M * N * K) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}

void BM_w8a8_reference(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(gemm_w8a8(operands().x, operands().w8).y);
  set_rate(state);
}
void BM_w8a8_baseline(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(naive_w8a8(operands()));
  set_rate(state);
}
void BM_w8a8_scalar(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(scalar_w8a8(operands()));
  set_rate(state);
}
void BM_w4a8_is_reference(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(gemm_w4a8_is(operands().x, operands().w4, operands().s).y);
  }
  set_rate(state);
}
void BM_w4a8_is_baseline(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(naive_w4a8_is(operands()));
  set_rate(state);
}

BENCHMARK(BM_w8a8_reference)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_w8a8_baseline)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_w8a8_scalar)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_w4a8_is_reference)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_w4a8_is_baseline)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// Console output as usual, plus the per-iteration times kept for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}  // no colour codes: output goes into docs
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) seconds[r.benchmark_name()] = r.GetAdjustedRealTime() / 1e3;
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds;
};

}  // namespace
}  // namespace quasar

int main(int argc, char** argv) {
  using namespace quasar;
  // --m/--k/--n are ours; everything else goes to Google Benchmark.
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--m" || a == "--k" || a == "--n") && i + 1 < argc) {
      const auto v = static_cast<std::size_t>(std::strtoull(argv[++i], nullptr, 10));
      (a == "--m" ? M : a == "--k" ? K : N) = v;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (K % kGroup != 0 || M == 0 || N == 0) {
    std::cerr << "bench_gemm: K must be a positive multiple of " << kGroup << "\n";
    return 2;
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  // The baselines must compute the same outputs, or the comparison means nothing.
  if (M * N * K <= (std::size_t{1} << 33)) {
    const Operands& o = operands();
    const MatrixH y8 = gemm_w8a8(o.x, o.w8).y;
    if (y8 != naive_w8a8(o) || y8 != scalar_w8a8(o) ||
        gemm_w4a8_is(o.x, o.w4, o.s).y != naive_w4a8_is(o)) {
      std::cerr << "bench_gemm: reference and baseline outputs differ\n";
      return 1;
    }
  }
  std::cout << "problem M=" << M << " K=" << K << " N=" << N << " ("
            << static_cast<double>(M * N * K) / 1e9 << " GMAC), group " << kGroup << "\n";
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto ratio = [&](const char* ref, const char* base) {
    if (reporter.seconds.count(ref) && reporter.seconds.count(base)) {
      std::cout << ref << " vs " << base << ": " << reporter.seconds[base] / reporter.seconds[ref]
                << "x faster\n";
    }
  };
  ratio("BM_w8a8_reference/iterations:3/real_time", "BM_w8a8_baseline/iterations:1/real_time");
  ratio("BM_w8a8_reference/iterations:3/real_time", "BM_w8a8_scalar/iterations:1/real_time");
  ratio("BM_w4a8_is_reference/iterations:3/real_time",
        "BM_w4a8_is_baseline/iterations:1/real_time");
  benchmark::Shutdown();
  return 0;
}
