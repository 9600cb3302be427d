// The accelerator's datapath, one tile of the plan at a time: what the array computes while a
// tile's operands stream through it, and the edge units that models/units does not have yet.
// Every PE step is a models/units step function (MacInt8, MacW4A8, MacDint4, MacFp16), so the
// arithmetic and the wrap rule are the units' (proven equal to the RTL).
//
// Order, weight-stationary (systolic_array.v): PE row i of a tile holds reduction index k0 + i and
// the partial sum flows from row 0 down, so a column sums its tile's k range in increasing k for
// every token, starting from psum_in: the chained partial sum of the previous k-tile, or 0 where
// the plan restarts the chain.
// Order, output-stationary (systolic_os.v): PE (r, c) holds output (m0 + r, n0 + c); stream step
// t brings x[m0 + r][k0 + t] and w[n0 + c][k0 + t], so the PE sums its k-chunk in increasing k,
// from 0 (its accumulator is cleared for every tile; OS plans never chain, chain = false).
// Either way one output's partial sum is the same sequence of unit steps; the tile says which
// tokens (m0 .. m0 + m - 1: all of them for WS) and which chain start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "arch/arch_spec.hpp"
#include "arch/tile_command.hpp"
#include "numerics/dint4.hpp"
#include "numerics/matrix.hpp"
#include "units/dequant_dgq.hpp"

namespace quasar::functional {

// What one PE multiplies, and the width of its partial sum (wrapping, every wrap counted).
struct PeConfig {
  arch::PeKind kind = arch::PeKind::int8;
  int acc_bits = 32;
  DintSet dint_set = DintSet::A;  // dint4 PEs
};

// A weight tile as the array sees it: i for reduction index k0 + i, j for output channel n0 + j.
// WS: the value on PE (row i, column j)'s weight port after the load phase. OS: the value on
// column j's weight input at stream step i.
template <class T>
struct WeightTile {
  std::size_t rows = 0, cols = 0;
  std::vector<T> v;
  void resize(std::size_t r, std::size_t c) {
    rows = r, cols = c;
    v.assign(r * c, T{});
  }
  T& at(std::size_t i, std::size_t j) { return v[i * cols + j]; }
  const T& at(std::size_t i, std::size_t j) const { return v[i * cols + j]; }
};

// Operations and events of the datapath, counted as they happen (not derived from a formula).
struct DatapathTally {
  std::uint64_t tiles = 0;
  std::uint64_t weight_passes = 0;  // times the array was given all of W (WS 1, OS per m-tile)
  std::uint64_t macs = 0;           // PE steps on real operands (padding rows/columns excluded)
  std::uint64_t pe_wraps = 0;       // PE steps whose exact partial sum left the PE width
  std::uint64_t dequants = 0;       // weights dequantized (fused: at load; materialized: a pass)
  std::uint64_t dequant_range = 0;  // a dequantized weight out of its range (clamped / fp16 inf)
  std::uint64_t decodes = 0;        // dint4 weights decoded at load
  std::uint64_t invalid_codes = 0;  // dint4 codes the decode table marks invalid
  std::uint64_t rescales = 0;       // group rescales at the edge (P*S or int->fp32 and fp32 FMA)
  std::uint64_t edge_wraps = 0;     // integer-scale accumulator steps that wrapped
  std::uint64_t merges = 0;         // fp32 merges of restarted fp16 chains at the edge
  std::uint64_t epilogues = 0;      // outputs converted to fp16
  std::uint64_t output_inf = 0;     // outputs that became fp16 inf
};

// Streams the tile's tokens (m0 .. m0 + m - 1) through an integer tile. For every such token m and
// column j: psum[m * ld + n0 + j] = (chain ? psum[...] : 0) + sum over the tile's k range in
// increasing k, each step the PE kind's unit step at pe.acc_bits.
void stream_int_tile(const arch::Tile& t, const WeightTile<std::int8_t>& w, const MatrixI8& x,
                     bool chain, const PeConfig& pe, std::vector<std::int64_t>& psum,
                     std::size_t ld, DatapathTally& tally);

// The same for fp16 PEs: fp16 weights and activations, fp32 partial sums (MacFp16 steps).
void stream_fp16_tile(const arch::Tile& t, const WeightTile<std::uint16_t>& w, const MatrixH& x,
                      bool chain, std::vector<float>& psum, std::size_t ld, DatapathTally& tally);

// --- Edge units models/units does not have yet (they belong there, with their RTL) ---

// QServe's level-1 dequantizer: w8 = (q - z) * s1 with a uint8 s1 (dequant_dgq's s2 port is
// int8, and QServe scales reach 255), saturated to numerics' kQserveDequantRange.
units::DequantDgqResult dequant_qserve(std::uint8_t q, std::uint8_t z, std::uint8_t s1);

// w4a16's dequantizer: w = F16(F32(q - z) * F32(s)); `inf` when the weight became fp16 inf.
struct DequantF16Result {
  std::uint16_t w;
  bool inf;
};
DequantF16Result dequant_w4_fp16(int code, int zero, float scale);

// The float-scale unit's step acc + F32(P) * s. units::FloatScaleAcc has a 32-bit P port; a
// PE wider than 32 bits can hand it a wider P, converted here in the same three roundings.
float floatscale_step(float acc, std::int64_t p, float s);

}  // namespace quasar::functional
