// SCALE-Sim v2's cycle accounting for one GEMM, in closed form: the `accounting: scalesim`
// setting of a design, so quasar's numbers can be put next to published SCALE-Sim runs.
//
// Read from scalesim-project/scale-sim-v2 (scalesim/compute/systolic_compute_{ws,os,is}.py and
// memory/double_buffered_scratchpad_mem.py; not copied): each fold's demand matrix has
//   WS: R (weight fill) + M (tokens) + C - 1 (psum drain) rows, skewed by R - 1  -> 2R + C + M - 2
//   OS: K (operands) + C - 1 rows, skewed by R - 1                              ->  R + C + K - 2
//   IS: R (input fill) + R + C + N - 2 rows                                     -> 2R + C + N - 2
// with folds ceil(K/R) ceil(N/C) (WS), ceil(M/R) ceil(N/C) (OS), ceil(K/R) ceil(M/C) (IS), and
// with an ideal memory (its "CALC" bandwidth mode) the reported total is the cycle index of the
// last output write: the sum of the folds' rows minus one.
//
// Where quasar's native accounting differs (docs/decisions/0002): the same per-tile WS count
// (load R + stream M + drain R + C - 2, proven on the RTL) but no "- 1", plus everything
// SCALE-Sim leaves out — DRAM latency and bandwidth, buffer ports, edge units (rescales,
// epilogue), dequantizers, group-limited tiles.
#pragma once

#include <cstdint>

namespace quasar::mapping {

enum class ScalesimDataflow { ws, os, is };

// Cycles SCALE-Sim v2 reports for Y[M x N] = X[M x K] W[K x N] on a rows x cols array.
std::uint64_t scalesim_gemm_cycles(ScalesimDataflow d, std::uint64_t rows, std::uint64_t cols,
                                   std::uint64_t m, std::uint64_t k, std::uint64_t n);

}  // namespace quasar::mapping
