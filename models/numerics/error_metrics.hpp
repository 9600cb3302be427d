// Error of a quantized GEMM output against the fp32 product of the unquantized operands.
#pragma once

#include "matrix.hpp"

namespace quasar {

struct ErrorReport {
  double max_abs = 0.0;
  double mse = 0.0;
  double sqnr_db = 0.0;  // 10 log10(sum ref^2 / sum err^2); +inf when the error is zero
};

// F32 of the exact (fp64-accumulated) product x w^T: the reference the errors are taken from.
MatrixF float_reference(const MatrixF& x, const MatrixF& w);

// Compares fp16 outputs y with the reference; a non-finite y counts as an infinite error.
ErrorReport compare_to_reference(const MatrixH& y, const MatrixF& ref);

}  // namespace quasar
