// Quantized GEMM operands, one struct per storage layout of spec section 2. Activations X are
// M x K (row = token), weights N x K (row = output channel); groups run along K.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dint4.hpp"
#include "int_formats.hpp"
#include "matrix.hpp"

namespace quasar {

// int8 activation codes with a per-token (M entries) or per-tensor (1 entry) fp32 scale.
struct QuantizedActivations {
  MatrixI8 q;
  std::vector<float> scale;
  bool per_tensor() const { return scale.size() == 1; }
  float scale_of(std::size_t m) const { return per_tensor() ? scale[0] : scale[m]; }
};

// Single-level weights: codes with a float scale per tensor, channel or group, and an
// optional zero point per scale (asymmetric formats).
struct QuantizedWeights {
  WeightFormat format = WeightFormat::int8;
  DintSet dint_set = DintSet::A;  // read only when format == dint4
  std::size_t group_size = 0;     // K for per-channel and per-tensor
  bool per_tensor = false;        // one scale for the whole matrix
  MatrixI8 codes;                 // N x K: signed values, uint4 0..15, or raw dint4 codes
  MatrixF scales;                 // (per_tensor ? 1 : N) x groups, values exact in storage dtype
  MatrixI8 zeros;                 // same shape as scales when asymmetric, else empty

  std::size_t rows() const { return codes.rows(); }
  std::size_t cols() const { return codes.cols(); }
  std::size_t groups() const { return group_size ? codes.cols() / group_size : 0; }
  bool symmetric() const { return zeros.empty(); }
  float scale(std::size_t n, std::size_t g) const { return scales(per_tensor ? 0 : n, g); }
  int zero(std::size_t n, std::size_t g) const {
    return zeros.empty() ? 0 : zeros(per_tensor ? 0 : n, g);
  }
};

// Integer group scales of Integer Scale: S[n,g] = max(1, RNE(s[n,g] * 2^bits)).
struct IntegerScales {
  int bits = 10;  // alpha = 2^bits
  MatrixI32 S;    // N x groups
};

// Two-level weights shared by DGQ and QServe: uint4 codes q with a uint4 zero z and an
// integer scale per group, and a float scale per output channel. w8 = (q - z) * S in int8.
struct TwoLevelWeights {
  std::size_t group_size = 0;
  MatrixU8 q;                        // N x K, 0..15
  MatrixU8 zeros;                    // N x groups, 0..15
  MatrixI32 group_scale;             // N x groups: DGQ int8 S2 >= 1, QServe uint8 s1 >= 1
  std::vector<float> channel_scale;  // N: DGQ s1, QServe s0 (fp16 values)
  std::vector<float> bias;           // empty or N (DGQ only), added in fp32 before F16

  std::size_t rows() const { return q.rows(); }
  std::size_t cols() const { return q.cols(); }
  std::size_t groups() const { return group_size ? q.cols() / group_size : 0; }
};

}  // namespace quasar
