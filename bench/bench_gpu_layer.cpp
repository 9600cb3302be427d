// One LLaMA-2-7B decoder layer's seven linear layers (q, k, v, o: 4096 -> 4096; gate, up:
// 4096 -> 11008; down: 11008 -> 4096) at S tokens through the chosen engine, timed including
// host<->device transfers, per scheme. Bit-exactness is checked against the CPU reference on
// the first `--check-rows` tokens of every layer (tokens are independent rows: per-token
// activation scales), since the single-threaded reference would need minutes for all of them.
//
//   ./build/release/bench/bench_gpu_layer [--tokens 2048] [--check-rows 16] [--device gpu]
//   ./build/release/bench/bench_gpu_layer --vs-cublaslt 1   # kernels against cuBLASLt s8s8s32
//   ./build/release/bench/bench_gpu_layer --sweep-fs-is 1   # the seed's claim, tokens 1..2048
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#ifdef QUASAR_HAVE_CUDA
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#endif

#include "gpu/device.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/int_formats.hpp"
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
  const IntRange r = code_range(f);  // int8: -127..127 (symmetric quantizer's codes)
  const int lo = f == WeightFormat::int8 ? -127 : static_cast<int>(r.lo);
  const int span = f == WeightFormat::int8 ? 255 : static_cast<int>(r.hi - r.lo + 1);
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

// The Integer Scale paper's comparison on our kernels: w4a8-fs and w4a8-is run the same
// tensor-core main loop (same tiles, same int8 MMAs) and differ only in the per-group rescale:
// int32->fp32, fp32 multiply, fp32 add (fs) against an integer multiply-add (is). Integer Scale
// is timed twice: with the default 32-bit accumulator, whose wraps the spec counts (the bound
// cannot rule them out at alpha = 1024, so each group's add is checked), and with a 64-bit
// accumulator, where the bound proves no wrap and the add is a plain multiply-add (the paper's
// kernel, which does not check). Kernel time only, best of 3; per token count, the 7 linears
// summed (the layer's GEMM time) and the largest single-GEMM fs/is ratio.
int sweep_fs_is(const GemmEngine& e, Rng& rng) {
  setenv("QUASAR_GPU_KERNELS", "tensor-cores", 1);
  std::printf("%8s %11s %11s %11s %9s %9s %12s\n", "tokens", "fs ms", "is ms", "is64 ms",
              "fs/is", "fs/is64", "max fs/is64");
  GemmOptions wide;
  wide.acc_bits = 64;
  for (std::size_t t = 1; t <= 2048; t *= 2) {
    double fs = 0, is32 = 0, is64 = 0, worst = 0;
    for (const Linear& l : kLayer) {
      const QuantizedActivations x = acts(t, l.k, rng);
      const QuantizedWeights w = weights(WeightFormat::int4, l.n, l.k, kGroup, rng);
      const IntegerScales s = to_integer_scales(w, {});
      e.w4a8_fs(x, w, {});  // warm-up of this shape
      double f = 1e30, i = 1e30, i64 = 1e30;
      for (int rep = 0; rep < 3; ++rep) {
        e.w4a8_fs(x, w, {});
        f = std::min(f, last_gpu_kernel_ms());
        e.w4a8_is(x, w, s, {});
        i = std::min(i, last_gpu_kernel_ms());
        e.w4a8_is(x, w, s, wide);
        i64 = std::min(i64, last_gpu_kernel_ms());
      }
      fs += f;
      is32 += i;
      is64 += i64;
      worst = std::max(worst, f / i64);
    }
    std::printf("%8zu %11.4f %11.4f %11.4f %9.3f %9.3f %12.3f   kernels: %s\n", t, fs, is32, is64,
                fs / is32, fs / is64, worst, last_gpu_int_kernel().c_str());
  }
  return 0;
}

#ifdef QUASAR_HAVE_CUDA
// cuBLASLt, loaded at run time (the library is 540 MB: the GPU machine has its own copy; the
// binary carried there does not link it). QUASAR_CUBLASLT names the file when it is elsewhere.
struct CublasLt {
  void* lib = nullptr;
  decltype(&cublasLtCreate) create = nullptr;
  decltype(&cublasLtMatmulDescCreate) desc_create = nullptr;
  decltype(&cublasLtMatmulDescSetAttribute) desc_set = nullptr;
  decltype(&cublasLtMatrixLayoutCreate) layout_create = nullptr;
  decltype(&cublasLtMatmulPreferenceCreate) pref_create = nullptr;
  decltype(&cublasLtMatmulPreferenceSetAttribute) pref_set = nullptr;
  decltype(&cublasLtMatmulAlgoGetHeuristic) heuristic = nullptr;
  decltype(&cublasLtMatmul) matmul = nullptr;
  cublasLtHandle_t handle = nullptr;

  bool load(std::string& why) {
    const char* env = std::getenv("QUASAR_CUBLASLT");
    for (const char* path : {env, "libcublasLt.so.13", "/usr/local/cuda/lib64/libcublasLt.so.13",
                             "libcublasLt.so.12", "/usr/local/cuda/lib64/libcublasLt.so"}) {
      if (path && (lib = dlopen(path, RTLD_NOW | RTLD_LOCAL))) break;
    }
    if (!lib) {
      why = "libcublasLt not found (set QUASAR_CUBLASLT to its path)";
      return false;
    }
    const auto sym = [&](auto& f, const char* name) {
      f = reinterpret_cast<std::remove_reference_t<decltype(f)>>(dlsym(lib, name));
      return f != nullptr;
    };
    if (!(sym(create, "cublasLtCreate") && sym(desc_create, "cublasLtMatmulDescCreate") &&
          sym(desc_set, "cublasLtMatmulDescSetAttribute") &&
          sym(layout_create, "cublasLtMatrixLayoutCreate") &&
          sym(pref_create, "cublasLtMatmulPreferenceCreate") &&
          sym(pref_set, "cublasLtMatmulPreferenceSetAttribute") &&
          sym(heuristic, "cublasLtMatmulAlgoGetHeuristic") && sym(matmul, "cublasLtMatmul"))) {
      why = "libcublasLt lacks a symbol";
      return false;
    }
    return create(&handle) == CUBLAS_STATUS_SUCCESS;
  }

  // Y[M,N] (int32, row-major) = X[M,K] W[N,K]^T: in cuBLAS's column-major terms C (N x M) =
  // op(A) B with A = W stored K x N (transposed: the "TN" int8 layout), B = X stored K x M.
  // Median kernel time of `reps` launches, each timed alone (as the engine's kernels are).
  double time_ms(const std::int8_t* x, const std::int8_t* w, std::int32_t* y, int M, int N, int K,
                 void* ws, std::size_t ws_bytes, int reps, std::string& why) {
    cublasLtMatmulDesc_t op;
    if (desc_create(&op, CUBLAS_COMPUTE_32I, CUDA_R_32I) != CUBLAS_STATUS_SUCCESS) {
      why = "cublasLtMatmulDescCreate failed";
      return -1;
    }
    const cublasOperation_t t = CUBLAS_OP_T;
    desc_set(op, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t);
    cublasLtMatrixLayout_t a, b, c;
    layout_create(&a, CUDA_R_8I, K, N, K);
    layout_create(&b, CUDA_R_8I, K, M, K);
    layout_create(&c, CUDA_R_32I, N, M, N);
    cublasLtMatmulPreference_t pref;
    pref_create(&pref);
    pref_set(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_bytes, sizeof ws_bytes);
    cublasLtMatmulHeuristicResult_t h{};
    int found = 0;
    if (heuristic(handle, op, a, b, c, c, pref, 1, &h, &found) != CUBLAS_STATUS_SUCCESS || !found) {
      why = "no cuBLASLt algorithm for this shape";
      return -1;
    }
    const std::int32_t one = 1, zero = 0;
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    std::vector<double> ms;
    for (int r = 0; r < reps + 2; ++r) {  // two warm-ups
      cudaEventRecord(e0);
      const cublasStatus_t st =
          matmul(handle, op, &one, w, a, x, b, &zero, y, c, y, c, &h.algo, ws, ws_bytes, nullptr);
      cudaEventRecord(e1);
      cudaEventSynchronize(e1);
      if (st != CUBLAS_STATUS_SUCCESS) {
        why = "cublasLtMatmul failed";
        return -1;
      }
      float t_ms = 0;
      cudaEventElapsedTime(&t_ms, e0, e1);
      if (r >= 2) ms.push_back(t_ms);
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
};

// Every integer scheme's kernels against cuBLASLt's s8s8s32 GEMM on LLaMA-2-7B's projection
// shapes, decode (16 tokens) and prefill (2048), in one run. Before timing a scheme the
// tensor-core result is compared bit for bit (outputs and counters) with the simple kernel's.
int vs_cublaslt(const GemmEngine& e, Rng& rng) {
  CublasLt lt;
  std::string why;
  if (!lt.load(why)) {
    std::printf("cuBLASLt: %s\n", why.c_str());
    return 1;
  }
  const Linear shapes[] = {{"4096x4096", 4096, 4096}, {"11008x4096", 4096, 11008},
                           {"4096x11008", 11008, 4096}};
  const char* schemes[] = {"w8a8", "w4a8-fs", "w4a8-is", "w4a8-dgq", "w4a8-dint", "w4a8-qserve"};
  const int reps = 7;
  std::printf("%6s %-11s %-12s %10s %10s %9s %9s %s\n", "M", "N x K", "scheme", "kernel ms",
              "cuBLASLt", "TMAC/s", "vs Lt", "path, check");
  bool all_exact = true;
  for (std::size_t M : {std::size_t{16}, std::size_t{2048}}) {
    for (const Linear& l : shapes) {
      const QuantizedActivations x = acts(M, l.k, rng);
      const QuantizedWeights w8 = weights(WeightFormat::int8, l.n, l.k, l.k, rng);
      QuantizedWeights w4 = weights(WeightFormat::int4, l.n, l.k, kGroup, rng);
      QuantizedWeights wd = weights(WeightFormat::dint4, l.n, l.k, l.k, rng);
      wd.dint_set = DintSet::B;
      const IntegerScales is = to_integer_scales(w4, {});
      const TwoLevelWeights tl = two_level(l.n, l.k, rng);
      // cuBLASLt on the same int8 operands as w8a8.
      std::int8_t *dx = nullptr, *dw = nullptr;
      std::int32_t* dy = nullptr;
      void* ws = nullptr;
      const std::size_t ws_bytes = 32u << 20;
      cudaMalloc(&dx, M * l.k);
      cudaMalloc(&dw, l.n * l.k);
      cudaMalloc(&dy, M * l.n * 4);
      cudaMalloc(&ws, ws_bytes);
      cudaMemcpy(dx, x.q.values().data(), M * l.k, cudaMemcpyHostToDevice);
      cudaMemcpy(dw, w8.codes.values().data(), l.n * l.k, cudaMemcpyHostToDevice);
      const double lt_ms = lt.time_ms(dx, dw, dy, static_cast<int>(M), static_cast<int>(l.n),
                                      static_cast<int>(l.k), ws, ws_bytes, reps, why);
      cudaFree(dx);
      cudaFree(dw);
      cudaFree(dy);
      cudaFree(ws);
      const double macs = static_cast<double>(M * l.k * l.n);
      std::printf("%6zu %-11s %-12s %10s %10.4f %9.1f %9s %s\n", M, l.name, "cuBLASLt", "",
                  lt_ms, lt_ms > 0 ? macs / lt_ms / 1e9 : 0.0, "", lt_ms > 0 ? "" : why.c_str());
      for (const std::string s : schemes) {
        const auto run = [&] {
          if (s == "w8a8") return e.w8a8(x, w8, {});
          if (s == "w4a8-fs") return e.w4a8_fs(x, w4, {});
          if (s == "w4a8-is") return e.w4a8_is(x, w4, is, {});
          if (s == "w4a8-dgq") return e.w4a8_dgq(x, tl, DequantMode::fused, {});
          if (s == "w4a8-dint") return e.w4a8_dint(x, wd, {});
          return e.w4a8_qserve(x, tl, {});
        };
        setenv("QUASAR_GPU_KERNELS", "simple", 1);
        const GemmResult simple = run();
        const double simple_ms = last_gpu_kernel_ms();
        setenv("QUASAR_GPU_KERNELS", "tensor-cores", 1);
        const GemmResult tc = run();
        const std::string path = last_gpu_int_kernel();
        const bool exact = tc.y.values() == simple.y.values() &&
                           tc.counters.overflow == simple.counters.overflow &&
                           tc.counters.invalid_codes == simple.counters.invalid_codes &&
                           tc.counters.actions == simple.counters.actions;
        all_exact = all_exact && exact;
        std::vector<double> ms;
        for (int r = 0; r < reps; ++r) {
          run();
          ms.push_back(last_gpu_kernel_ms());
        }
        std::sort(ms.begin(), ms.end());
        const double k_ms = ms[ms.size() / 2];
        std::printf("%6zu %-11s %-12s %10.4f %10s %9.1f %8.1f%% %s, %s (simple kernel %.3f ms)\n",
                    M, l.name, s.c_str(), k_ms, "", macs / k_ms / 1e9,
                    lt_ms > 0 ? 100.0 * lt_ms / k_ms : 0.0, path.c_str(),
                    exact ? "equal to the simple kernel" : "DIFFERS from the simple kernel",
                    simple_ms);
      }
    }
  }
  return all_exact ? 0 : 1;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  std::size_t tokens = 2048, check_rows = 16;
  bool sweep = false, vs_lt = false;
  DeviceChoice device = DeviceChoice::gpu;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--tokens") tokens = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--check-rows") check_rows = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--sweep-fs-is") sweep = v == "1";
    else if (a == "--vs-cublaslt") vs_lt = v == "1";
    else if (a == "--device") device = v == "cpu" ? DeviceChoice::cpu : v == "auto" ? DeviceChoice::automatic : DeviceChoice::gpu;
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  const EngineChoice choice = choose_engine(device);
  const GemmEngine& e = *choice.engine;
  std::printf("%s\nLLaMA-2-7B decoder layer, 7 linear layers, %zu tokens, group %zu\n", choice.note.c_str(), tokens, kGroup);
  Rng rng(11);
  if (sweep) return sweep_fs_is(e, rng);
  if (vs_lt) {
#ifdef QUASAR_HAVE_CUDA
    return vs_cublaslt(e, rng);
#else
    std::printf("built without CUDA: no cuBLASLt comparison\n");
    return 1;
#endif
  }
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
