#include "op_data.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "numerics/attention.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm_block.hpp"
#include "numerics/scheme_runner.hpp"
#include "numerics/kv_cache.hpp"
#include "numerics/quantize_activations.hpp"
#include "numerics/vector_ops.hpp"
#include "trace/scheme_tensors.hpp"
#include "trace/tensor_loader.hpp"

namespace quasar::trace {
namespace {

using safetensors::DType;
using safetensors::Tensor;

std::int64_t i64(std::uint64_t v) { return static_cast<std::int64_t>(v); }

template <class T>
Tensor tensor(DType dtype, std::vector<std::int64_t> shape, const std::vector<T>& v) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

// Positions (I32 [m]) as indices, each below `limit` (the RoPE tables' rows, or the tokens the
// KV cache holds): a position outside is an error naming the element.
std::vector<std::size_t> positions(const TensorLoader& ld, std::uint64_t m, std::uint64_t limit,
                                   const std::string& limit_what) {
  const std::vector<std::int32_t> p = ld.values<std::int32_t>("positions", DType::I32, {i64(m)});
  std::vector<std::size_t> out(p.size());
  for (std::size_t j = 0; j < p.size(); ++j) {
    if (p[j] < 0 || static_cast<std::uint64_t>(p[j]) >= limit) {
      ld.fail("positions", "element [" + std::to_string(j) + "] = " + std::to_string(p[j]) +
                               " is outside 0.." + std::to_string(limit - 1) + " (" + limit_what +
                               ")");
    }
    out[j] = static_cast<std::size_t>(p[j]);
  }
  return out;
}

OpResult vector_result(VectorResult v) {
  OpResult r;
  r.outputs["y"] = safetensors::from_matrix(v.y);
  r.counters = std::move(v.counters);
  return r;
}

OpResult run_rmsnorm(const TensorLoader& ld, const Layer& l, const VectorEngine& e) {
  const MatrixH x = ld.matrix<std::uint16_t>("x", DType::F16, l.m, l.n);
  const std::vector<std::uint16_t> g = ld.values<std::uint16_t>("g", DType::F16, {i64(l.n)});
  const float eps = ld.values<float>("eps", DType::F32, {1})[0];
  return vector_result(e.rmsnorm(x, g, eps));
}

// The tables are data (docs/numerics.md row 24): taken as recorded, [P, n/2] for positions
// 0..P-1, never regenerated here.
OpResult run_rope(const TensorLoader& ld, const Layer& l, const VectorEngine& e) {
  if (l.n % 2 != 0) {
    throw Error("rope pairs values i and i + n/2 of each head: the head dimension n = " +
                std::to_string(l.n) + " must be even");
  }
  const MatrixH x = ld.matrix<std::uint16_t>("x", DType::F16, l.m, l.batch * l.n);
  const Tensor& c = ld.raw("cos");
  if (c.shape.size() != 2 || c.shape[0] < 1 || c.shape[1] != i64(l.n / 2)) {
    ld.fail("cos", "has shape " + TensorLoader::str(c.shape) + ", expected [P, " +
                       std::to_string(l.n / 2) + "] (P >= 1 positions of n/2 angles)");
  }
  RopeTables t;
  t.max_pos = static_cast<std::size_t>(c.shape[0]);
  t.d = static_cast<std::size_t>(l.n);
  t.cos = ld.values<float>("cos", DType::F32, c.shape);
  t.sin = ld.values<float>("sin", DType::F32, c.shape);
  const std::vector<std::size_t> pos = positions(ld, l.m, t.max_pos, "the rows of cos and sin");
  return vector_result(e.rope(t, x, pos));
}

OpResult run_residual(const TensorLoader& ld, const Layer& l, const VectorEngine& e) {
  const MatrixH a = ld.matrix<std::uint16_t>("a", DType::F16, l.m, l.n);
  const MatrixH b = ld.matrix<std::uint16_t>("b", DType::F16, l.m, l.n);
  return vector_result(e.residual_add(a, b));
}

OpResult run_silu_mul(const TensorLoader& ld, const Layer& l, const VectorEngine& e) {
  const MatrixH g = ld.matrix<std::uint16_t>("g", DType::F16, l.m, l.n);
  const MatrixH u = ld.matrix<std::uint16_t>("u", DType::F16, l.m, l.n);
  return vector_result(e.swiglu(g, u));
}

// Spec §3's per-token quantizer on F32(x), or with a per-channel smoothing factor s_j on
// F32(F32(x) / s_j) [choice: the divide the scheme runner applies before quantizing, so a
// smoothed scheme's x_q is this record's output; docs/numerics.md row 26].
// Names the first NaN or infinite element of an fp16 input (the quantizers need finite values).
void require_finite(const TensorLoader& ld, const char* role, const MatrixH& x) {
  for (std::size_t i = 0; i < x.size(); ++i) {
    if ((x.values()[i] & 0x7c00u) == 0x7c00u) {
      ld.fail(role, "element [" + std::to_string(i / x.cols()) + ", " +
                        std::to_string(i % x.cols()) + "] is " +
                        (f16_is_nan(x.values()[i]) ? "NaN" : "infinite"));
    }
  }
}

// Spec §5's block quantizer (MX or NVFP4, the record's act_format) on F32(x): the operand a
// block-scaled linear reads, packed as its roles (block_tensors). Saturated elements count
// under act_saturate, as the scheme runner counts them.
OpResult run_quantize_blocks(const TensorLoader& ld, const Layer& l, ActFormat f) {
  const MatrixH x = ld.matrix<std::uint16_t>("x", DType::F16, l.m, l.n);
  if (ld.has("smoothing")) {
    ld.fail("smoothing", "act_format " + std::string(act_format_info(f).name) +
                             " takes no smoothing factors (they apply to int8 quantization)");
  }
  const std::size_t block = act_format_info(f).block;
  if (l.n % block != 0) {
    ld.fail("x", "cannot be quantized to " + std::string(act_format_info(f).name) +
                     " blocks: n = " + std::to_string(l.n) + " is not a multiple of " +
                     std::to_string(block));
  }
  require_finite(ld, "x", x);
  BlockQuantStats stats;
  const BlockTensor t = quantize_block_acts(f, to_f32(x), "x", &stats);
  OpResult r;
  const std::uint64_t n = x.size(), blocks = n / block;
  r.counters.add_action(vec_act::kMaxFp32, n);
  r.counters.add_action(vec_act::kQuantFp32ToBlock, n);
  r.counters.add_action(vec_act::kBlockScale, blocks);
  if (f == ActFormat::nvfp4) {
    // The tensor amax over the block amaxes, s_t = amax / 2688, two divides per block scale
    // and V / d per element (spec §5).
    r.counters.add_action(vec_act::kMaxFp32, blocks);
    r.counters.add_action(vec_act::kDivFp32, n + 2 * blocks + 1);
  }
  r.counters.add_overflow(stage::kActSaturate, stats.saturated);
  r.outputs = block_tensors("x", t);
  return r;
}

OpResult run_quantize_act(const TensorLoader& ld, const Layer& l, const VectorEngine& e) {
  const ActFormat f = l.act_format.value_or(ActFormat::int8);
  if (act_format_info(f).block != 0) return run_quantize_blocks(ld, l, f);
  const MatrixH x = ld.matrix<std::uint16_t>("x", DType::F16, l.m, l.n);
  OpResult r;
  QuantizedActivations q;
  if (!ld.has("smoothing")) {
    TokenQuantResult tq = e.quantize_tokens(x);
    q = std::move(tq.q);
    r.counters = std::move(tq.counters);
  } else {
    const std::vector<float> s = ld.vector("smoothing", l.n);
    for (std::size_t j = 0; j < s.size(); ++j) {
      if (!(s[j] > 0.0f) || !std::isfinite(s[j]))
        ld.fail("smoothing", "element [" + std::to_string(j) + "] = " + std::to_string(s[j]) +
                                 " is not a finite factor > 0");
    }
    require_finite(ld, "x", x);
    MatrixF xs(x.rows(), x.cols());
    for (std::size_t m = 0; m < x.rows(); ++m) {
      for (std::size_t j = 0; j < x.cols(); ++j) xs(m, j) = f16_to_f32(x(m, j)) / s[j];
    }
    // A tiny factor can overflow the quotient: name the element rather than "infinite input".
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (!std::isfinite(xs.values()[i])) {
        ld.fail("smoothing", "divides x[" + std::to_string(i / x.cols()) + ", " +
                                 std::to_string(i % x.cols()) + "] beyond fp32");
      }
    }
    q = quantize_per_token(xs, &r.counters);
    // As quantize_tokens counts, plus the smoothing's one divide per value.
    r.counters.add_action(vec_act::kDivFp32, x.size() + x.rows());
    r.counters.add_action(vec_act::kMaxFp32, x.size());
    r.counters.add_action(vec_act::kQuantFp32ToInt8, x.size());
  }
  r.outputs["x_q"] = safetensors::from_matrix(q.q);
  r.outputs["x_scale"] = safetensors::from_vector(q.scale);
  return r;
}

// Each (token, head) vector of n values written in the record's KV format (spec §6).
OpResult run_kv_append(const TensorLoader& ld, const Layer& l, const VectorEngine& e) {
  const KvFormat f = l.kv_format.value_or(KvFormat::fp16);
  const std::size_t heads = l.batch, d = l.n, m = l.m;
  const MatrixH x = ld.matrix<std::uint16_t>("x", DType::F16, m, heads * d);
  OpResult r;
  KvWriteResult w;
  try {
    w = e.kv_write(f, x, heads);
  } catch (const Error&) {
    // Name the (token, head) the engine refused: the reference, row by row, throws there.
    GemmCounters scratch;
    for (std::size_t t = 0; t < m; ++t) {
      for (std::size_t j = 0; j < heads; ++j) {
        try {
          kv_quantize(f, x.row(t) + j * d, d, &scratch);
        } catch (const Error& err) {
          throw Error("token " + std::to_string(t) + ", head " + std::to_string(j) + ": " +
                      err.what());
        }
      }
    }
    throw;
  }
  r.counters = std::move(w.counters);
  std::vector<std::uint16_t> f16, scales;
  std::vector<std::int8_t> codes;
  std::vector<std::uint8_t> ucodes, zeros;
  for (std::size_t t = 0; t < m; ++t) {
    for (std::size_t j = 0; j < heads; ++j) {
      const KvVector& q = w.vectors[t * heads + j];
      switch (f) {
        case KvFormat::fp16:
          f16.insert(f16.end(), q.f16.begin(), q.f16.end());
          break;
        case KvFormat::int8:
          codes.insert(codes.end(), q.codes.begin(), q.codes.end());
          scales.push_back(q.s16);
          break;
        case KvFormat::int4:
          for (std::int8_t c : q.codes) ucodes.push_back(static_cast<std::uint8_t>(c));
          scales.push_back(q.s16);
          zeros.push_back(q.z);
          break;
      }
    }
  }
  const std::vector<std::int64_t> values{i64(m), i64(heads * d)}, per_head{i64(m), i64(heads)};
  switch (f) {
    case KvFormat::fp16:
      r.outputs["y"] = tensor(DType::F16, values, f16);
      break;
    case KvFormat::int8:
      r.outputs["codes"] = tensor(DType::I8, values, codes);
      r.outputs["scales"] = tensor(DType::F16, per_head, scales);
      break;
    case KvFormat::int4:
      r.outputs["codes"] = tensor(DType::U8, values, ucodes);
      r.outputs["scales"] = tensor(DType::F16, per_head, scales);
      r.outputs["zeros"] = tensor(DType::U8, per_head, zeros);
      break;
  }
  return r;
}

// Attention as a unit (spec §7): batch = query heads, m queries at `positions`, k cached
// tokens of head dimension n; K and V are the fp16 values appended ([k, kv_heads * n]), written
// into the record's KV format here exactly as its kv_append records wrote them.
OpResult run_attention(const TensorLoader& ld, const Layer& l, const VectorEngine& e) {
  const std::size_t H = l.batch, M = l.m, keys = l.k, d = l.n;
  const MatrixH q = ld.matrix<std::uint16_t>("q", DType::F16, M, H * d);
  const Tensor& kt = ld.raw("k");
  if (kt.shape.size() != 2 || kt.shape[0] != i64(keys) || kt.shape[1] < i64(d) ||
      kt.shape[1] % i64(d) != 0 || H % static_cast<std::size_t>(kt.shape[1] / i64(d)) != 0) {
    ld.fail("k", "has shape " + TensorLoader::str(kt.shape) + ", expected [" +
                     std::to_string(keys) + ", kv_heads x " + std::to_string(d) +
                     "] with kv_heads dividing the " + std::to_string(H) + " query heads");
  }
  const std::size_t kv_heads = static_cast<std::size_t>(kt.shape[1]) / d;
  const MatrixH K = ld.matrix<std::uint16_t>("k", DType::F16, keys, kv_heads * d);
  const MatrixH V = ld.matrix<std::uint16_t>("v", DType::F16, keys, kv_heads * d);
  const std::vector<std::size_t> pos = positions(ld, M, keys, "the tokens the cache holds");
  const AttentionOptions opt = l.attention_options();
  const KvFormat f = l.kv_format.value_or(KvFormat::fp16);
  // The cache writes are the kv_append records' work (counted there), not attention's.
  const std::vector<KvCache> kc = make_kv_caches(f, K, kv_heads);
  const std::vector<KvCache> vc = make_kv_caches(f, V, kv_heads);
  AttentionResult a = e.attention(q, H, pos, kc, vc, opt);
  OpResult r;
  r.outputs["y"] = safetensors::from_matrix(a.out);
  r.counters = std::move(a.counters);
  const bool scores = ld.has("scores"), probs = ld.has("probs");
  if (!scores && !probs) return r;
  // What each query head computed on the way, [head, query, key]: keys past the query's
  // position are never scored (-inf) and get probability 0.
  std::vector<float> s(H * M * keys, -std::numeric_limits<float>::infinity());
  std::vector<float> p(H * M * keys, 0.0f);
  std::vector<std::uint16_t> out(d);
  const std::size_t group = H / kv_heads;
  for (std::size_t h = 0; h < H; ++h) {
    for (std::size_t row = 0; row < M; ++row) {
      AttentionProbe probe;
      attention_head(q.row(row) + h * d, pos[row], kc[h / group], vc[h / group], opt, out.data(),
                     nullptr, &probe);
      const std::size_t base = (h * M + row) * keys;
      std::copy(probe.scores.begin(), probe.scores.end(), s.begin() + static_cast<long>(base));
      std::copy(probe.probs.begin(), probe.probs.end(), p.begin() + static_cast<long>(base));
    }
  }
  const std::vector<std::int64_t> shape{i64(H), i64(M), i64(keys)};
  if (scores) r.outputs["scores"] = tensor(DType::F32, shape, s);
  if (probs) r.outputs["probs"] = tensor(DType::F32, shape, p);
  return r;
}

}  // namespace

OpResult run_op_record(const Layer& l, const safetensors::File& payload, const std::string& source,
                       const VectorEngine& engine) {
  if (!l.op_data()) {
    throw Error(source + ": layer '" + l.name + "' carries no non-GEMM tensors");
  }
  const TensorLoader ld(l, payload, source);
  try {
    switch (l.op) {
      case Op::rmsnorm:
        return run_rmsnorm(ld, l, engine);
      case Op::rope:
        return run_rope(ld, l, engine);
      case Op::residual_add:
        return run_residual(ld, l, engine);
      case Op::activation:
        return run_silu_mul(ld, l, engine);
      case Op::quantize_act:
        return run_quantize_act(ld, l, engine);
      case Op::kv_append:
        return run_kv_append(ld, l, engine);
      case Op::bmm:
        return run_attention(ld, l, engine);
      default:
        break;
    }
  } catch (const Error& e) {
    // The loader's errors name the payload and record already; the operation's do not.
    const std::string what = e.what();
    if (what.rfind(source + ": layer '", 0) == 0) throw;
    throw Error(source + ": layer '" + l.name + "': " + what);
  }
  throw Error(source + ": layer '" + l.name + "': " + why_no_op_data(l));
}

std::string op_record_kind(const Layer& l) {
  switch (l.op) {
    case Op::activation:
      return l.function;
    case Op::kv_append:
      return "kv_append " + std::string(kv_format_name(l.kv_format.value_or(KvFormat::fp16)));
    case Op::quantize_act:
      return l.act_format ? "quantize_act " + std::string(act_format_info(*l.act_format).name)
                          : "quantize_act";
    case Op::bmm: {
      const AttentionOptions o = l.attention_options();
      return "attn " + std::string(attention_mode_name(o.mode)) + "/" +
             std::string(kv_format_name(l.kv_format.value_or(KvFormat::fp16))) +
             (o.tile ? "/t" + std::to_string(o.tile) : "");
    }
    default:
      return op_name(l.op);
  }
}

}  // namespace quasar::trace
