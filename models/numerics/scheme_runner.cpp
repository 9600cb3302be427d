#include "scheme_runner.hpp"

#include <algorithm>

#include "aqas.hpp"
#include "error.hpp"
#include "float_formats.hpp"
#include "quantize_two_level.hpp"

namespace quasar {
namespace {

QuantizedActivations quantize_x(const MatrixF& x, const SchemeConfig& cfg, GemmCounters& c) {
  return quantize_activations(x, cfg.act_mode, &c);
}

MatrixF first_rows(const MatrixF& x, std::size_t rows) {
  rows = std::min(rows, x.rows());
  MatrixF out(rows, x.cols());
  std::copy(x.row(0), x.row(0) + rows * x.cols(), out.row(0));
  return out;
}

WeightQuantSpec weight_spec(WeightFormat f, Granularity g, bool symmetric,
                            const SchemeConfig& cfg) {
  WeightQuantSpec s;
  s.format = f;
  s.dint_set = cfg.dint_set;
  s.granularity = g;
  s.group_size = cfg.group_size;
  s.symmetric = symmetric;
  s.scale_dtype = cfg.weight_scale_dtype;
  return s;
}

}  // namespace

MatrixH to_f16(const MatrixF& m, const char* tensor) {
  require_finite(m, tensor);
  MatrixH h(m.rows(), m.cols());
  for (std::size_t i = 0; i < m.size(); ++i) h.values()[i] = f32_to_f16(m.values()[i]);
  return h;
}

MatrixF to_f32(const MatrixH& h) {
  MatrixF f(h.rows(), h.cols());
  for (std::size_t i = 0; i < h.size(); ++i) f.values()[i] = f16_to_f32(h.values()[i]);
  return f;
}

SchemeRun run_scheme(Scheme scheme, const MatrixF& x, const MatrixF& w, const SchemeConfig& cfg,
                     const MatrixF& reference, const GemmEngine& engine) {
  require_finite(x, "x");
  require_finite(w, "w");
  if (x.cols() != w.cols()) {
    throw Error("shape mismatch: 'x' is [" + std::to_string(x.rows()) + ", " +
                std::to_string(x.cols()) + "] and 'w' is [" + std::to_string(w.rows()) + ", " +
                std::to_string(w.cols()) + "]; both need the same K (x: M x K, w: N x K)");
  }
  SchemeRun run{scheme, {}, {}, {}};
  SchemeOperands& op = run.operands;
  GemmCounters act_counters;
  switch (scheme) {
    case Scheme::fp16:
      op.x_f16 = to_f16(x, "x");
      op.w_f16 = to_f16(w, "w");
      run.result = engine.fp16(*op.x_f16, *op.w_f16, cfg.gemm);
      break;
    case Scheme::w8a8:
      op.x_q = quantize_x(x, cfg, act_counters);
      op.w_q = quantize_weights_rtn(
          w, weight_spec(WeightFormat::int8, Granularity::per_channel, true, cfg));
      run.result = engine.w8a8(*op.x_q, *op.w_q, cfg.gemm);
      break;
    case Scheme::w4a16:
      op.x_f16 = to_f16(x, "x");
      op.w_q = quantize_weights_rtn(
          w, weight_spec(cfg.w4a16_symmetric ? WeightFormat::int4 : WeightFormat::uint4,
                         Granularity::per_group, cfg.w4a16_symmetric, cfg));
      run.result = engine.w4a16(*op.x_f16, *op.w_q, cfg.gemm);
      break;
    case Scheme::w4a8_fs:
    case Scheme::w4a8_is:
      op.x_q = quantize_x(x, cfg, act_counters);
      op.w_q = quantize_weights_rtn(
          w, weight_spec(WeightFormat::int4, Granularity::per_group, true, cfg));
      if (scheme == Scheme::w4a8_fs) {
        run.result = engine.w4a8_fs(*op.x_q, *op.w_q, cfg.gemm);
      } else {
        op.int_scales = to_integer_scales(*op.w_q, cfg.int_scale);
        run.result = engine.w4a8_is(*op.x_q, *op.w_q, *op.int_scales, cfg.gemm);
      }
      break;
    case Scheme::w4a8_dgq: {
      MatrixF xs = x, ws = w;
      if (cfg.dgq_smoothing) {
        op.smoothing = dgq_smoothing_factors(first_rows(x, cfg.calib_rows));
        apply_channel_smoothing(xs, ws, op.smoothing);
      }
      DgqSpec spec;
      spec.group_size = cfg.group_size;
      spec.search = cfg.dgq_search;
      op.two_level = quantize_dgq(ws, first_rows(xs, cfg.calib_rows), spec);
      op.x_q = quantize_x(xs, cfg, act_counters);
      run.result = engine.w4a8_dgq(*op.x_q, *op.two_level, cfg.dgq_dequant, cfg.gemm);
      break;
    }
    case Scheme::w4a8_dint: {
      MatrixF xs = x, ws = w;
      if (cfg.dint_aqas) {
        AqasSpec spec;
        spec.dint_set = cfg.dint_set;
        spec.weight_scale_dtype = cfg.weight_scale_dtype;
        op.smoothing = aqas_search(w, first_rows(x, cfg.calib_rows), spec).smoothing;
        apply_aqas_smoothing(xs, ws, op.smoothing);
      }
      op.x_q = quantize_x(xs, cfg, act_counters);
      op.w_q = quantize_weights_rtn(
          ws, weight_spec(WeightFormat::dint4, Granularity::per_channel, true, cfg));
      run.result = engine.w4a8_dint(*op.x_q, *op.w_q, cfg.gemm);
      break;
    }
    case Scheme::w4a8_qserve:
      op.x_q = quantize_x(x, cfg, act_counters);
      op.two_level = quantize_qserve(w, cfg.group_size);
      run.result = engine.w4a8_qserve(*op.x_q, *op.two_level, cfg.gemm);
      break;
    case Scheme::w4a8_mx:
    case Scheme::w4a4_mxfp4:
    case Scheme::w8a8_mxint8:
    case Scheme::w4a4_nvfp4: {
      // Quantizer saturations are the spec's counted events: activations under act_saturate,
      // weights under weight_saturate.
      BlockQuantStats xs, ws;
      op.x_block = quantize_block_operand(scheme, false, x, "x", &xs);
      op.w_block = quantize_block_operand(scheme, true, w, "w", &ws);
      act_counters.add_overflow(stage::kActSaturate, xs.saturated);
      act_counters.add_overflow(stage::kWeightSaturate, ws.saturated);
      run.result = engine.block_scaled(scheme, *op.x_block, *op.w_block, cfg.gemm);
      break;
    }
  }
  run.result.counters.merge(act_counters);
  run.error = compare_to_reference(run.result.y, reference);
  return run;
}

}  // namespace quasar
