// Which engine runs the non-GEMM operations of arithmetic spec §6-§7 (the VectorEngine interface
// of numerics/vector_engine.hpp): the CUDA path when a GPU is usable, else the CPU reference.
// Same pattern as device.hpp's GemmEngine choice; this part builds with or without CUDA, so every
// caller has the same interface. The CUDA engine keeps every sum in the
// spec's sequential order (one thread per row, head or output element) and rounds every fp32
// step on its own (_rn intrinsics, --fmad=false), running the reference's QUASAR_HD element
// functions (exp_q, silu, swiglu, residual_add, rope_pair, f32_to_f16) as they are.
#pragma once

#include <string>

#include "gpu/device.hpp"
#include "numerics/vector_engine.hpp"

namespace quasar {

struct VectorEngineChoice {
  const VectorEngine* engine = nullptr;
  std::string note;  // what was chosen and, for a fallback, why
};

// automatic: the GPU when usable, else the CPU reference with a note saying why;
// gpu: the GPU, or quasar::Error saying why it cannot be used; cpu: the reference.
VectorEngineChoice choose_vector_engine(DeviceChoice choice);

// Milliseconds the kernels of this thread's last GPU vector operation ran (CUDA events around
// the launches alone, no transfers or checks); 0 without CUDA or before any. For benchmarks.
double last_gpu_vector_kernel_ms();

}  // namespace quasar
