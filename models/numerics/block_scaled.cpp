// Block-scaled formats (arithmetic spec §5): quantizers, checks and the reference GEMM. Every
// rounding of an element, a scale or a block term is a block_formats.hpp function; this file
// orders the steps as the spec writes them and counts what it says to count.
#include "block_scaled.hpp"

#include "action_counts.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "error.hpp"
#include "float_formats.hpp"
#include "gemm_checks.hpp"
#include "int_formats.hpp"
#include "quantize_activations.hpp"

namespace quasar {
namespace {

const char* elem_name(BlockElem f) {
  return f == BlockElem::e2m1 ? "E2M1" : f == BlockElem::e4m3 ? "E4M3" : "MXINT8";
}

std::string hex(std::uint8_t c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned>(c));
  return buf;
}

std::string at(std::size_t r, std::size_t c) {
  return "[" + std::to_string(r) + ", " + std::to_string(c) + "]";
}

std::string num(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(v));
  return buf;
}

const char* kAcceptedFormats =
    "accepted: MX (E8M0 scale per 32; E2M1, E4M3 or MXINT8 elements) or NVFP4 (E2M1 elements, "
    "E4M3 scale per 16, an fp32 tensor scale)";

bool is_nvfp4(const BlockTensor& t) { return t.scale == BlockScale::e4m3; }

// An NVFP4 block-scale code the datapath can take: not the E4M3 NaN, sign bit clear (S_b is a
// magnitude; the quantizer never writes a negative one).
bool nvfp4_scale_ok(std::uint8_t c) { return elem_valid(BlockElem::e4m3, c) && (c & 0x80) == 0; }

// The format combination, K, the scales' shape and the tensor scale: what makes a tensor one of
// §5's formats at all, whatever its codes hold.
void check_structure(const BlockTensor& t, const std::string& tensor) {
  const bool mx = t.scale == BlockScale::e8m0 && t.block == kMxBlock;
  const bool nv =
      t.scale == BlockScale::e4m3 && t.block == kNvfp4Block && t.elem == BlockElem::e2m1;
  if (!mx && !nv) {
    throw OperandError(tensor, std::string(": ") + elem_name(t.elem) + " elements with " +
                                   (t.scale == BlockScale::e8m0 ? "E8M0" : "E4M3") +
                                   " scales per " + std::to_string(t.block) +
                                   " is not a block format of the spec; " + kAcceptedFormats);
  }
  const std::size_t K = t.cols();
  if (K % t.block != 0) {
    throw OperandError(tensor + ".codes",
                       ": K = " + std::to_string(K) + " is not a multiple of the block size " +
                           std::to_string(t.block) +
                           "; accepted: K a multiple of the block (a block may not straddle K's "
                           "end)");
  }
  if (t.scales.rows() != t.rows() || t.scales.cols() != K / t.block) {
    throw OperandError(tensor + ".scales", " has shape " + at(t.scales.rows(), t.scales.cols()) +
                                               ", expected " + at(t.rows(), K / t.block) +
                                               " (rows x K / " + std::to_string(t.block) + ")");
  }
  if (nv && !(std::isfinite(t.tensor_scale) && t.tensor_scale > 0.0f)) {
    throw OperandError(
        tensor + ".tensor_scale",
        " is " + num(t.tensor_scale) + "; accepted: an NVFP4 tensor scale is finite and > 0");
  }
  if (mx && t.tensor_scale != 1.0f) {
    throw OperandError(tensor + ".tensor_scale",
                       " is " + num(t.tensor_scale) +
                           "; accepted: 1 (MX tensors have no tensor scale, only E8M0 block "
                           "scales)");
  }
}

// The first element code that is not valid for the format, as an error; `e2m1_only`: only the
// E2M1 codes that do not fit 4 bits (the GEMM counts the other invalid codes as events).
void check_codes(const BlockTensor& t, const std::string& tensor, bool e2m1_only) {
  if (e2m1_only && t.elem != BlockElem::e2m1) return;
  const std::vector<std::uint8_t>& v = t.codes.values();
  std::size_t i = 0;
  while (i < v.size() && elem_valid(t.elem, v[i])) ++i;
  if (i == v.size()) return;
  const std::size_t K = t.cols();
  const std::string where = ": element " + at(i / K, i % K) + " = " + hex(v[i]);
  switch (t.elem) {
    case BlockElem::e2m1:
      throw OperandError(tensor + ".codes", where +
                                                " is not an E2M1 code; accepted: 0x00..0x0f "
                                                "(one 4-bit code per byte)");
    case BlockElem::e4m3:
      throw OperandError(tensor + ".codes",
                         where + " is the E4M3 NaN; accepted: every E4M3 code but 0x7f and 0xff");
    case BlockElem::mxint8:
      throw OperandError(tensor + ".codes",
                         where +
                             " (-128) is not an MXINT8 value; accepted: -127..127 (-128 is "
                             "unused, spec choice)");
  }
}

// The first invalid block scale, as an error. `nvfp4_only`: only NVFP4's (the GEMM counts an
// E8M0 255 as an event).
void check_scales(const BlockTensor& t, const std::string& tensor, bool nvfp4_only) {
  const bool nv = is_nvfp4(t);
  if (nvfp4_only && !nv) return;
  for (std::size_t r = 0; r < t.scales.rows(); ++r) {
    for (std::size_t b = 0; b < t.scales.cols(); ++b) {
      const std::uint8_t c = t.scales(r, b);
      if (nv ? nvfp4_scale_ok(c) : e8m0_valid(c)) continue;
      const std::string where = ": block " + at(r, b) + " (K " + std::to_string(b * t.block) +
                                ".." + std::to_string((b + 1) * t.block - 1) + ") = " + hex(c);
      if (!nv) {
        throw OperandError(tensor + ".scales",
                           where + " is the E8M0 NaN; accepted: 0x00..0xfe (2^-127 .. 2^127)");
      }
      throw OperandError(tensor + ".scales",
                         where +
                             ((c & 0x7f) == 0x7f ? " is the E4M3 NaN" : " has its sign bit set") +
                             "; accepted: E4M3 codes 0x00..0x7e (sign bit clear, not NaN)");
    }
  }
}

// Decodes element codes to their integers once per tensor (elem_int: an invalid code gives 0),
// counting the invalid ones: the GEMM's inner loop is then plain integer multiply-adds.
template <class T>
std::vector<T> decode(const BlockTensor& t, std::uint64_t& invalid) {
  const std::vector<std::uint8_t>& c = t.codes.values();
  std::vector<T> out(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (!elem_valid(t.elem, c[i])) ++invalid;
    out[i] = static_cast<T>(elem_int(t.elem, c[i]));
  }
  return out;
}

// I_b for every block of one (x row, w row) pair. B is a template argument so the fixed-length
// inner loop unrolls and vectorizes. |I_b| < 2^27 for every accepted pair: int32 is exact.
template <std::size_t B, class TX, class TW>
void block_sums(const TX* x, const TW* w, std::size_t blocks, std::int32_t* out) {
  for (std::size_t b = 0; b < blocks; ++b, x += B, w += B) {
    std::int32_t s = 0;
    for (std::size_t k = 0; k < B; ++k) {
      s += static_cast<std::int32_t>(x[k]) * static_cast<std::int32_t>(w[k]);
    }
    out[b] = s;
  }
}

// W rows per tile: they stay in cache while every X row passes (as int_kernels.cpp).
constexpr std::size_t kRowTile = 16;

// One output element at a time from its block sums; the three ways to accumulate blocks.
struct Accumulate {
  const BlockTensor& x;
  const BlockTensor& w;
  const BlockAccOptions& opt;
  int unit;
  std::uint64_t align_round = 0;
  std::uint64_t acc_events = 0;

  // acc = sum_b F32(I_b 2^s), from +0, each add RNE; an invalid scale's block adds nothing.
  float mx_fp32(std::size_t m, std::size_t n, const std::int32_t* sums, std::size_t blocks) const {
    const std::uint8_t* xs = x.scales.row(m);
    const std::uint8_t* ws = w.scales.row(n);
    float acc = 0.0f;
    for (std::size_t b = 0; b < blocks; ++b) {
      if (!e8m0_valid(xs[b]) || !e8m0_valid(ws[b])) continue;
      acc = acc + block_term_fp32(sums[b], mx_block_shift(xs[b], ws[b], unit));
    }
    return acc;
  }
  // c_b = I_b shifted by s + frac_bits into the wrapping acc_bits accumulator, from 0.
  float mx_fixed(std::size_t m, std::size_t n, const std::int32_t* sums, std::size_t blocks) {
    const std::uint8_t* xs = x.scales.row(m);
    const std::uint8_t* ws = w.scales.row(n);
    WrappingAccumulator acc(opt.acc_bits);
    for (std::size_t b = 0; b < blocks; ++b) {
      if (!e8m0_valid(xs[b]) || !e8m0_valid(ws[b])) continue;
      const FixedTerm t = block_term_fixed(
          sums[b], mx_block_shift(xs[b], ws[b], unit) + opt.frac_bits, opt.acc_bits);
      align_round += t.rounded ? 1 : 0;
      acc_events += t.overflow ? 1 : 0;  // the term itself did not fit acc_bits
      acc.add(t.value);
    }
    acc_events += acc.wraps();
    return fixed_acc_to_f32(acc.value(), opt.frac_bits);
  }
  // acc = sum_b F32(F32(I_b) F32(S_xb S_wb)) from +0, then the tensor scales.
  float nvfp4(std::size_t m, std::size_t n, const std::int32_t* sums, std::size_t blocks) const {
    const std::uint8_t* xs = x.scales.row(m);
    const std::uint8_t* ws = w.scales.row(n);
    float acc = 0.0f;
    for (std::size_t b = 0; b < blocks; ++b) acc = acc + nvfp4_block_term(sums[b], xs[b], ws[b]);
    return nvfp4_result(acc, unit, x.tensor_scale, w.tensor_scale);
  }
};

template <class TX, class TW>
GemmResult run_gemm(const BlockTensor& x, const BlockTensor& w, const BlockAccOptions& opt) {
  const std::size_t M = x.rows(), N = w.rows(), K = x.cols(), blocks = x.blocks();
  GemmResult r{MatrixH(M, N), {}};
  std::uint64_t invalid = 0;
  const std::vector<TX> xi = decode<TX>(x, invalid);
  const std::vector<TW> wi = decode<TW>(w, invalid);
  r.counters.invalid_codes = invalid;
  // An E8M0 255 is one event per scale code of either operand (as invalid element codes are
  // counted once per element, not per use).
  std::uint64_t invalid_scales = 0;
  if (!is_nvfp4(x)) {
    for (std::uint8_t c : x.scales.values()) invalid_scales += e8m0_valid(c) ? 0 : 1;
    for (std::uint8_t c : w.scales.values()) invalid_scales += e8m0_valid(c) ? 0 : 1;
  }
  Accumulate a{x, w, opt, block_unit(x.elem, w.elem)};
  std::vector<std::int32_t> sums(blocks);
  std::uint64_t nonfinite = 0;
  const bool nv = is_nvfp4(x);
  for (std::size_t n0 = 0; n0 < N; n0 += kRowTile) {
    const std::size_t n1 = std::min(N, n0 + kRowTile);
    for (std::size_t m = 0; m < M; ++m) {
      const TX* xr = xi.data() + m * K;
      for (std::size_t n = n0; n < n1; ++n) {
        const TW* wr = wi.data() + n * K;
        if (x.block == kNvfp4Block) {
          block_sums<kNvfp4Block>(xr, wr, blocks, sums.data());
        } else {
          block_sums<kMxBlock>(xr, wr, blocks, sums.data());
        }
        const float acc = nv                           ? a.nvfp4(m, n, sums.data(), blocks)
                          : opt.mode == BlockAcc::fp32 ? a.mx_fp32(m, n, sums.data(), blocks)
                                                       : a.mx_fixed(m, n, sums.data(), blocks);
        const std::uint16_t h = block_output_f16(acc);
        // Every input value is finite (the formats have no inf; invalid codes give 0), so a
        // non-finite output came from an overflow: an fp32 term or sum, or the F16 itself.
        if ((h & 0x7c00u) == 0x7c00u) ++nonfinite;
        r.y(m, n) = h;
      }
    }
  }
  r.counters.add_overflow(stage::kInvalidScale, invalid_scales);
  r.counters.add_overflow(stage::kBlockAlignRound, a.align_round);
  r.counters.add_overflow(stage::kBlockAcc, a.acc_events);
  r.counters.add_overflow(stage::kOutputFp16Inf, nonfinite);
  add_block_gemm_actions(r.counters, x, w, opt);
  return r;
}


void check_mx_input(const MatrixF& v, std::size_t block, const char* tensor) {
  require_finite(v, tensor);
  if (v.cols() % block != 0) {
    throw Error(std::string("tensor '") + tensor + "': K = " + std::to_string(v.cols()) +
                " is not a multiple of the block size " + std::to_string(block) +
                "; accepted: K a multiple of the block (a block may not straddle K's end)");
  }
}

float block_amax(const float* v, std::size_t n) {
  float a = 0.0f;
  for (std::size_t i = 0; i < n; ++i) a = std::max(a, std::fabs(v[i]));
  return a;
}

}  // namespace

void add_block_gemm_actions(GemmCounters& c, const BlockTensor& x, const BlockTensor& w,
                            const BlockAccOptions& opt) {
  ActionShape a;
  a.m = x.rows(), a.n = w.rows(), a.k = x.cols();
  a.groups = x.blocks();
  a.opt.block_acc = opt.mode;
  a.opt.acc_bits = opt.acc_bits;
  a.opt.frac_bits = opt.frac_bits;
  add_block_actions(c, x.elem, w.elem, static_cast<unsigned>(x.block), is_nvfp4(x), a);
}

void check_block_tensor(const BlockTensor& t, const char* tensor) {
  const std::string name(tensor);
  check_structure(t, name);
  check_codes(t, name, false);
  check_scales(t, name, false);
}

namespace detail {
void validate_block_gemm(const BlockTensor& x, const BlockTensor& w, const BlockAccOptions& opt) {
  check_structure(x, "x");
  check_structure(w, "w");
  check_same_k(x.cols(), w.cols(), "x.codes", "w.codes");
  // The structure fixes the block by the scale type (MX 32, NVFP4 16), so one scale type for
  // both operands is also one block size.
  const bool mx = x.scale == BlockScale::e8m0 && w.scale == BlockScale::e8m0;
  const bool nv = is_nvfp4(x) && is_nvfp4(w);
  const bool pair_ok = (mx && ((x.elem == BlockElem::e4m3 && w.elem == BlockElem::e2m1) ||
                               (x.elem == BlockElem::e2m1 && w.elem == BlockElem::e2m1) ||
                               (x.elem == BlockElem::mxint8 && w.elem == BlockElem::mxint8))) ||
                       nv;
  if (!pair_ok) {
    const auto desc = [](const BlockTensor& t) {
      return std::string(elem_name(t.elem)) + " (" +
             (t.scale == BlockScale::e8m0 ? "E8M0" : "E4M3") + " per " + std::to_string(t.block) +
             ")";
    };
    throw Error("block-scaled GEMM: x " + desc(x) + " with w " + desc(w) +
                " is not an accepted pair; accepted (x, w): E4M3 x E2M1, E2M1 x E2M1 or MXINT8 x "
                "MXINT8 with E8M0 scales per 32 (w4a8-mx, w4a4-mxfp4, w8a8-mxint8), or E2M1 x "
                "E2M1 with E4M3 scales per 16 and tensor scales (w4a4-nvfp4)");
  }
  if (nv && opt.mode == BlockAcc::fixed) {
    throw Error(
        "block_acc: fixed is not defined for NVFP4 (w4a4-nvfp4): the spec accumulates its "
        "blocks in fp32, F32(F32(I_b) * F32(S_x S_w)); accepted: block_acc: fp32");
  }
  if (opt.mode == BlockAcc::fixed) {
    check_acc_bits(opt.acc_bits, "fixed block accumulator");
    if (opt.frac_bits < 0 || opt.frac_bits > 126) {
      throw Error("fixed block accumulator fraction bits " + std::to_string(opt.frac_bits) +
                  " are not supported; accepted: 0..126");
    }
  }
  check_codes(x, "x", true);
  check_codes(w, "w", true);
  check_scales(x, "x", true);
  check_scales(w, "w", true);
}
}  // namespace detail

GemmResult gemm_block_scaled(const BlockTensor& x, const BlockTensor& w,
                             const BlockAccOptions& opt) {
  detail::validate_block_gemm(x, w, opt);
  // int16 holds E2M1 (|a| <= 12) and MXINT8 (|k| <= 127); E4M3's j reaches 229376.
  if (x.elem == BlockElem::e4m3) return run_gemm<std::int32_t, std::int16_t>(x, w, opt);
  return run_gemm<std::int16_t, std::int16_t>(x, w, opt);
}

BlockTensor quantize_mx(const MatrixF& v, BlockElem elem, const char* tensor,
                        BlockQuantStats* stats) {
  check_mx_input(v, kMxBlock, tensor);
  BlockTensor t;
  t.elem = elem;
  t.scale = BlockScale::e8m0;
  t.block = kMxBlock;
  const std::size_t R = v.rows(), K = v.cols(), blocks = K / kMxBlock;
  t.codes = MatrixU8(R, K);
  t.scales = MatrixU8(R, blocks);
  std::uint64_t saturated = 0;
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t b = 0; b < blocks; ++b) {
      const float* in = v.row(r) + b * kMxBlock;
      const int se = mx_shared_exp(block_amax(in, kMxBlock), elem);
      t.scales(r, b) = e8m0_code(se);
      // V / 2^shared_exp = V * 2^-shared_exp: exact in double (exponents stay in [-276, 254]).
      const double inv_x = std::ldexp(1.0, -se);
      std::uint8_t* out = t.codes.row(r) + b * kMxBlock;
      for (std::size_t i = 0; i < kMxBlock; ++i) {
        const ElemCode c = elem_encode(elem, static_cast<double>(in[i]) * inv_x);
        out[i] = c.code;
        saturated += c.saturated ? 1 : 0;
      }
    }
  }
  if (stats) stats->saturated += saturated;
  return t;
}

BlockTensor quantize_nvfp4(const MatrixF& v, const char* tensor, BlockQuantStats* stats) {
  check_mx_input(v, kNvfp4Block, tensor);
  BlockTensor t;
  t.elem = BlockElem::e2m1;
  t.scale = BlockScale::e4m3;
  t.block = kNvfp4Block;
  const std::size_t R = v.rows(), K = v.cols(), blocks = K / kNvfp4Block;
  t.codes = MatrixU8(R, K);
  t.scales = MatrixU8(R, blocks);
  const float amax = block_amax(v.values().data(), v.size());
  float st = amax / kNvfp4TensorDivisor;
  if (amax == 0.0f) st = 1.0f;
  // [choice] A tensor so small that amax / 2688 underflows to 0 gets the smallest positive
  // fp32 instead, so s_t is never 0 (and S_b's division below stays finite).
  if (st == 0.0f) st = std::ldexp(1.0f, -149);
  t.tensor_scale = st;
  std::uint64_t saturated = 0, zero_scale = 0;
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t b = 0; b < blocks; ++b) {
      const float* in = v.row(r) + b * kNvfp4Block;
      const float want = (block_amax(in, kNvfp4Block) / 6.0f) / st;  // F32(F32(amax_b/6)/s_t)
      ElemCode sc = elem_encode(BlockElem::e4m3, static_cast<double>(want));
      saturated += sc.saturated ? 1 : 0;
      if (sc.code == 0) {  // [spec choice] S_b rounded to 0: the smallest subnormal 2^-9
        sc.code = 0x01;
        ++zero_scale;
      }
      t.scales(r, b) = sc.code;
      const float d = e4m3_value(sc.code) * st;  // F32(S_b s_t)
      std::uint8_t* out = t.codes.row(r) + b * kNvfp4Block;
      for (std::size_t i = 0; i < kNvfp4Block; ++i) {
        // F32(V / d). [choice] d can underflow to 0 only for tensors near fp32's smallest
        // values: then V = 0 stays 0 (not 0/0 = NaN) and any other V is +-inf and saturates.
        const float q = in[i] == 0.0f ? in[i] : in[i] / d;
        const ElemCode c = elem_encode(BlockElem::e2m1, static_cast<double>(q));
        out[i] = c.code;
        saturated += c.saturated ? 1 : 0;
      }
    }
  }
  if (stats) {
    stats->saturated += saturated;
    stats->zero_scale_blocks += zero_scale;
  }
  return t;
}

MatrixF dequantize(const BlockTensor& t) {
  check_structure(t, "block tensor");
  const std::size_t R = t.rows(), K = t.cols();
  MatrixF out(R, K);
  const bool nv = is_nvfp4(t);
  const int frac = elem_frac_bits(t.elem);
  for (std::size_t r = 0; r < R; ++r) {
    for (std::size_t k = 0; k < K; ++k) {
      const std::uint8_t code = t.codes(r, k);
      const std::uint8_t sc = t.scales(r, k / t.block);
      const bool ok = elem_valid(t.elem, code) && (nv ? nvfp4_scale_ok(sc) : e8m0_valid(sc));
      if (!ok) {
        out(r, k) = NAN;
        continue;
      }
      const double e = static_cast<double>(elem_int(t.elem, code));
      // MX: e 2^(scale - 127 - frac), at most 18 significant bits: exact unless beyond fp32's
      // range. NVFP4: P S_b s_t has at most 4 + 4 + 24 bits: exact in double, one F32.
      const double val =
          nv ? std::ldexp(e * static_cast<double>(elem_int(BlockElem::e4m3, sc)), -frac - 9) *
                   static_cast<double>(t.tensor_scale)
             : std::ldexp(e, e8m0_exp(sc) - frac);
      out(r, k) = f32_of_exact(val);
    }
  }
  return out;
}

}  // namespace quasar
