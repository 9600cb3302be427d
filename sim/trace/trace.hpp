// quasar layer traces, format version 1 (docs/trace-format.md): a YAML manifest listing the
// layers of a model in execution order, and for data-bearing traces one safetensors payload
// holding each layer's quantized operands and expected outputs.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "numerics/attention.hpp"
#include "numerics/gemm.hpp"
#include "numerics/kv_cache.hpp"
#include "numerics/quantize_activations.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/scheme.hpp"

namespace quasar::trace {

inline constexpr int kFormatVersion = 1;

enum class Op {
  linear,   // y[m, n] = x[m, :] . w[n, :]        (M x K x N)
  bmm,      // batch independent matmuls           (batch x M x K x N), attention QK^T / PV
  rmsnorm,  // m rows of n elements
  layernorm,
  softmax,       // batch x m rows of n elements
  activation,    // m x n elements; `function`: silu_mul, gelu, relu
  residual_add,  // m x n elements
  rope,          // m x n elements
  quantize_act,  // m x n elements quantized to int8 (per-token scales)
  moe_router,    // top-k of n experts for m tokens
  kv_append,     // m tokens x n elements appended to the KV cache
};
const char* op_name(Op op);
std::optional<Op> op_from_name(const std::string& name);
bool is_gemm(Op op);

// A GEMM layer's scheme and the parameters that decide its arithmetic.
struct LayerScheme {
  Scheme scheme = Scheme::fp16;
  std::size_t group_size = 128;
  ActQuantMode act = ActQuantMode::per_token;
  int acc_bits = 32;
  int psum_bits = 32;
  IntScaleMode int_scale = IntScaleMode::fixed;
  int alpha_bits = 10;
  DintSet dint_set = DintSet::A;
  DequantMode dequant = DequantMode::fused;
  std::size_t k_tile = 0;
  // Block-scaled schemes (spec §5): group_size is the scheme's block (not a key), acc_bits the
  // fixed accumulator's width (kBlockAccBits unless given).
  BlockAcc block_acc = BlockAcc::fp32;
  int frac_bits = kBlockFracBits;

  GemmOptions gemm_options() const;
  bool operator==(const LayerScheme& o) const;
};

// `base` (default keys) switched to scheme s: a block-scaled scheme's group is its block, and
// its fixed accumulator is kBlockAccBits wide unless base gives a width other than the default.
LayerScheme for_scheme(Scheme s, LayerScheme base = {});

struct Layer {
  std::string name;
  Op op = Op::linear;
  std::uint64_t batch = 1, m = 0, k = 0, n = 0;
  std::uint64_t repeat = 1;                    // identical layers executed this many times
  std::optional<LayerScheme> scheme;           // GEMM layers only
  std::string function;                        // activation only
  std::uint64_t top_k = 0;                     // moe_router only
  // bmm: which attention matmul it is ("qk": scores = Q K^T, m queries x k head dim x n keys;
  // "pv": out = P V, m queries x k keys x n head dim), so a design runs it as attention (its
  // KV-cache format, its attention datapath); "": a plain batched matmul.
  std::string attention;
  // bmm and softmax: query p sees keys 0..p only (prefill; m = n queries and keys), so about
  // half the scores are masked and cost nothing.
  bool causal = false;
  // kv_append and attention pv: the KV cache format the record's tensors hold. attention pv:
  // the attention arithmetic they were computed with (docs/numerics.md). Absent: fp16, fp32,
  // tile 0. They describe the data; a design runs its own `attention` block.
  std::optional<KvFormat> kv_format;
  std::optional<AttentionMode> attention_mode;
  std::optional<std::uint64_t> attention_tile;
  // quantize_act: the format it quantizes to (absent: int8 per token). A block-scaled linear
  // reads its activations in its scheme's block format (numerics/scheme.hpp act_format).
  std::optional<ActFormat> act_format;
  std::map<std::string, std::string> tensors;  // role -> tensor name in the payload
  // The records whose outputs this one consumes, all earlier in the trace. Absent: the record
  // just before it (none for the first): the trace is a chain, as in format 1 before `inputs`.
  std::optional<std::vector<std::string>> inputs;
  int line = 0;  // manifest line it was read from (0: built in memory)

  std::uint64_t macs() const { return is_gemm(op) ? batch * m * k * n * repeat : 0; }
  // The attention arithmetic of an attention pv record (defaults where the keys are absent).
  AttentionOptions attention_options() const;
  // True for a record whose tensors are a non-GEMM operation's (docs/trace-format.md,
  // "Non-GEMM records"): every data-bearing record but a linear's.
  bool op_data() const { return !tensors.empty() && op != Op::linear; }
};

struct Trace {
  std::string name;
  std::map<std::string, std::string> meta;  // provenance: model, phase, command, ...
  std::string payload;                      // safetensors path relative to the manifest
  std::vector<Layer> layers;

  std::uint64_t total_macs() const;
};

// Tensor roles a data-bearing layer of each scheme needs, and those it may add.
const std::vector<std::string>& required_roles(Scheme s);
const std::vector<std::string>& optional_roles();  // y, x, w, bias, smoothing, w_zeros, k_order

// The tensor roles of a data-bearing non-GEMM record: the operation's inputs, then its
// outputs (what `quasar validate` recomputes and compares). Which roles depends on the op, the
// activation function, the KV format and the softmax order; empty where the record's op has
// no data path (a reason is then given by why_no_op_data).
struct OpRole {
  std::string name;
  bool output = false;
  bool optional = false;
};
std::vector<OpRole> op_roles(const Layer& l);
// "" when the record's op may carry tensors, else why not (for error messages).
std::string why_no_op_data(const Layer& l);

// Reads and validates a manifest; every error names the file, line and key path.
Trace read_manifest(const std::string& path);
Trace parse_manifest(const std::string& yaml_text, const std::string& source);
// Deterministic YAML text (same trace, same bytes); written atomically.
std::string to_yaml(const Trace& t);
void write_manifest(const std::string& path, const Trace& t);
// Validates a trace built in memory (generators) the way the reader validates a file.
void validate(const Trace& t, const std::string& source);

// The indices of the records layer `i` of a valid trace consumes (its `inputs`, or i - 1).
std::vector<std::size_t> producers(const Trace& t, std::size_t i);

}  // namespace quasar::trace
