#include "vector_plan.hpp"

#include <algorithm>
#include <cmath>

#include "numerics/error.hpp"

namespace quasar::mapping {

bool is_vector_op(trace::Op op) {
  switch (op) {
    case trace::Op::rmsnorm:
    case trace::Op::layernorm:
    case trace::Op::softmax:
    case trace::Op::activation:
    case trace::Op::residual_add:
    case trace::Op::rope:
    case trace::Op::quantize_act:
    case trace::Op::kv_append:
    case trace::Op::moe_router:
      return true;
    case trace::Op::linear:
    case trace::Op::bmm:
      return false;
  }
  return false;
}

namespace {

// Per element of a row and per row. Lane ops count every fp32 add, multiply, compare, max, abs,
// round, clamp and conversion (fp16 -> fp32 on load, fp32 -> fp16 or an integer code on store);
// SFU ops every exp_q, reciprocal, square root and divide (the spec's divides are IEEE's, so
// they go to the SFU, not to a reciprocal and a multiply). Bytes are DRAM bytes: activations
// fp16 (2 B), scores and probabilities fp32 (4 B), int8 codes 1 B plus a 4 B fp32 scale per row.
// The sequences are arithmetic spec §6-§7's (one pass per reduction they wait for).
struct OpCost {
  double lane_per_elem = 0, sfu_per_elem = 0, sfu_per_row = 0;
  std::uint64_t passes = 1;
  double read_per_elem = 0, write_per_elem = 0, write_per_row = 0;
};

OpCost op_cost(const arch::ArchSpec& a, const trace::Layer& l) {
  using trace::Op;
  const bool tiled = a.attention.tile > 0;
  const bool int8 = a.attention.mode == arch::AttentionMode::int8;
  switch (l.op) {
    // cvt, x*x, add | x*r, *g, cvt; sqrt and reciprocal per row; the gains read once.
    case Op::rmsnorm:
      return {5, 0, 2, 2, 2, 2, 0};
    // cvt, add (mean) | sub, x*x, add (variance) | *r, *g, +b, cvt; sqrt and reciprocal.
    case Op::layernorm:
      return {8, 0, 2, 3, 2, 2, 0};
    // cvt, two multiplies and one add per element (the rotate-half pair), cvt.
    case Op::rope:
      return {5, 0, 0, 1, 2, 2, 0};
    case Op::softmax: {
      if (tiled) {
        // Fused into the attention tile loop (flash-style): max, sub, add per score, exp_q per
        // score; per tile the running max's exp_q and the sum's rescale (counted with the tiles
        // in plan_vector). Scores and probabilities never leave the chip.
        return {3, 1, 0, 1, 0, 0, 0};
      }
      // max | sub, exp_q, add (sum) | *r; reciprocal per row. Scores in fp32; probabilities out
      // fp32, or (int8 attention) folded with V's scale, quantized per row: *s16V, abs, max,
      // *r, round, clamp, and an int8 code plus a 4 B scale per row.
      if (int8) return {10, 1, 2, 4, 4, 1, 4};
      return {4, 1, 1, 3, 4, 4, 0};
    }
    case Op::residual_add:  // cvt a, cvt b, add, cvt
      return {4, 0, 0, 1, 4, 2, 0};
    case Op::quantize_act: {
      const ActFormatInfo& f = act_format_info(l.act_format.value_or(ActFormat::int8));
      // Per token (§3): abs, max | divide by the scale, round, clamp, cvt in, cvt out; the
      // scale per row, 1 B codes and a 4 B scale per row.
      if (f.block == 0) return {5, 1, 1, 2, 2, 1, 4};
      const double b = f.block, code_bytes = elem_bits(f.elem) / 8.0;
      // Blocks (§5), per element: cvt in, abs, max | scale, encode (RNE and saturate), store;
      // 1 B scale per block. MX: the scale is 2^e, so scaling is an exponent subtract on the
      // lanes and the block's E8M0 is amax's exponent field (one lane op per block), no SFU.
      // NVFP4: V / d on the SFU; per block two divides (SFU) and the E4M3 round, d = S_b s_t
      // and the tensor-amax compare on the lanes. [choice] NVFP4's s_t needs the whole
      // tensor's amax before any block is scaled; the rows do not wait for it here (its 4 B and
      // that barrier are not modelled: docs/numerics.md).
      if (l.act_format == ActFormat::nvfp4) return {5 + 3 / b, 1 + 2 / b, 0, 2, 2, code_bytes + 1 / b, 0};
      return {5 + 1 / b, 0, 0, 2, 2, code_bytes + 1 / b, 0};
    }
    case Op::kv_append: {
      // One row per (token, K or V head) of d = n values, stored in the cache's format (§6):
      // fp16 copied; int8: cvt, abs, max | v / s16 (a divide), round, clamp, and amax / 127 per
      // row; int4: cvt, min, max | v / s16, round, + z, clamp, and (hi - lo) / 15, -lo / s16.
      const double bytes = static_cast<double>(kv_bytes_per_token_head(a.attention.kv, l.n)) /
                           static_cast<double>(l.n);
      switch (a.attention.kv) {
        case KvFormat::fp16:
          return {0, 0, 0, 1, 2, bytes, 0};
        case KvFormat::int8:
          return {5, 1, 1, 2, 2, bytes, 0};
        case KvFormat::int4:
          return {6, 1, 2, 2, 2, bytes, 0};
      }
      break;
    }
    // Top-k by k passes of compare over the n logits, then a softmax over the k chosen.
    case Op::moe_router: {
      const double k = static_cast<double>(std::max<std::uint64_t>(l.top_k, 1));
      return {1 + k, 0, 2 * k + 1, 2 + l.top_k, 2, 0, 8 * k};
    }
    case Op::activation:
      // silu(g) * u: cvt g, cvt u, negate, add 1, multiply u, cvt | exp_q and a divide.
      if (l.function == "silu_mul") return {6, 2, 0, 1, 4, 2, 0};
      if (l.function == "relu") return {3, 0, 0, 1, 2, 2, 0};
      // gelu (tanh form): cvt, x^3 (2 mul), fma-free polynomial (3), tanh via exp_q and a
      // divide, (1 + t) * x / 2 (3), cvt.
      if (l.function == "gelu") return {10, 2, 0, 1, 2, 2, 0};
      throw Error("record '" + l.name + "': the vector unit runs activation functions silu_mul, "
                  "relu and gelu, not '" + l.function + "'");
    case Op::linear:
    case Op::bmm:
      break;
  }
  throw Error(std::string("record '") + l.name + "': " + trace::op_name(l.op) +
              " is a matmul, not a vector operation");
}

std::uint64_t round_ops(double x) { return static_cast<std::uint64_t>(x + 0.5); }

// Lane ops to widen one cached K or V value to fp32: a conversion (fp16), and the scale
// multiply (int8), and the zero point's subtraction (int4).
double kv_widen_ops(KvFormat f) {
  return f == KvFormat::fp16 ? 1 : f == KvFormat::int8 ? 2 : 3;
}

// An attention matmul in fp32 on the lanes, per query row, one instance per (batch, head):
// qk: m queries x d (k) x n keys: cvt q, a multiply and an add per MAC, c * S per score; the
//     instance's K read and widened once; scores out fp32 (unfused).
// pv: m queries x n keys (k) x d (n): probabilities in fp32 (unfused), a multiply and an add
//     per MAC, the output converted to fp16; V read and widened once; tiled, the final
//     acc / l is d divides per row and each key tile rescales the d accumulators (d multiplies).
VectorPlan plan_attention_fp32(const arch::ArchSpec& a, const trace::Layer& l) {
  const bool qk = l.attention == "qk";
  const bool tiled = a.attention.tile > 0;
  const std::uint64_t d = qk ? l.k : l.n, keys = qk ? l.n : l.k;
  const double vis = visible_keys(l);
  VectorPlan p;
  p.instances = l.batch * l.repeat;
  arch::VectorWork& w = p.work;
  w.rows = l.m;
  w.passes = 1;
  const double dd = static_cast<double>(d);
  w.fixed_read_bytes = keys * kv_bytes_per_token_head(a.attention.kv, d);
  w.fixed_lane_ops = round_ops(static_cast<double>(keys) * dd * kv_widen_ops(a.attention.kv));
  if (qk) {
    w.lane_ops = round_ops(dd + vis * (2 * dd + 1));
    w.read_bytes = 2 * d;
    w.write_bytes = tiled ? 0 : round_ops(4 * vis);
  } else {
    const double tiles = tiled ? std::ceil(vis / a.attention.tile) : 0;
    w.lane_ops = round_ops(2 * dd * vis + dd + tiles * dd);
    w.sfu_ops = tiled ? d : 0;
    w.read_bytes = tiled ? 0 : round_ops(4 * vis);
    w.write_bytes = 2 * d;
  }
  return p;
}

std::uint64_t rows_per_block(const arch::ArchSpec& a, const arch::VectorWork& w) {
  // A block is as many rows as half the scratchpad holds (the other half loads the next).
  const std::uint64_t half = static_cast<std::uint64_t>(a.vector.buffer_kib) * 512;
  const std::uint64_t row = std::max<std::uint64_t>(w.read_bytes, 1);
  return std::max<std::uint64_t>(1, std::min(half / row, w.rows));
}

}  // namespace

double visible_keys(const trace::Layer& l) {
  const std::uint64_t keys = l.op == trace::Op::bmm && l.attention == "pv" ? l.k : l.n;
  return l.causal ? (static_cast<double>(keys) + 1) / 2 : static_cast<double>(keys);
}

bool runs_as_attention(const arch::ArchSpec& a, const trace::Layer& l) {
  return l.op == trace::Op::bmm && !l.attention.empty() && a.vector.present();
}

bool on_vector_unit(const arch::ArchSpec& a, const trace::Layer& l) {
  if (is_vector_op(l.op)) return a.vector.present();
  return runs_as_attention(a, l) && a.attention.mode == arch::AttentionMode::fp32;
}

VectorPlan plan_vector(const arch::ArchSpec& a, const trace::Layer& l,
                       std::uint64_t int8_q_rows) {
  if (runs_as_attention(a, l)) {
    VectorPlan p = plan_attention_fp32(a, l);
    p.work.rows_per_block = rows_per_block(a, p.work);
    return p;
  }
  const OpCost c = op_cost(a, l);
  // Elements a row works on: a causal softmax's rows see (n + 1) / 2 keys on average (per-row
  // costs are averages, rounded to whole operations).
  const double n = l.op == trace::Op::softmax ? visible_keys(l) : static_cast<double>(l.n);
  VectorPlan p;
  p.instances = l.repeat;
  arch::VectorWork& w = p.work;
  w.rows = l.batch * l.m;
  w.lane_ops = round_ops(c.lane_per_elem * n);
  w.sfu_ops = round_ops(c.sfu_per_elem * n + c.sfu_per_row);
  w.passes = c.passes;
  w.read_bytes = round_ops(c.read_per_elem * n);
  w.write_bytes = round_ops(c.write_per_elem * n + c.write_per_row);
  if (l.op == trace::Op::softmax && a.attention.tile > 0) {
    // Per key tile: m_new, alpha = exp_q(m - m_new), l * alpha.
    const double tiles = std::ceil(n / a.attention.tile);
    w.lane_ops += round_ops(3 * tiles);
    w.sfu_ops += round_ops(tiles);
  }
  if (int8_q_rows > 0 && w.rows > 0) {
    // abs, max | round, clamp per value (the store's conversion replaces the fp16 one); the
    // divide per value and amax / 127 per row on the SFU; 1 B codes and a 4 B scale a row
    // instead of 2 B values.
    const double q = static_cast<double>(std::min(int8_q_rows, w.rows));
    const double rows = static_cast<double>(w.rows), d = static_cast<double>(l.n);
    w.lane_ops += round_ops(q * 4 * d / rows);
    w.sfu_ops += round_ops(q * (d + 1) / rows);
    const double saved = q * (2 * d - (d + 4)) / rows;
    w.write_bytes -= std::min<std::uint64_t>(w.write_bytes, round_ops(saved));
    w.passes += 1;
  }
  if (l.op == trace::Op::rmsnorm) w.fixed_read_bytes = 2 * l.n;    // fp16 gains
  if (l.op == trace::Op::layernorm) w.fixed_read_bytes = 4 * l.n;  // fp16 gains and biases
  // RoPE's cos and sin rows (fp32, n/2 each) of the m tokens' positions, shared by the heads.
  if (l.op == trace::Op::rope) w.fixed_read_bytes = l.m * 4 * l.n;
  w.rows_per_block = rows_per_block(a, w);
  return p;
}

std::uint64_t even_share(std::uint64_t n, std::uint32_t cores, std::uint32_t c) {
  return n / cores + (c < n % cores ? 1 : 0);
}

arch::VectorWork vector_share(const arch::VectorWork& w, std::uint32_t cores, std::uint32_t c) {
  arch::VectorWork s = w;
  s.rows = even_share(w.rows, cores, c);
  s.rows_per_block = std::max<std::uint64_t>(1, std::min(w.rows_per_block, s.rows));
  return s;
}

}  // namespace quasar::mapping
