#include "vector_engine.hpp"

#include <memory>
#include <mutex>

#include "numerics/error.hpp"
#include "numerics/exp_q.hpp"

#ifdef QUASAR_HAVE_CUDA
#include "cuda_vector_ops.hpp"
#endif

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

double last_gpu_vector_kernel_ms() {
#ifdef QUASAR_HAVE_CUDA
  return gpu::last_vector_kernel_ms();
#else
  return 0.0;
#endif
}

VectorEngineChoice choose_vector_engine(DeviceChoice choice) {
  if (choice == DeviceChoice::cpu) return {&cpu_vector_engine(), "device: cpu (reference)"};
  bool usable = false;
  const std::string status = gpu_status(usable);
  if (!usable) {
    if (choice == DeviceChoice::gpu) throw Error("--device gpu: " + status);
    return {&cpu_vector_engine(), "device: cpu (fallback: " + status + ")"};
  }
#ifdef QUASAR_HAVE_CUDA
  static std::once_flag once;
  static std::unique_ptr<VectorEngine> engine;
  std::call_once(once, [] { engine = gpu::make_cuda_vector_engine(); });
  return {engine.get(), "device: gpu, " + status};
#else
  return {&cpu_vector_engine(), "device: cpu"};
#endif
}

}  // namespace quasar
