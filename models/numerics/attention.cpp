#include "attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "error.hpp"
#include "exp_q.hpp"
#include "float_formats.hpp"
#include "int_formats.hpp"
#include "quantize_activations.hpp"
#include "vector_ops.hpp"

namespace quasar {
namespace {

constexpr int kAccBits = 32;  // the spec's int32 QK and PV accumulators

// Sign of m^2 * d - 1 for a positive double m with at most 53 significant bits and d < 2^32,
// decided exactly: m = M * 2^E with M odd, so m^2 d - 1 has the sign of M^2 d - 2^(-2E).
int sign_sq_times_d_minus_1(double m, std::size_t d) {
  int e = 0;
  const double fr = std::frexp(m, &e);  // m = fr * 2^e, fr in [0.5, 1)
  auto M = static_cast<std::uint64_t>(std::ldexp(fr, 53));
  int E = e - 53;
  while ((M & 1u) == 0) {
    M >>= 1;
    ++E;
  }
  // A midpoint of two floats has M < 2^25, so M^2 d < 2^82: exact in 128 bits.
  const uint128_t lhs = static_cast<uint128_t>(M) * M * static_cast<uint128_t>(d);
  const int shift = -2 * E;  // the right side is 2^shift
  if (shift < 0) return 1;   // 2^shift < 1 <= lhs
  if (shift >= 127) return -1;
  const uint128_t rhs = static_cast<uint128_t>(1) << shift;
  return lhs < rhs ? -1 : (lhs > rhs ? 1 : 0);
}

std::string shape(std::size_t r, std::size_t c) {
  return std::to_string(r) + " x " + std::to_string(c);
}

void check_caches(const KvCache& k, const KvCache& v, const AttentionOptions& opt) {
  if (k.dim() != v.dim() || k.tokens() != v.tokens()) {
    throw Error("attention: the K cache (" + std::to_string(k.tokens()) + " tokens of d = " +
                std::to_string(k.dim()) + ") and the V cache (" + std::to_string(v.tokens()) +
                " tokens of d = " + std::to_string(v.dim()) + ") must match");
  }
  if (opt.mode == AttentionMode::int8) {
    if (k.format() != KvFormat::int8 || v.format() != KvFormat::int8) {
      throw Error(std::string("attention: int8 needs kv: int8 (the K cache is ") +
                  std::string(kv_format_name(k.format())) + ", the V cache " +
                  std::string(kv_format_name(v.format())) +
                  "); accepted: attention: fp32 with kv fp16/int8/int4, attention: int8 with kv "
                  "int8");
    }
    if (opt.tile != 0) {
      throw Error(
          "attention: int8 is defined for the unfused softmax only (attention_tile 0), "
          "got attention_tile " +
          std::to_string(opt.tile) + "; accepted: attention_tile 0 with attention int8");
    }
  }
}

void check_q(const std::uint16_t* q, std::size_t d, std::size_t row, std::size_t head) {
  for (std::size_t i = 0; i < d; ++i) {
    if ((q[i] & 0x7c00u) == 0x7c00u) {
      throw Error("tensor 'q': row " + std::to_string(row) + ", head " + std::to_string(head) +
                  ", element " + std::to_string(i) + " is " +
                  (f16_is_nan(q[i]) ? "NaN" : "infinite") +
                  "; only finite fp16 values are accepted");
    }
  }
}

// Quantizes one fp32 row with spec §3's per-token quantizer; returns its scale.
float quantize_row(const float* x, std::size_t n, std::vector<std::int8_t>& codes,
                   GemmCounters& c) {
  MatrixF m(1, n);
  std::copy(x, x + n, m.row(0));
  const QuantizedActivations qa = quantize_per_token(m, &c);
  codes.assign(qa.q.row(0), qa.q.row(0) + n);
  c.add_action(vec_act::kMaxFp32, n);
  c.add_action(vec_act::kDivFp32, 1);
  c.add_action(vec_act::kQuantFp32ToInt8, n);
  return qa.scale[0];
}

struct HeadRun {
  const std::uint16_t* q;
  std::size_t n;  // keys 0..n-1
  const KvCache& k;
  const KvCache& v;
  const AttentionOptions& opt;
  float c;
  GemmCounters& counters;
  AttentionProbe* probe;
};

void scores_fp32(const HeadRun& h, std::vector<float>& s) {
  const std::size_t d = h.k.dim();
  std::vector<float> q(d);
  for (std::size_t i = 0; i < d; ++i) q[i] = f16_to_f32(h.q[i]);
  for (std::size_t t = 0; t < h.n; ++t) {
    const float* kt = h.k.values(t);
    float dot = 0.0f;
    for (std::size_t i = 0; i < d; ++i) dot = dot + q[i] * kt[i];
    s[t] = dot * h.c;
  }
  const std::uint64_t nd = h.n * d;
  h.counters.add_action(act::kMulFp32, nd + h.n);
  h.counters.add_action(act::kAddFp32, nd);
  if (const char* dq = kv_act::dequant(h.k.format())) h.counters.add_action(dq, nd);
}

void scores_int8(const HeadRun& h, std::vector<float>& s) {
  const std::size_t d = h.k.dim();
  std::vector<float> qf(d);
  for (std::size_t i = 0; i < d; ++i) qf[i] = f16_to_f32(h.q[i]);
  std::vector<std::int8_t> qc;
  const float s_q = quantize_row(qf.data(), d, qc, h.counters);
  if (h.probe) h.probe->s_q = s_q;
  std::uint64_t wraps = 0;
  for (std::size_t t = 0; t < h.n; ++t) {
    const KvVector& kt = h.k.stored(t);
    WrappingAccumulator acc(kAccBits);
    for (std::size_t i = 0; i < d; ++i)
      acc.add(static_cast<int>(qc[i]) * static_cast<int>(kt.codes[i]));
    wraps += acc.wraps();
    const float S = static_cast<float>(acc.value());
    s[t] = S * ((s_q * f16_to_f32(kt.s16)) * h.c);
  }
  const std::uint64_t nd = h.n * d;
  h.counters.add_action(act::kMulInt8xInt8, nd);
  h.counters.add_action(act::add_int(kAccBits), nd);
  h.counters.add_action(act::kCvtIntToFp32, h.n);
  h.counters.add_action(act::kMulFp32, 3 * h.n);
  h.counters.add_overflow(stage::kAccumulator, wraps);
}

// Unfused softmax: p_t = F32(e_t * F32(1 / l)).
void softmax_unfused(const HeadRun& h, const std::vector<float>& s, std::vector<float>& p) {
  float m = -std::numeric_limits<float>::infinity();
  for (std::size_t t = 0; t < h.n; ++t) m = std::max(m, s[t]);
  float l = 0.0f;
  for (std::size_t t = 0; t < h.n; ++t) {
    p[t] = exp_q(s[t] - m);  // e_t, scaled below
    l = l + p[t];
  }
  const float r = 1.0f / l;
  for (std::size_t t = 0; t < h.n; ++t) p[t] = p[t] * r;
  h.counters.add_action(vec_act::kMaxFp32, h.n);
  h.counters.add_action(act::kAddFp32, 2 * h.n);
  h.counters.add_action(vec_act::kExpQ, h.n);
  h.counters.add_action(vec_act::kRcpFp32, 1);
  h.counters.add_action(act::kMulFp32, h.n);
}

void pv_fp32(const HeadRun& h, const std::vector<float>& p, std::vector<float>& o) {
  const std::size_t d = h.v.dim();
  std::fill(o.begin(), o.end(), 0.0f);
  // t outer, i inner: every o_i still sums its terms in increasing t.
  for (std::size_t t = 0; t < h.n; ++t) {
    const float* vt = h.v.values(t);
    for (std::size_t i = 0; i < d; ++i) o[i] = o[i] + p[t] * vt[i];
  }
  const std::uint64_t nd = h.n * d;
  h.counters.add_action(act::kMulFp32, nd);
  h.counters.add_action(act::kAddFp32, nd);
  if (const char* dq = kv_act::dequant(h.v.format())) h.counters.add_action(dq, nd);
}

void pv_int8(const HeadRun& h, const std::vector<float>& p, std::vector<float>& o) {
  const std::size_t d = h.v.dim();
  std::vector<float> pp(h.n);
  for (std::size_t t = 0; t < h.n; ++t) pp[t] = p[t] * f16_to_f32(h.v.stored(t).s16);
  std::vector<std::int8_t> pc;
  const float s_p = quantize_row(pp.data(), h.n, pc, h.counters);
  if (h.probe) h.probe->s_p = s_p;
  std::vector<WrappingAccumulator> acc(d, WrappingAccumulator(kAccBits));
  for (std::size_t t = 0; t < h.n; ++t) {
    const std::int8_t* vc = h.v.stored(t).codes.data();
    for (std::size_t i = 0; i < d; ++i)
      acc[i].add(static_cast<int>(pc[t]) * static_cast<int>(vc[i]));
  }
  std::uint64_t wraps = 0;
  for (std::size_t i = 0; i < d; ++i) {
    o[i] = static_cast<float>(acc[i].value()) * s_p;
    wraps += acc[i].wraps();
  }
  const std::uint64_t nd = h.n * d;
  h.counters.add_action(act::kMulFp32, h.n + d);
  h.counters.add_action(act::kMulInt8xInt8, nd);
  h.counters.add_action(act::add_int(kAccBits), nd);
  h.counters.add_action(act::kCvtIntToFp32, d);
  h.counters.add_overflow(stage::kAccumulator, wraps);
}

// Tiled (flash-style) softmax and PV; o_i = F32(acc_i / l), before the F16 store.
void tiled(const HeadRun& h, const std::vector<float>& s, std::vector<float>& o) {
  const std::size_t d = h.v.dim(), T = h.opt.tile;
  float m = -std::numeric_limits<float>::infinity();
  float l = 0.0f;
  std::vector<float> acc(d, 0.0f), part(d);
  std::vector<float> e(T);
  std::uint64_t tiles = 0;
  for (std::size_t t0 = 0; t0 < h.n; t0 += T) {
    const std::size_t t1 = std::min(h.n, t0 + T);
    float tile_max = -std::numeric_limits<float>::infinity();
    for (std::size_t t = t0; t < t1; ++t) tile_max = std::max(tile_max, s[t]);
    const float m_new = std::max(m, tile_max);
    const float alpha = tiles == 0 ? 0.0f : exp_q(m - m_new);
    float lsum = 0.0f;
    std::fill(part.begin(), part.end(), 0.0f);
    for (std::size_t t = t0; t < t1; ++t) {
      const float et = exp_q(s[t] - m_new);
      lsum = lsum + et;
      const float* vt = h.v.values(t);
      for (std::size_t i = 0; i < d; ++i) part[i] = part[i] + et * vt[i];
    }
    l = l * alpha + lsum;
    for (std::size_t i = 0; i < d; ++i) acc[i] = acc[i] * alpha + part[i];
    m = m_new;
    ++tiles;
  }
  for (std::size_t i = 0; i < d; ++i) o[i] = acc[i] / l;
  const std::uint64_t n = h.n, nd = h.n * d;
  h.counters.add_action(vec_act::kMaxFp32, n + tiles);
  h.counters.add_action(vec_act::kExpQ, n + tiles - 1);
  h.counters.add_action(act::kAddFp32, (tiles - 1) + 2 * n + tiles + nd + tiles * d);
  h.counters.add_action(act::kMulFp32, tiles + tiles * d + nd);
  h.counters.add_action(vec_act::kDivFp32, d);
  if (const char* dq = kv_act::dequant(h.v.format())) h.counters.add_action(dq, nd);
}

void run_head(const HeadRun& h, std::uint16_t* out) {
  const std::size_t d = h.k.dim();
  std::vector<float> s(h.n), o(d);
  if (h.opt.mode == AttentionMode::fp32) {
    scores_fp32(h, s);
  } else {
    scores_int8(h, s);
  }
  if (h.probe) {
    h.probe->scores = s;
    h.probe->probs.clear();
  }
  if (h.opt.tile == 0) {
    std::vector<float> p(h.n);
    softmax_unfused(h, s, p);
    if (h.probe) h.probe->probs = p;
    if (h.opt.mode == AttentionMode::fp32) {
      pv_fp32(h, p, o);
    } else {
      pv_int8(h, p, o);
    }
  } else {
    tiled(h, s, o);
  }
  if (h.probe) h.probe->out32 = o;
  std::uint64_t inf = 0;
  for (std::size_t i = 0; i < d; ++i) {
    out[i] = f32_to_f16(o[i]);
    if (f16_is_inf(out[i])) ++inf;
  }
  h.counters.add_action(act::kCvtFp32ToFp16, d);
  h.counters.add_overflow(stage::kOutputFp16Inf, inf);
}

}  // namespace

std::string_view attention_mode_name(AttentionMode m) {
  return m == AttentionMode::fp32 ? "fp32" : "int8";
}

AttentionMode parse_attention_mode(std::string_view name) {
  for (AttentionMode m : {AttentionMode::fp32, AttentionMode::int8}) {
    if (name == attention_mode_name(m)) return m;
  }
  throw Error("attention: unknown mode '" + std::string(name) + "'; accepted: fp32, int8");
}

float attention_scale(std::size_t d) {
  if (d == 0 || d >= (std::size_t{1} << 32)) {
    throw Error("attention: head dimension d must be in 1..2^32-1, got " + std::to_string(d));
  }
  // The double computation rounds twice (sqrt, divide) before the float rounding, so it could in
  // principle miss F32 of the exact value: of f0 and its neighbours, keep the float whose rounding
  // interval holds 1/sqrt(d), decided exactly (x < mid <=> mid^2 d > 1; a tie cannot occur,
  // since 1/sqrt(d) is either irrational or 1/n, a midpoint only if n is a power of 2, when it
  // is a float itself).
  const float f0 = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  for (const float f : {std::nextafter(f0, 0.0f), f0, std::nextafter(f0, 2.0f)}) {
    const double lo_mid = (static_cast<double>(f) + std::nextafter(f, 0.0f)) / 2;
    const double hi_mid = (static_cast<double>(f) + std::nextafter(f, 2.0f)) / 2;
    if (sign_sq_times_d_minus_1(lo_mid, d) < 0 && sign_sq_times_d_minus_1(hi_mid, d) > 0) {
      return f;
    }
  }
  throw Error("attention: internal: no correctly rounded 1/sqrt(" + std::to_string(d) + ")");
}

void attention_head(const std::uint16_t* q, std::size_t pos, const KvCache& k, const KvCache& v,
                    const AttentionOptions& opt, std::uint16_t* out, GemmCounters* counters,
                    AttentionProbe* probe) {
  check_caches(k, v, opt);
  if (pos >= k.tokens()) {
    throw Error("attention: query position " + std::to_string(pos) + " needs keys 0.." +
                std::to_string(pos) + " but the cache holds " + std::to_string(k.tokens()) +
                " tokens");
  }
  check_q(q, k.dim(), 0, 0);
  GemmCounters local;
  run_head(HeadRun{q, pos + 1, k, v, opt, attention_scale(k.dim()), local, probe}, out);
  if (counters) counters->merge(local);
}

std::size_t check_attention_inputs(const MatrixH& q, std::size_t heads,
                                   const std::vector<std::size_t>& positions,
                                   const std::vector<KvCache>& k, const std::vector<KvCache>& v,
                                   const AttentionOptions& opt) {
  if (heads == 0 || q.cols() == 0 || q.cols() % heads != 0) {
    throw Error("attention: q is " + shape(q.rows(), q.cols()) + ", which does not split into " +
                std::to_string(heads) + " heads of equal width >= 1");
  }
  const std::size_t d = q.cols() / heads;
  const std::size_t kv_heads = k.size();
  if (kv_heads == 0 || v.size() != kv_heads) {
    throw Error("attention: " + std::to_string(k.size()) + " K caches and " +
                std::to_string(v.size()) + " V caches; one of each per kv-head (>= 1) is needed");
  }
  if (heads % kv_heads != 0) {
    throw Error("attention: " + std::to_string(heads) + " query heads cannot share " +
                std::to_string(kv_heads) + " kv-heads; H_kv must divide H");
  }
  if (positions.size() != q.rows()) {
    throw Error("attention: " + std::to_string(positions.size()) + " positions for " +
                std::to_string(q.rows()) + " query rows; they must match");
  }
  const std::size_t tokens = k[0].tokens();
  for (std::size_t j = 0; j < kv_heads; ++j) {
    check_caches(k[j], v[j], opt);
    if (k[j].dim() != d || k[j].tokens() != tokens) {
      throw Error("attention: kv-head " + std::to_string(j) + " caches hold " +
                  std::to_string(k[j].tokens()) + " tokens of d = " + std::to_string(k[j].dim()) +
                  "; expected " + std::to_string(tokens) + " tokens of d = " + std::to_string(d) +
                  " (q's head width)");
    }
  }
  for (std::size_t r = 0; r < q.rows(); ++r) {
    if (positions[r] >= tokens) {
      throw Error("attention: query row " + std::to_string(r) + " is at position " +
                  std::to_string(positions[r]) + " but the caches hold " + std::to_string(tokens) +
                  " tokens (positions count the cached context)");
    }
    for (std::size_t h = 0; h < heads; ++h) check_q(q.row(r) + h * d, d, r, h);
  }
  return d;
}

AttentionResult attention(const MatrixH& q, std::size_t heads,
                          const std::vector<std::size_t>& positions, const std::vector<KvCache>& k,
                          const std::vector<KvCache>& v, const AttentionOptions& opt) {
  const std::size_t d = check_attention_inputs(q, heads, positions, k, v, opt);
  const std::size_t kv_heads = k.size();
  AttentionResult res{MatrixH(q.rows(), q.cols()), {}};
  const float c = attention_scale(d);
  const std::size_t group = heads / kv_heads;
  for (std::size_t r = 0; r < q.rows(); ++r) {
    for (std::size_t h = 0; h < heads; ++h) {
      const std::size_t j = h / group;
      run_head(
          HeadRun{q.row(r) + h * d, positions[r] + 1, k[j], v[j], opt, c, res.counters, nullptr},
          res.out.row(r) + h * d);
    }
  }
  return res;
}

}  // namespace quasar
