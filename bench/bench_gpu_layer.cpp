// One LLaMA-2-7B decoder layer's seven linear layers (q, k, v, o: 4096 -> 4096; gate, up:
// 4096 -> 11008; down: 11008 -> 4096) at S tokens through the chosen engine, timed including
// host<->device transfers, per scheme. Bit-exactness is checked against the CPU reference on
// the first `--check-rows` tokens of every layer (tokens are independent rows: per-token
// activation scales), since the single-threaded reference would need minutes for all of them.
//
//   ./build/release/bench/bench_gpu_layer [--tokens 2048] [--check-rows 16] [--device gpu]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gpu/device.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/synthetic.hpp"

using namespace quasar;

namespace {

struct Linear {
  const char* name;
  std::size_t k, n;
};
constexpr Linear kLayer[] = {{"q_proj", 4096, 4096},    {"k_proj", 4096, 4096},
                             {"v_proj", 4096, 4096},    {"o_proj", 4096, 4096},
                             {"gate_proj", 4096, 11008}, {"up_proj", 4096, 11008},
                             {"down_proj", 11008, 4096}};
constexpr std::size_t kGroup = 128;

QuantizedActivations acts(std::size_t m, std::size_t k, Rng& rng) {
  QuantizedActivations x{MatrixI8(m, k), std::vector<float>(m)};
  for (auto& v : x.q.values()) v = static_cast<std::int8_t>(static_cast<int>(rng.next() % 255) - 127);
  for (auto& s : x.scale) s = static_cast<float>(0.01 + 0.02 * rng.uniform());
  return x;
}

QuantizedWeights weights(WeightFormat f, std::size_t n, std::size_t k, std::size_t g, Rng& rng) {
  QuantizedWeights w;
  w.format = f;
  w.group_size = g;
  w.codes = MatrixI8(n, k);
  const int lo = f == WeightFormat::int8 ? -127 : -8, span = f == WeightFormat::int8 ? 255 : 16;
  for (auto& v : w.codes.values()) v = static_cast<std::int8_t>(lo + static_cast<int>(rng.next() % span));
  w.scales = MatrixF(n, k / g);
  for (auto& s : w.scales.values()) s = round_to_scale_dtype(static_cast<float>(0.001 + 0.01 * rng.uniform()), ScaleDtype::fp16);
  return w;
}

TwoLevelWeights two_level(std::size_t n, std::size_t k, Rng& rng) {
  TwoLevelWeights w;
  w.group_size = kGroup;
  w.q = MatrixU8(n, k);
  w.zeros = MatrixU8(n, k / kGroup, 8);
  w.group_scale = MatrixI32(n, k / kGroup);
  for (auto& v : w.q.values()) v = static_cast<std::uint8_t>(rng.next() % 16);
  for (auto& v : w.group_scale.values()) v = 1 + static_cast<int>(rng.next() % 15);
  w.channel_scale.assign(n, 0.002f);
  return w;
}

template <class T>
Matrix<T> first_rows(const Matrix<T>& m, std::size_t rows) {
  Matrix<T> out(rows, m.cols());
  for (std::size_t i = 0; i < rows * m.cols(); ++i) out.values()[i] = m.values()[i];
  return out;
}

QuantizedActivations first_rows(const QuantizedActivations& x, std::size_t rows) {
  return {first_rows(x.q, rows), std::vector<float>(x.scale.begin(), x.scale.begin() + static_cast<std::ptrdiff_t>(rows))};
}

bool rows_equal(const MatrixH& full, const MatrixH& part) {
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (full.values()[i] != part.values()[i]) return false;
  }
  return true;
}

// The Integer Scale paper's comparison on our kernels: w4a8-fs and w4a8-is share one kernel
// (same tiling, same integer MACs) and differ only in the per-group rescale (int->fp32 +
// fp32 multiply-add vs a 64-bit integer multiply-add). Kernel time only, summed over the 7
// linears, for decode batches 1..256 and a 2048-token prefill.
int sweep_fs_is(const GemmEngine& e, Rng& rng) {
  std::printf("%8s %12s %12s %8s\n", "tokens", "fs ms", "is ms", "fs/is");
  for (std::size_t t : {1, 2, 4, 8, 16, 32, 64, 128, 256, 2048}) {
    double fs = 0, is_ms = 0;
    for (const Linear& l : kLayer) {
      const QuantizedActivations x = acts(t, l.k, rng);
      const QuantizedWeights w = weights(WeightFormat::int4, l.n, l.k, kGroup, rng);
      const IntegerScales s = to_integer_scales(w, {});
      e.w4a8_fs(x, w, {});  // warm-up of this shape
      for (int rep = 0; rep < 3; ++rep) {
        e.w4a8_fs(x, w, {});
        fs += last_gpu_kernel_ms() / 3;
        e.w4a8_is(x, w, s, {});
        is_ms += last_gpu_kernel_ms() / 3;
      }
    }
    std::printf("%8zu %12.3f %12.3f %8.3f\n", t, fs, is_ms, fs / is_ms);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t tokens = 2048, check_rows = 16;
  bool sweep = false;
  DeviceChoice device = DeviceChoice::gpu;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--tokens") tokens = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--check-rows") check_rows = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--sweep-fs-is") sweep = v == "1";
    else if (a == "--device") device = v == "cpu" ? DeviceChoice::cpu : v == "auto" ? DeviceChoice::automatic : DeviceChoice::gpu;
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  const EngineChoice choice = choose_engine(device);
  const GemmEngine& e = *choice.engine;
  std::printf("%s\nLLaMA-2-7B decoder layer, 7 linear layers, %zu tokens, group %zu\n", choice.note.c_str(), tokens, kGroup);
  Rng rng(11);
  if (sweep) return sweep_fs_is(e, rng);
  const char* schemes[] = {"w8a8", "w4a8-fs", "w4a8-is", "w4a8-dgq"};
  bool all_exact = true;
  for (const char* scheme : schemes) {
    double seconds = 0, gmac = 0;
    bool exact = true;
    for (const Linear& l : kLayer) {
      const QuantizedActivations x = acts(tokens, l.k, rng);
      const std::string s = scheme;
      QuantizedWeights w = weights(s == "w8a8" ? WeightFormat::int8 : WeightFormat::int4, l.n, l.k,
                                   s == "w8a8" ? l.k : kGroup, rng);
      const IntegerScales is = to_integer_scales(w, {});
      const TwoLevelWeights tl = s == "w4a8-dgq" ? two_level(l.n, l.k, rng) : TwoLevelWeights{};
      auto run = [&](const GemmEngine& engine, const QuantizedActivations& xa) {
        if (s == "w8a8") return engine.w8a8(xa, w, {});
        if (s == "w4a8-fs") return engine.w4a8_fs(xa, w, {});
        if (s == "w4a8-is") return engine.w4a8_is(xa, w, is, {});
        return engine.w4a8_dgq(xa, tl, DequantMode::fused, {});
      };
      if (&l == &kLayer[0]) run(e, first_rows(x, 1));  // warm-up: context creation, module load
      const auto t0 = std::chrono::steady_clock::now();
      const GemmResult r = run(e, x);
      seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      gmac += static_cast<double>(tokens * l.k * l.n) / 1e9;
      if (check_rows) {
        const std::size_t rows = std::min(check_rows, tokens);
        exact = exact && rows_equal(r.y, run(cpu_engine(), first_rows(x, rows)).y);
      }
    }
    all_exact = all_exact && exact;
    std::printf("%-9s %8.3f s  %8.1f GMAC  %8.1f GMAC/s  bit-exact on first %zu tokens: %s\n", scheme,
                seconds, gmac, gmac / seconds, check_rows, exact ? "yes" : "NO");
  }
  return all_exact ? 0 : 1;
}
