// Unpacking of quantized linear layers from checkpoint layouts (GPTQ v1/v2, AutoAWQ GEMM,
// compressed-tensors pack-quantized and int-quantized) into quasar's weight operands, and the
// data-bearing trace `quasar trace import` writes from them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
  std::string layout;  // gptq, gptq_v2, awq-gemm, pack-quantized, int-quantized
  std::size_t n = 0, k = 0;
  int bits = 4;
  std::size_t group_size = 0;  // along K; K for one group (GPTQ -1) or per channel
  bool symmetric = true;       // signed codes and no zeros; else uint4 codes with zeros
  int source_act_bits = 0;     // 8 when the checkpoint quantizes activations (int-quantized)
  ActQuantMode source_act = ActQuantMode::per_token;  // its activation scales' granularity
  bool source_act_static = false;  // its activation scales are calibrated (input_scale)
  MatrixI8 codes;              // N x K: signed (q - 8 for 4-bit sym) or uint4 0..15
  MatrixI8 zeros;              // N x groups, 0..15; empty when symmetric
  MatrixF scales;              // N x groups
  // Empty when K keeps its order; else column j holds the checkpoint's input channel k_order[j]
  // (activations are permuted the same way, which leaves the GEMM unchanged).
  std::vector<std::int32_t> k_order;
  std::vector<float> bias;  // N values when the checkpoint has a bias (not part of the trace)

  std::size_t groups() const { return group_size ? k / group_size : 0; }
  float dequantized(std::size_t n, std::size_t j) const;  // s * (q - z), j in quasar's order
};

// The quantized linears of a checkpoint (modules with a qweight / weight_packed / int8
// weight + weight_scale), in execution order (module_order_less).
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
// Dispatches on the config's method (and the compressed-tensors group matching the module).
UnpackedLinear unpack_linear(const Checkpoint& c, const std::string& module);

// The scheme an unpacked layer maps to: `requested` when the layout allows it, else the
// natural one (4-bit asymmetric and weight-only symmetric: w4a16; int8 per channel: w8a8;
// int-quantized 4-bit: w4a8-fs). Throws naming the module and what it accepts.
Scheme import_scheme(const UnpackedLinear& u, std::optional<Scheme> requested);
// Weights in the form the scheme's GEMM takes (int4 / uint4 + zeros / int8).
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
