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

// The record's work per instance (instances: its repeat), on a design with a vector unit.
// Throws quasar::Error naming the record when the op or its function is not one the unit runs.
arch::VectorWork plan_vector(const arch::ArchSpec& a, const trace::Layer& l);

// Core `c`'s share of a vector record's work (rows split evenly, the first cores one more).
arch::VectorWork vector_share(const arch::VectorWork& w, std::uint32_t cores, std::uint32_t c);

}  // namespace quasar::mapping
