// Unpacking of quantized linear layers from checkpoint layouts (GPTQ v1/v2, AutoAWQ GEMM,
// compressed-tensors pack-quantized, int-quantized, nvfp4-pack-quantized and
// mxfp4-pack-quantized, transformers' mxfp4 `*_blocks` / `*_scales` of GPT-OSS, NVIDIA
// ModelOpt's NVFP4 export) into quasar's weight operands, and the data-bearing trace
// `quasar trace import` writes from them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "numerics/block_scaled.hpp"
#include "numerics/matrix.hpp"
#include "numerics/operands.hpp"
#include "numerics/scheme.hpp"
#include "trace/checkpoint.hpp"
#include "trace/safetensors.hpp"
#include "trace/trace.hpp"

namespace quasar::trace {

// One linear layer's weights as the checkpoint defines them, in quasar's N x K orientation
// and with K reordered so that every group is contiguous (act-order checkpoints).
struct UnpackedLinear {
  std::string module;  // HF module name, e.g. model.layers.0.self_attn.q_proj
  // gptq, gptq_v2, awq-gemm, pack-quantized, int-quantized, nvfp4-pack-quantized,
  // mxfp4-pack-quantized, transformers-mxfp4, modelopt-nvfp4, modelopt-w4a16-nvfp4
  std::string layout;
  std::size_t n = 0, k = 0;
  int bits = 4;
  std::size_t group_size = 0;  // along K; K for one group (GPTQ -1) or per channel; the block
  bool symmetric = true;       // signed codes and no zeros; else uint4 codes with zeros
  // 8 when the checkpoint quantizes activations to int8 (int-quantized), 4 to fp4 (the fp4
  // formats with input_activations, ModelOpt NVFP4); 0 weight-only.
  int source_act_bits = 0;
  ActQuantMode source_act = ActQuantMode::per_token;  // its activation scales' granularity
  // Its activation scales are calibrated: input_scale (int8), input_global_scale
  // (compressed-tensors NVFP4), input_scale (ModelOpt NVFP4).
  bool source_act_static = false;
  // Block-scaled weights (the fp4 layouts), exactly as stored: E2M1 codes one per byte, the
  // block scales' bytes (E4M3 or E8M0), NVFP4's tensor scale s_t. Set only for those layouts;
  // codes, zeros and scales below are then empty.
  std::optional<BlockTensor> block;
  MatrixI8 codes;              // N x K: signed (q - 8 for 4-bit sym) or uint4 0..15
  MatrixI8 zeros;              // N x groups, 0..15; empty when symmetric
  MatrixF scales;              // N x groups
  // Empty when K keeps its order; else column j holds the checkpoint's input channel k_order[j]
  // (activations are permuted the same way, which leaves the GEMM unchanged).
  std::vector<std::int32_t> k_order;
  std::vector<float> bias;  // N values when the checkpoint has a bias (not part of the trace)

  std::size_t groups() const { return group_size ? k / group_size : 0; }
  // s * (q - z), j in quasar's order; for block weights F32 of the exact P * S_b (* s_t).
  float dequantized(std::size_t n, std::size_t j) const;
};

// The quantized linears of a checkpoint (modules with a qweight / weight_packed / int8
// weight + weight_scale; ModelOpt: weight_scale or weight_scale_2; for transformers' mxfp4,
// each `P_blocks` + `P_scales` pair: module P, or P.e for expert e when the tensors hold a
// leading expert dimension), in execution order (module_order_less), less the modules the
// config leaves unquantized (compressed-tensors `ignore`, ModelOpt `exclude_modules`).
std::vector<std::string> quantized_modules(const Checkpoint& c);

// Execution order of module paths, compared component by component: the projections and
// blocks of the Hugging Face LLaMA, Mistral, Mixtral, Qwen(-MoE), DeepSeek, OPT and Falcon
// layouts by where they run (attention q, k, v, o before the MLP: router, experts, shared
// expert, and within each gate, up, down; OPT's fc1 before fc2; Mixtral's experts' w1, w3
// before w2; lm_head last). Components it does not know run after the known ones among their
// siblings, in natural order (layer numbers compared as numbers: layers.2 before layers.10).
bool module_order_less(const std::string& a, const std::string& b);

// One function per layout; each checks every tensor's dtype and shape against the others and
// the config, and every scale (> 0, finite). Errors name the file and the tensor.
UnpackedLinear unpack_gptq(const Checkpoint& c, const std::string& module);
UnpackedLinear unpack_awq(const Checkpoint& c, const std::string& module);
UnpackedLinear unpack_ct_packed(const Checkpoint& c, const std::string& module,
                                const CtGroup& group);
UnpackedLinear unpack_ct_int(const Checkpoint& c, const std::string& module, const CtGroup& group);
// compressed-tensors nvfp4-pack-quantized / mxfp4-pack-quantized: weight_packed U8 [N, K/2]
// (element 2i in the low nibble), weight_scale F8_E4M3 [N, K/16] or U8 E8M0 [N, K/32], NVFP4's
// weight_global_scale (stored as 1/s_t; s_t = F32(1 / stored)). Every code and scale is checked.
UnpackedLinear unpack_ct_fp4(const Checkpoint& c, const std::string& module, const CtGroup& group);
// NVIDIA ModelOpt NVFP4 (quant_algo NVFP4 or W4A16_NVFP4): weight U8 [N, K/2] (packed as
// above), weight_scale F8_E4M3 [N, K/16], weight_scale_2 F32 [] or [1] = s_t itself (amax /
// 2688; w = E2M1 * weight_scale * weight_scale_2), input_scale F32 (required with NVFP4: the
// activations' calibrated s_t; checked, not used). The same reader as unpack_ct_fp4, with the
// tensor scale taken as stored instead of inverted.
UnpackedLinear unpack_modelopt_nvfp4(const Checkpoint& c, const std::string& module);
// transformers' mxfp4 (GPT-OSS): P_blocks U8 [E, N, K/32, 16] (or [N, K/32, 16]), 16 bytes a
// block with element 2i in the low nibble, and P_scales U8 E8M0 [E, N, K/32] (or [N, K/32]);
// module P.e is expert e (see quantized_modules).
UnpackedLinear unpack_mxfp4_blocks(const Checkpoint& c, const std::string& module);
// Dispatches on the config's method (and the compressed-tensors group matching the module).
UnpackedLinear unpack_linear(const Checkpoint& c, const std::string& module);

// The import policy, in one place: the schemes an unpacked layer can be imported as, the
// natural one first (4-bit asymmetric and weight-only symmetric: w4a16; int8 per channel:
// w8a8; int-quantized 4-bit: w4a8-fs; NVFP4: w4a4-nvfp4; MXFP4 with fp4 activations:
// w4a4-mxfp4, weight-only MXFP4: w4a8-mx). Every scheme it names is an `importable` row of the
// scheme table, and every importable row is named for some layout (a unit test holds both).
std::vector<Scheme> import_candidates(const UnpackedLinear& u);
// `requested` when import_candidates has it, else the natural one. Throws naming the module and
// what it accepts.
Scheme import_scheme(const UnpackedLinear& u, std::optional<Scheme> requested);
// Weights in the form the scheme's GEMM takes (int4 / uint4 + zeros / int8); not for block
// weights (they are `block` as stored).
QuantizedWeights to_quantized_weights(const UnpackedLinear& u, Scheme scheme);

struct ImportSpec {
  std::string dir;
  std::string layers;            // regex searched in module names; empty: all
  std::size_t max_layers = 0;    // 0: no limit
  std::size_t tokens = 16;       // M of every layer
  std::uint64_t seed = 1;        // activations: synthetic LLM-like, seeded per module name
  // Given activations instead: a safetensors file with one float tensor [M, K] per imported
  // module, named as the module, in the checkpoint's own input-channel order (quasar applies
  // any act-order permutation itself). M comes from the tensor; `tokens` is then unused.
  std::string activations;
  std::optional<Scheme> scheme;  // empty: each layer's natural scheme
  std::string command;           // recorded in the trace's meta
};

struct ImportedTrace {
  Trace trace;
  safetensors::File payload;
};

// One data-bearing linear layer per selected module; expected outputs from the CPU reference.
ImportedTrace import_checkpoint(const ImportSpec& spec);
// Writes out_dir/trace.yaml and out_dir/payload.safetensors (creating out_dir).
void write_imported_trace(const std::string& out_dir, const ImportedTrace& t);

}  // namespace quasar::trace
