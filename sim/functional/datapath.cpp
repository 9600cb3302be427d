#include "functional/datapath.hpp"

#include <limits>

#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm.hpp"
#include "units/float_units.hpp"
#include "units/mac.hpp"

namespace quasar::functional {
namespace {

void check_tile(const arch::Tile& t, std::size_t w_rows, std::size_t w_cols, std::size_t x_rows,
                std::size_t x_cols, std::size_t ld) {
  if (w_rows != t.rows_used || w_cols != t.cols_used || t.m0 + t.m > x_rows ||
      t.k0 + t.rows_used > x_cols || t.n0 + t.cols_used > ld) {
    throw Error("accelerator datapath: tile (m0 " + std::to_string(t.m0) + ", n0 " +
                std::to_string(t.n0) + ", k0 " + std::to_string(t.k0) +
                ") does not fit its operands");
  }
}

// The column sums of one tile with `step(acc, w, x) -> units::AccStep`, the PE kind's unit step.
template <class Step>
void stream_int(const arch::Tile& t, const WeightTile<std::int8_t>& w, const MatrixI8& x,
                bool chain, std::vector<std::int64_t>& psum, std::size_t ld, DatapathTally& tally,
                Step step) {
  const std::size_t rows = w.rows, cols = w.cols;
  const auto m_begin = static_cast<std::size_t>(t.m0), m_end = static_cast<std::size_t>(t.m0 + t.m);
  std::uint64_t wraps = 0;
  for (std::size_t m = m_begin; m < m_end; ++m) {
    const std::int8_t* xm = x.row(m) + t.k0;
    for (std::size_t j = 0; j < cols; ++j) {
      std::int64_t& out = psum[m * ld + t.n0 + j];
      std::int64_t acc = chain ? out : 0;       // psum_in: the previous k-tile's sum, or 0
      for (std::size_t i = 0; i < rows; ++i) {  // WS PE row i / OS step i: k increasing
        const units::AccStep s = step(acc, w.at(i, j), xm[i]);
        acc = s.acc;
        wraps += s.overflow ? 1 : 0;
      }
      out = acc;
    }
  }
  tally.pe_wraps += wraps;
  tally.macs += t.m * rows * cols;
  ++tally.tiles;
}

}  // namespace

void stream_int_tile(const arch::Tile& t, const WeightTile<std::int8_t>& w, const MatrixI8& x,
                     bool chain, const PeConfig& pe, std::vector<std::int64_t>& psum,
                     std::size_t ld, DatapathTally& tally) {
  check_tile(t, w.rows, w.cols, x.rows(), x.cols(), ld);
  switch (pe.kind) {
    case arch::PeKind::int8: {
      const units::MacInt8 mac(pe.acc_bits);
      stream_int(t, w, x, chain, psum, ld, tally,
                 [&mac](std::int64_t acc, std::int8_t wv, std::int8_t xv) {
                   return mac.step(acc, wv, xv);
                 });
      return;
    }
    case arch::PeKind::w4a8: {
      const units::MacW4A8 mac(pe.acc_bits);
      stream_int(t, w, x, chain, psum, ld, tally,
                 [&mac](std::int64_t acc, std::int8_t wv, std::int8_t xv) {
                   // The 4-bit weight port carries the code's low bits.
                   return mac.step(acc, static_cast<std::uint8_t>(wv & 0xF), xv);
                 });
      return;
    }
    case arch::PeKind::dint4: {
      const units::MacDint4 mac(pe.dint_set, pe.acc_bits);
      stream_int(t, w, x, chain, psum, ld, tally,
                 [&mac](std::int64_t acc, std::int8_t wv, std::int8_t xv) {
                   const units::MacDint4Step s = mac.step(acc, static_cast<std::uint8_t>(wv), xv);
                   return units::AccStep{s.acc, s.overflow};
                 });
      return;
    }
    case arch::PeKind::fp16:
    case arch::PeKind::fp4xfp8:
    case arch::PeKind::fp4:
      break;
  }
  throw Error(std::string("accelerator datapath: ") + arch::pe_kind_name(pe.kind) +
              " PEs do not run int8-operand tiles (the block formats' datapath is issue 17)");
}

void stream_fp16_tile(const arch::Tile& t, const WeightTile<std::uint16_t>& w, const MatrixH& x,
                      bool chain, std::vector<float>& psum, std::size_t ld, DatapathTally& tally) {
  check_tile(t, w.rows, w.cols, x.rows(), x.cols(), ld);
  for (auto m = static_cast<std::size_t>(t.m0); m < t.m0 + t.m; ++m) {
    const std::uint16_t* xm = x.row(m) + t.k0;
    for (std::size_t j = 0; j < w.cols; ++j) {
      float& out = psum[m * ld + t.n0 + j];
      float acc = chain ? out : 0.0f;
      for (std::size_t i = 0; i < w.rows; ++i) {
        acc = units::MacFp16::step_value(acc, w.at(i, j), xm[i]);
      }
      out = acc;
    }
  }
  tally.macs += t.m * w.rows * w.cols;
  ++tally.tiles;
}

units::DequantDgqResult dequant_qserve(std::uint8_t q, std::uint8_t z, std::uint8_t s1) {
  const int v = (static_cast<int>(q & 0xFu) - static_cast<int>(z & 0xFu)) * static_cast<int>(s1);
  if (v < kQserveDequantRange.lo) return {static_cast<std::int8_t>(kQserveDequantRange.lo), true};
  if (v > kQserveDequantRange.hi) return {static_cast<std::int8_t>(kQserveDequantRange.hi), true};
  return {static_cast<std::int8_t>(v), false};
}

DequantF16Result dequant_w4_fp16(int code, int zero, float scale) {
  const std::uint16_t h = f32_to_f16(static_cast<float>(code - zero) * scale);
  return {h, f16_is_inf(h)};
}

float floatscale_step(float acc, std::int64_t p, float s) {
  if (p >= std::numeric_limits<std::int32_t>::min() &&
      p <= std::numeric_limits<std::int32_t>::max()) {
    return units::FloatScaleAcc::step_value(acc, static_cast<std::int32_t>(p), s);
  }
  const float term = static_cast<float>(p) * s;
  return acc + term;
}

}  // namespace quasar::functional
