// The CUDA path of the non-GEMM operations (arithmetic spec §6-§7), bit-exact with
// models/numerics: KV writes (fp16/int8/int4), attention (fp32 unfused and tiled, int8 unfused;
// GQA, causal positions), RMSNorm, RoPE, SiLU/SwiGLU, residual add, per-token activation
// quantization and exp_q.
//
// How the bits stay the reference's:
//   - every sum the spec orders (dot products, softmax max and sum, PV, RMSNorm's sum of squares,
//     a row's amax) runs sequentially in one thread, in the reference's order; threads split only
//     independent results (one score per key t, one output per element i, one row per block);
//   - every fp32 multiply, add, divide and square root is an explicit round-to-nearest intrinsic
//     (__fmul_rn, __fadd_rn, __fsub_rn, __fdiv_rn, __fsqrt_rn), and the build has --fmad=false, so
//     the QUASAR_HD element functions called as they are (exp_q, silu, swiglu, silu_f16,
//     residual_add, rope_pair, f32_to_f16, f16_to_f32, WrappingAccumulator) are not contracted
//     either; subnormals are kept (no -ftz);
//   - max/min/clamp are written as std::max/min/clamp evaluate them ((a < b) ? b : a, ...), and
//     RNE to an integer is rintf (the reference's std::nearbyint in the default rounding mode);
//   - integer dot products use the reference's own WrappingAccumulator (32 bits, wraps counted).
// Shapes, NaN/inf and option errors are checked on the host before any upload, with the
// reference's rules and messages; action counts are the reference's per-row/head formulas,
// computed on the host; data-dependent events (wraps, saturations, clamps, fp16 infinities) are
// counted on the device.
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <vector>

#include "cuda_vector_ops.hpp"
#include "device_buffer.cuh"
#include "numerics/attention.hpp"
#include "numerics/error.hpp"
#include "numerics/exp_q.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/int_formats.hpp"

namespace quasar::gpu {
namespace {

using cuda::check;
using cuda::DeviceBuffer;

// Event counters the kernels accumulate with atomics.
enum Slot { kWraps, kSaturate, kOutputInf, kSlots };
using Counter = unsigned long long;

// Kernel time of this thread's last operation: CUDA events around its launches alone.
thread_local float t_last_ms = 0.0f;

class KernelTimer {
 public:
  KernelTimer() {
    t_last_ms = 0.0f;
    check(cudaEventCreate(&start_), "cudaEventCreate");
    check(cudaEventCreate(&stop_), "cudaEventCreate");
    check(cudaEventRecord(start_), "cudaEventRecord");
  }
  KernelTimer(const KernelTimer&) = delete;
  KernelTimer& operator=(const KernelTimer&) = delete;
  ~KernelTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  // After the last launch: waits for the kernels, reports launch errors, keeps the time.
  void stop(const char* what) {
    check(cudaGetLastError(), what);
    check(cudaEventRecord(stop_), "cudaEventRecord");
    check(cudaDeviceSynchronize(), what);
    check(cudaEventElapsedTime(&t_last_ms, start_, stop_), "cudaEventElapsedTime");
  }

 private:
  cudaEvent_t start_{}, stop_{};
};

constexpr unsigned kThreads = 256;     // element-wise kernels
constexpr unsigned kRowThreads = 128;  // one block per row / query head

unsigned blocks_for(std::size_t n) {
  const std::size_t b = (n + kThreads - 1) / kThreads;
  if (b > static_cast<std::size_t>(INT_MAX)) {
    throw Error("CUDA path: " + std::to_string(n) + " elements exceed one launch");
  }
  return static_cast<unsigned>(b);
}

unsigned row_blocks(std::size_t rows) {
  if (rows > static_cast<std::size_t>(INT_MAX)) {
    throw Error("CUDA path: " + std::to_string(rows) + " rows exceed one launch");
  }
  return static_cast<unsigned>(rows);
}

// ---- device helpers: the reference's comparisons and roundings, spelled out ----------------

__device__ inline float minus_inf() { return detail::float_of(0xff800000u); }

__device__ inline float max_std(float a, float b) { return (a < b) ? b : a; }  // std::max(a, b)
__device__ inline float min_std(float a, float b) { return (b < a) ? b : a; }  // std::min(a, b)

__device__ inline void store_f16(std::uint16_t* y, std::size_t at, float v, Counter* ctr) {
  const std::uint16_t h = f32_to_f16(v);
  if (f16_is_inf(h)) atomicAdd(&ctr[kOutputInf], 1ULL);
  y[at] = h;
}

// Spec §3's per-token quantizer, one code: clamp(RNE(F32(x / s)), -128, 127).
__device__ inline std::int8_t act_code(float x, float s, Counter& saturated) {
  const float r = rintf(__fdiv_rn(x, s));
  if (r > 127.0f || r < -128.0f) ++saturated;
  return static_cast<std::int8_t>(r < -128.0f ? -128.0f : (127.0f < r ? 127.0f : r));
}

// Its scale: s = F32(amax / 127), 1 for an all-zero row; amax sequential over the row.
__device__ inline float act_scale(const float* x, std::size_t n) {
  float amax = 0.0f;
  for (std::size_t k = 0; k < n; ++k) amax = max_std(amax, fabsf(x[k]));
  float s = __fdiv_rn(amax, 127.0f);
  if (!(s > 0.0f)) s = 1.0f;
  return s;
}

// One row through the quantizer, in one thread (attention's q and p' rows); returns s.
__device__ float quantize_row_seq(const float* x, std::size_t n, std::int8_t* codes, Counter* ctr) {
  const float s = act_scale(x, n);
  Counter sat = 0;
  for (std::size_t k = 0; k < n; ++k) codes[k] = act_code(x[k], s, sat);
  if (sat) atomicAdd(&ctr[kSaturate], sat);
  return s;
}

// kv_scale_f16 (kv_cache.cpp): F16(s), or 2^-24 where that would be zero [choice].
__device__ inline std::uint16_t kv_scale_f16_dev(float s) {
  const std::uint16_t h = f32_to_f16(s);
  return (h & 0x7fffu) == 0 ? static_cast<std::uint16_t>(0x0001u) : h;
}

constexpr std::uint16_t kF16One = 0x3C00u;
constexpr int kFmtFp16 = 0, kFmtInt8 = 1, kFmtInt4 = 2;

int fmt_code(KvFormat f) {
  return f == KvFormat::fp16 ? kFmtFp16 : (f == KvFormat::int8 ? kFmtInt8 : kFmtInt4);
}

// ---- KV write: one thread per (token, kv-head) vector, kv_quantize then kv_dequantize -------

struct KvWriteArgs {
  int fmt;
  const std::uint16_t* x;  // vectors of d fp16 codes, vector i at x + i * d
  std::size_t vectors, d;
  std::int8_t* codes;
  std::uint16_t* s16;
  std::uint8_t* z;
  std::uint32_t* code_clamps;
  std::uint32_t* zero_clamps;
  float* values;
};

__global__ void kv_write_kernel(KvWriteArgs a) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= a.vectors) return;
  const std::size_t d = a.d;
  const std::uint16_t* v = a.x + i * d;
  float* out = a.values + i * d;
  std::int8_t* c = a.codes + i * d;
  if (a.fmt == kFmtFp16) {
    for (std::size_t k = 0; k < d; ++k) out[k] = f16_to_f32(v[k]);
    return;
  }
  std::uint32_t clamps = 0;
  if (a.fmt == kFmtInt8) {
    float amax = 0.0f;
    for (std::size_t k = 0; k < d; ++k) amax = max_std(amax, fabsf(f16_to_f32(v[k])));
    const std::uint16_t sh = amax > 0.0f ? kv_scale_f16_dev(__fdiv_rn(amax, 127.0f)) : kF16One;
    const float s = f16_to_f32(sh);
    for (std::size_t k = 0; k < d; ++k) {
      const float r = rintf(__fdiv_rn(f16_to_f32(v[k]), s));
      if (r > 127.0f || r < -127.0f) ++clamps;
      c[k] = static_cast<std::int8_t>(r < -127.0f ? -127.0f : (127.0f < r ? 127.0f : r));
      out[k] = __fmul_rn(static_cast<float>(c[k]), s);
    }
    a.s16[i] = sh;
    a.z[i] = 0;
    a.zero_clamps[i] = 0;
  } else {
    float lo = f16_to_f32(v[0]), hi = lo;
    for (std::size_t k = 0; k < d; ++k) {
      const float xk = f16_to_f32(v[k]);
      lo = min_std(lo, xk);
      hi = max_std(hi, xk);
    }
    const std::uint16_t sh =
        hi == lo ? kF16One : kv_scale_f16_dev(__fdiv_rn(__fsub_rn(hi, lo), 15.0f));
    const float s = f16_to_f32(sh);
    // As the reference: RNE in float, then the zero point added in double (exact).
    const double zr = static_cast<double>(rintf(__fdiv_rn(-lo, s)));
    a.zero_clamps[i] = (zr < 0.0 || zr > 15.0) ? 1u : 0u;
    const auto z = static_cast<std::uint8_t>(zr < 0.0 ? 0.0 : (15.0 < zr ? 15.0 : zr));
    for (std::size_t k = 0; k < d; ++k) {
      const double r =
          static_cast<double>(rintf(__fdiv_rn(f16_to_f32(v[k]), s))) + static_cast<double>(z);
      if (r < 0.0 || r > 15.0) ++clamps;
      c[k] = static_cast<std::int8_t>(r < 0.0 ? 0.0 : (15.0 < r ? 15.0 : r));
      out[k] = __fmul_rn(static_cast<float>(c[k] - static_cast<int>(z)), s);
    }
    a.s16[i] = sh;
    a.z[i] = z;
  }
  a.code_clamps[i] = clamps;
}

// v̂ of stored caches (kv_dequantize), one thread per value: the attention kernel reads these.
struct KvDequantArgs {
  int fmt;
  const std::uint16_t* f16;
  const std::int8_t* codes;
  const std::uint16_t* s16;
  const std::uint8_t* z;
  std::size_t values, d;
  float* out;
};

__global__ void kv_dequant_kernel(KvDequantArgs a) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= a.values) return;
  if (a.fmt == kFmtFp16) {
    a.out[i] = f16_to_f32(a.f16[i]);
  } else if (a.fmt == kFmtInt8) {
    a.out[i] = __fmul_rn(static_cast<float>(a.codes[i]), f16_to_f32(a.s16[i / a.d]));
  } else {
    const std::size_t vec = i / a.d;
    a.out[i] = __fmul_rn(static_cast<float>(a.codes[i] - static_cast<int>(a.z[vec])),
                         f16_to_f32(a.s16[vec]));
  }
}

// ---- attention: one block per (query row, head) --------------------------------------------

struct CacheView {
  const float* val;          // v̂, [kv-head][token][d]
  const std::int8_t* codes;  // int8 codes, same layout (int8 attention only)
  const std::uint16_t* s16;  // [kv-head][token]
};

struct AttnArgs {
  const std::uint16_t* q;         // rows x (heads * d)
  const unsigned long long* pos;  // rows
  int heads, group;               // group = heads / kv_heads
  std::size_t d, tokens, stride;  // stride: scratch per block (max n)
  int int8_mode;
  std::size_t tile;
  float c;
  CacheView k, v;
  float* s;            // scratch: scores, blocks x stride
  float* p;            // scratch: probabilities (int8: p'), or the tile's e_t
  float* qf;           // scratch: q in fp32, blocks x d
  std::int8_t* qc;     // scratch: q codes, blocks x d
  std::int8_t* pc;     // scratch: p' codes, blocks x stride
  float* acc;          // scratch: the tiled accumulators, blocks x d
  std::uint16_t* out;  // rows x (heads * d)
  Counter* ctr;
};

__global__ void attention_kernel(AttnArgs a) {
  const std::size_t bh = blockIdx.x;
  const std::size_t row = bh / static_cast<std::size_t>(a.heads);
  const int h = static_cast<int>(bh % static_cast<std::size_t>(a.heads));
  const std::size_t j = static_cast<std::size_t>(h / a.group);
  const std::size_t n = static_cast<std::size_t>(a.pos[row]) + 1;  // keys 0..p
  const std::size_t d = a.d, tid = threadIdx.x, nt = blockDim.x;
  const std::uint16_t* q = a.q + (row * static_cast<std::size_t>(a.heads) + h) * d;
  const std::size_t kv0 = j * a.tokens;  // first vector of this kv-head
  const float* kval = a.k.val + kv0 * d;
  const float* vval = a.v.val + kv0 * d;
  float* s = a.s + bh * a.stride;
  float* p = a.p + bh * a.stride;
  __shared__ float sh_sq, sh_sp, sh_m, sh_l, sh_alpha, sh_mnew;
  Counter wraps = 0;

  // Scores, one key per thread, each dot product sequential in i.
  if (!a.int8_mode) {
    for (std::size_t t = tid; t < n; t += nt) {
      const float* kt = kval + t * d;
      float dot = 0.0f;
      for (std::size_t i = 0; i < d; ++i) dot = __fadd_rn(dot, __fmul_rn(f16_to_f32(q[i]), kt[i]));
      s[t] = __fmul_rn(dot, a.c);
    }
  } else {
    float* qf = a.qf + bh * d;
    std::int8_t* qc = a.qc + bh * d;
    if (tid == 0) {
      for (std::size_t i = 0; i < d; ++i) qf[i] = f16_to_f32(q[i]);
      sh_sq = quantize_row_seq(qf, d, qc, a.ctr);
    }
    __syncthreads();
    const float s_q = sh_sq;
    for (std::size_t t = tid; t < n; t += nt) {
      const std::int8_t* kc = a.k.codes + (kv0 + t) * d;
      WrappingAccumulator acc(32);
      for (std::size_t i = 0; i < d; ++i)
        acc.add(static_cast<int>(qc[i]) * static_cast<int>(kc[i]));
      wraps += acc.wraps();
      const float S = __ll2float_rn(acc.value());
      s[t] = __fmul_rn(S, __fmul_rn(__fmul_rn(s_q, f16_to_f32(a.k.s16[kv0 + t])), a.c));
    }
  }
  __syncthreads();

  float* o_acc = a.acc + bh * d;
  if (a.tile == 0) {
    // Unfused softmax in one thread (max and sum sequential in t).
    if (tid == 0) {
      float m = minus_inf();
      for (std::size_t t = 0; t < n; ++t) m = max_std(m, s[t]);
      float l = 0.0f;
      for (std::size_t t = 0; t < n; ++t) {
        p[t] = exp_q(__fsub_rn(s[t], m));
        l = __fadd_rn(l, p[t]);
      }
      const float r = __fdiv_rn(1.0f, l);
      for (std::size_t t = 0; t < n; ++t) p[t] = __fmul_rn(p[t], r);
      if (a.int8_mode) {  // p'_t = F32(p_t * F32(s16V_t)), quantized as one row
        for (std::size_t t = 0; t < n; ++t) p[t] = __fmul_rn(p[t], f16_to_f32(a.v.s16[kv0 + t]));
        sh_sp = quantize_row_seq(p, n, a.pc + bh * a.stride, a.ctr);
      }
    }
    __syncthreads();
    // PV, one output element per thread, each sum sequential in t.
    for (std::size_t i = tid; i < d; i += nt) {
      float o;
      if (!a.int8_mode) {
        o = 0.0f;
        for (std::size_t t = 0; t < n; ++t) o = __fadd_rn(o, __fmul_rn(p[t], vval[t * d + i]));
      } else {
        const std::int8_t* pc = a.pc + bh * a.stride;
        WrappingAccumulator acc(32);
        for (std::size_t t = 0; t < n; ++t) {
          acc.add(static_cast<int>(pc[t]) * static_cast<int>(a.v.codes[(kv0 + t) * d + i]));
        }
        wraps += acc.wraps();
        o = __fmul_rn(__ll2float_rn(acc.value()), sh_sp);
      }
      o_acc[i] = o;
    }
  } else {
    // Tiled (flash-style): the running max, l and alpha in thread 0; e_t one key per thread;
    // acc_i one element per thread.
    for (std::size_t i = tid; i < d; i += nt) o_acc[i] = 0.0f;
    if (tid == 0) {
      sh_m = minus_inf();
      sh_l = 0.0f;
    }
    __syncthreads();
    std::size_t tiles = 0;
    for (std::size_t t0 = 0; t0 < n; t0 += a.tile) {
      const std::size_t t1 = t0 + a.tile < n ? t0 + a.tile : n;
      if (tid == 0) {
        float tile_max = minus_inf();
        for (std::size_t t = t0; t < t1; ++t) tile_max = max_std(tile_max, s[t]);
        const float m_new = max_std(sh_m, tile_max);
        sh_alpha = tiles == 0 ? 0.0f : exp_q(__fsub_rn(sh_m, m_new));
        sh_mnew = m_new;
      }
      __syncthreads();
      const float m_new = sh_mnew, alpha = sh_alpha;
      for (std::size_t t = t0 + tid; t < t1; t += nt) p[t] = exp_q(__fsub_rn(s[t], m_new));
      __syncthreads();
      if (tid == 0) {
        float lsum = 0.0f;
        for (std::size_t t = t0; t < t1; ++t) lsum = __fadd_rn(lsum, p[t]);
        sh_l = __fadd_rn(__fmul_rn(sh_l, alpha), lsum);
        sh_m = m_new;
      }
      for (std::size_t i = tid; i < d; i += nt) {
        float part = 0.0f;
        for (std::size_t t = t0; t < t1; ++t)
          part = __fadd_rn(part, __fmul_rn(p[t], vval[t * d + i]));
        o_acc[i] = __fadd_rn(__fmul_rn(o_acc[i], alpha), part);
      }
      __syncthreads();
      ++tiles;
    }
    for (std::size_t i = tid; i < d; i += nt) o_acc[i] = __fdiv_rn(o_acc[i], sh_l);
  }
  std::uint16_t* out = a.out + (row * static_cast<std::size_t>(a.heads) + h) * d;
  for (std::size_t i = tid; i < d; i += nt) store_f16(out, i, o_acc[i], a.ctr);
  if (wraps) atomicAdd(&a.ctr[kWraps], wraps);
}

// ---- RMSNorm: one block per row; the sum of squares in thread 0 ---------------------------

__global__ void rmsnorm_kernel(const std::uint16_t* x, const std::uint16_t* g, std::size_t D,
                               float Df, float eps, std::uint16_t* y, Counter* ctr) {
  const std::size_t row = blockIdx.x;
  const std::uint16_t* xr = x + row * D;
  __shared__ float sh_r;
  if (threadIdx.x == 0) {
    float sum = 0.0f;
    for (std::size_t i = 0; i < D; ++i) {
      const float xi = f16_to_f32(xr[i]);
      sum = __fadd_rn(sum, __fmul_rn(xi, xi));
    }
    const float ms = __fdiv_rn(sum, Df);
    sh_r = __fdiv_rn(1.0f, __fsqrt_rn(__fadd_rn(ms, eps)));
  }
  __syncthreads();
  const float r = sh_r;
  for (std::size_t i = threadIdx.x; i < D; i += blockDim.x) {
    store_f16(y, row * D + i, __fmul_rn(__fmul_rn(f16_to_f32(xr[i]), r), f16_to_f32(g[i])), ctr);
  }
}

// ---- RoPE: one thread per rotate-half pair ---------------------------------------------------

__global__ void rope_kernel(const std::uint16_t* x, const unsigned long long* pos,
                            const float* cos_t, const float* sin_t, std::size_t pairs,
                            std::size_t heads, std::size_t d, std::uint16_t* y, Counter* ctr) {
  const std::size_t k = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k >= pairs) return;
  const std::size_t half = d / 2;
  const std::size_t i = k % half, head = k / half;  // head: row * heads + h
  const std::size_t row = head / heads;
  const std::size_t base = head * d;
  const std::size_t at = static_cast<std::size_t>(pos[row]) * half + i;
  float yi = 0.0f, yj = 0.0f;
  rope_pair(f16_to_f32(x[base + i]), f16_to_f32(x[base + i + half]), cos_t[at], sin_t[at], yi, yj);
  store_f16(y, base + i, yi, ctr);
  store_f16(y, base + i + half, yj, ctr);
}

// ---- element-wise: the reference's QUASAR_HD functions, one thread per element --------------

enum class Elementwise { swiglu, silu, residual };

__global__ void elementwise_kernel(Elementwise op, const std::uint16_t* a, const std::uint16_t* b,
                                   std::size_t n, std::uint16_t* y, Counter* ctr) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  std::uint16_t h;
  switch (op) {
    case Elementwise::swiglu:
      h = swiglu(a[i], b[i]);
      break;
    case Elementwise::silu:
      h = silu_f16(a[i]);
      break;
    default:
      h = residual_add(a[i], b[i]);
      break;
  }
  if (f16_is_inf(h)) atomicAdd(&ctr[kOutputInf], 1ULL);
  y[i] = h;
}

__global__ void exp_q_kernel(const float* x, std::size_t n, float* y) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = exp_q(x[i]);
}

// ---- per-token activation quantization: one block per row; amax in thread 0 ---------------

__global__ void quantize_tokens_kernel(const std::uint16_t* x, std::size_t cols, std::int8_t* q,
                                       float* scale, Counter* ctr) {
  const std::size_t row = blockIdx.x;
  const std::uint16_t* xr = x + row * cols;
  __shared__ float sh_s;
  if (threadIdx.x == 0) {
    float amax = 0.0f;
    for (std::size_t k = 0; k < cols; ++k) amax = max_std(amax, fabsf(f16_to_f32(xr[k])));
    float s = __fdiv_rn(amax, 127.0f);
    if (!(s > 0.0f)) s = 1.0f;
    sh_s = s;
    scale[row] = s;
  }
  __syncthreads();
  const float s = sh_s;
  Counter sat = 0;
  for (std::size_t k = threadIdx.x; k < cols; k += blockDim.x) {
    q[row * cols + k] = act_code(f16_to_f32(xr[k]), s, sat);
  }
  if (sat) atomicAdd(&ctr[kSaturate], sat);
}

// ---- host side: the reference's checks (same rules, same messages) ---------------------------

bool f16_finite(std::uint16_t h) { return (h & 0x7c00u) != 0x7c00u; }

void require_finite(const std::uint16_t* v, std::size_t n, const char* tensor, std::size_t row) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!f16_finite(v[i])) {
      throw Error(std::string("tensor '") + tensor + "': element [" + std::to_string(row) + ", " +
                  std::to_string(i) + "] is " + (f16_is_nan(v[i]) ? "NaN" : "infinite") +
                  "; only finite fp16 values are accepted");
    }
  }
}

void require_finite(const MatrixH& m, const char* tensor) {
  for (std::size_t r = 0; r < m.rows(); ++r) require_finite(m.row(r), m.cols(), tensor, r);
}

void require_same_shape(const MatrixH& a, const MatrixH& b, const char* op) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) {
    throw Error(std::string(op) + ": operands are " + std::to_string(a.rows()) + " x " +
                std::to_string(a.cols()) + " and " + std::to_string(b.rows()) + " x " +
                std::to_string(b.cols()) + "; they must have the same shape");
  }
}

void require_finite_kv(const std::uint16_t* v, std::size_t d) {
  for (std::size_t i = 0; i < d; ++i) {
    if ((v[i] & 0x7c00u) == 0x7c00u) {
      throw Error("kv_append: element " + std::to_string(i) + " is " +
                  (f16_is_nan(v[i]) ? "NaN" : "infinite") +
                  "; only finite fp16 values can be written to the KV cache");
    }
  }
}

// The reference's action counts of one query head over n keys (attention.hpp lists them).
void count_head(GemmCounters& c, std::uint64_t n, std::uint64_t d, KvFormat kf, KvFormat vf,
                const AttentionOptions& opt) {
  const std::uint64_t nd = n * d;
  if (opt.mode == AttentionMode::fp32) {
    c.add_action(act::kMulFp32, nd + n);
    c.add_action(act::kAddFp32, nd);
    if (const char* dq = kv_act::dequant(kf)) c.add_action(dq, nd);
  } else {
    c.add_action(vec_act::kMaxFp32, d);  // q's quantization
    c.add_action(vec_act::kDivFp32, 1);
    c.add_action(vec_act::kQuantFp32ToInt8, d);
    c.add_action(act::kMulInt8xInt8, nd);
    c.add_action(act::add_int(32), nd);
    c.add_action(act::kCvtIntToFp32, n);
    c.add_action(act::kMulFp32, 3 * n);
  }
  if (opt.tile == 0) {
    c.add_action(vec_act::kMaxFp32, n);
    c.add_action(act::kAddFp32, 2 * n);
    c.add_action(vec_act::kExpQ, n);
    c.add_action(vec_act::kRcpFp32, 1);
    c.add_action(act::kMulFp32, n);
    if (opt.mode == AttentionMode::fp32) {
      c.add_action(act::kMulFp32, nd);
      c.add_action(act::kAddFp32, nd);
      if (const char* dq = kv_act::dequant(vf)) c.add_action(dq, nd);
    } else {
      c.add_action(vec_act::kMaxFp32, n);  // p''s quantization
      c.add_action(vec_act::kDivFp32, 1);
      c.add_action(vec_act::kQuantFp32ToInt8, n);
      c.add_action(act::kMulFp32, n + d);
      c.add_action(act::kMulInt8xInt8, nd);
      c.add_action(act::add_int(32), nd);
      c.add_action(act::kCvtIntToFp32, d);
    }
  } else {
    const std::uint64_t tiles = (n + opt.tile - 1) / opt.tile;
    c.add_action(vec_act::kMaxFp32, n + tiles);
    c.add_action(vec_act::kExpQ, n + tiles - 1);
    c.add_action(act::kAddFp32, (tiles - 1) + 2 * n + tiles + nd + tiles * d);
    c.add_action(act::kMulFp32, tiles + tiles * d + nd);
    c.add_action(vec_act::kDivFp32, d);
    if (const char* dq = kv_act::dequant(vf)) c.add_action(dq, nd);
  }
  c.add_action(act::kCvtFp32ToFp16, d);
}

void count_output(GemmCounters& c, std::uint64_t n, std::uint64_t inf) {
  c.add_action(act::kCvtFp32ToFp16, n);
  c.add_overflow(stage::kOutputFp16Inf, inf);
}

// One set of caches (K or V, every kv-head) on the device: the stored form, then v̂ computed
// there by kv_dequant_kernel.
struct CachesOnDevice {
  KvFormat format;
  DeviceBuffer<std::int8_t> codes;
  DeviceBuffer<std::uint16_t> f16, s16;
  DeviceBuffer<std::uint8_t> z;
  DeviceBuffer<float> val;
  std::size_t count_values;

  static std::size_t count(const std::vector<KvCache>& c) {
    return c.size() * c[0].tokens() * c[0].dim();
  }
  static std::size_t vectors(const std::vector<KvCache>& c) { return c.size() * c[0].tokens(); }

  explicit CachesOnDevice(const std::vector<KvCache>& c)
      : format(c[0].format()),
        codes(format == KvFormat::fp16 ? 0 : count(c)),
        f16(format == KvFormat::fp16 ? count(c) : 0),
        s16(format == KvFormat::fp16 ? 0 : vectors(c)),
        z(format == KvFormat::int4 ? vectors(c) : 0),
        val(count(c)),
        count_values(count(c)) {
    const std::size_t T = c[0].tokens(), d = c[0].dim();
    if (format == KvFormat::fp16) {
      std::vector<std::uint16_t> h(count(c));
      for (std::size_t j = 0; j < c.size(); ++j)
        for (std::size_t t = 0; t < T; ++t)
          std::copy(c[j].stored(t).f16.begin(), c[j].stored(t).f16.end(),
                    h.begin() + static_cast<std::ptrdiff_t>((j * T + t) * d));
      upload(f16, h);
    } else {
      std::vector<std::int8_t> q(count(c));
      std::vector<std::uint16_t> s(vectors(c));
      std::vector<std::uint8_t> zz(vectors(c));
      for (std::size_t j = 0; j < c.size(); ++j) {
        for (std::size_t t = 0; t < T; ++t) {
          const KvVector& kv = c[j].stored(t);
          std::copy(kv.codes.begin(), kv.codes.end(),
                    q.begin() + static_cast<std::ptrdiff_t>((j * T + t) * d));
          s[j * T + t] = kv.s16;
          zz[j * T + t] = kv.z;
        }
      }
      upload(codes, q);
      upload(s16, s);
      if (format == KvFormat::int4) upload(z, zz);
    }
  }

  // Launches the v̂ computation (inside the caller's timed section).
  void dequantize(std::size_t d) {
    const std::size_t n = count_values;
    if (n == 0) return;
    KvDequantArgs a{fmt_code(format), f16.get(), codes.get(), s16.get(), z.get(), n, d, val.get()};
    kv_dequant_kernel<<<blocks_for(n), kThreads>>>(a);
  }

 private:
  template <class T>
  static void upload(DeviceBuffer<T>& b, const std::vector<T>& v) {
    if (!v.empty()) {
      check(cudaMemcpy(b.get(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "upload");
    }
  }
};

class CudaVectorEngine final : public VectorEngine {
 public:
  std::string_view name() const override { return "gpu"; }

  KvWriteResult kv_write(KvFormat f, const MatrixH& x, std::size_t kv_heads) const override {
    if (kv_heads == 0 || x.cols() == 0 || x.cols() % kv_heads != 0) {
      throw Error("kv cache: " + std::to_string(x.cols()) + " columns do not split into " +
                  std::to_string(kv_heads) + " kv-heads of equal width >= 1");
    }
    const std::size_t d = x.cols() / kv_heads, nv = x.rows() * kv_heads;
    for (std::size_t i = 0; i < nv; ++i) require_finite_kv(x.values().data() + i * d, d);
    KvWriteResult r;
    r.d = d;
    DeviceBuffer<std::uint16_t> xd(x.values());
    DeviceBuffer<std::int8_t> codes(x.size());
    DeviceBuffer<std::uint16_t> s16(nv);
    DeviceBuffer<std::uint8_t> z(nv);
    DeviceBuffer<std::uint32_t> cc(nv), zc(nv);
    DeviceBuffer<float> val(x.size());
    if (nv) {
      KernelTimer timer;
      kv_write_kernel<<<blocks_for(nv), kThreads>>>(KvWriteArgs{fmt_code(f), xd.get(), nv, d,
                                                                codes.get(), s16.get(), z.get(),
                                                                cc.get(), zc.get(), val.get()});
      timer.stop("kv_write_kernel");
    }
    r.values = MatrixF(x.rows(), x.cols());
    r.values.values() = val.download();
    r.vectors.resize(nv);
    if (f == KvFormat::fp16) {
      for (std::size_t i = 0; i < nv; ++i) {
        r.vectors[i].format = f;
        r.vectors[i].f16.assign(x.values().begin() + static_cast<std::ptrdiff_t>(i * d),
                                x.values().begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
      }
      return r;
    }
    const std::vector<std::int8_t> hc = codes.download();
    const std::vector<std::uint16_t> hs = s16.download();
    const std::vector<std::uint8_t> hz = z.download();
    const std::vector<std::uint32_t> hcc = cc.download(), hzc = zc.download();
    std::uint64_t code_clamps = 0, zero_clamps = 0;
    for (std::size_t i = 0; i < nv; ++i) {
      KvVector& v = r.vectors[i];
      v.format = f;
      v.codes.assign(hc.begin() + static_cast<std::ptrdiff_t>(i * d),
                     hc.begin() + static_cast<std::ptrdiff_t>((i + 1) * d));
      v.s16 = hs[i];
      v.z = hz[i];
      v.code_clamps = hcc[i];
      v.zero_clamps = hzc[i];
      code_clamps += hcc[i];
      zero_clamps += hzc[i];
    }
    r.counters.add_action(f == KvFormat::int8 ? kv_act::kQuantInt8 : kv_act::kQuantInt4, x.size());
    r.counters.add_overflow(kv_stage::kCodeClamp, code_clamps);
    r.counters.add_overflow(kv_stage::kZeroClamp, zero_clamps);
    return r;
  }

  AttentionResult attention(const MatrixH& q, std::size_t heads,
                            const std::vector<std::size_t>& positions,
                            const std::vector<KvCache>& k, const std::vector<KvCache>& v,
                            const AttentionOptions& opt) const override {
    // The reference's checks, in its order, with its words.
    const std::size_t d = check_attention_inputs(q, heads, positions, k, v, opt);
    const std::size_t kv_heads = k.size();
    const std::size_t tokens = k[0].tokens();
    // A format shared by every kv-head is what one launch handles; caches of mixed formats
    // across kv-heads are not something the model builds.
    for (std::size_t j = 1; j < kv_heads; ++j) {
      if (k[j].format() != k[0].format() || v[j].format() != v[0].format()) {
        throw Error(
            "attention (CUDA path): every kv-head's K caches (and V caches) must share "
            "one format");
      }
    }
    const float c = attention_scale(d);
    AttentionResult res{MatrixH(q.rows(), q.cols()), {}};
    if (q.rows() == 0) return res;
    if (heads > static_cast<std::size_t>(INT_MAX)) throw Error("attention: too many heads");
    const std::size_t blocks = q.rows() * heads;
    std::size_t stride = 0;
    std::vector<unsigned long long> pos(q.rows());
    for (std::size_t r = 0; r < q.rows(); ++r) {
      pos[r] = positions[r];
      stride = std::max(stride, positions[r] + 1);
    }
    CachesOnDevice kd(k), vd(v);
    const bool int8 = opt.mode == AttentionMode::int8;
    DeviceBuffer<std::uint16_t> qd(q.values()), out(q.size());
    DeviceBuffer<unsigned long long> posd(pos);
    DeviceBuffer<float> s(blocks * stride), p(blocks * stride), acc(blocks * d);
    DeviceBuffer<float> qf(int8 ? blocks * d : 0);
    DeviceBuffer<std::int8_t> qc(int8 ? blocks * d : 0), pc(int8 ? blocks * stride : 0);
    DeviceBuffer<Counter> ctr(kSlots);
    ctr.zero();
    AttnArgs a{};
    a.q = qd.get();
    a.pos = posd.get();
    a.heads = static_cast<int>(heads);
    a.group = static_cast<int>(heads / kv_heads);
    a.d = d;
    a.tokens = tokens;
    a.stride = stride;
    a.int8_mode = int8 ? 1 : 0;
    a.tile = opt.tile;
    a.c = c;
    a.k = CacheView{kd.val.get(), kd.codes.get(), kd.s16.get()};
    a.v = CacheView{vd.val.get(), vd.codes.get(), vd.s16.get()};
    a.s = s.get();
    a.p = p.get();
    a.qf = qf.get();
    a.qc = qc.get();
    a.pc = pc.get();
    a.acc = acc.get();
    a.out = out.get();
    a.ctr = ctr.get();
    {
      KernelTimer timer;
      kd.dequantize(d);
      vd.dequantize(d);
      attention_kernel<<<row_blocks(blocks), kRowThreads>>>(a);
      timer.stop("attention_kernel");
    }
    res.out.values() = out.download();
    const std::vector<Counter> ev = ctr.download();
    for (std::size_t r = 0; r < q.rows(); ++r) {
      for (std::size_t h = 0; h < heads; ++h) {
        count_head(res.counters, positions[r] + 1, d, k[0].format(), v[0].format(), opt);
      }
    }
    res.counters.add_overflow(stage::kActSaturate, ev[kSaturate]);
    res.counters.add_overflow(stage::kAccumulator, ev[kWraps]);
    res.counters.add_overflow(stage::kOutputFp16Inf, ev[kOutputInf]);
    return res;
  }

  VectorResult rmsnorm(const MatrixH& x, const std::vector<std::uint16_t>& g,
                       float eps) const override {
    if (g.size() != x.cols()) {
      throw Error("rmsnorm: " + std::to_string(g.size()) + " gains for rows of " +
                  std::to_string(x.cols()) + " values; they must match");
    }
    require_finite(x, "x");
    VectorResult r{MatrixH(x.rows(), x.cols()), {}};
    if (x.rows() == 0) return r;  // the reference checks D, eps and g per row
    const std::size_t D = x.cols();
    if (D == 0) throw Error("rmsnorm: the row is empty (D = 0)");
    if (!(eps > 0.0f) || !std::isfinite(eps)) {
      throw Error("rmsnorm: eps must be finite and > 0, got " + std::to_string(eps));
    }
    require_finite(g.data(), D, "g", 0);
    DeviceBuffer<std::uint16_t> xd(x.values()), gd(g), y(x.size());
    DeviceBuffer<Counter> ctr(kSlots);
    ctr.zero();
    {
      KernelTimer timer;
      rmsnorm_kernel<<<row_blocks(x.rows()), kRowThreads>>>(
          xd.get(), gd.get(), D, static_cast<float>(D), eps, y.get(), ctr.get());
      timer.stop("rmsnorm_kernel");
    }
    r.y.values() = y.download();
    const auto rows = static_cast<std::uint64_t>(x.rows()), n = static_cast<std::uint64_t>(D);
    r.counters.add_action(act::kMulFp32, rows * 3 * n);
    r.counters.add_action(act::kAddFp32, rows * (n + 1));
    r.counters.add_action(vec_act::kDivFp32, rows);
    r.counters.add_action(vec_act::kSqrtFp32, rows);
    r.counters.add_action(vec_act::kRcpFp32, rows);
    count_output(r.counters, rows * n, ctr.download()[kOutputInf]);
    return r;
  }

  VectorResult rope(const RopeTables& t, const MatrixH& x,
                    const std::vector<std::size_t>& positions) const override {
    if (t.d == 0 || x.cols() % t.d != 0) {
      throw Error("rope: rows of " + std::to_string(x.cols()) +
                  " values do not split into heads of d = " + std::to_string(t.d));
    }
    if (positions.size() != x.rows()) {
      throw Error("rope: " + std::to_string(positions.size()) + " positions for " +
                  std::to_string(x.rows()) + " rows; they must match");
    }
    require_finite(x, "x");
    const std::size_t heads = x.cols() / t.d;
    VectorResult r{MatrixH(x.rows(), x.cols()), {}};
    if (heads == 0 || x.rows() == 0) return r;
    std::vector<unsigned long long> pos(x.rows());
    for (std::size_t m = 0; m < x.rows(); ++m) {
      if (positions[m] >= t.max_pos) {
        throw Error("rope: position " + std::to_string(positions[m]) +
                    " is beyond the tables (max_pos " + std::to_string(t.max_pos) + ")");
      }
      pos[m] = positions[m];
    }
    const std::size_t half = t.d / 2, pairs = x.rows() * heads * half;
    DeviceBuffer<std::uint16_t> xd(x.values()), y(x.size());
    DeviceBuffer<unsigned long long> posd(pos);
    DeviceBuffer<float> cd(t.cos), sd(t.sin);
    DeviceBuffer<Counter> ctr(kSlots);
    ctr.zero();
    {
      KernelTimer timer;
      rope_kernel<<<blocks_for(pairs), kThreads>>>(xd.get(), posd.get(), cd.get(), sd.get(), pairs,
                                                   heads, t.d, y.get(), ctr.get());
      timer.stop("rope_kernel");
    }
    r.y.values() = y.download();
    r.counters.add_action(act::kMulFp32, 4 * pairs);
    r.counters.add_action(act::kAddFp32, 2 * pairs);
    count_output(r.counters, x.size(), ctr.download()[kOutputInf]);
    return r;
  }

  VectorResult swiglu(const MatrixH& gate, const MatrixH& up) const override {
    require_same_shape(gate, up, "swiglu");
    require_finite(gate, "gate");
    require_finite(up, "up");
    VectorResult r = elementwise(Elementwise::swiglu, gate, &up);
    const auto n = static_cast<std::uint64_t>(gate.size());
    r.counters.add_action(vec_act::kExpQ, n);
    r.counters.add_action(act::kAddFp32, n);
    r.counters.add_action(vec_act::kDivFp32, n);
    r.counters.add_action(act::kMulFp32, n);
    return r;
  }

  VectorResult silu(const MatrixH& g) const override {
    require_finite(g, "g");
    VectorResult r = elementwise(Elementwise::silu, g, nullptr);
    const auto n = static_cast<std::uint64_t>(g.size());
    r.counters.add_action(vec_act::kExpQ, n);
    r.counters.add_action(act::kAddFp32, n);
    r.counters.add_action(vec_act::kDivFp32, n);
    return r;
  }

  VectorResult residual_add(const MatrixH& a, const MatrixH& b) const override {
    require_same_shape(a, b, "residual_add");
    require_finite(a, "a");
    require_finite(b, "b");
    VectorResult r = elementwise(Elementwise::residual, a, &b);
    r.counters.add_action(act::kAddFp32, a.size());
    return r;
  }

  TokenQuantResult quantize_tokens(const MatrixH& x) const override {
    require_finite(x, "x");
    TokenQuantResult r{{MatrixI8(x.rows(), x.cols()), std::vector<float>(x.rows())}, {}};
    if (x.rows() == 0) return r;
    DeviceBuffer<std::uint16_t> xd(x.values());
    DeviceBuffer<std::int8_t> q(x.size());
    DeviceBuffer<float> s(x.rows());
    DeviceBuffer<Counter> ctr(kSlots);
    ctr.zero();
    {
      KernelTimer timer;
      quantize_tokens_kernel<<<row_blocks(x.rows()), kRowThreads>>>(xd.get(), x.cols(), q.get(),
                                                                    s.get(), ctr.get());
      timer.stop("quantize_tokens_kernel");
    }
    r.q.q.values() = q.download();
    r.q.scale = s.download();
    r.counters.add_overflow(stage::kActSaturate, ctr.download()[kSaturate]);
    r.counters.add_action(vec_act::kMaxFp32, x.size());
    r.counters.add_action(vec_act::kDivFp32, x.rows());
    r.counters.add_action(vec_act::kQuantFp32ToInt8, x.size());
    return r;
  }

  std::vector<float> exp_q(const std::vector<float>& x) const override {
    if (x.empty()) return {};
    DeviceBuffer<float> xd(x), y(x.size());
    KernelTimer timer;
    exp_q_kernel<<<blocks_for(x.size()), kThreads>>>(xd.get(), x.size(), y.get());
    timer.stop("exp_q_kernel");
    return y.download();
  }

 private:
  VectorResult elementwise(Elementwise op, const MatrixH& a, const MatrixH* b) const {
    VectorResult r{MatrixH(a.rows(), a.cols()), {}};
    if (a.size() == 0) return r;
    DeviceBuffer<std::uint16_t> ad(a.values()), y(a.size());
    DeviceBuffer<std::uint16_t> bd(b ? b->values() : std::vector<std::uint16_t>{});
    DeviceBuffer<Counter> ctr(kSlots);
    ctr.zero();
    {
      KernelTimer timer;
      elementwise_kernel<<<blocks_for(a.size()), kThreads>>>(op, ad.get(), bd.get(), a.size(),
                                                             y.get(), ctr.get());
      timer.stop("elementwise_kernel");
    }
    r.y.values() = y.download();
    count_output(r.counters, a.size(), ctr.download()[kOutputInf]);
    return r;
  }
};

}  // namespace

std::unique_ptr<VectorEngine> make_cuda_vector_engine() {
  return std::make_unique<CudaVectorEngine>();
}

double last_vector_kernel_ms() { return t_last_ms; }

}  // namespace quasar::gpu
