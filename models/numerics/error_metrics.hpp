// Error of a quantized GEMM output against the fp32 product of the unquantized operands.
#pragma once

#include <cstddef>
#include <functional>

#include "matrix.hpp"

namespace quasar {

struct ErrorReport {
  double max_abs = 0.0;
  double mse = 0.0;
  double sqnr_db = 0.0;  // 10 log10(sum ref^2 / sum err^2); +inf when the error is zero
};

// Runs body(i) once for every i in [0, n), in any order and possibly at once: each i writes
// outputs no other i writes (cpu::for_each_parallel gives a threaded one; empty: a plain loop).
using ForEachIndex =
    std::function<void(std::size_t n, const std::function<void(std::size_t)>& body)>;

// F32 of the exact (fp64-accumulated) product x w^T: the reference the errors are taken from.
// Every output is one fp64 sum in k order whatever `for_each` is: the same bits threaded or not.
MatrixF float_reference(const MatrixF& x, const MatrixF& w, const ForEachIndex& for_each = {});

// Compares fp16 outputs y with the reference; a non-finite y counts as an infinite error.
ErrorReport compare_to_reference(const MatrixH& y, const MatrixF& ref);

}  // namespace quasar
