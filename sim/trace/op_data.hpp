// Data-bearing non-GEMM records (docs/trace-format.md, "Non-GEMM records"): their inputs read
// from the payload by role and run through the bit-exact numerics reference (models/numerics:
// vector_ops, kv_cache, attention), giving the outputs the record must hold. `quasar validate`
// compares these with the recorded outputs; `quasar trace synth` records them, so that writing
// and checking a record are one definition.
#pragma once

#include <map>
#include <string>

#include "numerics/counters.hpp"
#include "numerics/vector_engine.hpp"
#include "trace/safetensors.hpp"
#include "trace/trace.hpp"

namespace quasar::trace {

struct OpResult {
  std::map<std::string, safetensors::Tensor> outputs;  // output role -> tensor
  GemmCounters counters;                               // the operation's actions and events
};

// Runs a data-bearing non-GEMM record (`l.op_data()`) on its input roles: every required output
// role, and the optional ones (attention scores, probabilities) the record names. Input
// tensors are checked against the dtype and shape the record implies; an error names `source`
// (the payload), the record and the tensor with its role. A value the operation refuses (NaN,
// a position beyond the RoPE tables or the cache, a non-positive smoothing factor) is an error
// naming the record.
// The operations run on `engine` (the CPU reference by default; `quasar validate --device gpu`
// passes the CUDA one). What the engine interface does not cover runs on the reference whatever
// the engine: activation quantization with smoothing factors or into blocks, and the optional
// attention roles (scores, probabilities). A bad value the engine refuses is located (token and
// head) by the reference.
OpResult run_op_record(const Layer& l, const safetensors::File& payload, const std::string& source,
                       const VectorEngine& engine = cpu_vector_engine());

// What the record computes, in a few words for tables: "rmsnorm", "rope", "silu_mul",
// "quantize_act", "kv_append int8", "attn fp32/fp16" (mode/KV format[/tile]).
std::string op_record_kind(const Layer& l);

}  // namespace quasar::trace
