// The fast CPU path (models/cpu, issue 19) on 512 x 4096 x 4096 (a LLaMA-2-7B projection at 512
// tokens), against the clear reference (models/numerics) and oneDNN's s8s8s32 GEMM, all in one
// run, then the fast path's scaling over threads. oneDNN is optional (Debian's libdnnl-dev):
// without it that baseline is skipped and said so. Every engine's outputs are checked equal
// before timing (oneDNN's int32 product through the same w8a8 epilogue).
//
//   ./build/release/bench/bench_cpu_gemm [--m 512 --k 4096 --n 4096] [google-benchmark flags]
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cpu/fast_engine.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm.hpp"
#include "numerics/quantize_two_level.hpp"
#include "numerics/synthetic.hpp"

#ifdef QUASAR_HAVE_ONEDNN
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#endif

namespace quasar {
namespace {

std::size_t M = 512, K = 4096, N = 4096;
constexpr std::size_t kGroup = 128;

struct Operands {
  QuantizedActivations x;
  QuantizedWeights w8, w4;
  IntegerScales s;
  TwoLevelWeights dgq;
};

std::int8_t code(Rng& rng, int lo, int hi) {
  return static_cast<std::int8_t>(
      lo + static_cast<int>(rng.next() % static_cast<std::uint64_t>(hi - lo + 1)));
}

const Operands& operands() {
  static const Operands ops = [] {
    Rng rng(1);
    Operands o;
    o.x = {MatrixI8(M, K), std::vector<float>(M, 0.02f)};
    for (auto& v : o.x.q.values()) v = code(rng, -127, 127);
    o.w8.format = WeightFormat::int8;
    o.w8.group_size = K;
    o.w8.codes = MatrixI8(N, K);
    for (auto& v : o.w8.codes.values()) v = code(rng, -127, 127);
    o.w8.scales = MatrixF(N, 1, 0.001f);
    o.w4.format = WeightFormat::int4;
    o.w4.group_size = kGroup;
    o.w4.codes = MatrixI8(N, K);
    for (auto& v : o.w4.codes.values()) v = code(rng, -8, 7);
    o.w4.scales = MatrixF(N, K / kGroup, 0.01f);
    o.s = {10, MatrixI32(N, K / kGroup, 10)};
    o.dgq.group_size = kGroup;
    o.dgq.q = MatrixU8(N, K);
    for (auto& v : o.dgq.q.values()) v = static_cast<std::uint8_t>(rng.next() % 16);
    o.dgq.zeros = MatrixU8(N, K / kGroup, 8);
    o.dgq.group_scale = MatrixI32(N, K / kGroup, 8);  // (q - z) * 8 within [-64, 56]
    o.dgq.channel_scale.assign(N, 0.001f);
    return o;
  }();
  return ops;
}

// One engine per thread count and kernel set, built once.
const cpu::FastCpuEngine& fast(unsigned threads, std::optional<cpu::KernelIsa> isa = std::nullopt) {
  static std::map<std::pair<unsigned, int>, std::unique_ptr<cpu::FastCpuEngine>> engines;
  auto& e = engines[{threads, isa ? static_cast<int>(*isa) : -1}];
  if (!e) e = std::make_unique<cpu::FastCpuEngine>(cpu::FastCpuOptions{threads, isa});
  return *e;
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
void BM_w4a8_is_reference(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(gemm_w4a8_is(operands().x, operands().w4, operands().s).y);
  set_rate(state);
}

// state.range(0): threads.
void BM_w8a8_fast(benchmark::State& state) {
  const auto& e = fast(static_cast<unsigned>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(e.w8a8(operands().x, operands().w8, {}).y);
  set_rate(state);
}
// state.range(0): the kernel set (cpu::KernelIsa), one thread: what a CPU without AVX-512
// VNNI gets.
void BM_w8a8_fast_isa(benchmark::State& state) {
  const auto& e = fast(1, static_cast<cpu::KernelIsa>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(e.w8a8(operands().x, operands().w8, {}).y);
  set_rate(state);
}
void BM_w4a8_fs_fast(benchmark::State& state) {
  const auto& e = fast(static_cast<unsigned>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(e.w4a8_fs(operands().x, operands().w4, {}).y);
  set_rate(state);
}
void BM_w4a8_is_fast(benchmark::State& state) {
  const auto& e = fast(static_cast<unsigned>(state.range(0)));
  for (auto _ : state)
    benchmark::DoNotOptimize(e.w4a8_is(operands().x, operands().w4, operands().s, {}).y);
  set_rate(state);
}
void BM_w4a8_dgq_fast(benchmark::State& state) {
  const auto& e = fast(static_cast<unsigned>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(e.w4a8_dgq(operands().x, operands().dgq, DequantMode::fused, {}).y);
  }
  set_rate(state);
}

#ifdef QUASAR_HAVE_ONEDNN
// C = X W^T in int32 (row-major; W is N x K, read transposed), no offsets: the plain s8s8s32
// GEMM. omp_set_num_threads fixes oneDNN's OpenMP team for the calls that follow.
std::vector<std::int32_t> onednn_s8s8s32(const Operands& o, int threads) {
  omp_set_num_threads(threads);
  std::vector<std::int32_t> c(M * N);
  const std::int32_t co = 0;
  const dnnl_status_t st =
      dnnl_gemm_s8s8s32('N', 'T', 'F', static_cast<dnnl_dim_t>(M), static_cast<dnnl_dim_t>(N),
                        static_cast<dnnl_dim_t>(K), 1.0f, o.x.q.row(0), static_cast<dnnl_dim_t>(K),
                        0, o.w8.codes.row(0), static_cast<dnnl_dim_t>(K), 0, 0.0f, c.data(),
                        static_cast<dnnl_dim_t>(N), &co);
  if (st != dnnl_success) {
    std::cerr << "bench_cpu_gemm: dnnl_gemm_s8s8s32 failed (status " << st << ")\n";
    std::exit(1);
  }
  return c;
}
void BM_w8a8_int32_onednn(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(onednn_s8s8s32(operands(), static_cast<int>(state.range(0))));
  set_rate(state);
}
#endif

// Console output as usual, plus the per-iteration times kept for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter() : ConsoleReporter(OO_Tabular) {}  // no colour codes: output goes into docs
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration && r.aggregate_name != "median") continue;
      const std::string name = r.run_name.function_name + "/" + r.run_name.args;
      seconds[name] = r.GetAdjustedRealTime() / 1e3;
      cpu_seconds[name] = r.GetAdjustedCPUTime() / 1e3;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds, cpu_seconds;  // per iteration (the median if repeated)
};

// The fast engine's w8a8 outputs and counters equal the reference's and oneDNN's int32
// product taken through the same epilogue; the other schemes equal the reference.
bool outputs_agree(unsigned max_threads) {
  const Operands& o = operands();
  const GemmResult ref8 = gemm_w8a8(o.x, o.w8);
  const GemmResult ref_is = gemm_w4a8_is(o.x, o.w4, o.s);
  const GemmResult ref_fs = gemm_w4a8_fs(o.x, o.w4);
  const GemmResult ref_dgq = gemm_w4a8_dgq(o.x, o.dgq, DequantMode::fused);
  for (unsigned t : {1u, max_threads}) {
    const cpu::FastCpuEngine& e = fast(t);
    const GemmResult f8 = e.w8a8(o.x, o.w8, {}), f_is = e.w4a8_is(o.x, o.w4, o.s, {});
    const GemmResult f_fs = e.w4a8_fs(o.x, o.w4, {});
    const GemmResult f_dgq = e.w4a8_dgq(o.x, o.dgq, DequantMode::fused, {});
    if (f8.y != ref8.y || !(f8.counters == ref8.counters) || f_is.y != ref_is.y ||
        !(f_is.counters == ref_is.counters) || f_fs.y != ref_fs.y ||
        !(f_fs.counters == ref_fs.counters) || f_dgq.y != ref_dgq.y ||
        !(f_dgq.counters == ref_dgq.counters)) {
      return false;
    }
  }
#ifdef QUASAR_HAVE_ONEDNN
  const std::vector<std::int32_t> c = onednn_s8s8s32(o, 1);
  for (std::size_t m = 0; m < M; ++m) {
    for (std::size_t n = 0; n < N; ++n) {
      const float scale = o.x.scale[m] * o.w8.scales(n, 0);
      if (f32_to_f16(static_cast<float>(c[m * N + n]) * scale) != ref8.y(m, n)) return false;
    }
  }
#endif
  return true;
}

}  // namespace
}  // namespace quasar

int main(int argc, char** argv) {
  using namespace quasar;
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
    std::cerr << "bench_cpu_gemm: K must be a positive multiple of " << kGroup << "\n";
    return 2;
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (!outputs_agree(cores)) {
    std::cerr << "bench_cpu_gemm: engines' outputs differ\n";
    return 1;
  }
  std::cout << "problem M=" << M << " K=" << K << " N=" << N << " ("
            << static_cast<double>(M * N * K) / 1e9 << " GMAC), group " << kGroup << "; "
            << fast(1).describe() << "; " << cores << " hardware threads\n";
#ifndef QUASAR_HAVE_ONEDNN
  std::cout << "oneDNN baseline skipped: built without oneDNN (apt-get install libdnnl-dev)\n";
#endif

  // Fixed iteration counts (the house style of bench_gemm): the reference takes about a second.
  benchmark::RegisterBenchmark("BM_w8a8_reference", BM_w8a8_reference)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(1);
  benchmark::RegisterBenchmark("BM_w4a8_is_reference", BM_w4a8_is_reference)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(1);
#ifdef QUASAR_HAVE_ONEDNN
  benchmark::RegisterBenchmark("BM_w8a8_int32_onednn", BM_w8a8_int32_onednn)
      ->Arg(1)
      ->Arg(static_cast<int>(cores))
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MeasureProcessCPUTime()
      ->Iterations(10);
#endif
  auto threads = [&](benchmark::internal::Benchmark* b) {
    for (unsigned t = 1; t <= cores; t *= 2) b->Arg(static_cast<int>(t));
    if ((cores & (cores - 1)) != 0) b->Arg(static_cast<int>(cores));
    // CPU is the whole process's (all threads): on a shared machine the wall-clock scaling
    // depends on what else runs, while CPU(n threads) / CPU(1 thread) is the work the
    // threading adds.
    b->Unit(benchmark::kMillisecond)->UseRealTime()->MeasureProcessCPUTime()->Iterations(5);
  };
  threads(benchmark::RegisterBenchmark("BM_w8a8_fast", BM_w8a8_fast));
  // The lower kernel sets, one thread (Arg: 1 = avx2, 0 = portable).
  for (cpu::KernelIsa isa : {cpu::KernelIsa::avx2, cpu::KernelIsa::portable}) {
    if (!cpu::isa_supported(isa) || isa == fast(1).isa()) continue;
    benchmark::RegisterBenchmark(("BM_w8a8_fast_" + std::string(cpu::isa_name(isa))).c_str(),
                                 BM_w8a8_fast_isa)
        ->Arg(static_cast<int>(isa))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MeasureProcessCPUTime()
        ->Iterations(2);
  }
  threads(benchmark::RegisterBenchmark("BM_w4a8_fs_fast", BM_w4a8_fs_fast));
  threads(benchmark::RegisterBenchmark("BM_w4a8_is_fast", BM_w4a8_is_fast));
  threads(benchmark::RegisterBenchmark("BM_w4a8_dgq_fast", BM_w4a8_dgq_fast));

  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto& s = reporter.seconds;
  auto& c = reporter.cpu_seconds;
  auto ratio = [&](const std::string& a, const std::string& b, const char* what) {
    if (s.count(a) && s.count(b)) {
      std::cout << what << ": " << s[b] / s[a] << "x (by CPU time " << c[b] / c[a] << "x)\n";
    }
  };
  const std::string one = "1", all = std::to_string(cores);
  ratio("BM_w8a8_fast/1", "BM_w8a8_reference/", "w8a8 fast (1 thread) vs reference, speed-up");
  ratio("BM_w4a8_is_fast/1", "BM_w4a8_is_reference/",
        "w4a8-is fast (1 thread) vs reference, speed-up");
  ratio("BM_w8a8_fast/1", "BM_w8a8_int32_onednn/1",
        "w8a8 fast vs oneDNN s8s8s32, both 1 thread, throughput ratio (target >= 0.25)");
  ratio("BM_w8a8_fast/" + all, "BM_w8a8_int32_onednn/" + all,
        ("w8a8 fast vs oneDNN s8s8s32, both " + all + " threads, throughput ratio").c_str());
  for (const char* f : {"BM_w8a8_fast", "BM_w4a8_fs_fast", "BM_w4a8_is_fast", "BM_w4a8_dgq_fast"}) {
    const std::string a = std::string(f) + "/" + one, b = std::string(f) + "/" + all;
    if (cores > 1 && s.count(a) && s.count(b)) {
      std::cout << f << " scaling 1 -> " << cores << " threads: " << s[a] / s[b] << "x ("
                << 100.0 * s[a] / s[b] / cores << "% of linear); CPU time " << c[b] / c[a]
                << "x of 1 thread's\n";
    }
  }
  benchmark::Shutdown();
  return 0;
}
