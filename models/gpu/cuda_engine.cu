// The CUDA functional path: every scheme of the arithmetic spec on the GPU, bit-exact with
// models/numerics. Integer parts are exact by construction (wraps checked where a bound cannot
// rule them out); every float step is an explicit round-to-nearest intrinsic in the spec's
// order (__fmul_rn/__fadd_rn are never contracted into FMAs; the build adds --fmad=false too);
// fp16 conversion runs the reference's own f32_to_f16 (numerics/float_formats.hpp, host+device).
#include <cuda_runtime.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda_engine.hpp"
#include "device_buffer.cuh"
#include "numerics/action_counts.hpp"
#include "numerics/block_formats.hpp"
#include "numerics/block_scaled.hpp"
#include "numerics/dint4.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm_block.hpp"
#include "numerics/gemm_checks.hpp"
#include "numerics/int_formats.hpp"
#include "numerics/int_kernels.hpp"

namespace quasar::gpu {
namespace {

using cuda::check;
using cuda::DeviceBuffer;

// Event counters the kernels accumulate with atomics.
enum CounterSlot {
  kElemWraps,
  kAccWraps,
  kDequantRange,
  kOutputInf,
  kInvalid,
  kInvalidScale,  // block-scaled: E8M0 255 codes
  kAlignRound,    // block-scaled fixed: a shift dropped non-zero bits
  kBlockAccEv,    // block-scaled fixed: a term or the accumulator left acc_bits
  kSlots
};
using Counters = unsigned long long;

constexpr int kTile = 16;  // outputs per block side (16 x 16 threads, one output each)
constexpr int kTk = 32;    // K elements per shared-memory tile

__constant__ std::int8_t c_dint_w2[2][16];
__constant__ std::uint8_t c_dint_valid[2][16];

__device__ void record_output(std::uint16_t* y, std::size_t at, float v, Counters* ctr) {
  const std::uint16_t h = f32_to_f16(v);
  if (f16_is_inf(h)) atomicAdd(&ctr[kOutputInf], 1ULL);
  y[at] = h;
}

// ---- weight tile loaders: how a weight element reaches the array ------------------------------
// `count` is true in exactly one block per weight element (blockIdx.y == 0), so data-dependent
// events are counted once per element, as the reference counts them.

struct Int8Weights {
  const std::int8_t* w;
  __device__ int load(int n, int k, int K, Counters*, bool) const {
    return w[static_cast<std::size_t>(n) * K + k];
  }
};

struct DintWeights {  // dint4 codes decoded through the table on load
  const std::int8_t* codes;
  int set;
  __device__ int load(int n, int k, int K, Counters* ctr, bool count) const {
    const int code = codes[static_cast<std::size_t>(n) * K + k] & 0xf;
    if (count && !c_dint_valid[set][code]) atomicAdd(&ctr[kInvalid], 1ULL);
    return c_dint_w2[set][code];
  }
};

__device__ int two_level_dequant(const std::uint8_t* q, const std::uint8_t* z,
                                 const std::int32_t* s, int n, int k, int K, int G, int lo, int hi,
                                 Counters* ctr, bool count) {
  const int groups = K / G;
  const std::size_t gi = static_cast<std::size_t>(n) * groups + k / G;
  int v =
      (static_cast<int>(q[static_cast<std::size_t>(n) * K + k]) - static_cast<int>(z[gi])) * s[gi];
  if (v < lo || v > hi) {
    if (count) atomicAdd(&ctr[kDequantRange], 1ULL);
    v = v < lo ? lo : hi;
  }
  return v;
}

struct TwoLevelOnLoad {  // DGQ fused: dequantized in front of the array
  const std::uint8_t* q;
  const std::uint8_t* z;
  const std::int32_t* s;
  int G, lo, hi;
  __device__ int load(int n, int k, int K, Counters* ctr, bool count) const {
    return two_level_dequant(q, z, s, n, k, K, G, lo, hi, ctr, count);
  }
};

// The materialized pass: one thread per weight, writing the int8 copy to memory.
__global__ void two_level_materialize(const std::uint8_t* q, const std::uint8_t* z,
                                      const std::int32_t* s, int N, int K, int G, int lo, int hi,
                                      std::int8_t* out, Counters* ctr) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<std::size_t>(N) * K) return;
  const int n = static_cast<int>(i / K), k = static_cast<int>(i % K);
  out[i] = static_cast<std::int8_t>(two_level_dequant(q, z, s, n, k, K, G, lo, hi, ctr, true));
}

// ---- epilogues: what happens to each group's partial sum, and to the output ----------------

// w8a8, w4a8-dint, w4a8-dgq, w4a8-qserve: one group spanning K;
// y = F16(F32(acc) * ((s_x * s_n) [* post]) [+ bias]).
struct IntEpilogue {
  const float* sx;
  int sx_per_token;
  const float* sn;
  float post;
  int has_post;
  const float* bias;
  std::uint16_t* y;
  int N;
  struct State {
    long long acc = 0;
  };
  __device__ void group(State& st, int, int, long long p) const { st.acc = p; }
  __device__ void finish(const State& st, int m, int n, Counters* ctr) const {
    float scale = __fmul_rn(sx[sx_per_token ? m : 0], sn[n]);
    if (has_post) scale = __fmul_rn(scale, post);
    float v = __fmul_rn(__ll2float_rn(st.acc), scale);
    if (bias) v = __fadd_rn(v, bias[n]);
    record_output(y, static_cast<std::size_t>(m) * N + n, v, ctr);
  }
};

// w4a8-fs: acc_f = sum_g F32(P) * F32(s[n,g]) (g increasing, each rounded); y = F16(acc_f * s_x).
struct FsEpilogue {
  const float* s;
  int groups;
  const float* sx;
  int sx_per_token;
  std::uint16_t* y;
  int N;
  struct State {
    float acc = 0.0f;
  };
  __device__ void group(State& st, int n, int g, long long p) const {
    st.acc =
        __fadd_rn(st.acc, __fmul_rn(__ll2float_rn(p), s[static_cast<std::size_t>(n) * groups + g]));
  }
  __device__ void finish(const State& st, int m, int n, Counters* ctr) const {
    record_output(y, static_cast<std::size_t>(m) * N + n,
                  __fmul_rn(st.acc, sx[sx_per_token ? m : 0]), ctr);
  }
};

// w4a8-is: acc = sum_g P * S[n,g] in an acc_bits wrapping accumulator (exact product, an event
// whenever the exact sum leaves the width); y = F16(F32(acc) * (s_x * 2^-b)).
struct IsEpilogue {
  const std::int32_t* S;
  int groups;
  int acc_bits;
  const float* sx;
  int sx_per_token;
  float amp_inv;
  std::uint16_t* y;
  int N;
  struct State {
    long long acc = 0;
    unsigned long long wraps = 0;
  };
  int no_wrap;  // the host proved no prefix can leave acc_bits: plain 64-bit multiply-add
  __device__ void group(State& st, int n, int g, long long p) const {
    const long long s = S[static_cast<std::size_t>(n) * groups + g];
    if (no_wrap) {
      st.acc += p * s;
      return;
    }
    const int128_t exact = static_cast<int128_t>(st.acc) + static_cast<int128_t>(p) * s;
    if (fits_signed(exact, acc_bits)) {
      st.acc = static_cast<long long>(exact);
    } else {
      st.acc = wrap_signed(exact, acc_bits);
      ++st.wraps;
    }
  }
  __device__ void finish(const State& st, int m, int n, Counters* ctr) const {
    const float scale = __fmul_rn(sx[sx_per_token ? m : 0], amp_inv);
    record_output(y, static_cast<std::size_t>(m) * N + n, __fmul_rn(__ll2float_rn(st.acc), scale),
                  ctr);
    if (st.wraps) atomicAdd(&ctr[kAccWraps], st.wraps);
  }
};

// ---- the integer array: tiles of x and w through shared memory, one output per thread -----
// Each thread walks k in increasing order, summing x * w into the current group's partial sum
// (wrapped at elem_bits when elem_check: the host could not rule a wrap out) and handing it to
// the epilogue at every group boundary.
template <class Weights, class Epilogue>
__global__ void int_gemm(const std::int8_t* x, Weights wl, int M, int N, int K, int G,
                         int elem_bits, int elem_check, Epilogue ep, Counters* ctr) {
  __shared__ int xs[kTile][kTk + 1];
  __shared__ int ws[kTile][kTk + 1];
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kTile + tx;
  const int m = blockIdx.y * kTile + ty, n = blockIdx.x * kTile + tx;
  const bool valid = m < M && n < N;
  typename Epilogue::State st{};
  long long p = 0;
  int gpos = 0, g = 0;
  unsigned long long elem_wraps = 0;
  for (int k0 = 0; k0 < K; k0 += kTk) {
    for (int i = tid; i < kTile * kTk; i += kTile * kTile) {
      const int r = i / kTk, c = i % kTk, k = k0 + c;
      const int mm = blockIdx.y * kTile + r, nn = blockIdx.x * kTile + r;
      xs[r][c] = (mm < M && k < K) ? x[static_cast<std::size_t>(mm) * K + k] : 0;
      ws[r][c] = (nn < N && k < K) ? wl.load(nn, k, K, ctr, blockIdx.y == 0) : 0;
    }
    __syncthreads();
    const int kn = min(kTk, K - k0);
    for (int c = 0; c < kn; ++c) {
      const int prod = xs[ty][c] * ws[tx][c];
      if (elem_check) {
        const int128_t exact = static_cast<int128_t>(p) + prod;
        if (fits_signed(exact, elem_bits)) {
          p = static_cast<long long>(exact);
        } else {
          p = wrap_signed(exact, elem_bits);
          ++elem_wraps;
        }
      } else {
        p += prod;
      }
      if (++gpos == G) {
        if (valid) ep.group(st, n, g, p);
        p = 0;
        gpos = 0;
        ++g;
      }
    }
    __syncthreads();
  }
  if (valid) {
    ep.finish(st, m, n, ctr);
    if (elem_wraps) atomicAdd(&ctr[kElemWraps], elem_wraps);
  }
}

// ---- the tensor-core path (issue 19) ----------------------------------------------------------
// The same integer GEMMs on the tensor cores: mma.sync m16n8k32 s8 x s8 -> s32 (sm_80 and later,
// so the H100 runs it), operands through shared memory (cp.async, 16-byte chunks, STAGES deep)
// and ldmatrix. Exact by construction: a block runs k in increasing order, and the host only
// takes this path when no group partial sum can leave 32 bits (then no partial sum in any order
// can: |each| <= sum |x||w| fits), so the int32 accumulator equals the simple path's p. At every
// group boundary each thread hands its accumulators to the epilogue in group order, the float
// steps in the spec's order, exactly as int_gemm does. Weights that are decoded on the way in
// (dint4, the two-level schemes) are decoded once into int8 by decode_weights, counting each
// element's events once, as the simple path's loaders do.
template <int MI_, int NI_, int WARPS_M_, int WARPS_N_, int BK_, int STAGES_>
struct TcConfig {
  static constexpr int MI = MI_, NI = NI_, WARPS_M = WARPS_M_, WARPS_N = WARPS_N_;
  static constexpr int BK = BK_, STAGES = STAGES_;
  static constexpr int kThreads = 32 * WARPS_M * WARPS_N;
  static constexpr int BM = WARPS_M * MI * 16, BN = WARPS_N * NI * 8;
  // Bytes per shared row: 16 bytes of padding put the eight rows one ldmatrix reads in eight
  // different 4-bank groups (BK is a multiple of 64).
  static constexpr int kRow = BK + 16;
  static constexpr int kStageBytes = (BM + BN) * kRow;
  static constexpr int kSmem = STAGES * kStageBytes;
  static_assert(BK % 64 == 0, "BK: a multiple of 64");
};
// Many rows (prefill): 128 x 128 blocks of 8 warps, 64 x 32 each. Wide (64-bit) epilogue state
// halves the rows so the registers still fit. Few rows (decode): 16 x 32 blocks, so a
// 4096-wide layer spreads over 128 multiprocessors, each streaming its weights 256 k deep.
using TcBig = TcConfig<4, 4, 2, 4, 64, 4>;
using TcBigWide = TcConfig<2, 4, 2, 4, 64, 4>;
using TcSmall = TcConfig<1, 1, 1, 4, 256, 4>;
// (launch_tc_block: of five shapes timed on an H100, the fastest for block-scaled prefill)
using TcBlockTiles = TcConfig<1, 2, 2, 4, 64, 4>;

__device__ __forceinline__ unsigned smem_addr(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void cp_async16(unsigned dst, const void* src, int bytes) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}
__device__ __forceinline__ void ldmatrix_x4(unsigned (&r)[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}
__device__ __forceinline__ void ldmatrix_x2(unsigned& r0, unsigned& r1, unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
               : "=r"(r0), "=r"(r1)
               : "r"(addr));
}
__device__ __forceinline__ void mma_s8(int (&c)[4], const unsigned (&a)[4], unsigned b0,
                                       unsigned b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The epilogues of the tensor-core kernel: the simple path's, with a per-output state small
// enough for registers (its accumulators are kept across groups) and the wrap events summed
// per thread.
// Each epilogue says: its State and init(); group(state, row, column, group, partial sum,
// events) at each group end, in group order; finish() once per output; kWide (its state needs
// the smaller-row tiles); kHalfSteps (groups 16 deep: each 32-deep mma step runs as two masked
// ones); kEventSlot (the counter its `events` go to).
struct TcInt {  // one group spanning K
  IntEpilogue e;
  using State = int;
  static constexpr bool kWide = false, kHalfSteps = false;
  static constexpr int kEventSlot = kAccWraps;
  __device__ State init() const { return State{}; }
  __device__ void group(State& st, int, int, int, int p, unsigned long long&) const { st = p; }
  __device__ void finish(State st, int m, int n, Counters* ctr) const {
    IntEpilogue::State s;
    s.acc = st;
    e.finish(s, m, n, ctr);
  }
};
struct TcFs {
  FsEpilogue e;
  using State = float;
  static constexpr bool kWide = false, kHalfSteps = false;
  static constexpr int kEventSlot = kAccWraps;
  __device__ State init() const { return State{}; }
  __device__ void group(State& st, int, int n, int g, int p, unsigned long long&) const {
    st = __fadd_rn(st, __fmul_rn(__int2float_rn(p), e.s[static_cast<std::size_t>(n) * e.groups + g]));
  }
  __device__ void finish(State st, int m, int n, Counters* ctr) const {
    FsEpilogue::State s;
    s.acc = st;
    e.finish(s, m, n, ctr);
  }
};
// Acc: int when acc_bits <= 32 (the integer accumulator Integer Scale's hardware has), else
// 64-bit.
template <class Acc>
struct TcIs {
  IsEpilogue e;
  using State = Acc;
  static constexpr bool kWide = sizeof(Acc) > 4, kHalfSteps = false;
  static constexpr int kEventSlot = kAccWraps;
  __device__ State init() const { return State{}; }
  __device__ void group(State& st, int, int n, int g, int p, unsigned long long& events) const {
    const Acc s = e.S[static_cast<std::size_t>(n) * e.groups + g];
    if (e.no_wrap) {
      st += static_cast<Acc>(p) * s;
      return;
    }
    if constexpr (sizeof(Acc) == 4) {
      // acc_bits <= 32 and |p|, |S| < 2^31: the exact sum fits 64 bits, no 128-bit arithmetic.
      const long long exact = static_cast<long long>(st) + static_cast<long long>(p) * s;
      const long long lim = 1LL << (e.acc_bits - 1);
      if (exact >= -lim && exact < lim) {
        st = static_cast<Acc>(exact);
      } else {
        st = static_cast<Acc>(wrap_signed(exact, e.acc_bits));
        ++events;
      }
    } else {
      const int128_t exact = static_cast<int128_t>(st) + static_cast<int128_t>(p) * s;
      if (fits_signed(exact, e.acc_bits)) {
        st = static_cast<Acc>(exact);
      } else {
        st = static_cast<Acc>(wrap_signed(exact, e.acc_bits));
        ++events;
      }
    }
  }
  __device__ void finish(State st, int m, int n, Counters* ctr) const {
    IsEpilogue::State s;
    s.acc = st;
    e.finish(s, m, n, ctr);
  }
};

template <class C, bool kMultiGroup, class Ep>
__global__ void __launch_bounds__(C::kThreads) tc_gemm(const std::int8_t* __restrict__ x,
                                                       const std::int8_t* __restrict__ w, int M,
                                                       int N, int K, int G, Ep ep, Counters* ctr) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp / C::WARPS_N, wn = warp % C::WARPS_N;
  const int bm0 = blockIdx.y * C::BM, bn0 = blockIdx.x * C::BN;
  const int ktiles = (K + C::BK - 1) / C::BK;

  // One stage: BM rows of x then BN rows of w, BK bytes of k each; chunks past M, N or K are
  // filled with zeros (cp.async with no source bytes), which add nothing.
  const auto load = [&](int stage, int kt) {
    unsigned char* s = smem + stage * C::kStageBytes;
    constexpr int kChunks = C::BK / 16;
    const int k0 = kt * C::BK;
#pragma unroll 4
    for (int c = tid; c < (C::BM + C::BN) * kChunks; c += C::kThreads) {
      const int r = c / kChunks, k = k0 + (c % kChunks) * 16;
      const bool is_x = r < C::BM;
      const int row = is_x ? bm0 + r : bn0 + (r - C::BM);
      const std::int8_t* base = is_x ? x : w;
      const bool ok = row < (is_x ? M : N) && k < K;
      cp_async16(smem_addr(s + r * C::kRow + (c % kChunks) * 16),
                 ok ? base + static_cast<std::size_t>(row) * K + k : base, ok ? 16 : 0);
    }
  };

  int acc[C::MI][C::NI][4];
  typename Ep::State st[kMultiGroup ? C::MI : 1][kMultiGroup ? C::NI : 1][4];
#pragma unroll
  for (int i = 0; i < C::MI; ++i)
#pragma unroll
    for (int j = 0; j < C::NI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        acc[i][j][r] = 0;
        if constexpr (kMultiGroup) st[i][j][r] = ep.init();
      }
  unsigned long long events = 0;
  // The output (row, column) of accumulator r of m-tile i, n-tile j (the mma's C layout).
  const auto row_of = [&](int i, int r) {
    return bm0 + wm * C::MI * 16 + i * 16 + (lane >> 2) + (r >= 2 ? 8 : 0);
  };
  const auto col_of = [&](int j, int r) {
    return bn0 + wn * C::NI * 8 + j * 8 + (lane & 3) * 2 + (r & 1);
  };

#pragma unroll
  for (int s = 0; s < C::STAGES - 1; ++s) {
    if (s < ktiles) load(s, s);
    cp_async_commit();
  }
  for (int kt = 0; kt < ktiles; ++kt) {
    cp_async_wait<C::STAGES - 2>();
    __syncthreads();
    if (kt + C::STAGES - 1 < ktiles) load((kt + C::STAGES - 1) % C::STAGES, kt + C::STAGES - 1);
    cp_async_commit();
    const unsigned char* sx = smem + (kt % C::STAGES) * C::kStageBytes;
    const unsigned char* sw = sx + C::BM * C::kRow;
#pragma unroll
    for (int ks = 0; ks < C::BK / 32; ++ks) {
      const int kg = kt * C::BK + ks * 32;
      if (kg >= K) break;
      unsigned a[C::MI][4], b[C::NI][2];
#pragma unroll
      for (int i = 0; i < C::MI; ++i)
        ldmatrix_x4(a[i], smem_addr(sx + (wm * C::MI * 16 + i * 16 + (lane & 15)) * C::kRow +
                                    ks * 32 + (lane >> 4) * 16));
#pragma unroll
      for (int j = 0; j + 1 < C::NI; j += 2) {
        unsigned r4[4];
        ldmatrix_x4(r4, smem_addr(sw + (wn * C::NI * 8 + j * 8 + (lane & 7) + (lane >> 4) * 8) *
                                           C::kRow +
                                  ks * 32 + ((lane >> 3) & 1) * 16));
        b[j][0] = r4[0], b[j][1] = r4[1], b[j + 1][0] = r4[2], b[j + 1][1] = r4[3];
      }
      if constexpr (C::NI % 2 == 1) {
        constexpr int j = C::NI - 1;
        ldmatrix_x2(b[j][0], b[j][1],
                    smem_addr(sw + (wn * C::NI * 8 + j * 8 + (lane & 7)) * C::kRow + ks * 32 +
                              ((lane >> 3) & 1) * 16));
      }
      if constexpr (Ep::kHalfSteps) {
        // Groups of 16: the fragment's registers 0-1 hold k 0..15, 2-3 hold k 16..31, so an
        // mma with the other half zeroed is one group's exact sum.
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          if (kg + 16 * h >= K) break;
#pragma unroll
          for (int i = 0; i < C::MI; ++i) {
            const unsigned ah[4] = {h ? 0u : a[i][0], h ? 0u : a[i][1], h ? a[i][2] : 0u,
                                    h ? a[i][3] : 0u};
#pragma unroll
            for (int j = 0; j < C::NI; ++j) mma_s8(acc[i][j], ah, b[j][0], b[j][1]);
          }
#pragma unroll
          for (int i = 0; i < C::MI; ++i)
#pragma unroll
            for (int j = 0; j < C::NI; ++j)
#pragma unroll
              for (int r = 0; r < 4; ++r) {
                if (col_of(j, r) < N)
                  ep.group(st[i][j][r], row_of(i, r), col_of(j, r), kg / 16 + h, acc[i][j][r],
                           events);
                acc[i][j][r] = 0;
              }
        }
      } else {
#pragma unroll
        for (int i = 0; i < C::MI; ++i)
#pragma unroll
          for (int j = 0; j < C::NI; ++j) mma_s8(acc[i][j], a[i], b[j][0], b[j][1]);
        if constexpr (kMultiGroup) {
          const int kend = min(kg + 32, K);
          if (kend % G == 0) {  // a group ends: its partial sums to the epilogue, in order
            const int g = kend / G - 1;
#pragma unroll
            for (int i = 0; i < C::MI; ++i)
#pragma unroll
              for (int j = 0; j < C::NI; ++j)
#pragma unroll
                for (int r = 0; r < 4; ++r) {
                  if (col_of(j, r) < N)
                    ep.group(st[i][j][r], row_of(i, r), col_of(j, r), g, acc[i][j][r], events);
                  acc[i][j][r] = 0;
                }
          }
        }
      }
    }
  }
  cp_async_wait<0>();

#pragma unroll
  for (int i = 0; i < C::MI; ++i)
#pragma unroll
    for (int j = 0; j < C::NI; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) {
        const int m = row_of(i, r), n = col_of(j, r);
        if (m >= M || n >= N) continue;
        if constexpr (kMultiGroup) {
          ep.finish(st[i][j][r], m, n, ctr);
        } else {
          typename Ep::State s = ep.init();
          ep.group(s, m, n, 0, acc[i][j][r], events);
          ep.finish(s, m, n, ctr);
        }
      }
  if (events) atomicAdd(&ctr[Ep::kEventSlot], events);
}

// Weights decoded on the way in become int8 once, each element's events counted once.
template <class Weights>
__global__ void decode_weights(Weights wl, int N, int K, std::int8_t* out, Counters* ctr) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<std::size_t>(N) * K) return;
  const int n = static_cast<int>(i / K), k = static_cast<int>(i % K);
  out[i] = static_cast<std::int8_t>(wl.load(n, k, K, ctr, true));
}

// fp16: sum_k F32(x) * F32(w) in fp32, each product and add rounded, k increasing; with
// k_tile = T, tile sums from 0 added in order (the reference's accumulation-order parameter).
__global__ void fp16_gemm(const std::uint16_t* x, const std::uint16_t* w, int M, int N, int K,
                          int k_tile, std::uint16_t* y, Counters* ctr) {
  __shared__ float xs[kTile][kTk + 1];
  __shared__ float ws[kTile][kTk + 1];
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kTile + tx;
  const int m = blockIdx.y * kTile + ty, n = blockIdx.x * kTile + tx;
  const bool tiled = k_tile > 0 && k_tile < K;
  float acc = 0.0f, part = 0.0f;
  int tpos = 0;
  for (int k0 = 0; k0 < K; k0 += kTk) {
    for (int i = tid; i < kTile * kTk; i += kTile * kTile) {
      const int r = i / kTk, c = i % kTk, k = k0 + c;
      const int mm = blockIdx.y * kTile + r, nn = blockIdx.x * kTile + r;
      xs[r][c] = (mm < M && k < K) ? f16_to_f32(x[static_cast<std::size_t>(mm) * K + k]) : 0.0f;
      ws[r][c] = (nn < N && k < K) ? f16_to_f32(w[static_cast<std::size_t>(nn) * K + k]) : 0.0f;
    }
    __syncthreads();
    const int kn = min(kTk, K - k0);
    for (int c = 0; c < kn; ++c) {
      const float prod = __fmul_rn(xs[ty][c], ws[tx][c]);
      if (tiled) {
        part = __fadd_rn(part, prod);
        if (++tpos == k_tile) {
          acc = __fadd_rn(acc, part);
          part = 0.0f;
          tpos = 0;
        }
      } else {
        acc = __fadd_rn(acc, prod);
      }
    }
    __syncthreads();
  }
  if (tiled && tpos > 0) acc = __fadd_rn(acc, part);
  if (m < M && n < N) record_output(y, static_cast<std::size_t>(m) * N + n, acc, ctr);
}

// w4a16's dequantization: w = F16(F32(q - z) * F32(s)); a weight that becomes inf is an event.
__global__ void w4_to_fp16(const std::int8_t* q, const std::int8_t* z, const float* s, int N, int K,
                           int G, int per_tensor, std::uint16_t* out, Counters* ctr) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<std::size_t>(N) * K) return;
  const int n = static_cast<int>(i / K), k = static_cast<int>(i % K), groups = K / G;
  const std::size_t gi = static_cast<std::size_t>(per_tensor ? 0 : n) * groups + k / G;
  const int zero = z ? z[gi] : 0;
  const std::uint16_t h = f32_to_f16(__fmul_rn(static_cast<float>(q[i] - zero), s[gi]));
  if (f16_is_inf(h)) atomicAdd(&ctr[kDequantRange], 1ULL);
  out[i] = h;
}

// ---- block-scaled schemes (spec §5) ---------------------------------------------------------
// Every block's dot product is an exact integer I_b (block_formats.hpp), so the GPU may compute
// the sums in any order and with any integer instruction; only the per-output accumulation of
// the blocks is ordered, and that runs in one thread, blocks in increasing K, through the very
// block_formats.hpp steps the reference calls (block_term_fp32, block_term_fixed with the
// reference's WrappingAccumulator, fixed_acc_to_f32, nvfp4_block_term, nvfp4_result).

enum class BlockMode { mx_fp32, mx_fixed, nvfp4 };

// One warp-wide count of a predicate into a counter slot: a ballot keeps the atomics to one per
// warp. Every lane of the warp must reach it (callers do not return early).
__device__ void count_lanes(bool hit, Counters* ctr, int slot) {
  const unsigned votes = __ballot_sync(0xffffffffu, hit);
  if ((threadIdx.x & 31) == 0 && votes) atomicAdd(&ctr[slot], static_cast<Counters>(__popc(votes)));
}

// Element codes to their integers (elem_int) once per tensor, counting the codes that are not
// valid (MXINT8 -128, E4M3 NaN) once per element, as the reference's decode does.
template <class T>
__global__ void block_decode(const std::uint8_t* codes, std::size_t n, BlockElem f, T* out,
                             Counters* ctr) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  bool bad = false;
  if (i < n) {
    const std::uint8_t c = codes[i];
    bad = !elem_valid(f, c);
    out[i] = static_cast<T>(elem_int(f, c));
  }
  count_lanes(bad, ctr, kInvalid);
}

// E8M0 255 codes: one invalid_scale event per code of either operand (not per use).
__global__ void count_e8m0_nan(const std::uint8_t* scales, std::size_t n, Counters* ctr) {
  const std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  count_lanes(i < n && !e8m0_valid(scales[i]), ctr, kInvalidScale);
}

struct BlockGemmArgs {
  const std::uint8_t* xs;  // M x blocks scale codes
  const std::uint8_t* ws;  // N x blocks
  int M, N, K, blocks;
  int unit;                 // block_unit(x.elem, w.elem)
  int acc_bits, frac_bits;  // fixed mode
  float tsx, tsw;           // NVFP4 tensor scales
  std::uint16_t* y;
  Counters* ctr;
};

// The fixed mode's per-output state: the reference's own accumulator class (it has no default
// constructor, so it is wrapped to live in a register array; the kernel sets its width).
struct FixedAcc {
  WrappingAccumulator acc{kBlockAccBits};
};

constexpr int kBlockThreads = 16;  // 16 x 16 threads per CUDA block

// y for a TM x TN tile of outputs (TM = 16 RM, TN = 16 RN); thread (ty, tx) owns rows
// ty + 16 i and columns tx + 16 j, so a warp's shared-memory reads of W rows hit distinct banks
// (row stride odd in words) and its reads of X rows are broadcasts. K advances a tile of KT
// elements (several blocks) at a time through shared memory; within it, each block's sums
// I_b are formed for all of the thread's outputs, then handed to the ordered accumulation.
// XT = int8_t: the elements are packed four to a word and summed with __dp4a (E2M1 and MXINT8
// integers fit int8, the -128 code having decoded to 0); XT = int32_t: E4M3 activations
// (|j| <= 229376) times int8 weights, one multiply-add each. |I_b| < 2^27: int32 is exact.
template <class XT, int B, BlockMode Mode, int RM, int RN>
__global__ void __launch_bounds__(kBlockThreads* kBlockThreads)
    block_gemm(const XT* x, const std::int8_t* w, BlockGemmArgs a) {
  constexpr int TM = kBlockThreads * RM, TN = kBlockThreads * RN;
  constexpr bool kPacked = sizeof(XT) == 1;
  constexpr int KT = kPacked ? 128 : 64;      // elements of K per shared tile
  constexpr int BPT = KT / B;                 // blocks per shared tile
  constexpr int WPR = kPacked ? KT / 4 : KT;  // words per tile row
  constexpr int WPB = kPacked ? B / 4 : B;    // words per block
  constexpr int LD = WPR + 1;                 // odd stride: no bank conflicts across W rows
  __shared__ int xsh[TM][LD];
  __shared__ int wsh[TN][LD];
  __shared__ std::uint8_t xsc[TM][BPT];
  __shared__ std::uint8_t wsc[TN][BPT];

  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kBlockThreads + tx;
  const int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
  using State = std::conditional_t<Mode == BlockMode::mx_fixed, FixedAcc, float>;
  State st[RM][RN];
  bool ok[RM][RN];
#pragma unroll
  for (int i = 0; i < RM; ++i) {
#pragma unroll
    for (int j = 0; j < RN; ++j) {
      ok[i][j] = m0 + ty + kBlockThreads * i < a.M && n0 + tx + kBlockThreads * j < a.N;
      if constexpr (Mode == BlockMode::mx_fixed) {
        st[i][j].acc = WrappingAccumulator(a.acc_bits);
      } else {
        st[i][j] = 0.0f;  // +0, as the reference starts
      }
    }
  }
  unsigned long long align_round = 0, acc_events = 0;

  for (int b0 = 0; b0 < a.blocks; b0 += BPT) {
    const int k0 = b0 * B;
    // Rows past M or N and blocks past K's end load zeros; their results are never stored.
    for (int i = tid; i < TM * WPR; i += kBlockThreads * kBlockThreads) {
      const int r = i / WPR, c = i % WPR, gm = m0 + r;
      const int k = k0 + (kPacked ? 4 * c : c);
      int v = 0;
      if (gm < a.M && k < a.K) {
        const XT* p = x + static_cast<std::size_t>(gm) * a.K + k;
        // Packed: 4 bytes at a multiple of 4 (K is a multiple of 16, cudaMalloc aligns).
        v = kPacked ? *reinterpret_cast<const int*>(p) : static_cast<int>(*p);
      }
      xsh[r][c] = v;
    }
    for (int i = tid; i < TN * WPR; i += kBlockThreads * kBlockThreads) {
      const int r = i / WPR, c = i % WPR, gn = n0 + r;
      const int k = k0 + (kPacked ? 4 * c : c);
      int v = 0;
      if (gn < a.N && k < a.K) {
        const std::int8_t* p = w + static_cast<std::size_t>(gn) * a.K + k;
        v = kPacked ? *reinterpret_cast<const int*>(p) : static_cast<int>(*p);
      }
      wsh[r][c] = v;
    }
    for (int i = tid; i < TM * BPT; i += kBlockThreads * kBlockThreads) {
      const int r = i / BPT, b = i % BPT, gm = m0 + r;
      xsc[r][b] = (gm < a.M && b0 + b < a.blocks)
                      ? a.xs[static_cast<std::size_t>(gm) * a.blocks + b0 + b]
                      : std::uint8_t{0};
    }
    for (int i = tid; i < TN * BPT; i += kBlockThreads * kBlockThreads) {
      const int r = i / BPT, b = i % BPT, gn = n0 + r;
      wsc[r][b] = (gn < a.N && b0 + b < a.blocks)
                      ? a.ws[static_cast<std::size_t>(gn) * a.blocks + b0 + b]
                      : std::uint8_t{0};
    }
    __syncthreads();
    const int nb = min(BPT, a.blocks - b0);
    for (int bb = 0; bb < nb; ++bb) {
      int sum[RM][RN];
#pragma unroll
      for (int i = 0; i < RM; ++i) {
#pragma unroll
        for (int j = 0; j < RN; ++j) sum[i][j] = 0;
      }
#pragma unroll
      for (int c = 0; c < WPB; ++c) {
        const int col = bb * WPB + c;
        int xv[RM], wv[RN];
#pragma unroll
        for (int i = 0; i < RM; ++i) xv[i] = xsh[ty + kBlockThreads * i][col];
#pragma unroll
        for (int j = 0; j < RN; ++j) wv[j] = wsh[tx + kBlockThreads * j][col];
#pragma unroll
        for (int i = 0; i < RM; ++i) {
#pragma unroll
          for (int j = 0; j < RN; ++j) {
            if constexpr (kPacked) {
              sum[i][j] = __dp4a(xv[i], wv[j], sum[i][j]);
            } else {
              sum[i][j] += xv[i] * wv[j];
            }
          }
        }
      }
      // The block's term for each output, in block order (the reference's Accumulate).
#pragma unroll
      for (int i = 0; i < RM; ++i) {
        const std::uint8_t sx = xsc[ty + kBlockThreads * i][bb];
#pragma unroll
        for (int j = 0; j < RN; ++j) {
          const std::uint8_t sw = wsc[tx + kBlockThreads * j][bb];
          if constexpr (Mode == BlockMode::nvfp4) {
            st[i][j] = __fadd_rn(st[i][j], nvfp4_block_term(sum[i][j], sx, sw));
          } else {
            // An E8M0 255 on either side: the block pair contributes nothing (counted once per
            // code by count_e8m0_nan, not here).
            if (!e8m0_valid(sx) || !e8m0_valid(sw)) continue;
            const int s = mx_block_shift(sx, sw, a.unit);
            if constexpr (Mode == BlockMode::mx_fp32) {
              st[i][j] = __fadd_rn(st[i][j], block_term_fp32(sum[i][j], s));
            } else {
              const FixedTerm t = block_term_fixed(sum[i][j], s + a.frac_bits, a.acc_bits);
              if (ok[i][j]) {
                align_round += t.rounded ? 1 : 0;
                acc_events += t.overflow ? 1 : 0;  // the term itself did not fit acc_bits
              }
              st[i][j].acc.add(t.value);
            }
          }
        }
      }
    }
    __syncthreads();
  }

  unsigned long long nonfinite = 0;
#pragma unroll
  for (int i = 0; i < RM; ++i) {
#pragma unroll
    for (int j = 0; j < RN; ++j) {
      if (!ok[i][j]) continue;
      float v;
      if constexpr (Mode == BlockMode::mx_fp32) {
        v = st[i][j];
      } else if constexpr (Mode == BlockMode::nvfp4) {
        v = nvfp4_result(st[i][j], a.unit, a.tsx, a.tsw);
      } else {
        acc_events += st[i][j].acc.wraps();
        v = fixed_acc_to_f32(st[i][j].acc.value(), a.frac_bits);
      }
      const std::uint16_t h = block_output_f16(v);
      // The reference counts every non-finite output here (inf, and the NaN of inf - inf).
      if ((h & 0x7c00u) == 0x7c00u) ++nonfinite;
      const int m = m0 + ty + kBlockThreads * i, n = n0 + tx + kBlockThreads * j;
      a.y[static_cast<std::size_t>(m) * a.N + n] = h;
    }
  }
  if (nonfinite) atomicAdd(&a.ctr[kOutputInf], nonfinite);
  if (align_round) atomicAdd(&a.ctr[kAlignRound], align_round);
  if (acc_events) atomicAdd(&a.ctr[kBlockAccEv], acc_events);
}

// The block-scaled schemes on the tensor-core kernel (tc_gemm), where both operands' elements
// are int8 integers (E2M1, MXINT8: every scheme but w4a8-mx's E4M3 activations): a block is a
// group, each block's I_b the tensor cores' exact int32 sum, handed in block order to the very
// steps block_gemm takes (NVFP4's 16-deep blocks as masked half steps).
template <BlockMode Mode>
struct TcBlock {
  BlockGemmArgs a;
  struct Fixed {
    WrappingAccumulator acc{kBlockAccBits};
    unsigned long long rounds = 0;
  };
  using State = std::conditional_t<Mode == BlockMode::mx_fixed, Fixed, float>;
  static constexpr bool kHalfSteps = Mode == BlockMode::nvfp4;
  static constexpr int kEventSlot = kBlockAccEv;
  __device__ State init() const {
    State s{};  // a float state starts at +0, as the reference's
    if constexpr (Mode == BlockMode::mx_fixed) s.acc = WrappingAccumulator(a.acc_bits);
    return s;
  }
  __device__ void group(State& st, int m, int n, int g, int p, unsigned long long& events) const {
    if (m >= a.M) return;  // a row past M: zeros, and no scales to read
    const std::uint8_t sx = a.xs[static_cast<std::size_t>(m) * a.blocks + g];
    const std::uint8_t sw = a.ws[static_cast<std::size_t>(n) * a.blocks + g];
    if constexpr (Mode == BlockMode::nvfp4) {
      st = __fadd_rn(st, nvfp4_block_term(p, sx, sw));
    } else {
      if (!e8m0_valid(sx) || !e8m0_valid(sw)) return;  // counted by count_e8m0_nan
      const int s = mx_block_shift(sx, sw, a.unit);
      if constexpr (Mode == BlockMode::mx_fp32) {
        st = __fadd_rn(st, block_term_fp32(p, s));
      } else {
        const FixedTerm t = block_term_fixed(p, s + a.frac_bits, a.acc_bits);
        st.rounds += t.rounded ? 1 : 0;
        events += t.overflow ? 1 : 0;
        st.acc.add(t.value);
      }
    }
  }
  __device__ void finish(const State& st, int m, int n, Counters* ctr) const {
    float v;
    if constexpr (Mode == BlockMode::mx_fp32) {
      v = st;
    } else if constexpr (Mode == BlockMode::nvfp4) {
      v = nvfp4_result(st, a.unit, a.tsx, a.tsw);
    } else {
      if (st.rounds) atomicAdd(&ctr[kAlignRound], st.rounds);
      if (st.acc.wraps()) atomicAdd(&ctr[kBlockAccEv], static_cast<Counters>(st.acc.wraps()));
      v = fixed_acc_to_f32(st.acc.value(), a.frac_bits);
    }
    const std::uint16_t h = block_output_f16(v);
    if ((h & 0x7c00u) == 0x7c00u) atomicAdd(&ctr[kOutputInf], Counters{1});
    a.y[static_cast<std::size_t>(m) * a.N + n] = h;
  }
};

// ---- host side ------------------------------------------------------------------------------

dim3 grid_for(std::size_t M, std::size_t N) {
  if (M > 65535u * kTile)
    throw Error("CUDA path: M = " + std::to_string(M) + " exceeds 1,048,560 rows");
  return dim3(static_cast<unsigned>((N + kTile - 1) / kTile),
              static_cast<unsigned>((M + kTile - 1) / kTile));
}

void sync(const char* what) {
  check(cudaGetLastError(), what);
  check(cudaDeviceSynchronize(), what);
}

// The matrix's own storage (uploads read it directly: no host copy of model-sized weights).
template <class T>
const std::vector<T>& flat(const Matrix<T>& m) {
  return m.values();
}

// Per-output-channel scale s(n, 0) as a length-N vector (per-tensor weights broadcast).
std::vector<float> channel_scales(const QuantizedWeights& w) {
  std::vector<float> s(w.rows());
  for (std::size_t n = 0; n < w.rows(); ++n) s[n] = w.scale(n, 0);
  return s;
}

// Everything an int_gemm launch needs from the activations.
struct ActsOnDevice {
  DeviceBuffer<std::int8_t> q;
  DeviceBuffer<float> scale;
  int per_token;
  explicit ActsOnDevice(const QuantizedActivations& x)
      : q(flat(x.q)), scale(x.scale), per_token(x.per_tensor() ? 0 : 1) {}
};

struct Launch {
  std::size_t M, N, K, G;
  int elem_bits;
  bool elem_exact;  // no group partial sum can leave elem_bits
  bool fits_int32;  // nor 32 bits: the tensor cores' accumulator is exact
};

// The bounds of one launch from its operands' largest magnitudes (the reference's bound).
Launch launch_for(std::size_t M, std::size_t N, std::size_t K, std::size_t G, int elem_bits,
                  int x_max, int w_max) {
  return {M,
          N,
          K,
          G,
          elem_bits,
          dot_cannot_wrap(G, x_max, w_max, elem_bits),
          dot_cannot_wrap(G, x_max, w_max, 32)};
}

// Milliseconds of the last integer GEMM kernel (CUDA events around the launch alone): lets a
// benchmark compare kernels without the transfers and host-side checks around them.
thread_local float t_last_kernel_ms = 0.0f;

thread_local const char* t_last_int_kernel = "none";

// Which integer kernel runs by default: the tensor cores, since the path passed the GPU tests
// and 36 LLaMA-size comparisons with the simple kernel on an H100 (docs/validation.md).
constexpr bool kTensorCoresByDefault = true;
// The block-scaled schemes keep the simple kernel by default: on an H100 their tensor-core
// path, exact and tested as well, was 0.6-0.9x its speed at 2048 x 4096 x 4096 (a block term
// for every output every 32 or 16 k is the work, not the MMAs; docs/performance.md).
constexpr bool kBlockTensorCoresByDefault = false;

// The tensor-core path takes a launch when its accumulator is exact, rows are whole 16-byte
// chunks and groups whole mma steps, and QUASAR_GPU_KERNELS (read at each launch: a benchmark
// toggles it) is "tensor-cores" or unset while kTensorCoresByDefault; "simple" keeps every
// launch on int_gemm (the benchmark's baseline, and a way to rule the tensor-core path out).
bool tensor_cores_on(bool by_default) {
  const char* v = std::getenv("QUASAR_GPU_KERNELS");
  return v ? std::string(v) == "tensor-cores" : by_default;
}
bool tensor_cores_take(const Launch& l) {
  return tensor_cores_on(kTensorCoresByDefault) && l.elem_exact && l.fits_int32 &&
         l.K % 16 == 0 && l.G > 0 && l.K % l.G == 0 && (l.G == l.K || l.G % 32 == 0);
}

template <class C, bool kMulti, class Ep>
void launch_tc(const Launch& l, const std::int8_t* x, const std::int8_t* w, const Ep& ep,
               Counters* ctr) {
  const auto kernel = tc_gemm<C, kMulti, Ep>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, C::kSmem),
        "cudaFuncSetAttribute");
  const auto tiles = [](std::size_t n, int t) { return static_cast<unsigned>((n + t - 1) / t); };
  if (tiles(l.M, C::BM) > 65535u)
    throw Error("CUDA path: M = " + std::to_string(l.M) + " exceeds the tensor-core grid");
  kernel<<<dim3(tiles(l.N, C::BN), tiles(l.M, C::BM)), C::kThreads, C::kSmem>>>(
      x, w, static_cast<int>(l.M), static_cast<int>(l.N), static_cast<int>(l.K),
      static_cast<int>(l.G), ep, ctr);
}

template <bool kMulti, class Ep>
void launch_tc_for_rows(const Launch& l, const std::int8_t* x, const std::int8_t* w, const Ep& ep,
                        Counters* ctr) {
  if (l.M <= 64) {
    launch_tc<TcSmall, kMulti>(l, x, w, ep, ctr);
  } else if constexpr (Ep::kWide) {
    launch_tc<TcBigWide, kMulti>(l, x, w, ep, ctr);
  } else {
    launch_tc<TcBig, kMulti>(l, x, w, ep, ctr);
  }
}

void launch_tc_epilogue(const Launch& l, const std::int8_t* x, const std::int8_t* w,
                        const IntEpilogue& e, Counters* ctr) {
  launch_tc_for_rows<false>(l, x, w, TcInt{e}, ctr);
}
void launch_tc_epilogue(const Launch& l, const std::int8_t* x, const std::int8_t* w,
                        const FsEpilogue& e, Counters* ctr) {
  launch_tc_for_rows<true>(l, x, w, TcFs{e}, ctr);
}
void launch_tc_epilogue(const Launch& l, const std::int8_t* x, const std::int8_t* w,
                        const IsEpilogue& e, Counters* ctr) {
  if (e.acc_bits <= 32) {
    launch_tc_for_rows<true>(l, x, w, TcIs<int>{e}, ctr);
  } else {
    launch_tc_for_rows<true>(l, x, w, TcIs<long long>{e}, ctr);
  }
}

// A block-scaled GEMM on the tensor cores. Its per-block terms, not the MMAs, are most of the
// work (a rescale every 32 or 16 k for every output), so many rows take TcBlockTiles' smaller
// per-thread share (more blocks resident to hide the float steps' latency); the fixed mode's
// per-output state (a wrapping accumulator and a count) fits registers only in the 16 x 32 tiles.
template <BlockMode Mode>
void launch_tc_block(const Launch& l, const std::int8_t* x, const std::int8_t* w,
                     const BlockGemmArgs& a, Counters* ctr) {
  if (l.M <= 64 || Mode == BlockMode::mx_fixed) {
    launch_tc<TcSmall, true>(l, x, w, TcBlock<Mode>{a}, ctr);
  } else {
    launch_tc<TcBlockTiles, true>(l, x, w, TcBlock<Mode>{a}, ctr);
  }
}

const std::int8_t* int8_weights(const Int8Weights& wl) { return wl.w; }
template <class Weights>
const std::int8_t* int8_weights(const Weights&) {
  return nullptr;
}

template <class Weights, class Epilogue>
void run_int_gemm(const Launch& l, const std::int8_t* x, Weights wl, Epilogue ep, Counters* ctr) {
  t_last_kernel_ms = 0.0f;
  t_last_int_kernel = "none";
  if (l.M == 0 || l.N == 0) return;
  const bool tc = tensor_cores_take(l);
  // Decoded weights (dint4, the two-level schemes) need an int8 copy on the tensor-core path;
  // allocated before the timing starts, filled inside it.
  std::unique_ptr<DeviceBuffer<std::int8_t>> decoded;
  const std::int8_t* w8 = int8_weights(wl);
  if (tc && !w8) decoded = std::make_unique<DeviceBuffer<std::int8_t>>(l.N * l.K);
  cudaEvent_t start, stop;
  check(cudaEventCreate(&start), "cudaEventCreate");
  check(cudaEventCreate(&stop), "cudaEventCreate");
  check(cudaEventRecord(start), "cudaEventRecord");
  if (tc) {
    if (decoded) {
      const unsigned blocks = static_cast<unsigned>((l.N * l.K + 255) / 256);
      decode_weights<<<blocks, 256>>>(wl, static_cast<int>(l.N), static_cast<int>(l.K),
                                      decoded->get(), ctr);
      w8 = decoded->get();
    }
    launch_tc_epilogue(l, x, w8, ep, ctr);
    t_last_int_kernel = "tensor cores";
  } else {
    int_gemm<<<grid_for(l.M, l.N), dim3(kTile, kTile)>>>(
        x, wl, static_cast<int>(l.M), static_cast<int>(l.N), static_cast<int>(l.K),
        static_cast<int>(l.G), l.elem_bits, l.elem_exact ? 0 : 1, ep, ctr);
    t_last_int_kernel = "simple";
  }
  check(cudaEventRecord(stop), "cudaEventRecord");
  sync(tc ? "tc_gemm" : "int_gemm");
  check(cudaEventElapsedTime(&t_last_kernel_ms, start, stop), "cudaEventElapsedTime");
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

// Copies the device counters into the result's overflow stages.
void collect(const std::vector<Counters>& c, const char* elem_stage, GemmCounters& out) {
  out.add_overflow(elem_stage, c[kElemWraps]);
  out.add_overflow(stage::kIntScaleAcc, c[kAccWraps]);
  out.add_overflow(stage::kDequantRange, c[kDequantRange]);
  out.invalid_codes += c[kInvalid];
}

GemmResult finish(GemmCounters counters, MatrixH y, const std::vector<Counters>& c, Scheme s,
                  const ActionShape& shape) {
  GemmResult r{std::move(y), std::move(counters)};
  detail::finish_output(r.counters, s, shape, c[kOutputInf]);
  return r;
}

MatrixH to_matrix(std::vector<std::uint16_t> v, std::size_t rows, std::size_t cols) {
  MatrixH m(rows, cols);
  m.values() = std::move(v);
  return m;
}

// ---- block-scaled host side -----------------------------------------------------------------

unsigned blocks_for(std::size_t n) { return static_cast<unsigned>((n + 255) / 256); }

// Small M (decode-like layers) gets 16 x 32 tiles so that a 4096-wide layer still spreads over
// every multiprocessor; larger M gets 64 x 64 tiles, each shared word then feeding 4 outputs.
template <class XT, int B, BlockMode Mode>
void launch_block_gemm(const XT* x, const std::int8_t* w, const BlockGemmArgs& a) {
  const dim3 threads(kBlockThreads, kBlockThreads);
  const auto tiles = [](int n, int t) { return static_cast<unsigned>((n + t - 1) / t); };
  if (a.M >= 128) {
    block_gemm<XT, B, Mode, 4, 4><<<dim3(tiles(a.N, 64), tiles(a.M, 64)), threads>>>(x, w, a);
  } else {
    block_gemm<XT, B, Mode, 1, 2><<<dim3(tiles(a.N, 32), tiles(a.M, 16)), threads>>>(x, w, a);
  }
}

template <class XT, int B>
void launch_block_mode(const XT* x, const std::int8_t* w, const BlockGemmArgs& a, BlockMode mode) {
  switch (mode) {
    case BlockMode::mx_fp32:
      launch_block_gemm<XT, B, BlockMode::mx_fp32>(x, w, a);
      break;
    case BlockMode::mx_fixed:
      launch_block_gemm<XT, B, BlockMode::mx_fixed>(x, w, a);
      break;
    case BlockMode::nvfp4:
      launch_block_gemm<XT, B, BlockMode::nvfp4>(x, w, a);
      break;
  }
}

class CudaEngine final : public GemmEngine {
 public:
  CudaEngine() {
    std::int8_t w2[2][16];
    std::uint8_t valid[2][16];
    for (int s = 0; s < 2; ++s) {
      const Dint4Table& t = dint4_table(s == 0 ? DintSet::A : DintSet::B);
      for (int c = 0; c < 16; ++c) {
        w2[s][c] = t.w2[static_cast<std::size_t>(c)];
        valid[s][c] = t.valid[static_cast<std::size_t>(c)] ? 1 : 0;
      }
    }
    check(cudaMemcpyToSymbol(c_dint_w2, w2, sizeof w2), "dint4 table upload");
    check(cudaMemcpyToSymbol(c_dint_valid, valid, sizeof valid), "dint4 table upload");
  }

  std::string_view name() const override { return "gpu"; }

  GemmResult fp16(const MatrixH& x, const MatrixH& w, const GemmOptions& opt) const override {
    detail::validate_fp16(x, w);
    return fp16_core(x, w, opt, {}, Scheme::fp16);
  }

  GemmResult w4a16(const MatrixH& x, const QuantizedWeights& w,
                   const GemmOptions& opt) const override {
    detail::validate_w4a16(x, w);
    const std::size_t N = w.rows(), K = w.cols();
    DeviceBuffer<std::int8_t> q(flat(w.codes));
    std::unique_ptr<DeviceBuffer<std::int8_t>> z;
    if (!w.symmetric()) z = std::make_unique<DeviceBuffer<std::int8_t>>(flat(w.zeros));
    DeviceBuffer<float> s(flat(w.scales));
    DeviceBuffer<std::uint16_t> wh(N * K);
    DeviceBuffer<Counters> ctr(kSlots);
    ctr.zero();
    if (N * K != 0) {
      const unsigned blocks = static_cast<unsigned>((N * K + 255) / 256);
      w4_to_fp16<<<blocks, 256>>>(q.get(), z ? z->get() : nullptr, s.get(), static_cast<int>(N),
                                  static_cast<int>(K), static_cast<int>(w.group_size),
                                  w.per_tensor ? 1 : 0, wh.get(), ctr.get());
      sync("w4_to_fp16");
    }
    GemmCounters pre;
    pre.add_overflow(stage::kDequantRange, ctr.download()[kDequantRange]);
    return fp16_core(x, to_matrix(wh.download(), N, K), opt, pre, Scheme::w4a16);
  }

  GemmResult w8a8(const QuantizedActivations& x, const QuantizedWeights& w,
                  const GemmOptions& opt) const override {
    detail::validate_w8a8(x, w, opt);
    DeviceBuffer<std::int8_t> wd(flat(w.codes));
    return int_scheme(x, Int8Weights{wd.get()}, channel_scales(w), 1.0f, false, {},
                      max_abs(w.codes), opt, Scheme::w8a8, {});
  }

  GemmResult w4a8_dint(const QuantizedActivations& x, const QuantizedWeights& w,
                       const GemmOptions& opt) const override {
    detail::validate_w4a8_dint(x, w, opt);
    DeviceBuffer<std::int8_t> codes(flat(w.codes));
    const int set = w.dint_set == DintSet::A ? 0 : 1;
    return int_scheme(x, DintWeights{codes.get(), set}, channel_scales(w), 0.5f, true, {},
                      2 * dint4_table(w.dint_set).max_level, opt, Scheme::w4a8_dint, {});
  }

  GemmResult w4a8_dgq(const QuantizedActivations& x, const TwoLevelWeights& w, DequantMode mode,
                      const GemmOptions& opt) const override {
    detail::validate_two_level_gemm(x, w, opt, Scheme::w4a8_dgq);
    return two_level(x, w, mode, kDgqDequantRange, opt, Scheme::w4a8_dgq);
  }

  GemmResult w4a8_qserve(const QuantizedActivations& x, const TwoLevelWeights& w,
                         const GemmOptions& opt) const override {
    detail::validate_two_level_gemm(x, w, opt, Scheme::w4a8_qserve);
    return two_level(x, w, DequantMode::materialized, kQserveDequantRange, opt,
                     Scheme::w4a8_qserve);
  }

  GemmResult w4a8_fs(const QuantizedActivations& x, const QuantizedWeights& w,
                     const GemmOptions& opt) const override {
    detail::validate_w4a8_group(x, w, opt, "w4a8-fs");
    const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols(), groups = w.groups();
    ActsOnDevice xd(x);
    DeviceBuffer<std::int8_t> wd(flat(w.codes));
    DeviceBuffer<float> s(flat(w.scales));
    DeviceBuffer<std::uint16_t> y(M * N);
    DeviceBuffer<Counters> ctr(kSlots);
    ctr.zero();
    const Launch l =
        launch_for(M, N, K, w.group_size, opt.psum_bits, max_abs(x.q), max_abs(w.codes));
    FsEpilogue ep{s.get(), static_cast<int>(groups), xd.scale.get(), xd.per_token,
                  y.get(), static_cast<int>(N)};
    run_int_gemm(l, xd.q.get(), Int8Weights{wd.get()}, ep, ctr.get());
    const std::vector<Counters> c = ctr.download();
    GemmCounters counters;
    collect(c, stage::kGroupPartialSum, counters);
    ActionShape shape;
    shape.m = M, shape.n = N, shape.k = K, shape.groups = groups, shape.opt = opt;
    return finish(std::move(counters), to_matrix(y.download(), M, N), c, Scheme::w4a8_fs, shape);
  }

  GemmResult w4a8_is(const QuantizedActivations& x, const QuantizedWeights& w,
                     const IntegerScales& is, const GemmOptions& opt) const override {
    detail::validate_w4a8_group(x, w, opt, "w4a8-is");
    const std::size_t M = x.q.rows(), N = w.rows(), K = w.cols(), groups = w.groups();
    const std::int64_t s_max = detail::validate_int_scales(w, is);
    ActsOnDevice xd(x);
    DeviceBuffer<std::int8_t> wd(flat(w.codes));
    DeviceBuffer<std::int32_t> S(flat(is.S));
    DeviceBuffer<std::uint16_t> y(M * N);
    DeviceBuffer<Counters> ctr(kSlots);
    ctr.zero();
    const Launch l =
        launch_for(M, N, K, w.group_size, opt.psum_bits, max_abs(x.q), max_abs(w.codes));
    // Same bound as the reference: groups * max|P| * max S within acc_bits means no wrap.
    const int128_t p_max =
        std::min<int128_t>(static_cast<int128_t>(w.group_size) * max_abs(x.q) * max_abs(w.codes),
                           int128_t{1} << (opt.psum_bits - 1));
    const int128_t bound = static_cast<int128_t>(groups) * p_max * s_max;
    const bool no_wrap = fits_signed(bound, opt.acc_bits) && fits_signed(-bound, opt.acc_bits);
    IsEpilogue ep{S.get(),        static_cast<int>(groups), opt.acc_bits, xd.scale.get(),
                  xd.per_token,   exp2_exact(-is.bits),     y.get(),      static_cast<int>(N),
                  no_wrap ? 1 : 0};
    run_int_gemm(l, xd.q.get(), Int8Weights{wd.get()}, ep, ctr.get());
    const std::vector<Counters> c = ctr.download();
    GemmCounters counters;
    collect(c, stage::kGroupPartialSum, counters);
    ActionShape shape;
    shape.m = M, shape.n = N, shape.k = K, shape.groups = groups, shape.opt = opt;
    shape.int_scale_max = s_max;
    return finish(std::move(counters), to_matrix(y.download(), M, N), c, Scheme::w4a8_is, shape);
  }

  // The block-scaled schemes (spec §5): the reference's checks first (gemm_block_scheme's, in
  // its order, so a bad operand fails with the same words), then decode, count and accumulate
  // on the device; the actions are the reference's formula of the shape.
  GemmResult block_scaled(Scheme s, const BlockTensor& x, const BlockTensor& w,
                          const GemmOptions& opt) const override {
    check_block_operands(s, x, w, opt);
    const BlockAccOptions bo = block_acc_options(opt);
    detail::validate_block_gemm(x, w, bo);
    const std::size_t M = x.rows(), N = w.rows(), K = x.cols(), blocks = x.blocks();
    if (M > 65535u * 16u) {
      throw Error("CUDA path: M = " + std::to_string(M) + " exceeds 1,048,560 rows");
    }
    const bool nv = x.scale == BlockScale::e4m3;
    const bool wide_x = x.elem == BlockElem::e4m3;  // E4M3 integers need 18 bits + sign
    DeviceBuffer<std::uint8_t> xc(flat(x.codes)), wc(flat(w.codes));
    DeviceBuffer<std::uint8_t> xs(flat(x.scales)), ws(flat(w.scales));
    DeviceBuffer<std::int8_t> wi(N * K), xi8(wide_x ? 0 : M * K);
    DeviceBuffer<std::int32_t> xi32(wide_x ? M * K : 0);
    DeviceBuffer<std::uint16_t> y(M * N);
    DeviceBuffer<Counters> ctr(kSlots);
    ctr.zero();

    t_last_kernel_ms = 0.0f;
    // Both operands' element integers fit int8 (not E4M3's) and rows are whole 16-byte chunks:
    // the tensor cores sum each block exactly (the block terms follow in block_gemm's order).
    const bool tc =
        tensor_cores_on(kBlockTensorCoresByDefault) && !wide_x && K % 16 == 0 && M && N;
    t_last_int_kernel = tc ? "tensor cores" : M && N ? "simple" : "none";
    cudaEvent_t start, stop;
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
    check(cudaEventRecord(start), "cudaEventRecord");
    if (N * K != 0)
      block_decode<<<blocks_for(N * K), 256>>>(wc.get(), N * K, w.elem, wi.get(), ctr.get());
    if (M * K != 0) {
      if (wide_x) {
        block_decode<<<blocks_for(M * K), 256>>>(xc.get(), M * K, x.elem, xi32.get(), ctr.get());
      } else {
        block_decode<<<blocks_for(M * K), 256>>>(xc.get(), M * K, x.elem, xi8.get(), ctr.get());
      }
    }
    if (!nv) {
      if (M * blocks != 0)
        count_e8m0_nan<<<blocks_for(M * blocks), 256>>>(xs.get(), M * blocks, ctr.get());
      if (N * blocks != 0)
        count_e8m0_nan<<<blocks_for(N * blocks), 256>>>(ws.get(), N * blocks, ctr.get());
    }
    if (M && N) {
      BlockGemmArgs a{xs.get(),
                      ws.get(),
                      static_cast<int>(M),
                      static_cast<int>(N),
                      static_cast<int>(K),
                      static_cast<int>(blocks),
                      block_unit(x.elem, w.elem),
                      bo.acc_bits,
                      bo.frac_bits,
                      x.tensor_scale,
                      w.tensor_scale,
                      y.get(),
                      ctr.get()};
      const BlockMode mode = nv                           ? BlockMode::nvfp4
                             : bo.mode == BlockAcc::fixed ? BlockMode::mx_fixed
                                                          : BlockMode::mx_fp32;
      if (tc) {
        const Launch l{M, N, K, static_cast<std::size_t>(nv ? kNvfp4Block : kMxBlock), 8, true,
                       true};
        if (mode == BlockMode::nvfp4) {
          launch_tc_block<BlockMode::nvfp4>(l, xi8.get(), wi.get(), a, ctr.get());
        } else if (mode == BlockMode::mx_fixed) {
          launch_tc_block<BlockMode::mx_fixed>(l, xi8.get(), wi.get(), a, ctr.get());
        } else {
          launch_tc_block<BlockMode::mx_fp32>(l, xi8.get(), wi.get(), a, ctr.get());
        }
      } else if (wide_x) {
        launch_block_mode<std::int32_t, kMxBlock>(xi32.get(), wi.get(), a, mode);
      } else if (nv) {
        launch_block_mode<std::int8_t, kNvfp4Block>(xi8.get(), wi.get(), a, mode);
      } else {
        launch_block_mode<std::int8_t, kMxBlock>(xi8.get(), wi.get(), a, mode);
      }
    }
    check(cudaEventRecord(stop), "cudaEventRecord");
    sync(tc ? "tc_gemm (block-scaled)" : "block_gemm");
    check(cudaEventElapsedTime(&t_last_kernel_ms, start, stop), "cudaEventElapsedTime");
    cudaEventDestroy(start);
    cudaEventDestroy(stop);

    const std::vector<Counters> c = ctr.download();
    GemmResult r{to_matrix(y.download(), M, N), {}};
    r.counters.invalid_codes = c[kInvalid];
    r.counters.add_overflow(stage::kInvalidScale, c[kInvalidScale]);
    r.counters.add_overflow(stage::kBlockAlignRound, c[kAlignRound]);
    r.counters.add_overflow(stage::kBlockAcc, c[kBlockAccEv]);
    r.counters.add_overflow(stage::kOutputFp16Inf, c[kOutputInf]);
    add_block_gemm_actions(r.counters, x, w, bo);
    return r;
  }

 private:
  GemmResult fp16_core(const MatrixH& x, const MatrixH& w, const GemmOptions& opt, GemmCounters pre,
                       Scheme scheme) const {
    const std::size_t M = x.rows(), N = w.rows(), K = x.cols();
    DeviceBuffer<std::uint16_t> xd(flat(x)), wd(flat(w)), y(M * N);
    DeviceBuffer<Counters> ctr(kSlots);
    ctr.zero();
    if (M && N) {
      const int tile = opt.k_tile > K ? 0 : static_cast<int>(opt.k_tile);
      fp16_gemm<<<grid_for(M, N), dim3(kTile, kTile)>>>(xd.get(), wd.get(), static_cast<int>(M),
                                                        static_cast<int>(N), static_cast<int>(K),
                                                        tile, y.get(), ctr.get());
      sync("fp16_gemm");
    }
    ActionShape shape;
    shape.m = M, shape.n = N, shape.k = K, shape.opt = opt;
    return finish(std::move(pre), to_matrix(y.download(), M, N), ctr.download(), scheme, shape);
  }

  // The K-long integer schemes: one group spanning K, IntEpilogue.
  template <class Weights>
  GemmResult int_scheme(const QuantizedActivations& x, Weights wl, const std::vector<float>& sn,
                        float post, bool has_post, const std::vector<float>& bias, int w_max,
                        const GemmOptions& opt, Scheme scheme, DequantMode mode,
                        GemmCounters pre = {}, Counters* shared_ctr = nullptr) const {
    const std::size_t M = x.q.rows(), N = sn.size(), K = x.q.cols();
    ActsOnDevice xd(x);
    DeviceBuffer<float> snd(sn);
    std::unique_ptr<DeviceBuffer<float>> bd;
    if (!bias.empty()) bd = std::make_unique<DeviceBuffer<float>>(bias);
    DeviceBuffer<std::uint16_t> y(M * N);
    DeviceBuffer<Counters> own(kSlots);
    own.zero();
    Counters* ctr = shared_ctr ? shared_ctr : own.get();
    const Launch l = launch_for(M, N, K, K ? K : 1, opt.acc_bits, max_abs(x.q), w_max);
    IntEpilogue ep{xd.scale.get(), xd.per_token,       snd.get(),
                   post,           has_post ? 1 : 0,   bd ? bd->get() : nullptr,
                   y.get(),        static_cast<int>(N)};
    run_int_gemm(l, xd.q.get(), wl, ep, ctr);
    std::vector<Counters> c(kSlots);
    check(cudaMemcpy(c.data(), ctr, kSlots * sizeof(Counters), cudaMemcpyDeviceToHost), "download");
    collect(c, stage::kAccumulator, pre);
    ActionShape shape;
    shape.m = M, shape.n = N, shape.k = K, shape.opt = opt, shape.bias = !bias.empty();
    shape.dequant = mode;
    return finish(std::move(pre), to_matrix(y.download(), M, N), c, scheme, shape);
  }

  GemmResult two_level(const QuantizedActivations& x, const TwoLevelWeights& w, DequantMode mode,
                       DequantRange range, const GemmOptions& opt, Scheme scheme) const {
    const std::size_t N = w.rows(), K = w.cols();
    DeviceBuffer<std::uint8_t> q(flat(w.q)), z(flat(w.zeros));
    DeviceBuffer<std::int32_t> s(flat(w.group_scale));
    DeviceBuffer<Counters> ctr(kSlots);
    ctr.zero();
    const int w_max = std::max(-range.lo, range.hi);
    if (mode == DequantMode::fused) {
      TwoLevelOnLoad wl{q.get(),  z.get(), s.get(), static_cast<int>(w.group_size),
                        range.lo, range.hi};
      return int_scheme(x, wl, w.channel_scale, 1.0f, false, w.bias, w_max, opt, scheme, mode, {},
                        ctr.get());
    }
    DeviceBuffer<std::int8_t> w8(N * K);
    if (N * K != 0) {
      const unsigned blocks = static_cast<unsigned>((N * K + 255) / 256);
      two_level_materialize<<<blocks, 256>>>(q.get(), z.get(), s.get(), static_cast<int>(N),
                                             static_cast<int>(K), static_cast<int>(w.group_size),
                                             range.lo, range.hi, w8.get(), ctr.get());
      sync("two_level_materialize");
    }
    return int_scheme(x, Int8Weights{w8.get()}, w.channel_scale, 1.0f, false, w.bias, w_max, opt,
                      scheme, mode, {}, ctr.get());
  }
};

}  // namespace

bool cuda_usable(std::string& description) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    description = e != cudaSuccess ? std::string("no usable GPU (cudaGetDeviceCount: ") +
                                         cudaGetErrorString(e) + ")"
                                   : "no GPU present";
    return false;
  }
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  int driver = 0;
  cudaDriverGetVersion(&driver);
  description = std::string(prop.name) + " (sm_" + std::to_string(prop.major) +
                std::to_string(prop.minor) + ", driver API " + std::to_string(driver) + ")";
  return true;
}

std::unique_ptr<GemmEngine> make_cuda_engine() { return std::make_unique<CudaEngine>(); }

double last_kernel_ms() { return t_last_kernel_ms; }

const char* last_int_kernel() { return t_last_int_kernel; }

}  // namespace quasar::gpu
