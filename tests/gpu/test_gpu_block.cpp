// Does the CUDA path compute the block-scaled schemes (arithmetic spec §5: w4a8-mx, w4a4-mxfp4,
// w8a8-mxint8 with fp32 and fixed block accumulation, w4a4-nvfp4) bit-exactly like the CPU
// reference, with the same counters and the same errors? Quantized operands and raw codes (with
// the spec's events: E8M0 255, MXINT8 -128, E4M3 NaN elements, terms that overflow to inf),
// ragged shapes for both tile sizes, and LLaMA-size layers (timed). Without a usable GPU the
// tests skip and say why, as test_gpu_engine's do.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "gpu/device.hpp"
#include "numerics/block_scaled.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm_block.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {
namespace {

const GemmEngine* gpu_or_skip() {
  bool usable = false;
  gpu_status(usable);
  if (!usable) return nullptr;
  return choose_engine(DeviceChoice::gpu).engine;
}

#define REQUIRE_GPU(var)                                         \
  const GemmEngine* var = gpu_or_skip();                         \
  if (!var) {                                                    \
    bool usable_ = false;                                        \
    GTEST_SKIP() << "GPU test skipped: " << gpu_status(usable_); \
  }

std::uint64_t event(const GemmCounters& c, const char* stage_name) {
  const auto it = c.overflow.find(stage_name);
  return it == c.overflow.end() ? 0 : it->second;
}

// Outputs bit for bit (first mismatches reported as codes), and every counter.
void expect_same(const GemmResult& gpu, const GemmResult& cpu, const std::string& what) {
  ASSERT_EQ(gpu.y.rows(), cpu.y.rows()) << what;
  ASSERT_EQ(gpu.y.cols(), cpu.y.cols()) << what;
  std::size_t diffs = 0;
  for (std::size_t i = 0; i < cpu.y.size(); ++i) {
    if (gpu.y.values()[i] != cpu.y.values()[i] && diffs++ < 3) {
      ADD_FAILURE() << what << ": output " << i / cpu.y.cols() << "," << i % cpu.y.cols()
                    << " gpu 0x" << std::hex << gpu.y.values()[i] << " cpu 0x" << cpu.y.values()[i];
    }
  }
  EXPECT_EQ(diffs, 0u) << what;
  EXPECT_EQ(gpu.counters.actions, cpu.counters.actions) << what;
  EXPECT_EQ(gpu.counters.overflow, cpu.counters.overflow) << what;
  EXPECT_EQ(gpu.counters.invalid_codes, cpu.counters.invalid_codes) << what;
}

struct Mode {
  BlockAcc acc;
  int acc_bits, frac_bits;
};
// fp32; fixed at the defaults (48/24); narrow accumulators that wrap (24/8, 16/2, 2/0); a wide
// one (64/40); frac_bits 126 (every left shift leaves the width: block_acc events).
const Mode kModes[] = {{BlockAcc::fp32, 48, 24},  {BlockAcc::fixed, 48, 24},
                       {BlockAcc::fixed, 24, 8},  {BlockAcc::fixed, 16, 2},
                       {BlockAcc::fixed, 2, 0},   {BlockAcc::fixed, 64, 40},
                       {BlockAcc::fixed, 40, 126}};

GemmOptions options(const Mode& md) {
  GemmOptions o;
  o.block_acc = md.acc;
  o.acc_bits = md.acc_bits;
  o.frac_bits = md.frac_bits;
  return o;
}

std::string mode_text(const Mode& md) {
  return md.acc == BlockAcc::fp32
             ? std::string("fp32")
             : "fixed " + std::to_string(md.acc_bits) + "/" + std::to_string(md.frac_bits);
}

const Scheme kSchemes[] = {Scheme::w4a8_mx, Scheme::w4a4_mxfp4, Scheme::w8a8_mxint8,
                           Scheme::w4a4_nvfp4};

// Floats with a spread of magnitudes: each 16-element run gets its own power of two in
// [2^-40, 2^40] (so blocks' shared exponents and NVFP4 scales differ widely, fp32 terms reach
// subnormals and overflow), some runs are all zero, a few elements are outliers.
MatrixF spread_floats(std::size_t rows, std::size_t cols, Rng& rng, int span) {
  MatrixF v(rows, cols);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c0 = 0; c0 < cols; c0 += 16) {
      const double mag = std::ldexp(
          1.0, static_cast<int>(rng.next() % static_cast<std::uint64_t>(2 * span + 1)) - span);
      const bool zero = rng.next() % 11 == 0;
      for (std::size_t c = c0; c < std::min(cols, c0 + 16); ++c) {
        const double out = rng.uniform() < 0.02 ? 40.0 : 1.0;
        v(r, c) = zero ? 0.0f : static_cast<float>(rng.normal() * mag * out);
      }
    }
  }
  return v;
}

// Raw codes of the scheme's formats, as a file could hold them. With `events`: every element
// code (MXINT8 -128 and E4M3 NaNs included) and E8M0 255s; without, invalid codes become 0.
// E8M0 scales within `spread` of 127 (spread 127: terms reach fp32 subnormals and inf); NVFP4
// scales any valid E4M3 magnitude, tensor scales around 2^(spread/4 - 4).
BlockTensor raw_tensor(Scheme s, bool weights, std::size_t rows, std::size_t K, Rng& rng,
                       int spread, bool events) {
  const SchemeInfo& i = traits(s);
  BlockTensor t;
  t.elem = weights ? i.w_elem : i.x_elem;
  t.scale = i.e4m3_scales ? BlockScale::e4m3 : BlockScale::e8m0;
  t.block = i.block;
  t.codes = MatrixU8(rows, K);
  t.scales = MatrixU8(rows, K / i.block);
  for (std::uint8_t& c : t.codes.values()) {
    std::uint8_t v = static_cast<std::uint8_t>(rng.next() & (t.elem == BlockElem::e2m1 ? 15 : 255));
    if (!events && !elem_valid(t.elem, v)) v = 0;
    c = v;
  }
  for (std::uint8_t& c : t.scales.values()) {
    if (i.e4m3_scales) {
      c = static_cast<std::uint8_t>(rng.next() % 0x7f);
    } else {
      const auto d = static_cast<int>(rng.next() % static_cast<std::uint64_t>(2 * spread + 1));
      c = static_cast<std::uint8_t>(std::clamp(127 - spread + d, 0, 254));
      if (events && rng.next() % 23 == 0) c = 255;
    }
  }
  if (i.e4m3_scales) {
    t.tensor_scale = static_cast<float>(std::ldexp(0.5 + rng.uniform(), spread / 4 - 4));
  }
  return t;
}

struct Shape {
  std::size_t m, k, n;
};
// Ragged edges of both tile sizes (16 x 32 below M = 128, 64 x 64 from it), K tiles that end
// part-way (3 MX blocks, 5 NVFP4 blocks), one block, one output.
const Shape kShapes[] = {{1, 32, 1}, {37, 96, 45}, {13, 80, 70}, {130, 160, 77}, {200, 256, 129}};

bool fits_scheme(const Shape& sh, Scheme s) { return sh.k % traits(s).block == 0; }

TEST(GpuBlockScaled, QuantizedOperandsMatchReference) {
  REQUIRE_GPU(gpu);
  Rng rng(11);
  std::uint64_t compared = 0;
  for (const Shape& sh : kShapes) {
    for (Scheme s : kSchemes) {
      if (!fits_scheme(sh, s)) continue;
      for (int span : {2, 40}) {
        const BlockTensor x =
            quantize_block_operand(s, false, spread_floats(sh.m, sh.k, rng, span), "x");
        const BlockTensor w =
            quantize_block_operand(s, true, spread_floats(sh.n, sh.k, rng, span), "w");
        for (const Mode& md : kModes) {
          if (traits(s).e4m3_scales && md.acc == BlockAcc::fixed) continue;
          const GemmOptions o = options(md);
          expect_same(gpu->block_scaled(s, x, w, o), cpu_engine().block_scaled(s, x, w, o),
                      std::string(scheme_name(s)) + " quantized " + mode_text(md) + " span " +
                          std::to_string(span) + " shape " + std::to_string(sh.m) + "x" +
                          std::to_string(sh.k) + "x" + std::to_string(sh.n));
          compared += sh.m * sh.n;
        }
      }
    }
  }
  std::printf("quantized operands: %llu outputs compared\n",
              static_cast<unsigned long long>(compared));
}

TEST(GpuBlockScaled, RawCodesWithEventsMatchReference) {
  REQUIRE_GPU(gpu);
  std::uint64_t seed = 100, compared = 0;
  GemmCounters seen;  // the reference's events over the sweep: each corner must be reached
  for (const Shape& sh : kShapes) {
    for (Scheme s : kSchemes) {
      if (!fits_scheme(sh, s)) continue;
      for (const Mode& md : kModes) {
        if (traits(s).e4m3_scales && md.acc == BlockAcc::fixed) continue;
        for (int spread : {0, 4, 20, 127}) {
          for (bool events : {false, true}) {
            Rng rng(seed++);
            const BlockTensor x = raw_tensor(s, false, sh.m, sh.k, rng, spread, events);
            const BlockTensor w = raw_tensor(s, true, sh.n, sh.k, rng, spread, events);
            const GemmOptions o = options(md);
            const GemmResult cpu = cpu_engine().block_scaled(s, x, w, o);
            expect_same(gpu->block_scaled(s, x, w, o), cpu,
                        std::string(scheme_name(s)) + " raw " + mode_text(md) + " spread " +
                            std::to_string(spread) + (events ? " events" : "") + " shape " +
                            std::to_string(sh.m) + "x" + std::to_string(sh.k) + "x" +
                            std::to_string(sh.n));
            seen.merge(cpu.counters);
            compared += sh.m * sh.n;
          }
        }
      }
    }
  }
  EXPECT_GT(event(seen, stage::kInvalidScale), 100u);
  EXPECT_GT(seen.invalid_codes, 100u);
  EXPECT_GT(event(seen, stage::kOutputFp16Inf), 100u);
  EXPECT_GT(event(seen, stage::kBlockAlignRound), 100u);
  EXPECT_GT(event(seen, stage::kBlockAcc), 100u);
  std::printf(
      "raw codes: %llu outputs compared; reference events: invalid_scale %llu, invalid_codes "
      "%llu, output_fp16_inf %llu, block_align_round %llu, block_acc %llu\n",
      static_cast<unsigned long long>(compared),
      static_cast<unsigned long long>(event(seen, stage::kInvalidScale)),
      static_cast<unsigned long long>(seen.invalid_codes),
      static_cast<unsigned long long>(event(seen, stage::kOutputFp16Inf)),
      static_cast<unsigned long long>(event(seen, stage::kBlockAlignRound)),
      static_cast<unsigned long long>(event(seen, stage::kBlockAcc)));
}

// Zero-sized operands: M = 0, N = 0 and K = 0 (every output +0) are not errors.
// Both kernels equal the reference: the tensor-core path (every scheme but w4a8-mx, whose E4M3
// activations do not fit int8: it stays on the simple kernel) and the simple one, on ragged
// shapes of every tile size (16 x 32 up to M = 64, 128 x 128 above), NVFP4's half steps cut at
// K's end (K = 80), raw codes with and without the spec's events; the kernel taken is asserted.
TEST(GpuBlockScaled, TensorCorePathMatchesReference) {
  REQUIRE_GPU(gpu);
  const Shape shapes[] = {{1, 32, 1},     {37, 96, 45},   {13, 80, 70},
                          {64, 512, 96},  {130, 160, 77}, {200, 1024, 129}};
  const Mode modes[] = {kModes[0], kModes[1], kModes[3], kModes[6]};
  std::uint64_t seed = 900;
  for (const char* kernels : {"tensor-cores", "simple"}) {
    setenv("QUASAR_GPU_KERNELS", kernels, 1);
    for (const Shape& sh : shapes) {
      for (Scheme s : kSchemes) {
        if (!fits_scheme(sh, s)) continue;
        for (const Mode& md : modes) {
          if (traits(s).e4m3_scales && md.acc == BlockAcc::fixed) continue;
          for (bool events : {false, true}) {
            Rng rng(seed++);
            const int spread = events ? 127 : 4;
            const BlockTensor x = raw_tensor(s, false, sh.m, sh.k, rng, spread, events);
            const BlockTensor w = raw_tensor(s, true, sh.n, sh.k, rng, spread, events);
            const GemmOptions o = options(md);
            const std::string what = std::string(kernels) + " " + std::string(scheme_name(s)) +
                                     " " + mode_text(md) + (events ? " events" : "") +
                                     " shape " + std::to_string(sh.m) + "x" +
                                     std::to_string(sh.k) + "x" + std::to_string(sh.n);
            const GemmResult g = gpu->block_scaled(s, x, w, o);
            const bool tc = std::string(kernels) == "tensor-cores" && s != Scheme::w4a8_mx;
            EXPECT_EQ(last_gpu_int_kernel(), tc ? "tensor cores" : "simple") << what;
            expect_same(g, cpu_engine().block_scaled(s, x, w, o), what);
          }
        }
      }
    }
  }
  unsetenv("QUASAR_GPU_KERNELS");
}

TEST(GpuBlockScaled, EmptyShapesMatchReference) {
  REQUIRE_GPU(gpu);
  Rng rng(12);
  for (Scheme s : kSchemes) {
    const std::size_t B = traits(s).block;
    for (const Shape& sh : {Shape{0, B, 3}, Shape{3, B, 0}, Shape{4, 0, 5}}) {
      const BlockTensor x = raw_tensor(s, false, sh.m, sh.k, rng, 4, false);
      const BlockTensor w = raw_tensor(s, true, sh.n, sh.k, rng, 4, false);
      expect_same(gpu->block_scaled(s, x, w, {}), cpu_engine().block_scaled(s, x, w, {}),
                  std::string(scheme_name(s)) + " empty " + std::to_string(sh.m) + "x" +
                      std::to_string(sh.k) + "x" + std::to_string(sh.n));
    }
  }
}

// The message of what `f` throws ("" when it does not throw).
template <class F>
std::string thrown(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(GpuBlockScaled, RejectsBadOperandsWithTheReferenceWords) {
  REQUIRE_GPU(gpu);
  Rng rng(13);
  const auto op = [&](Scheme s, bool weights) {
    return raw_tensor(s, weights, 3, 64, rng, 4, false);
  };
  struct Case {
    std::string what;
    Scheme s;
    BlockTensor x, w;
    GemmOptions o;
  };
  std::vector<Case> cases;
  const BlockTensor mx8 = op(Scheme::w4a8_mx, false), f4 = op(Scheme::w4a8_mx, true);
  const BlockTensor i8 = op(Scheme::w8a8_mxint8, false), nv = op(Scheme::w4a4_nvfp4, false);
  GemmOptions fixed;
  fixed.block_acc = BlockAcc::fixed;
  cases.push_back({"not block-scaled", Scheme::w8a8, mx8, f4, {}});
  cases.push_back({"x format of another scheme", Scheme::w4a8_mx, f4, f4, {}});
  cases.push_back({"w format of another scheme", Scheme::w8a8_mxint8, i8, f4, {}});
  cases.push_back({"nvfp4 fixed", Scheme::w4a4_nvfp4, nv, nv, fixed});
  BlockTensor t = f4;
  t.codes = MatrixU8(3, 96);
  t.scales = MatrixU8(3, 3);
  cases.push_back({"K differs", Scheme::w4a8_mx, mx8, t, {}});
  t = f4;
  t.codes = MatrixU8(3, 40);
  cases.push_back({"K not a multiple of the block", Scheme::w4a8_mx, mx8, t, {}});
  t = f4;
  t.scales = MatrixU8(3, 1, 127);
  cases.push_back({"scales shape", Scheme::w4a8_mx, mx8, t, {}});
  t = f4;
  t.tensor_scale = 2.0f;
  cases.push_back({"MX tensor scale", Scheme::w4a8_mx, mx8, t, {}});
  GemmOptions wide = fixed;
  wide.acc_bits = 65;
  cases.push_back({"acc_bits 65", Scheme::w4a8_mx, mx8, f4, wide});
  GemmOptions frac = fixed;
  frac.frac_bits = 127;
  cases.push_back({"frac_bits 127", Scheme::w4a8_mx, mx8, f4, frac});
  t = f4;
  t.codes(2, 9) = 0x1f;
  cases.push_back({"E2M1 code 0x1f", Scheme::w4a8_mx, mx8, t, {}});
  t = nv;
  t.scales(1, 3) = 0x7f;
  cases.push_back({"NVFP4 scale NaN", Scheme::w4a4_nvfp4, nv, t, {}});
  t = nv;
  t.scales(0, 2) = 0xb8;
  cases.push_back({"NVFP4 scale sign", Scheme::w4a4_nvfp4, t, nv, {}});
  t = nv;
  t.tensor_scale = INFINITY;
  cases.push_back({"NVFP4 tensor scale inf", Scheme::w4a4_nvfp4, t, nv, {}});
  t = nv;
  t.tensor_scale = 0.0f;
  cases.push_back({"NVFP4 tensor scale 0", Scheme::w4a4_nvfp4, nv, t, {}});
  for (const Case& c : cases) {
    const std::string cpu = thrown([&] { cpu_engine().block_scaled(c.s, c.x, c.w, c.o); });
    const std::string g = thrown([&] { gpu->block_scaled(c.s, c.x, c.w, c.o); });
    EXPECT_FALSE(cpu.empty()) << c.what << ": the reference must reject it";
    EXPECT_EQ(g, cpu) << c.what;
  }
}

// LLaMA-2-7B projection shapes (K = N = 4096): operands quantized from spread floats, once per
// scheme for both LLaMA tests.
struct LlamaOperands {
  BlockTensor w, x16, x2k;
};
const LlamaOperands& llama_operands(Scheme s) {
  static std::vector<std::pair<Scheme, LlamaOperands>> cache;
  for (const auto& e : cache) {
    if (e.first == s) return e.second;
  }
  Rng rng(14 + static_cast<std::uint64_t>(s));
  LlamaOperands o;
  o.w = quantize_block_operand(s, true, spread_floats(4096, 4096, rng, 3), "w");
  o.x16 = quantize_block_operand(s, false, spread_floats(16, 4096, rng, 3), "x");
  o.x2k = quantize_block_operand(s, false, spread_floats(2048, 4096, rng, 3), "x");
  cache.emplace_back(s, std::move(o));
  return cache.back().second;
}

// The modes the LLaMA tests run: fp32, and fixed at the defaults for the MX schemes.
std::vector<Mode> llama_modes(Scheme s) {
  if (traits(s).e4m3_scales) return {kModes[0]};
  return {kModes[0], kModes[1]};
}

// A decode-like layer, 16 x 4096 x 4096, checked whole (outputs and counters) for every scheme
// and accumulation; the kernel time is the second of two runs.
TEST(GpuBlockScaled, LlamaDecodeShapeMatchesReference) {
  REQUIRE_GPU(gpu);
  bool usable = false;
  std::printf("device: %s\n", gpu_status(usable).c_str());
  for (Scheme s : kSchemes) {
    const LlamaOperands& op = llama_operands(s);
    for (const Mode& md : llama_modes(s)) {
      const GemmOptions o = options(md);
      const GemmResult want = cpu_engine().block_scaled(s, op.x16, op.w, o);
      for (const char* kernels : {"simple", "tensor-cores"}) {
        setenv("QUASAR_GPU_KERNELS", kernels, 1);
        gpu->block_scaled(s, op.x16, op.w, o);
        const auto t0 = std::chrono::steady_clock::now();
        const GemmResult g = gpu->block_scaled(s, op.x16, op.w, o);
        const double call_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        const double kernel_ms = last_gpu_kernel_ms();
        expect_same(g, want, std::string(scheme_name(s)) + " " + mode_text(md) + " " + kernels +
                                 " 16x4096x4096");
        std::printf("%-12s %-12s 16x4096x4096: kernels %.3f ms (%s), whole call %.1f ms\n",
                    scheme_name(s).data(), mode_text(md).c_str(), kernel_ms,
                    last_gpu_int_kernel().c_str(), call_ms);
        std::fflush(stdout);
      }
      unsetenv("QUASAR_GPU_KERNELS");
    }
  }
}

// A 2048-token prefill layer, 2048 x 4096 x 4096, timed; its outputs are checked against the
// reference on 16 rows spread over the tiles (output rows are independent; the reference of
// the whole layer would take minutes per scheme).
TEST(GpuBlockScaled, LlamaPrefillShapeIsTimedAndRowsMatch) {
  REQUIRE_GPU(gpu);
  const std::size_t K = 4096, N = 4096;
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < 16; ++i) rows.push_back(i == 15 ? 2047 : i * 131 + (i % 3));
  for (Scheme s : kSchemes) {
    const LlamaOperands& op = llama_operands(s);
    BlockTensor xs = op.x2k;
    xs.codes = MatrixU8(16, K);
    xs.scales = MatrixU8(16, op.x2k.blocks());
    for (std::size_t i = 0; i < 16; ++i) {
      std::copy(op.x2k.codes.row(rows[i]), op.x2k.codes.row(rows[i]) + K, xs.codes.row(i));
      std::copy(op.x2k.scales.row(rows[i]), op.x2k.scales.row(rows[i]) + op.x2k.blocks(),
                xs.scales.row(i));
    }
    for (const Mode& md : llama_modes(s)) {
      const GemmOptions o = options(md);
      // The simple kernel first, as the baseline, then the tensor cores where the scheme has
      // them (not the default for block-scaled schemes: this is where that was decided): both
      // printed, the second's outputs checked.
      setenv("QUASAR_GPU_KERNELS", "simple", 1);
      gpu->block_scaled(s, op.x2k, op.w, o);
      const double simple_ms = last_gpu_kernel_ms();
      setenv("QUASAR_GPU_KERNELS", "tensor-cores", 1);
      const auto t0 = std::chrono::steady_clock::now();
      const GemmResult big = gpu->block_scaled(s, op.x2k, op.w, o);
      const double call_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const double kernel_ms = last_gpu_kernel_ms();
      std::printf(
          "%-12s %-12s 2048x4096x4096: kernels %.3f ms (%s; simple kernel %.3f ms, %.1fx), whole "
          "call %.1f ms\n",
          scheme_name(s).data(), mode_text(md).c_str(), kernel_ms, last_gpu_int_kernel().c_str(),
          simple_ms, simple_ms / kernel_ms, call_ms);
      std::fflush(stdout);
      unsetenv("QUASAR_GPU_KERNELS");
      const GemmResult part = cpu_engine().block_scaled(s, xs, op.w, o);
      std::size_t diffs = 0;
      for (std::size_t i = 0; i < 16; ++i) {
        for (std::size_t n = 0; n < N; ++n) diffs += big.y(rows[i], n) != part.y(i, n);
      }
      EXPECT_EQ(diffs, 0u) << scheme_name(s) << " " << mode_text(md)
                           << " 2048x4096x4096, checked rows";
    }
  }
}

}  // namespace
}  // namespace quasar
