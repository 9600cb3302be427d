// The vector unit's work for a non-GEMM trace record: rows, lane and SFU operations per row,
// and DRAM bytes, from the record's op and shape (models/arch/vector says how they become
// cycles). The one cost table of the vector operations: docs/decisions/0004 explains each row.
#pragma once

#include <string>

#include "arch/arch_spec.hpp"
#include "arch/workload.hpp"
#include "trace/trace.hpp"

namespace quasar::mapping {

// Whether the vector unit runs this op (rmsnorm, layernorm, rope, softmax, activation,
// residual_add, quantize_act, kv_append, moe_router).
bool is_vector_op(trace::Op op);

// Whether the design runs this bmm record as attention (an attention matmul on a design with a
// vector unit, whose `attention` block then says how); else it is a plain GEMM by its scheme.
bool runs_as_attention(const arch::ArchSpec& a, const trace::Layer& l);
// Whether the vector unit runs the record on this design (a vector op, or attention in fp32).
bool on_vector_unit(const arch::ArchSpec& a, const trace::Layer& l);

// The record's work on the vector unit: `instances` repeats of `work`. Norms and elementwise
// ops: one row per token (and head), instances = repeat. Attention matmuls (fp32): one row per
// query, one instance per (batch, head) and repeat, so that the cores split heads. Throws
// quasar::Error naming the record when the op or its function is not one the unit runs.
struct VectorPlan {
  arch::VectorWork work;
  std::uint64_t instances = 1;
};
// `int8_q_rows`: rows of each instance whose output an int8 QK^T on the MAC array reads as its
// queries (attention: int8), which this record therefore also quantizes per (token, head), spec
// §7: abs and max, then a divide, round and clamp per value and amax / 127 per row, one more
// pass, written as int8 codes and a 4 B scale per row instead of fp16 (added averaged over the
// record's rows, rounded to whole operations, as a causal softmax's are).
VectorPlan plan_vector(const arch::ArchSpec& a, const trace::Layer& l,
                       std::uint64_t int8_q_rows = 0);

// Keys a query sees on average: all n, or (n + 1) / 2 under a causal mask.
double visible_keys(const trace::Layer& l);

// Core `c`'s share of n things split evenly over `cores` (the first cores one more).
std::uint64_t even_share(std::uint64_t n, std::uint32_t cores, std::uint32_t c);
// Core `c`'s share of a vector record's work (rows split evenly, the first cores one more).
arch::VectorWork vector_share(const arch::VectorWork& w, std::uint32_t cores, std::uint32_t c);

}  // namespace quasar::mapping
