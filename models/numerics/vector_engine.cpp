#include "vector_engine.hpp"

#include "error.hpp"
#include "exp_q.hpp"

namespace quasar {
namespace {

class CpuVectorEngine final : public VectorEngine {
 public:
  std::string_view name() const override { return "cpu"; }

  KvWriteResult kv_write(KvFormat f, const MatrixH& x, std::size_t kv_heads) const override {
    if (kv_heads == 0 || x.cols() == 0 || x.cols() % kv_heads != 0) {
      throw Error("kv cache: " + std::to_string(x.cols()) + " columns do not split into " +
                  std::to_string(kv_heads) + " kv-heads of equal width >= 1");
    }
    KvWriteResult r;
    r.d = x.cols() / kv_heads;
    r.values = MatrixF(x.rows(), x.cols());
    r.vectors.reserve(x.rows() * kv_heads);
    for (std::size_t t = 0; t < x.rows(); ++t) {
      for (std::size_t j = 0; j < kv_heads; ++j) {
        r.vectors.push_back(kv_quantize(f, x.row(t) + j * r.d, r.d, &r.counters));
        kv_dequantize(r.vectors.back(), r.values.row(t) + j * r.d);
      }
    }
    return r;
  }

  AttentionResult attention(const MatrixH& q, std::size_t heads,
                            const std::vector<std::size_t>& positions,
                            const std::vector<KvCache>& k, const std::vector<KvCache>& v,
                            const AttentionOptions& opt) const override {
    return quasar::attention(q, heads, positions, k, v, opt);
  }

  VectorResult rmsnorm(const MatrixH& x, const std::vector<std::uint16_t>& g,
                       float eps) const override {
    VectorResult r;
    r.y = quasar::rmsnorm(x, g, eps, &r.counters);
    return r;
  }

  VectorResult rope(const RopeTables& t, const MatrixH& x,
                    const std::vector<std::size_t>& positions) const override {
    VectorResult r;
    r.y = quasar::rope(t, x, positions, &r.counters);
    return r;
  }

  VectorResult swiglu(const MatrixH& gate, const MatrixH& up) const override {
    VectorResult r;
    r.y = quasar::swiglu(gate, up, &r.counters);
    return r;
  }

  VectorResult silu(const MatrixH& g) const override {
    VectorResult r;
    r.y = quasar::silu(g, &r.counters);
    return r;
  }

  VectorResult residual_add(const MatrixH& a, const MatrixH& b) const override {
    VectorResult r;
    r.y = quasar::residual_add(a, b, &r.counters);
    return r;
  }

  TokenQuantResult quantize_tokens(const MatrixH& x) const override {
    TokenQuantResult r;
    r.q = quasar::quantize_tokens(x, &r.counters);
    return r;
  }

  std::vector<float> exp_q(const std::vector<float>& x) const override {
    std::vector<float> y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = quasar::exp_q(x[i]);
    return y;
  }
};

}  // namespace

const VectorEngine& cpu_vector_engine() {
  static const CpuVectorEngine engine;
  return engine;
}

}  // namespace quasar
