#include "synthetic_model.hpp"

#include <cmath>
#include <filesystem>
#include <vector>

#include "io/output_set.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/synthetic.hpp"
#include "trace/layer_data.hpp"

namespace quasar::trace {
namespace {

MatrixF gaussian(std::size_t r, std::size_t c, double std, Rng& rng) {
  MatrixF m(r, c);
  for (float& v : m.values()) v = static_cast<float>(rng.normal() * std);
  return m;
}

void rmsnorm(const MatrixF& x, const std::vector<float>& g, MatrixF& out) {
  out = MatrixF(x.rows(), x.cols());
  for (std::size_t t = 0; t < x.rows(); ++t) {
    double ss = 0;
    for (std::size_t j = 0; j < x.cols(); ++j) ss += static_cast<double>(x(t, j)) * x(t, j);
    const float inv =
        static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(x.cols()) + 1e-6));
    for (std::size_t j = 0; j < x.cols(); ++j) out(t, j) = x(t, j) * inv * g[j];
  }
}

// Rotary embedding (rotate-half form, theta 10000) on each head of a [T, heads*hd] matrix.
void rope(MatrixF& x, std::size_t heads, std::size_t hd) {
  for (std::size_t t = 0; t < x.rows(); ++t) {
    for (std::size_t h = 0; h < heads; ++h) {
      float* v = x.row(t) + h * hd;
      for (std::size_t i = 0; i < hd / 2; ++i) {
        const double freq =
            std::pow(10000.0, -2.0 * static_cast<double>(i) / static_cast<double>(hd));
        const double a = static_cast<double>(t) * freq;
        const float c = static_cast<float>(std::cos(a)), s = static_cast<float>(std::sin(a));
        const float x0 = v[i], x1 = v[i + hd / 2];
        v[i] = x0 * c - x1 * s;
        v[i + hd / 2] = x0 * s + x1 * c;
      }
    }
  }
}

// Causal grouped-query attention in fp32: query head h reads KV head h / (heads / kv_heads).
MatrixF attention(const MatrixF& q, const MatrixF& k, const MatrixF& v, std::size_t heads,
                  std::size_t kv_heads, std::size_t hd) {
  const std::size_t T = q.rows(), g = heads / kv_heads;
  MatrixF out(T, heads * hd);
  std::vector<float> p(T);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  for (std::size_t h = 0; h < heads; ++h) {
    const std::size_t kvh = h / g;
    for (std::size_t i = 0; i < T; ++i) {
      float mx = -INFINITY;
      for (std::size_t j = 0; j <= i; ++j) {
        float s = 0;
        for (std::size_t d = 0; d < hd; ++d) s += q(i, h * hd + d) * k(j, kvh * hd + d);
        p[j] = s * scale;
        mx = std::max(mx, p[j]);
      }
      float sum = 0;
      for (std::size_t j = 0; j <= i; ++j) sum += (p[j] = std::exp(p[j] - mx));
      for (std::size_t d = 0; d < hd; ++d) {
        float acc = 0;
        for (std::size_t j = 0; j <= i; ++j) acc += p[j] * v(j, kvh * hd + d);
        out(i, h * hd + d) = acc / sum;
      }
    }
  }
  return out;
}

MatrixF to_float(const MatrixH& h) {
  MatrixF f(h.rows(), h.cols());
  for (std::size_t i = 0; i < h.size(); ++i) f.values()[i] = f16_to_f32(h.values()[i]);
  return f;
}

class Recorder {
 public:
  Recorder(const SyntheticModelSpec& spec, const GemmEngine& engine, SyntheticModelTrace& out)
      : spec_(spec), engine_(engine), out_(out) {}

  // Quantizes w for the class's scheme, runs the linear on x, records it, returns y in fp32.
  MatrixF linear(const std::string& name, const std::string& cls, const MatrixF& x,
                 const MatrixF& w) {
    const auto it = spec_.overrides.find(cls);
    const Scheme s = it != spec_.overrides.end() ? it->second
                     : cls == "lm_head"          ? Scheme::fp16
                                                 : spec_.scheme;
    const MatrixF ref = float_reference(x, w);
    const SchemeRun run = run_scheme(s, x, w, spec_.config, ref, engine_);
    out_.trace.layers.push_back(layer_from_run(name, run, spec_.config, out_.payload));
    return to_float(run.result.y);
  }

  void op(const std::string& name, Op op, std::uint64_t m, std::uint64_t n,
          const std::string& fn = "") {
    Layer l;
    l.name = name;
    l.op = op;
    l.m = m, l.n = n;
    l.function = fn;
    out_.trace.layers.push_back(l);
  }

 private:
  const SyntheticModelSpec& spec_;
  const GemmEngine& engine_;
  SyntheticModelTrace& out_;
};

}  // namespace

SyntheticModelTrace synthesize_model_trace(const SyntheticModelSpec& spec,
                                           const GemmEngine& engine) {
  const std::size_t H = spec.hidden, I = spec.intermediate, T = spec.tokens, hd = H / spec.heads;
  if (spec.heads == 0 || spec.kv_heads == 0 || H % spec.heads || spec.heads % spec.kv_heads ||
      hd % 2) {
    throw Error("synthetic model: hidden must split into heads of even size, heads into kv_heads");
  }
  if (T == 0 || spec.layers == 0 || spec.vocab == 0 || spec.outlier_channels > H) {
    throw Error(
        "synthetic model: tokens, layers and vocab must be >= 1, outlier channels <= hidden");
  }
  const std::size_t kv = spec.kv_heads * hd;
  Rng rng(spec.seed);
  SyntheticModelTrace out;
  out.trace.name = "synthetic-llama-h" + std::to_string(H) + "-l" + std::to_string(spec.layers) +
                   "-t" + std::to_string(T) + "-" + std::string(scheme_name(spec.scheme));
  out.trace.payload = "payload.safetensors";
  out.trace.meta = {{"generator", "quasar trace synth"},
                    {"model", "synthetic LLaMA architecture"},
                    {"hidden", std::to_string(H)},
                    {"intermediate", std::to_string(I)},
                    {"layers", std::to_string(spec.layers)},
                    {"heads", std::to_string(spec.heads)},
                    {"kv_heads", std::to_string(spec.kv_heads)},
                    {"tokens", std::to_string(T)},
                    {"seed", std::to_string(spec.seed)},
                    {"scheme", std::string(scheme_name(spec.scheme))},
                    {"engine", std::string(engine.name())}};
  Recorder rec(spec, engine, out);

  // Outlier channels: a few residual-stream dimensions carry much larger values, from the
  // embeddings on, and the norm weights keep them large (the LLM.int8() observation).
  std::vector<float> gain(H, 1.0f);
  for (std::size_t i = 0; i < spec.outlier_channels; ++i) {
    gain[rng.next() % H] = static_cast<float>(spec.outlier_gain);
  }
  MatrixF embed = gaussian(spec.vocab, H, 1.0, rng);
  for (std::size_t v = 0; v < spec.vocab; ++v) {
    for (std::size_t j = 0; j < H; ++j) embed(v, j) *= gain[j];
  }
  MatrixF h(T, H);
  for (std::size_t t = 0; t < T; ++t) {
    const std::size_t tok = rng.next() % spec.vocab;
    for (std::size_t j = 0; j < H; ++j) h(t, j) = embed(tok, j);
  }
  auto norm_weights = [&] {
    std::vector<float> g(H);
    for (float& v : g) v = static_cast<float>(1.0 + 0.1 * rng.normal());
    return g;
  };
  const double wstd = 0.02;
  MatrixF a, b;
  for (std::uint64_t layer = 0; layer < spec.layers; ++layer) {
    const std::string p = "layers." + std::to_string(layer) + ".";
    rec.op(p + "input_layernorm", Op::rmsnorm, T, H);
    rmsnorm(h, norm_weights(), a);
    MatrixF q = rec.linear(p + "self_attn.q_proj", "q_proj", a, gaussian(H, H, wstd, rng));
    MatrixF k = rec.linear(p + "self_attn.k_proj", "k_proj", a, gaussian(kv, H, wstd, rng));
    const MatrixF v = rec.linear(p + "self_attn.v_proj", "v_proj", a, gaussian(kv, H, wstd, rng));
    rec.op(p + "self_attn.rope", Op::rope, T, H + kv);
    rope(q, spec.heads, hd);
    rope(k, spec.kv_heads, hd);
    rec.op(p + "self_attn.softmax", Op::softmax, T, T);
    const MatrixF attn = attention(q, k, v, spec.heads, spec.kv_heads, hd);
    const MatrixF o = rec.linear(p + "self_attn.o_proj", "o_proj", attn, gaussian(H, H, wstd, rng));
    rec.op(p + "attn_residual", Op::residual_add, T, H);
    for (std::size_t i = 0; i < h.size(); ++i) h.values()[i] += o.values()[i];
    rec.op(p + "post_attention_layernorm", Op::rmsnorm, T, H);
    rmsnorm(h, norm_weights(), b);
    const MatrixF gate = rec.linear(p + "mlp.gate_proj", "gate_proj", b, gaussian(I, H, wstd, rng));
    const MatrixF up = rec.linear(p + "mlp.up_proj", "up_proj", b, gaussian(I, H, wstd, rng));
    rec.op(p + "mlp.act", Op::activation, T, I, "silu_mul");
    MatrixF m(T, I);
    for (std::size_t i = 0; i < m.size(); ++i) {
      const float g = gate.values()[i];
      m.values()[i] = g / (1.0f + std::exp(-g)) * up.values()[i];
    }
    const MatrixF d = rec.linear(p + "mlp.down_proj", "down_proj", m, gaussian(H, I, wstd, rng));
    rec.op(p + "mlp_residual", Op::residual_add, T, H);
    for (std::size_t i = 0; i < h.size(); ++i) h.values()[i] += d.values()[i];
  }
  rec.op("norm", Op::rmsnorm, T, H);
  rmsnorm(h, norm_weights(), a);
  rec.linear("lm_head", "lm_head", a, gaussian(spec.vocab, H, wstd, rng));
  validate(out.trace, "synthetic model trace");
  return out;
}

void write_synthetic_model_trace(const std::string& dir, const SyntheticModelTrace& t) {
  io::OutputSet out(dir, {"trace.yaml", t.trace.payload});
  safetensors::write(out.path(t.trace.payload), t.payload);
  write_manifest(out.path("trace.yaml"), t.trace);
  out.publish();
}

}  // namespace quasar::trace
