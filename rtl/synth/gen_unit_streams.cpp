// quasar_unit_streams: operand streams for the switching-activity runs of the unit netlists
// (scripts/gen-tech-units.sh, rtl/synth/toggle_harness.cpp).
//
//   quasar_unit_streams KIND STREAM OPS SEED
//   KIND:   mac_int8 | mac_int4 | mac_dint4a | mac_dint4b      (MACs: weight, x, use_acc_in)
//           mul_int8 | mul_int4 | mul_dint4a | mul_dint4b      (their multipliers: weight, x)
//           intscale_s32 | intscale_s16                        (intscale_acc, S port 32/16 bits)
//           floatscale | dequant_dgq | mac_fp16
//           rf_read_E | rf_write_E                             (regfile, E entries of 16 bits)
//           mac_fp4xfp8 | mac_fp4                              (block PEs: w, x, use_acc_in)
//           mx_fixed_uU | mx_fp32_uU                           (block accumulators: i, sx, sw,
//                                                               use_acc_in; U = 10 (w4a8-mx),
//                                                               2 (w4a4-mxfp4), 12 (w8a8-mxint8))
//           nvfp4_fp32                                         (NVFP4's block accumulator:
//                                                               i, sx, sw, use_acc_in)
//           dot_fp4xfp8 | dot_fp4_32 | dot_fp4_16 | dot_int8    (block dot units: w, x, every
//                                                               lane of a block in one op)
//           fp32_add | fp32_mul                                (a vector lane's fp32 units: a, b)
//           exp_q                                              (the SFU's exponential: x)
//   STREAM: random | llm
//
// Output: a first line "ports NAME:WIDTH ...", naming the unit's input ports the stream drives,
// then one line per operation with each port's value as an unsigned decimal bit pattern of its
// width (signed values two's complement); ports wider than 64 bits (the dot units' lane-packed
// w and x, lane k at [b k +: b]) as 0x and hex digits. The harness holds every other input at 0
// (en at 1); `use_acc_in` = 1 on the first step of a dot product (the unit then adds to
// acc_in = 0 instead of its own register), so the accumulators restart in the same pattern on
// both streams.
//
// random: each port uniform over its valid range (MACs: the format's valid weight codes and
// any int8 x; intscale_acc: any int32 P, S in 1 .. 2^(S_W-1)-1; floatscale_acc: any int32 P,
// s any positive finite fp16 value (the group scales' storage type) as binary32; dequant_dgq:
// q, z in 0..15, S2 in 1..127; mac_fp16: any finite fp16 w and x; regfile: rf_write writes
// uniform 16-bit words to uniform addresses, rf_read reads uniform addresses of words filled
// with uniform values by its first E operations, which fall in the harness's warm-up;
// mac_fp4xfp8: any E2M1 code w and any E4M3 code x but the two NaN codes; mac_fp4: any E2M1
// codes; the block PEs restart (use_acc_in) every 32 ops, as their chains restart per block;
// mx_fixed_uU, mx_fp32_uU: i uniform over the block sums a 32-lane dot product of the U scheme's
// element pair can give (|I| <= 32 * max_x * max_w: E2M1 x E4M3 32 * 12 * 229376 at U = 10,
// E2M1 x E2M1 32 * 12 * 12 at U = 2, MXINT8 32 * 127 * 127 at U = 12), sx and sw uniform over
// the valid E8M0 codes 0..254, a dot product of 128 blocks (K = 4096)); nvfp4_fp32: i uniform
// over the block sums of 16 E2M1 x E2M1 lanes (|I| <= 16 * 12 * 12 = 2304), sx and sw uniform
// over the E4M3 block-scale codes the reference accepts (0x00..0x7e: sign clear, not NaN), a
// dot product of 256 blocks (K = 4096); the dot units (combinational, one block per op):
// every lane's codes uniform and independent, dot_fp4xfp8 w any E2M1 code and x any E4M3 code
// but the two NaN codes, dot_fp4_* any E2M1 codes, dot_int8 any int8 code but -128 (invalid);
// fp32_add, fp32_mul: a and b uniform over the finite binary32 bit patterns (subnormals and
// zeros included, inf and NaN not); exp_q: x = F32 of a real uniform over [-126 ln 2, 128 ln 2),
// the inputs whose t = F32(x log2 e) is neither flushed (t < -126) nor saturated (t >= 128)
// (arithmetic spec §7).
// llm: quasar::synthetic_llm_gemm operands (Gaussian weights, N(0,1) activations with outlier
// channels) quantized by the scheme the unit serves, with quasar::run_scheme's default settings
// (group 128, per-token int8 activations, fp16 scales):
//   mac_* / mul_*: weights RTN-quantized to the format (int8 per channel, int4 and dint4 per
//     group), ops walk token m, output channel n, then k (dot products of K = 256);
//   intscale: w4a8-is (int4 per group, integer scales S = RNE(s 2^10)): P = the int32 group
//     partial sums of x_q and the codes, S = S[n, g], ops walk m, n, then the 32 groups of
//     K = 4096 (one dot product per (m, n));
//   floatscale: w4a8-fs, the same P with the fp16 group scales s[n, g] as binary32;
//   dequant_dgq: w4a8-dgq (smoothing, two-phase search): (q, z, S2) of every weight, n then k;
//   mac_fp16: fp16 w and x of the fp16 scheme, walked like the MACs;
//   rf_*: the w4a8-is integer scales S[n, g] (16 bits: the 2 bytes per group the mapping moves)
//     in n, g order: rf_write writes them to addresses 0, 1, .., E-1, 0, ..; rf_read fills the
//     E words with the first E of them, then reads addresses in the same cyclic order (an edge
//     unit consumes a tile's groups in order).
//   mac_fp4xfp8: w4a8-mx's operands, quantize_mx of W to E2M1 and of X to E4M3 (blocks of 32
//     along K), the element codes walked like the MACs', restarting every block of 32;
//   mac_fp4: w4a4-mxfp4's (both E2M1, blocks of 32; NVFP4's blocks of 16 use the same PE);
//   mx_fixed_uU, mx_fp32_uU: the block steps of the MX scheme whose element pair has u = U
//     (w4a8-mx, w4a4-mxfp4, w8a8-mxint8), its operands quantized by the scheme's quantizer
//     (quantize_block_operand: quantize_mx to its element formats): I = the exact block sum of
//     the codes (spec §5, elem_int), sx, sw = the two E8M0 scale codes of the block, ops walk m,
//     n, then the 128 blocks of K = 4096 (one dot product per (m, n)).
//   nvfp4_fp32: w4a4-nvfp4's block steps: quantize_nvfp4 of w and x (E2M1 codes, an E4M3 scale
//     per 16 along K from the block's amax / 6 over the tensor scale), I = the exact block sum of
//     the codes (elem_int), sx, sw = the two E4M3 scale codes of the block, ops walk m, n, then
//     the 256 blocks of K = 4096 (one dot product per (m, n)).
//   dot_fp4xfp8 / dot_fp4_32 / dot_int8: the element codes of one block of w4a8-mx (quantize_mx,
//     E2M1 w, E4M3 x) / w4a4-mxfp4 (E2M1 both) / w8a8-mxint8 (MXINT8 both) per op, ops walk m,
//     n, then the blocks of K = 4096; dot_fp4_16: NVFP4's (quantize_nvfp4 of w and x, blocks
//     of 16), walked the same way.
//   fp32_mul: the epilogue's scale multiply of w8a8 (int8 per-channel RTN weights, per-token int8
//     activations, K = 4096): a = F32(acc), the exact int32 dot product, b = F32(s_x[m] s_w[n]),
//     ops walk m, then the 256 output channels n (gemm_w8a8's y = F32(acc) * scale);
//   fp32_add: the residual add of those outputs: a = F32(F16(y[m, n])), y the product above, b =
//     F32(F16(x[m, n])), the same token's input activation in hidden channel n (the residual
//     stream, outlier channels included), walked the same way (spec §7: F16(F32(a) + F32(b)));
//   exp_q: softmax's arguments F32(s_t - m) (spec §7, unfused, causal): one head of d = 128 over
//     256 tokens, q and k the fp16 stores of the F32 projections x' W_q^T, x' W_k^T, x' = the
//     synthetic activations RMS-normalized per token (unit gain, as a LLaMA layer normalizes before
//     its projections; without it the outlier channels give scores of std ~30 and half the
//     arguments below the flush), W_q, W_k: 128 rows each of the synthetic weights; s_t = F32(F32(sum_i q_i
//     k_t,i) c) sequential in i, c = F32(1/sqrt(d)), m = the max over keys t <= p; ops walk query
//     position p, then t = 0..p, then the next head (the next 256 rows of weights). (SiLU's
//     exp_q(-g) and the tiled softmax's alpha are not in the stream: softmax's n per query row
//     dominates the SFU's ops.)
// Seeded (quasar::Rng, xoshiro): the same arguments give the same bytes on every host.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "numerics/block_formats.hpp"
#include "numerics/block_scaled.hpp"
#include "numerics/dint4.hpp"
#include "numerics/attention.hpp"
#include "numerics/error_metrics.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm_block.hpp"
#include "numerics/int_formats.hpp"
#include "numerics/int_kernels.hpp"
#include "numerics/quantize_activations.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/scheme_runner.hpp"
#include "numerics/synthetic.hpp"

namespace {

constexpr std::size_t kDotLength = 256;  // MACs and mac_fp16: k steps per dot product
constexpr std::size_t kGroupSize = 128;  // run_scheme's default group
constexpr std::size_t kScaleK = 4096;    // intscale / floatscale: K of the dot products
constexpr std::size_t kScaleN = 16;      // output channels of the llm GEMMs
constexpr std::size_t kDgqK = 512;       // dequant_dgq: weight row length
constexpr std::size_t kCalibRows = 64;   // dequant_dgq: rows of x (DGQ's calibration)

enum class Family {
  mac,
  mul,
  intscale,
  floatscale,
  dequant_dgq,
  mac_fp16,
  rf_read,
  rf_write,
  block_mac,  // the block formats' PEs
  block_acc,  // mx_fixed_acc / mx_fp32_acc / nvfp4_fp32_acc (nvfp4)
  block_dot,  // mx_dot_*: one block's lanes per op
  fp32_add,   // the vector lane's fp32 units
  fp32_mul,
  exp_q       // the SFU's exponential
};

constexpr std::size_t kBlockK = 4096;  // block accumulators: K of the dot products

struct Kind {
  Family family = Family::mac;
  quasar::WeightFormat format = quasar::WeightFormat::int8;
  quasar::DintSet set = quasar::DintSet::A;
  unsigned weight_bits = 8;  // MAC/mul weight port
  unsigned s_bits = 32;      // intscale S port
  unsigned entries = 0;      // regfile words (a power of two, 2 .. 256)
  bool x_e4m3 = false;       // block_mac: E4M3 activations (fp4xfp8), else E2M1 (fp4)
  // block_dot: the element formats of w and x, lanes per block; nvfp4 = NVFP4's quantizer
  // (block_dot, block_acc).
  quasar::BlockElem w_elem = quasar::BlockElem::e2m1;
  quasar::BlockElem x_elem = quasar::BlockElem::e2m1;
  std::size_t lanes = 32;
  bool nvfp4 = false;
  // block_acc (MX): the scheme whose block steps the stream holds; its element pair's u is the
  // kind's U (scheme traits: x_elem, w_elem, block).
  quasar::Scheme scheme = quasar::Scheme::w4a8_mx;
};

constexpr unsigned kRfWidth = 16;  // regfile word: one group scale as the mapping stores it

unsigned log2_exact(unsigned v) {
  unsigned b = 0;
  while ((1u << b) < v) ++b;
  return b;
}

// The weight format of a mac_/mul_ kind's suffix; false if it is none.
bool parse_weight(const std::string& f, Kind& k) {
  if (f == "int8") return true;
  k.weight_bits = 4;
  if (f == "int4") {
    k.format = quasar::WeightFormat::int4;
    return true;
  }
  k.format = quasar::WeightFormat::dint4;
  k.set = f == "dint4b" ? quasar::DintSet::B : quasar::DintSet::A;
  return f == "dint4a" || f == "dint4b";
}

Kind parse_kind(const std::string& s) {
  Kind k;
  if (s == "intscale_s32" || s == "intscale_s16") {
    k.family = Family::intscale;
    k.s_bits = s == "intscale_s16" ? 16 : 32;
    return k;
  }
  if (s == "floatscale" || s == "dequant_dgq" || s == "mac_fp16") {
    k.family = s == "floatscale"    ? Family::floatscale
               : s == "dequant_dgq" ? Family::dequant_dgq
                                    : Family::mac_fp16;
    return k;
  }
  if (s == "mac_fp4xfp8" || s == "mac_fp4") {
    k.family = Family::block_mac;
    k.weight_bits = 4;
    k.x_e4m3 = s == "mac_fp4xfp8";
    return k;
  }
  if (s == "fp32_add" || s == "fp32_mul" || s == "exp_q") {
    k.family = s == "fp32_add" ? Family::fp32_add : s == "fp32_mul" ? Family::fp32_mul : Family::exp_q;
    return k;
  }
  if (s == "nvfp4_fp32") {
    k.family = Family::block_acc;
    k.nvfp4 = true;
    return k;
  }
  for (const char* acc : {"mx_fixed_u", "mx_fp32_u"}) {
    const std::string p = acc;
    if (s.compare(0, p.size(), p) != 0) continue;
    const std::string u = s.substr(p.size());
    // The MX (E8M0-scaled) scheme whose element pair has this u: one per u in the traits table.
    for (const quasar::SchemeInfo& i : quasar::all_schemes()) {
      if (!quasar::block_scaled(i) || i.e4m3_scales) continue;
      if (std::to_string(quasar::block_unit(i.x_elem, i.w_elem)) != u) continue;
      k.family = Family::block_acc;
      k.scheme = i.id;
      k.x_elem = i.x_elem;
      k.w_elem = i.w_elem;
      return k;
    }
    throw std::runtime_error("no MX scheme has u = '" + u + "' ('" + s + "')");
  }
  if (s == "dot_fp4xfp8" || s == "dot_fp4_32" || s == "dot_fp4_16" || s == "dot_int8") {
    k.family = Family::block_dot;
    if (s == "dot_int8") {
      k.w_elem = k.x_elem = quasar::BlockElem::mxint8;
    } else if (s == "dot_fp4xfp8") {
      k.x_elem = quasar::BlockElem::e4m3;
    } else if (s == "dot_fp4_16") {
      k.lanes = quasar::kNvfp4Block;
      k.nvfp4 = true;
    }
    return k;
  }
  for (const char* rf : {"rf_read_", "rf_write_"}) {
    const std::string p = rf;
    if (s.compare(0, p.size(), p) != 0) continue;
    const unsigned e = static_cast<unsigned>(std::stoul(s.substr(p.size())));
    if (e < 2 || e > 256 || (e & (e - 1)) != 0) {
      throw std::runtime_error("regfile entries must be a power of two in 2 .. 256: '" + s + "'");
    }
    k.family = p == "rf_read_" ? Family::rf_read : Family::rf_write;
    k.entries = e;
    return k;
  }
  const std::string prefix = s.substr(0, 4);
  if ((prefix == "mac_" || prefix == "mul_") && parse_weight(s.substr(4), k)) {
    k.family = prefix == "mac_" ? Family::mac : Family::mul;
    return k;
  }
  throw std::runtime_error("unknown kind '" + s +
                           "' (mac_|mul_ int8|int4|dint4a|dint4b, intscale_s32, intscale_s16, "
                           "floatscale, dequant_dgq, mac_fp16, rf_read_E, rf_write_E, "
                           "mac_fp4xfp8, mac_fp4, mx_fixed_uU, mx_fp32_uU (U = 10, 2, 12), "
                           "nvfp4_fp32, dot_fp4xfp8, dot_fp4_32, dot_fp4_16, dot_int8, "
                           "fp32_add, fp32_mul, exp_q)");
}

struct Port {
  std::string name;
  unsigned bits;
};

unsigned lane_bits(quasar::BlockElem e) { return e == quasar::BlockElem::e2m1 ? 4 : 8; }

std::vector<Port> ports_of(const Kind& k) {
  const std::string wname = k.format == quasar::WeightFormat::dint4 ? "code" : "w";
  switch (k.family) {
    case Family::mac:
      return {{wname, k.weight_bits}, {"x", 8}, {"use_acc_in", 1}};
    case Family::mul:
      return {{wname, k.weight_bits}, {"x", 8}};
    case Family::intscale:
      return {{"p", 32}, {"s", k.s_bits}, {"use_acc_in", 1}};
    case Family::floatscale:
      return {{"p", 32}, {"s", 32}, {"use_acc_in", 1}};
    case Family::dequant_dgq:
      return {{"q", 4}, {"z", 4}, {"s2", 8}};
    case Family::mac_fp16:
      return {{"w", 16}, {"x", 16}, {"use_acc_in", 1}};
    case Family::rf_read:
    case Family::rf_write: {
      const unsigned aw = log2_exact(k.entries);
      return {{"we", 1}, {"waddr", aw}, {"wdata", kRfWidth}, {"raddr", aw}};
    }
    case Family::block_mac:
      return {{"w", 4}, {"x", k.x_e4m3 ? 8u : 4u}, {"use_acc_in", 1}};
    case Family::block_acc:
      return {{"i", 32}, {"sx", 8}, {"sw", 8}, {"use_acc_in", 1}};
    case Family::block_dot:
      return {{"w", static_cast<unsigned>(k.lanes) * lane_bits(k.w_elem)},
              {"x", static_cast<unsigned>(k.lanes) * lane_bits(k.x_elem)}};
    case Family::fp32_add:
    case Family::fp32_mul:
      return {{"a", 32}, {"b", 32}};
    case Family::exp_q:
      return {{"x", 32}};
  }
  return {};
}

// Writes the header and one line per op; stops after `ops` lines.
class Writer {
 public:
  Writer(std::vector<Port> ports, std::size_t ops, std::FILE* out)
      : ports_(std::move(ports)), ops_(ops), out_(out) {
    std::fprintf(out_, "ports");
    for (const Port& p : ports_) std::fprintf(out_, " %s:%u", p.name.c_str(), p.bits);
    std::fprintf(out_, "\n");
  }
  bool done() const { return written_ >= ops_; }
  // Values in port order; signed values are masked to the port's width.
  void op(const std::vector<std::int64_t>& v) {
    if (done()) return;
    if (v.size() != ports_.size()) throw std::logic_error("op: wrong number of values");
    for (std::size_t i = 0; i < v.size(); ++i) {
      const unsigned bits = ports_[i].bits;
      const std::uint64_t mask = bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
      std::fprintf(out_, i == 0 ? "%llu" : " %llu",
                   static_cast<unsigned long long>(static_cast<std::uint64_t>(v[i]) & mask));
    }
    std::fprintf(out_, "\n");
    ++written_;
  }
  // Lane-packed ports (lane j at [b j +: b], b = the port's width / lanes, 4 or 8): one vector
  // of lane codes per port, written as 0x and hex digits, the last lane first.
  void lanes(const std::vector<std::vector<std::uint8_t>>& v) {
    if (done()) return;
    if (v.size() != ports_.size()) throw std::logic_error("lanes: wrong number of ports");
    for (std::size_t i = 0; i < v.size(); ++i) {
      const unsigned b = ports_[i].bits / static_cast<unsigned>(v[i].size());
      if (b * v[i].size() != ports_[i].bits || (b != 4 && b != 8)) {
        throw std::logic_error("lanes: lanes do not fill the port");
      }
      std::fprintf(out_, i == 0 ? "0x" : " 0x");
      for (std::size_t j = v[i].size(); j-- > 0;) {
        std::fprintf(out_, b == 4 ? "%01x" : "%02x",
                     static_cast<unsigned>(v[i][j]) & ((1u << b) - 1));
      }
    }
    std::fprintf(out_, "\n");
    ++written_;
  }

 private:
  std::vector<Port> ports_;
  std::size_t ops_;
  std::size_t written_ = 0;
  std::FILE* out_;
};

// The codes a well-formed producer emits: every pattern of the port, less dint4's invalid ones.
std::vector<unsigned> valid_codes(const Kind& k) {
  std::vector<unsigned> codes;
  for (unsigned c = 0; c < (1u << k.weight_bits); ++c) {
    if (k.format == quasar::WeightFormat::dint4 && !quasar::dint4_table(k.set).valid[c]) continue;
    codes.push_back(c);
  }
  return codes;
}

std::int64_t uniform(quasar::Rng& rng, std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(hi - lo + 1));
}

std::uint16_t finite_f16(quasar::Rng& rng) {
  for (;;) {
    const auto h = static_cast<std::uint16_t>(rng.next() & 0xffffu);
    if ((h & 0x7c00u) != 0x7c00u) return h;
  }
}

// A uniform finite binary32 bit pattern (subnormals and zeros included, inf and NaN not).
std::uint32_t finite_f32(quasar::Rng& rng) {
  for (;;) {
    const auto u = static_cast<std::uint32_t>(rng.next() & 0xffffffffu);
    if ((u & 0x7f800000u) != 0x7f800000u) return u;
  }
}

// The largest |I| of a block of an MX kind's scheme: block * max_x * max_w (w4a8-mx's E2M1 x
// E4M3: 32 * 12 * 229376).
std::int64_t max_block_sum(const Kind& k) {
  return std::int64_t{quasar::traits(k.scheme).block} * quasar::elem_max_int(k.x_elem) *
         quasar::elem_max_int(k.w_elem);
}

// The largest |I| of a 16-lane E2M1 x E2M1 block (NVFP4): 16 * 12 * 12.
constexpr std::int64_t kMaxBlockSumNvfp4 = std::int64_t{quasar::kNvfp4Block} *
                                           quasar::elem_max_int(quasar::BlockElem::e2m1) *
                                           quasar::elem_max_int(quasar::BlockElem::e2m1);

// A uniform valid code of a block element format (E4M3 NaN and MXINT8 -128 excluded).
std::uint8_t random_code(quasar::Rng& rng, quasar::BlockElem e) {
  for (;;) {
    const auto c =
        static_cast<std::uint8_t>(rng.next() % (e == quasar::BlockElem::e2m1 ? 16 : 256));
    if (quasar::elem_valid(e, c)) return c;
  }
}

void random_stream(const Kind& k, Writer& out, std::uint64_t seed) {
  quasar::Rng rng(seed);
  const std::vector<unsigned> codes = valid_codes(k);
  const std::size_t groups = kScaleK / kGroupSize;
  for (std::size_t i = 0; !out.done(); ++i) {
    switch (k.family) {
      case Family::mac:
      case Family::mul: {
        const unsigned w = codes[rng.next() % codes.size()];
        const int x = static_cast<int>(rng.next() % 256) - 128;
        if (k.family == Family::mac) {
          out.op({w, x, i % kDotLength == 0});
        } else {
          out.op({w, x});
        }
        break;
      }
      case Family::intscale: {
        const auto p = static_cast<std::int32_t>(rng.next() & 0xffffffffu);
        const std::int64_t s = uniform(rng, 1, (std::int64_t{1} << (k.s_bits - 1)) - 1);
        out.op({p, s, i % groups == 0});
        break;
      }
      case Family::floatscale: {
        const auto p = static_cast<std::int32_t>(rng.next() & 0xffffffffu);
        const auto h = static_cast<std::uint16_t>(uniform(rng, 1, 0x7bff));  // positive finite
        out.op({p, quasar::detail::bits_of(quasar::f16_to_f32(h)), i % groups == 0});
        break;
      }
      case Family::dequant_dgq:
        out.op({uniform(rng, 0, 15), uniform(rng, 0, 15), uniform(rng, 1, 127)});
        break;
      case Family::mac_fp16: {
        const std::uint16_t w = finite_f16(rng);
        const std::uint16_t x = finite_f16(rng);
        out.op({w, x, i % kDotLength == 0});
        break;
      }
      case Family::rf_write:
        out.op({1, uniform(rng, 0, k.entries - 1), uniform(rng, 0, 0xffff), 0});
        break;
      case Family::rf_read:
        if (i < k.entries) {
          out.op({1, static_cast<std::int64_t>(i), uniform(rng, 0, 0xffff), 0});
        } else {
          out.op({0, 0, 0, uniform(rng, 0, k.entries - 1)});
        }
        break;
      case Family::block_mac: {
        const std::int64_t w = uniform(rng, 0, 15);
        std::int64_t x = 0;
        if (k.x_e4m3) {
          do {
            x = uniform(rng, 0, 255);
          } while (!quasar::elem_valid(quasar::BlockElem::e4m3, static_cast<std::uint8_t>(x)));
        } else {
          x = uniform(rng, 0, 15);
        }
        out.op({w, x, i % quasar::kMxBlock == 0});
        break;
      }
      case Family::block_acc: {
        if (k.nvfp4) {
          const std::int64_t sum = uniform(rng, -kMaxBlockSumNvfp4, kMaxBlockSumNvfp4);
          const std::int64_t sx = uniform(rng, 0, 0x7e), sw = uniform(rng, 0, 0x7e);
          out.op({sum, sx, sw, i % (kBlockK / quasar::kNvfp4Block) == 0});
          break;
        }
        const std::int64_t max_sum = max_block_sum(k);
        const std::int64_t sum = uniform(rng, -max_sum, max_sum);
        const std::int64_t sx = uniform(rng, 0, 254), sw = uniform(rng, 0, 254);
        out.op({sum, sx, sw, i % (kBlockK / quasar::traits(k.scheme).block) == 0});
        break;
      }
      case Family::block_dot: {
        std::vector<std::vector<std::uint8_t>> v(2, std::vector<std::uint8_t>(k.lanes));
        for (std::size_t j = 0; j < k.lanes; ++j) {
          v[0][j] = random_code(rng, k.w_elem);
          v[1][j] = random_code(rng, k.x_elem);
        }
        out.lanes(v);
        break;
      }
      case Family::fp32_add:
      case Family::fp32_mul: {
        const std::uint32_t a = finite_f32(rng);
        const std::uint32_t b = finite_f32(rng);
        out.op({a, b});
        break;
      }
      case Family::exp_q: {
        // t = F32(x log2 e) in [-126, 128): x in [-126 ln 2, 128 ln 2).
        const double lo = -126.0 * 0.69314718055994530942, hi = 128.0 * 0.69314718055994530942;
        const auto x = static_cast<float>(lo + (hi - lo) * rng.uniform());
        out.op({quasar::detail::bits_of(x)});
        break;
      }
    }
  }
}

quasar::GemmData llm_data(std::size_t m, std::size_t k, std::size_t n, std::uint64_t seed) {
  quasar::SyntheticSpec spec;
  spec.m = m;
  spec.k = k;
  spec.n = n;
  spec.seed = seed;
  return quasar::synthetic_llm_gemm(spec);
}

std::size_t ceil_div(std::size_t a, std::size_t b) { return (a + b - 1) / b; }

// The operands run_scheme (default settings) feeds the scheme's GEMM.
quasar::SchemeOperands scheme_operands(quasar::Scheme scheme, const quasar::GemmData& d) {
  quasar::SchemeConfig cfg;
  cfg.group_size = kGroupSize;
  cfg.calib_rows = kCalibRows;
  return quasar::run_scheme(scheme, d.x, d.w, cfg, quasar::float_reference(d.x, d.w)).operands;
}

void llm_mac_stream(const Kind& k, Writer& out, std::size_t ops, std::uint64_t seed) {
  const std::size_t n_ch = 16;
  const quasar::GemmData d = llm_data(ceil_div(ops, n_ch * kDotLength), kDotLength, n_ch, seed);
  quasar::WeightQuantSpec wq;
  wq.format = k.format;
  wq.dint_set = k.set;
  wq.granularity = k.format == quasar::WeightFormat::int8 ? quasar::Granularity::per_channel
                                                          : quasar::Granularity::per_group;
  wq.group_size = kGroupSize;
  const quasar::QuantizedWeights w = quasar::quantize_weights_rtn(d.w, wq);
  const quasar::QuantizedActivations x = quasar::quantize_per_token(d.x);
  for (std::size_t m = 0; m < d.x.rows() && !out.done(); ++m) {
    for (std::size_t n = 0; n < n_ch; ++n) {
      for (std::size_t kk = 0; kk < kDotLength; ++kk) {
        const std::int64_t wv = w.codes(n, kk);
        if (k.family == Family::mac) {
          out.op({wv, x.q(m, kk), kk == 0});
        } else {
          out.op({wv, x.q(m, kk)});
        }
      }
    }
  }
}

void llm_group_scale_stream(const Kind& k, Writer& out, std::size_t ops, std::uint64_t seed) {
  const std::size_t groups = kScaleK / kGroupSize;
  const quasar::GemmData d = llm_data(ceil_div(ops, kScaleN * groups), kScaleK, kScaleN, seed);
  const bool is = k.family == Family::intscale;
  const quasar::SchemeOperands op =
      scheme_operands(is ? quasar::Scheme::w4a8_is : quasar::Scheme::w4a8_fs, d);
  const quasar::QuantizedActivations& x = *op.x_q;
  const quasar::QuantizedWeights& w = *op.w_q;
  const std::int64_t s_max = (std::int64_t{1} << (k.s_bits - 1)) - 1;
  for (std::size_t m = 0; m < x.q.rows() && !out.done(); ++m) {
    for (std::size_t n = 0; n < kScaleN; ++n) {
      for (std::size_t g = 0; g < groups; ++g) {
        // Group 128 of int4 x int8 cannot wrap int32: the exact sum is the reference's P.
        const std::int64_t p = quasar::dot_i8_exact(x.q.row(m) + g * kGroupSize,
                                                    w.codes.row(n) + g * kGroupSize, kGroupSize);
        std::int64_t s = 0;
        if (is) {
          s = op.int_scales->S(n, g);
          if (s < 1 || s > s_max) throw std::runtime_error("integer scale does not fit the S port");
        } else {
          s = quasar::detail::bits_of(w.scale(n, g));
        }
        out.op({p, s, g == 0});
      }
    }
  }
}

void llm_dgq_stream(Writer& out, std::size_t ops, std::uint64_t seed) {
  const quasar::GemmData d = llm_data(kCalibRows, kDgqK, ceil_div(ops, kDgqK), seed);
  const quasar::SchemeOperands op = scheme_operands(quasar::Scheme::w4a8_dgq, d);
  const quasar::TwoLevelWeights& w = *op.two_level;
  for (std::size_t n = 0; n < w.rows() && !out.done(); ++n) {
    for (std::size_t kk = 0; kk < w.cols(); ++kk) {
      const std::size_t g = kk / w.group_size;
      out.op({w.q(n, kk), w.zeros(n, g), w.group_scale(n, g)});
    }
  }
}

void llm_fp16_stream(Writer& out, std::size_t ops, std::uint64_t seed) {
  const std::size_t n_ch = 16;
  const quasar::GemmData d = llm_data(ceil_div(ops, n_ch * kDotLength), kDotLength, n_ch, seed);
  const quasar::SchemeOperands op = scheme_operands(quasar::Scheme::fp16, d);
  for (std::size_t m = 0; m < d.x.rows() && !out.done(); ++m) {
    for (std::size_t n = 0; n < n_ch; ++n) {
      for (std::size_t kk = 0; kk < kDotLength; ++kk) {
        out.op({(*op.w_f16)(n, kk), (*op.x_f16)(m, kk), kk == 0});
      }
    }
  }
}

void llm_regfile_stream(const Kind& k, Writer& out, std::size_t ops, std::uint64_t seed) {
  const std::size_t groups = kScaleK / kGroupSize;
  const std::size_t writes = k.family == Family::rf_write ? ops : k.entries;
  const quasar::GemmData d = llm_data(1, kScaleK, ceil_div(writes, groups), seed);
  const quasar::SchemeOperands op = scheme_operands(quasar::Scheme::w4a8_is, d);
  std::size_t i = 0;
  for (std::size_t n = 0; n < d.w.rows() && i < writes; ++n) {
    for (std::size_t g = 0; g < groups && i < writes; ++g, ++i) {
      const std::int64_t s = op.int_scales->S(n, g);
      if (s < 1 || s > 0xffff) throw std::runtime_error("integer scale does not fit 16 bits");
      out.op({1, static_cast<std::int64_t>(i % k.entries), s, 0});
    }
  }
  for (std::size_t r = 0; !out.done(); ++r) {
    out.op({0, 0, 0, static_cast<std::int64_t>(r % k.entries)});
  }
}

// The block operands of w4a8-mx (E4M3 x E2M1) or w4a4-mxfp4 (E2M1 x E2M1), quantized by the
// scheme's quantizer (quantize_mx, blocks of 32 along K).
struct BlockOperands {
  quasar::BlockTensor x, w;
};
BlockOperands mx_operands(const quasar::GemmData& d, bool x_e4m3) {
  return {quasar::quantize_mx(d.x, x_e4m3 ? quasar::BlockElem::e4m3 : quasar::BlockElem::e2m1, "x"),
          quasar::quantize_mx(d.w, quasar::BlockElem::e2m1, "w")};
}

void llm_block_mac_stream(const Kind& k, Writer& out, std::size_t ops, std::uint64_t seed) {
  const std::size_t n_ch = 16;
  const quasar::GemmData d = llm_data(ceil_div(ops, n_ch * kDotLength), kDotLength, n_ch, seed);
  const BlockOperands op = mx_operands(d, k.x_e4m3);
  for (std::size_t m = 0; m < op.x.rows() && !out.done(); ++m) {
    for (std::size_t n = 0; n < n_ch; ++n) {
      for (std::size_t kk = 0; kk < kDotLength; ++kk) {
        out.op({op.w.codes(n, kk), op.x.codes(m, kk), kk % op.x.block == 0});
      }
    }
  }
}

// NVFP4's block steps: quantize_nvfp4 of x and w, I and the two E4M3 scale codes per block.
void llm_nvfp4_acc_stream(Writer& out, std::size_t ops, std::uint64_t seed) {
  const std::size_t blocks = kBlockK / quasar::kNvfp4Block;
  const quasar::GemmData d = llm_data(ceil_div(ops, kScaleN * blocks), kBlockK, kScaleN, seed);
  const quasar::BlockTensor x = quasar::quantize_nvfp4(d.x, "x");
  const quasar::BlockTensor w = quasar::quantize_nvfp4(d.w, "w");
  for (std::size_t m = 0; m < x.rows() && !out.done(); ++m) {
    for (std::size_t n = 0; n < kScaleN; ++n) {
      for (std::size_t b = 0; b < blocks; ++b) {
        std::int64_t sum = 0;  // the block's exact integer I (spec §5), as the PEs produce it
        for (std::size_t kk = b * quasar::kNvfp4Block; kk < (b + 1) * quasar::kNvfp4Block; ++kk) {
          sum += std::int64_t{quasar::elem_int(quasar::BlockElem::e2m1, x.codes(m, kk))} *
                 quasar::elem_int(quasar::BlockElem::e2m1, w.codes(n, kk));
        }
        out.op({sum, x.scales(m, b), w.scales(n, b), b == 0});
      }
    }
  }
}

// An MX scheme's block steps: its quantizer's codes, I and the two E8M0 scale codes per block.
void llm_block_acc_stream(const Kind& k, Writer& out, std::size_t ops, std::uint64_t seed) {
  const std::size_t block = quasar::traits(k.scheme).block;
  const std::size_t blocks = kBlockK / block;
  const quasar::GemmData d = llm_data(ceil_div(ops, kScaleN * blocks), kBlockK, kScaleN, seed);
  const quasar::BlockTensor x = quasar::quantize_block_operand(k.scheme, false, d.x, "x");
  const quasar::BlockTensor w = quasar::quantize_block_operand(k.scheme, true, d.w, "w");
  if (x.block != block || w.block != block) throw std::logic_error("block size != the scheme's");
  for (std::size_t m = 0; m < x.rows() && !out.done(); ++m) {
    for (std::size_t n = 0; n < kScaleN; ++n) {
      for (std::size_t b = 0; b < blocks; ++b) {
        std::int64_t sum = 0;  // the block's exact integer I (spec §5), as the PEs produce it
        for (std::size_t kk = b * block; kk < (b + 1) * block; ++kk) {
          sum += std::int64_t{quasar::elem_int(k.x_elem, x.codes(m, kk))} *
                 quasar::elem_int(k.w_elem, w.codes(n, kk));
        }
        out.op({sum, x.scales(m, b), w.scales(n, b), b == 0});
      }
    }
  }
}

// The dot units: one block of w[n] and x[m] per op, ops walk m, n, then the blocks of K = 4096.
void llm_block_dot_stream(const Kind& k, Writer& out, std::size_t ops, std::uint64_t seed) {
  const std::size_t blocks = kBlockK / k.lanes;
  const quasar::GemmData d = llm_data(ceil_div(ops, kScaleN * blocks), kBlockK, kScaleN, seed);
  const quasar::BlockTensor x =
      k.nvfp4 ? quasar::quantize_nvfp4(d.x, "x") : quasar::quantize_mx(d.x, k.x_elem, "x");
  const quasar::BlockTensor w =
      k.nvfp4 ? quasar::quantize_nvfp4(d.w, "w") : quasar::quantize_mx(d.w, k.w_elem, "w");
  if (x.block != k.lanes || w.block != k.lanes) throw std::logic_error("block size != lanes");
  std::vector<std::vector<std::uint8_t>> v(2, std::vector<std::uint8_t>(k.lanes));
  for (std::size_t m = 0; m < x.rows() && !out.done(); ++m) {
    for (std::size_t n = 0; n < kScaleN; ++n) {
      for (std::size_t b = 0; b < blocks; ++b) {
        for (std::size_t j = 0; j < k.lanes; ++j) {
          v[0][j] = w.codes(n, b * k.lanes + j);
          v[1][j] = x.codes(m, b * k.lanes + j);
        }
        out.lanes(v);
      }
    }
  }
}

// w8a8's outputs and residual adds: the epilogue's scale multiply (fp32_mul: F32(acc) and the
// scale product) and the residual add of its fp16 result to the input activation (fp32_add).
void llm_fp32_stream(const Kind& k, Writer& out, std::size_t ops, std::uint64_t seed) {
  constexpr std::size_t n_ch = 256;
  const quasar::GemmData d = llm_data(ceil_div(ops, n_ch), kScaleK, n_ch, seed);
  quasar::WeightQuantSpec wq;
  wq.format = quasar::WeightFormat::int8;
  wq.granularity = quasar::Granularity::per_channel;
  const quasar::QuantizedWeights w = quasar::quantize_weights_rtn(d.w, wq);
  const quasar::QuantizedActivations x = quasar::quantize_per_token(d.x);
  for (std::size_t m = 0; m < d.x.rows() && !out.done(); ++m) {
    for (std::size_t n = 0; n < n_ch; ++n) {
      const std::int64_t acc = quasar::dot_i8_exact(x.q.row(m), w.codes.row(n), kScaleK);
      if (acc < INT32_MIN || acc > INT32_MAX) throw std::runtime_error("w8a8 acc leaves int32");
      const float a = static_cast<float>(acc);
      const float scale = x.scale_of(m) * w.scale(n, 0);
      if (k.family == Family::fp32_mul) {
        out.op({quasar::detail::bits_of(a), quasar::detail::bits_of(scale)});
      } else {
        const float y = quasar::f16_to_f32(quasar::f32_to_f16(a * scale));
        const float r = quasar::f16_to_f32(quasar::f32_to_f16(d.x(m, n)));
        out.op({quasar::detail::bits_of(y), quasar::detail::bits_of(r)});
      }
    }
  }
}

// Softmax's exp_q arguments: per head, q and k projections of the synthetic activations (fp16
// stores of F32 sums), fp32 scores as spec §7 computes them, F32(s_t - m) over causal rows.
void llm_exp_stream(Writer& out, std::size_t ops, std::uint64_t seed) {
  constexpr std::size_t tokens = 256, dim = 128;
  constexpr std::size_t per_head = tokens * (tokens + 1) / 2;
  const std::size_t heads = ceil_div(ops, per_head);
  const quasar::GemmData d = llm_data(tokens, kScaleK, 2 * dim * heads, seed);
  const float c = quasar::attention_scale(dim);
  std::vector<double> inv_rms(tokens);  // RMSNorm, unit gain: x' = x / sqrt(mean(x^2))
  for (std::size_t t = 0; t < tokens; ++t) {
    double ss = 0.0;
    for (std::size_t kk = 0; kk < kScaleK; ++kk) ss += double{d.x(t, kk)} * d.x(t, kk);
    inv_rms[t] = 1.0 / std::sqrt(ss / static_cast<double>(kScaleK));
  }
  auto proj = [&](std::size_t t, std::size_t row) {  // F16 store of F32(x'[t] . w[row])
    double sum = 0.0;
    for (std::size_t kk = 0; kk < kScaleK; ++kk) sum += double{d.x(t, kk)} * d.w(row, kk);
    return quasar::f16_to_f32(quasar::f32_to_f16(static_cast<float>(sum * inv_rms[t])));
  };
  std::vector<float> q(tokens * dim), kc(tokens * dim), s(tokens);
  for (std::size_t h = 0; h < heads && !out.done(); ++h) {
    for (std::size_t t = 0; t < tokens; ++t) {
      for (std::size_t i = 0; i < dim; ++i) {
        q[t * dim + i] = proj(t, 2 * dim * h + i);
        kc[t * dim + i] = proj(t, 2 * dim * h + dim + i);
      }
    }
    for (std::size_t p = 0; p < tokens && !out.done(); ++p) {
      float m = 0.0f;
      for (std::size_t t = 0; t <= p; ++t) {
        float dot = 0.0f;
        for (std::size_t i = 0; i < dim; ++i) dot += q[p * dim + i] * kc[t * dim + i];
        s[t] = dot * c;
        m = t == 0 ? s[t] : std::max(m, s[t]);
      }
      for (std::size_t t = 0; t <= p; ++t) {
        const float arg = s[t] - m;
        out.op({quasar::detail::bits_of(arg)});
      }
    }
  }
}

void llm_stream(const Kind& k, Writer& out, std::size_t ops, std::uint64_t seed) {
  switch (k.family) {
    case Family::mac:
    case Family::mul:
      return llm_mac_stream(k, out, ops, seed);
    case Family::intscale:
    case Family::floatscale:
      return llm_group_scale_stream(k, out, ops, seed);
    case Family::dequant_dgq:
      return llm_dgq_stream(out, ops, seed);
    case Family::mac_fp16:
      return llm_fp16_stream(out, ops, seed);
    case Family::rf_read:
    case Family::rf_write:
      return llm_regfile_stream(k, out, ops, seed);
    case Family::block_mac:
      return llm_block_mac_stream(k, out, ops, seed);
    case Family::block_acc:
      return k.nvfp4 ? llm_nvfp4_acc_stream(out, ops, seed)
                     : llm_block_acc_stream(k, out, ops, seed);
    case Family::block_dot:
      return llm_block_dot_stream(k, out, ops, seed);
    case Family::fp32_add:
    case Family::fp32_mul:
      return llm_fp32_stream(k, out, ops, seed);
    case Family::exp_q:
      return llm_exp_stream(out, ops, seed);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s KIND random|llm OPS SEED (KIND: see the source's header)\n",
                 argv[0]);
    return 2;
  }
  try {
    const Kind k = parse_kind(argv[1]);
    const std::string stream = argv[2];
    const auto ops = static_cast<std::size_t>(std::stoull(argv[3]));
    const auto seed = static_cast<std::uint64_t>(std::stoull(argv[4]));
    if (stream != "random" && stream != "llm") {
      throw std::runtime_error("unknown stream '" + stream + "' (random, llm)");
    }
    Writer out(ports_of(k), ops, stdout);
    if (stream == "random") {
      random_stream(k, out, seed);
    } else {
      llm_stream(k, out, ops, seed);
    }
    if (!out.done()) throw std::runtime_error("the stream ended before OPS operations");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quasar_unit_streams: %s\n", e.what());
    return 1;
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
