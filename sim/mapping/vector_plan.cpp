#include "vector_plan.hpp"

#include <algorithm>

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

// Per element of a row (n of them) and per row. Lane ops count every fp32 add, multiply,
// compare, max, abs, round and conversion (fp16 -> fp32 on load, fp32 -> fp16 or int8 on store);
// SFU ops every exp_q, reciprocal, square root and divide. Bytes are DRAM bytes: activations
// fp16 (2 B), scores and probabilities fp32 (4 B), int8 codes 1 B plus a 4 B fp32 scale per
// row. The sequences are arithmetic spec §7's (one pass per reduction it waits for).
struct OpCost {
  double lane_per_elem = 0, sfu_per_elem = 0;
  std::uint64_t sfu_per_row = 0, passes = 1;
  double read_per_elem = 0, write_per_elem = 0;
  std::uint64_t write_per_row = 0;
};

OpCost op_cost(const trace::Layer& l) {
  using trace::Op;
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
    // max | sub, exp_q, add (sum) | *r; reciprocal per row. Scores in and probabilities out fp32.
    case Op::softmax:
      return {4, 1, 1, 3, 4, 4, 0};
    case Op::residual_add:  // cvt a, cvt b, add, cvt
      return {4, 0, 0, 1, 4, 2, 0};
    // abs, max | *r, round, clamp, cvt in, cvt out; reciprocal per row (§3's per-token scale).
    case Op::quantize_act:
      return {6, 0, 1, 2, 2, 1, 4};
    // fp16 K and V copied into the cache.
    case Op::kv_append:
      return {0, 0, 0, 1, 2, 2, 0};
    // Top-k by k passes of compare over the n logits, then a softmax over the k chosen.
    case Op::moe_router: {
      const double k = static_cast<double>(std::max<std::uint64_t>(l.top_k, 1));
      return {1 + k, 0, 2 * l.top_k + 1, 2 + l.top_k, 2, 0, 8 * l.top_k};
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

}  // namespace

arch::VectorWork plan_vector(const arch::ArchSpec& a, const trace::Layer& l) {
  const OpCost c = op_cost(l);
  const auto per_row = [&](double per_elem) {
    return static_cast<std::uint64_t>(per_elem * static_cast<double>(l.n) + 0.5);
  };
  arch::VectorWork w;
  w.rows = l.batch * l.m;
  w.lane_ops = per_row(c.lane_per_elem);
  w.sfu_ops = per_row(c.sfu_per_elem) + c.sfu_per_row;
  w.passes = c.passes;
  w.read_bytes = per_row(c.read_per_elem);
  w.write_bytes = per_row(c.write_per_elem) + c.write_per_row;
  if (l.op == trace::Op::rmsnorm) w.fixed_read_bytes = 2 * l.n;      // fp16 gains
  if (l.op == trace::Op::layernorm) w.fixed_read_bytes = 4 * l.n;    // fp16 gains and biases
  // RoPE's cos and sin rows (fp32, n/2 each) of the m tokens' positions, shared by the heads.
  if (l.op == trace::Op::rope) w.fixed_read_bytes = l.m * 4 * l.n;
  // A block is as many rows as half the scratchpad holds (the other half loads the next).
  const std::uint64_t half = static_cast<std::uint64_t>(a.vector.buffer_kib) * 512;
  const std::uint64_t row = std::max<std::uint64_t>(w.read_bytes, 1);
  w.rows_per_block = std::max<std::uint64_t>(1, std::min(half / row, w.rows));
  return w;
}

arch::VectorWork vector_share(const arch::VectorWork& w, std::uint32_t cores, std::uint32_t c) {
  arch::VectorWork s = w;
  s.rows = w.rows / cores + (c < w.rows % cores ? 1 : 0);
  s.rows_per_block = std::max<std::uint64_t>(1, std::min(w.rows_per_block, s.rows));
  return s;
}

}  // namespace quasar::mapping
