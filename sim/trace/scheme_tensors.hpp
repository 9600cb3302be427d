// Names and packs a scheme's quantized operands as safetensors tensors ("<scheme>/<role>"),
// so that what a scheme computed can be stored, inspected and re-read.
#pragma once

#include <map>
#include <string>

#include "numerics/scheme_runner.hpp"
#include "trace/safetensors.hpp"

namespace quasar {

// Adds <prefix>/y and every operand the scheme used (x_q, x_scale, w_codes, w_scales,
// w_zeros, int_scales, q, zeros, group_scale, channel_scale, smoothing, x_f16, w_f16).
void add_scheme_tensors(safetensors::File& file, const std::string& prefix, const SchemeRun& run);

// A block-scaled operand's tensors by role (one packing for linears and quantize_act records):
// <side>_elems and <side>_bscales, U8 one code per byte, and NVFP4's <side>_tscale, a
// one-element F32 vector.
std::map<std::string, safetensors::Tensor> block_tensors(const std::string& side,
                                                         const BlockTensor& t);

}  // namespace quasar
