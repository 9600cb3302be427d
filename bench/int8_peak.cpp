// Measured int8 multiply-accumulate peak of one core: independent chains of AVX-512 VNNI
// VPDPBUSD (64 int8 MACs each), the instruction an int8 GEMM would use on this host. The
// number is the ceiling docs/performance.md compares the reference against.
//
//   ./build/release/bench/int8_peak
#include <immintrin.h>

#include <chrono>
#include <cstdio>

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double vnni_gmacs() {
  constexpr int kChains = 12;  // enough independent accumulators to cover the latency
  constexpr long kIters = 50'000'000;
  __m512i acc[kChains];
  for (auto& a : acc) a = _mm512_setzero_si512();
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(5);
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < kIters; ++i) {
    for (auto& c : acc) c = _mm512_dpbusd_epi32(c, a, b);
    __asm__ volatile("" : : : "memory");
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int sink = 0;
  alignas(64) int lanes[16];
  for (auto& c : acc) {
    _mm512_store_si512(lanes, c);
    for (int v : lanes) sink += v;
  }
  std::printf("(checksum %d)\n", sink);
  return static_cast<double>(kIters) * kChains * 64 / s / 1e9;
}

int main() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512vnni")) {
    std::printf("int8_peak: this CPU has no AVX-512 VNNI; no measurement\n");
    return 0;
  }
  std::printf("AVX-512 VNNI int8 MAC peak, one core: %.1f GMAC/s\n", vnni_gmacs());
  return 0;
}
