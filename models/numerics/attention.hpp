// Attention (arithmetic spec §7): one query head over its kv-head's cached keys and values.
// Query position p attends keys t = 0..p (causal; positions count the cached context, so token t
// of a cache is absolute position t). GQA: query head h reads kv-head h / (H / H_kv).
// c = F32(1/sqrt(d)) of the exact value.
//
// Scores
//   fp32: s_t = F32(F32(sum_i F32(q_i) * v̂K_t,i) * c), the dot product sequential in i from 0.
//   int8 (needs kv: int8): q quantized per (token, head) by spec §3's per-token quantizer
//         (s_q = F32(amax / 127)); S = sum_i qcode_i * kcode_t,i in int32 (a wrap is counted);
//         s_t = F32(F32(S) * F32(F32(s_q * F32(s16_t)) * c)).
// Softmax and PV
//   unfused (tile 0): m = max_t s_t; e_t = exp_q(F32(s_t - m)); l = sum_t e_t; r = F32(1 / l);
//         p_t = F32(e_t * r); fp32: o_i = F16(sum_t F32(p_t * v̂V_t,i)).
//         int8: p'_t = F32(p_t * F32(s16V_t)), quantized as one row by §3's per-token quantizer
//         (s_p = F32(max p' / 127)); O_i = sum_t pcode_t * vcode_t,i in int32;
//         o_i = F16(F32(F32(O_i) * s_p)).
//   tiled (tile T > 0, fp32 only): tiles of T keys in order; m_new = max(m, tile max);
//         alpha = exp_q(F32(m - m_new)), 0 for the first tile (m = -inf); e_t = exp_q(F32(s_t -
//         m_new)); l = F32(F32(l * alpha) + sum_tile e_t); acc_i = F32(F32(acc_i * alpha) +
//         sum_tile F32(e_t * v̂V_t,i)); o_i = F16(F32(acc_i / l)).
// Every sum is sequential in t (or i) and starts from +0; every fp32 operation rounds on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "counters.hpp"
#include "kv_cache.hpp"
#include "matrix.hpp"

namespace quasar {

enum class AttentionMode { fp32, int8 };
std::string_view attention_mode_name(AttentionMode m);
// "fp32", "int8"; anything else throws quasar::Error naming what is accepted.
AttentionMode parse_attention_mode(std::string_view name);

struct AttentionOptions {
  AttentionMode mode = AttentionMode::fp32;
  std::size_t tile = 0;  // attention_tile: 0 = unfused softmax; T > 0 = tiles of T keys
};

// c = F32(1 / sqrt(d)) of the exact value (correctly rounded; d >= 1).
float attention_scale(std::size_t d);

// What one query head computed on the way, for tests and for comparing implementations step by
// step: the scores s_t, (unfused softmax) the probabilities p_t, the fp32 outputs o_i before the
// F16 store, and for int8 s_q and s_p.
struct AttentionProbe {
  std::vector<float> scores;
  std::vector<float> probs;  // empty for the tiled softmax
  std::vector<float> out32;
  float s_q = 0.0f, s_p = 0.0f;
};

// One query head: q holds d = k.dim() fp16 codes, its position pos (< k.tokens()); out gets d fp16
// codes. k and v are the kv-head's caches. Counts into `counters` when given.
void attention_head(const std::uint16_t* q, std::size_t pos, const KvCache& k, const KvCache& v,
                    const AttentionOptions& opt, std::uint16_t* out,
                    GemmCounters* counters = nullptr, AttentionProbe* probe = nullptr);

struct AttentionResult {
  MatrixH out;  // P x (H * d) fp16 codes, head h in columns [h*d, (h+1)*d)
  GemmCounters counters;
};

// The batch: q is P x (H * d) fp16 codes (row j = the query at position positions[j], head h in
// columns [h*d, (h+1)*d)); k and v hold one cache per kv-head (H_kv of each, H_kv dividing H), all
// with the same d and the same number of tokens, every position below it.
//
// Counters (actions as executed, per query head and row with n = p + 1 keys):
//   fp32 scores: mul.fp32 n*d + n, add.fp32 n*d (+ the kv dequantization n*d for int8/int4 K).
//   int8 scores: the q quantization (max.fp32 d, div.fp32 1, quant.fp32->int8 d), mul.int8xint8
//     n*d, add.int32 n*d, cvt.int->fp32 n, mul.fp32 3n.
//   unfused softmax: max.fp32 n, add.fp32 2n, exp_q n, rcp.fp32 1, mul.fp32 n.
//   fp32 PV (unfused): mul.fp32 n*d, add.fp32 n*d (+ V dequantization n*d).
//   int8 PV: mul.fp32 n + d, the p' quantization (max.fp32 n, div.fp32 1, quant n),
//     mul.int8xint8 n*d, add.int32 n*d, cvt.int->fp32 d.
//   tiled, with `tiles` tiles: max.fp32 n + tiles, exp_q n + tiles - 1, add.fp32
//     (tiles - 1) + 2n + tiles + n*d + tiles*d, mul.fp32 tiles + tiles*d + n*d (the first tile's
//     rescale by alpha = 0 is executed and counted), div.fp32 d (+ V dequantization n*d).
//   cvt.fp32->fp16 d. Events: int32 wraps (stage accumulator), activation saturations from the
//   quantizer (act_saturate; none can occur for finite fp16 inputs), fp16 outputs that overflow
//   (output_fp16_inf).
// Throws quasar::Error for: shapes that disagree, H_kv not dividing H, a position beyond the
// cache, NaN/inf in q, int8 attention without kv int8 K and V, int8 attention with a tile.
AttentionResult attention(const MatrixH& q, std::size_t heads,
                          const std::vector<std::size_t>& positions, const std::vector<KvCache>& k,
                          const std::vector<KvCache>& v, const AttentionOptions& opt);

// The checks attention() makes on its inputs, in its order, throwing the same errors (the CUDA
// path calls it too, so both refuse the same inputs with the same words); the head width d.
std::size_t check_attention_inputs(const MatrixH& q, std::size_t heads,
                                   const std::vector<std::size_t>& positions,
                                   const std::vector<KvCache>& k, const std::vector<KvCache>& v,
                                   const AttentionOptions& opt);

}  // namespace quasar
