// SCALE-Sim v2 topology CSVs in and out, so workloads move between the two tools. SCALE-Sim's
// GEMM form is "Layer, M, N, K," rows (X: M x K, W: K x N, quasar's M x K x N); its conv form
// "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter,
// Strides[, Stride W]," rows become GEMMs by im2col. Its parser drops the last comma-separated
// field of every row, so every row must end with a comma.
#pragma once

#include <string>

#include "trace/trace.hpp"

namespace quasar::trace {

// Either form, told apart by the header. Conv rows: ofmap = ceil((ifmap - filter + stride) /
// stride) per dimension (SCALE-Sim's own rule, no padding), M = ofmap_h * ofmap_w,
// K = filter_h * filter_w * channels, N = filters; a depthwise row (name containing "DP", as
// SCALE-Sim treats it) is `channels` single-channel convolutions (repeat = channels).
// Every GEMM gets `scheme` (SCALE-Sim has one 1-byte word: w8a8 is the natural default).
Trace import_scalesim_csv(const std::string& csv_text, const std::string& source,
                          const LayerScheme& scheme);
Trace read_scalesim_csv(const std::string& path, const LayerScheme& scheme);

// GEMM form, one row per GEMM instance: a record with batch b and repeat r becomes b * r rows
// (SCALE-Sim has neither), named "<name>" or "<name>#<i>". Non-GEMM records are left out.
std::string export_scalesim_csv(const Trace& t);

}  // namespace quasar::trace
